"""The demo people behave as the ownership rules say, in the browser and through the API."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.test import APIClient

from maps.models import JourneyMap

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_demo", verbosity=0)


def browser(username):
    from django.test import Client

    client = Client()
    assert client.login(username=username, password="journeyhub")
    return client


def api(username):
    client = APIClient()
    client.force_authenticate(User.objects.get(username=username))
    return client


def patch_summary(client, slug):
    journey = JourneyMap.objects.get(slug=slug)
    return client.patch(
        f"/api/maps/{journey.pk}/", {"summary": "Edited", "version": journey.version}, format="json"
    )


def test_olivia_owns_and_edits_her_maps(demo):
    page = browser("olivia").get("/maps/").text
    assert "Report a lost or stolen card" in page  # her own draft
    assert "Set up a standing order" not in page  # omar's draft
    assert "Transfer ownership" in browser("olivia").get("/maps/open-an-account/").text
    assert patch_summary(api("olivia"), "open-an-account").status_code == 200
    assert patch_summary(api("olivia"), "pay-and-transfer").status_code == 403


def test_tess_edits_her_teams_maps_but_not_omars(demo):
    assert "Report a lost or stolen card" in browser("tess").get("/maps/").text
    assert "Transfer ownership" not in browser("tess").get("/maps/open-an-account/").text
    assert patch_summary(api("tess"), "open-an-account").status_code == 200
    assert patch_summary(api("tess"), "pay-and-transfer").status_code == 403
    assert browser("tess").get("/maps/set-up-standing-order/").status_code == 404


def test_vic_reads_published_maps_only(demo):
    vic = browser("vic")
    page = vic.get("/maps/").text
    assert "Open an account" in page
    assert "Report a lost or stolen card" not in page
    map_page = vic.get("/maps/open-an-account/").text
    assert "Share" not in map_page and "Transfer ownership" not in map_page
    assert vic.get("/maps/report-lost-card/").status_code == 404
    assert patch_summary(api("vic"), "open-an-account").status_code == 403


def test_leader_sees_every_draft_and_may_hand_maps_over(demo):
    page = browser("leader").get("/maps/").text
    assert "Report a lost or stolen card" in page and "Set up a standing order" in page
    journey = JourneyMap.objects.get(slug="close-account")
    response = api("leader").post(
        f"/api/maps/{journey.pk}/transfer/", {"owner": "olivia", "version": journey.version}
    )
    assert response.status_code == 200
