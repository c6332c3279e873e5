"""Friendly 403 and 404 pages: the site's navigation, and why (the policy's message);
the JSON API keeps answering JSON."""

from __future__ import annotations

import pytest
from django.utils.html import escape
from rest_framework.test import APIClient

from governance.permissions import DENIED_MESSAGES, PROJECT_DENIED_MESSAGES, Action
from tests.factories import CXProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _production_error_handling(settings):
    settings.DEBUG = False  # Django shows its technical pages instead when DEBUG is on


def _has_navigation(page: str) -> bool:
    return 'nav class="topnav"' in page and 'href="/portfolio/"' in page and "Sign out" in page


def test_a_403_keeps_the_navigation_and_gives_the_policys_reason(client, viewer, team_map):
    client.force_login(viewer)
    response = client.get(f"/maps/{team_map.slug}/transfer/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    page = response.text
    assert _has_navigation(page)
    assert escape(DENIED_MESSAGES[Action.TRANSFER]) in page
    assert "<h1" in page and "You cannot do this here" in page


def test_a_403_on_a_project_says_who_may_change_it(client, viewer, owner, team_map):
    project = CXProjectFactory(owner=owner, maps=[team_map])
    client.force_login(viewer)
    response = client.get(f"/projects/{project.pk}/edit/")
    assert response.status_code == 403
    assert escape(PROJECT_DENIED_MESSAGES[Action.EDIT]) in response.text


def test_a_404_for_a_hidden_map_keeps_the_navigation_and_says_what(client, viewer, draft_map):
    client.force_login(viewer)
    response = client.get(draft_map.get_absolute_url())
    assert response.status_code == 404
    page = response.text
    assert _has_navigation(page)
    assert "No such journey map." in page
    assert draft_map.title not in page


def test_a_404_for_an_unknown_address_shows_no_url_patterns(client, viewer):
    client.force_login(viewer)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.text
    assert _has_navigation(page)
    assert "There is no page at this address." in page
    assert "maps/" not in page.split('<main id="main"', 1)[1].split("error-actions")[0]
    assert "tried" not in page


def test_an_anonymous_visitor_gets_the_page_without_the_signed_in_navigation(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "There is no page at this address." in response.text
    assert "Sign out" not in response.text


def test_the_api_keeps_answering_json(viewer, team_map, draft_map):
    api = APIClient()
    api.force_authenticate(viewer)
    hidden = api.get(f"/api/maps/{draft_map.pk}/")
    assert hidden.status_code == 404 and hidden["Content-Type"] == "application/json"
    unknown = api.get("/api/no-such-thing/")
    assert unknown.status_code == 404
    assert unknown["Content-Type"] == "application/json"
    assert unknown.json() == {"detail": "There is no page at this address."}
    refused = api.post(f"/api/maps/{team_map.pk}/transfer/", {"owner": "vic"}, format="json")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/json"
    assert "detail" in refused.json()


def test_a_json_request_to_a_page_gets_json(client, viewer, team_map):
    client.force_login(viewer)
    response = client.get(
        f"/maps/{team_map.slug}/transfer/", headers={"Accept": "application/json"}
    )
    assert response.status_code == 403
    assert response.json() == {"detail": DENIED_MESSAGES[Action.TRANSFER]}
