"""The portfolio's map picker (#16): a searchable text box in place of a select of every
visible lifecycle and journey. Its endpoint offers only what the reader may see, few at a
time; the page renders only the chosen map's name; without JavaScript the typed name is
resolved by the filter."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.filters import PICKER_LIMIT
from maps.models import JourneyMap
from tests.factories import CXProjectFactory, JourneyMapFactory

pytestmark = pytest.mark.django_db

CHOICES = "/maps/portfolio/choices/"


@pytest.fixture
def tree(owner, team, other_owner, draft_map):
    """A lifecycle with two journeys and a task, omar's published journey, his draft."""
    life = JourneyMapFactory(title="Retail lifecycle", slug="retail", owner=owner, team=team)
    onboard = JourneyMapFactory(title="Onboard", slug="onboard", owner=owner, parent=life)
    borrow = JourneyMapFactory(title="Borrow money", slug="borrow", owner=owner, parent=life)
    task = JourneyMapFactory(title="Verify identity", slug="verify", owner=owner, parent=onboard)
    pay = JourneyMapFactory(title="Pay abroad", slug="pay", owner=other_owner)
    CXProjectFactory(title="Faster onboarding", owner=owner, status="planned", maps=[onboard])
    CXProjectFactory(title="Selfie fix", owner=owner, status="planned", maps=[task])
    CXProjectFactory(title="Cheaper loans", owner=owner, status="planned", maps=[borrow])
    CXProjectFactory(title="Pay later", owner=other_owner, status="planned", maps=[pay])
    CXProjectFactory(title="Kinder goodbye", owner=other_owner, status="planned", maps=[draft_map])
    return {"life": life, "onboard": onboard, "borrow": borrow, "task": task, "pay": pay}


PROJECTS = ("Faster onboarding", "Selfie fix", "Cheaper loans", "Pay later", "Kinder goodbye")


def shown(html: str) -> list[str]:
    table = html[html.index('class="table pf-table') :] if "pf-table" in html else ""
    return [title for title in PROJECTS if f">{title}</a>" in table]


def slugs(client, query: str = "") -> list[str]:
    response = client.get(CHOICES + query)
    assert response.status_code == 200, response.content
    return [option["slug"] for option in response.json()["results"]]


def filter_form(html: str) -> str:
    return re.search(r'<form method="get" class="filter-bar.*?</form>', html, re.S).group(0)


