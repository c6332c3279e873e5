"""The e-mail a new owner gets, and the setting its link is built on."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import override_settings

from governance.checks import base_url_is_public

pytestmark = pytest.mark.django_db


@override_settings(JOURNEYHUB_BASE_URL="https://journeyhub.example.com")
def test_the_new_owner_reads_the_handover_note_and_a_link_on_the_public_address(
    client, owner, other_owner, team_map, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/maps/{team_map.slug}/transfer/",
            {"new_owner": other_owner.pk, "note": "Q3 survey is due.\nAsk Tess.", "version": 1},
        )

    assert response.status_code == 302
    (message,) = mail.outbox
    assert "Olivia Owens wrote:\n> Q3 survey is due.\n> Ask Tess.\n" in message.body
    assert f"https://journeyhub.example.com/maps/{team_map.slug}/" in message.body
    assert "127.0.0.1" not in message.body


def test_without_a_note_the_mail_has_no_empty_quote(
    client, owner, other_owner, team_map, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/maps/{team_map.slug}/transfer/",
            {"new_owner": other_owner.pk, "note": "  ", "version": 1},
        )

    (message,) = mail.outbox
    assert "wrote:" not in message.body


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "http://localhost", "journeyhub.example.com"]
)
def test_check_deploy_warns_while_the_base_url_is_not_a_public_address(url):
    with override_settings(JOURNEYHUB_BASE_URL=url):
        (warning,) = base_url_is_public()

    assert warning.id == "governance.W001"
    assert url in warning.msg


def test_check_deploy_accepts_a_public_base_url():
    with override_settings(JOURNEYHUB_BASE_URL="https://cx.example.org"):
        assert base_url_is_public() == []