class TestTheEndpoint:
    def test_it_offers_matching_lifecycles_and_journeys_in_tree_order_with_their_parent(
        self, client, owner, tree
    ):
        client.force_login(owner)
        body = client.get(CHOICES + "?q=BO").json()
        journeys = sorted(
            JourneyMap.objects.filter(slug__in=["onboard", "borrow"]), key=lambda m: (m.lft,)
        )
        assert [o["title"] for o in body["results"]] == [m.title for m in journeys]
        assert body["results"][[o["slug"] for o in body["results"]].index("onboard")] == {
            "id": tree["onboard"].pk,
            "slug": "onboard",
            "title": "Onboard",
            "level": 1,
            "parent": "Retail lifecycle",
        }
        assert body["more"] is False
        assert "verify" not in slugs(client, "?q=Verify")  # tasks are not offered
        assert slugs(client, "?q=retail") == ["retail"]  # any case
        assert slugs(client, "?q=%20%20") == slugs(client)  # blank: every one

    @pytest.mark.parametrize(
        "role, sees_draft",
        [
            ("viewer", False),
            ("team_member", False),
            ("owner", False),
            ("other_owner", True),
            ("leader", True),
            ("admin_user", True),
        ],
    )
    def test_each_role_is_offered_only_the_maps_it_may_see(
        self, request, client, tree, role, sees_draft
    ):
        client.force_login(request.getfixturevalue(role))
        offered = slugs(client)
        assert {"retail", "onboard", "borrow", "pay"} <= set(offered)
        assert ("close-my-account" in offered) is sees_draft

    def test_it_answers_at_most_the_limit_and_says_more_match(self, client, leader, owner):
        for i in range(PICKER_LIMIT + 3):
            JourneyMapFactory(title=f"Journey {i:02d}", owner=owner)
        client.force_login(leader)
        body = client.get(CHOICES + "?q=journey").json()
        assert len(body["results"]) == PICKER_LIMIT and body["more"] is True
        body = client.get(CHOICES + "?q=journey&limit=3").json()
        assert [o["title"] for o in body["results"]] == ["Journey 00", "Journey 01", "Journey 02"]
        body = client.get(CHOICES + "?q=journey&limit=50").json()
        assert len(body["results"]) == PICKER_LIMIT + 3 and body["more"] is False

    @pytest.mark.parametrize(
        "query, parameter",
        [
            ("?limit=0", "limit"),
            ("?limit=51", "limit"),
            ("?limit=ten", "limit"),
            ("?limit=99999999999999999999999", "limit"),
            ("?q=" + "x" * 201, "q"),
            ("?q=a%00b", "q"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_parameter(self, client, owner, tree, query, parameter):
        client.force_login(owner)
        response = client.get(CHOICES + query)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == [parameter]

    def test_anonymous_is_sent_to_sign_in(self, client, tree):
        response = client.get(CHOICES + "?q=o")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_it_runs_the_same_few_queries_for_5_or_60_maps(
        self, client, viewer, owner, tree, django_assert_max_num_queries
    ):
        client.force_login(viewer)
        with CaptureQueriesContext(connection) as few:
            assert len(slugs(client)) == 4
        for i in range(55):
            JourneyMapFactory(title=f"More {i}", owner=owner)
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert len(slugs(client, "?limit=50")) == 50
        # session, user, the user's groups, their grants, the maps
        assert len(few.captured_queries) <= 5


class TestThePage:
    def test_it_renders_the_chosen_maps_name_and_no_list_of_maps(self, client, leader, tree):
        client.force_login(leader)
        html = client.get("/portfolio/?map=onboard").text
        form = filter_form(html)
        assert 'name="map_name" id="id_map_name" value="Onboard"' in form
        assert '<input type="hidden" name="map" value="onboard">' in form
        assert "<option" not in form.split('name="team"')[0]  # no map options
        for other in ("Retail lifecycle", "Borrow money", "Pay abroad", "Close my account"):
            assert other not in form
        assert shown(html) == ["Faster onboarding", "Selfie fix"]

    def test_without_a_map_the_box_is_empty(self, client, owner, tree):
        client.force_login(owner)
        form = filter_form(client.get("/portfolio/").text)
        assert 'name="map_name" id="id_map_name" value=""' in form
        assert '<input type="hidden" name="map" value="">' in form

    def test_a_hidden_maps_slug_filters_to_nothing_and_names_no_title(self, client, viewer, tree):
        client.force_login(viewer)
        html = client.get("/portfolio/?map=close-my-account").text
        assert shown(html) == []
        assert "Close my account" not in html
        assert 'value="close-my-account"' in filter_form(html)  # what was asked, as sent


class TestWithoutJavaScript:
    """The box sends its text as ``map_name`` (and the hidden ``map`` as it was)."""

    @pytest.mark.parametrize(
        "typed",
        ["Onboard", "onboard", "ONBOARD", "  Onboard ", "nboar"],
    )
    def test_a_typed_title_slug_or_part_of_a_title_filters_as_map_does(
        self, client, owner, tree, typed
    ):
        client.force_login(owner)
        by_slug = shown(client.get("/portfolio/?map=onboard").text)
        response = client.get("/portfolio/", {"map_name": typed, "map": ""})
        assert response.status_code == 200
        assert shown(response.text) == by_slug == ["Faster onboarding", "Selfie fix"]
        assert 'value="Onboard"' in filter_form(response.text)

    def test_a_tasks_slug_is_taken_as_map_takes_it(self, client, owner, tree):
        client.force_login(owner)
        html = client.get("/portfolio/", {"map_name": "verify", "map": ""}).text
        assert shown(html) == ["Selfie fix"]

    def test_sending_the_form_again_keeps_the_chosen_map_whatever_its_title_shares(
        self, client, owner, tree
    ):
        # two journeys titled "Onboard": the hidden slug says which one was chosen
        JourneyMapFactory(title="Onboard", slug="onboard-business", owner=owner)
        client.force_login(owner)
        html = client.get("/portfolio/", {"map_name": "Onboard", "map": "onboard"}).text
        assert shown(html) == ["Faster onboarding", "Selfie fix"]

    def test_new_text_replaces_the_chosen_map(self, client, owner, tree):
        client.force_login(owner)
        html = client.get("/portfolio/", {"map_name": "Borrow", "map": "onboard"}).text
        assert shown(html) == ["Cheaper loans"]

    def test_an_emptied_box_shows_every_journey(self, client, owner, tree):
        client.force_login(owner)
        html = client.get("/portfolio/", {"map_name": "", "map": "onboard"}).text
        assert shown(html) == ["Faster onboarding", "Selfie fix", "Cheaper loans", "Pay later"]

    def test_a_name_matching_no_visible_map_is_refused_with_a_message(self, client, viewer, tree):
        client.force_login(viewer)
        for typed in ("Nowhere", "Close my account", "close-my-account"):
            response = client.get("/portfolio/", {"map_name": typed, "map": ""})
            assert response.status_code == 400
            assert shown(response.text) == []
            assert (
                f"Journey (and below): No journey you can see is named “{typed}”." in response.text
            )
            assert f'value="{typed}"' in filter_form(response.text)  # kept to correct

    def test_a_name_matching_several_maps_is_refused_naming_them(self, client, owner, tree):
        JourneyMapFactory(title="Onboard", slug="onboard-business", owner=owner)
        client.force_login(owner)
        response = client.get("/portfolio/", {"map_name": "onboard", "map": ""})
        assert response.status_code == 400 and shown(response.text) == []
        errors = re.search(r'<div class="form-errors.*?</div>', response.text).group(0)
        assert "Journey (and below): “onboard” matches several journeys: Onboard (" in errors
        assert "Onboard (onboard)" in errors and "Onboard (onboard-business)" in errors
        # part of several titles, none of them whole
        response = client.get("/portfolio/", {"map_name": "o", "map": ""})
        assert response.status_code == 400
        assert "“o” matches several journeys: " in response.text
        assert "Borrow money (borrow)" in response.text

    def test_a_percent_sign_or_overlong_text_is_a_message_not_an_error(self, client, owner, tree):
        client.force_login(owner)
        response = client.get("/portfolio/", {"map_name": "50% %(x)s", "map": ""})
        assert response.status_code == 400
        assert "No journey you can see is named “50% %(x)s”." in response.text
        response = client.get("/portfolio/", {"map_name": "x" * 201})
        assert response.status_code == 400
        assert "Journey (and below): Ensure this value has at most 200" in response.text

    def test_the_api_and_saved_links_still_filter_by_map_alone(self, client, owner, tree):
        client.force_login(owner)
        assert shown(client.get("/portfolio/?map=borrow").text) == ["Cheaper loans"]
        body = client.get("/api/portfolio/?map=borrow").json()
        assert [row["title"] for row in body["results"]] == ["Cheaper loans"]
