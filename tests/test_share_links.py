"""Read-only share links: made and revoked by those who may share a published map, opened
by anyone holding the link without signing in, logged, throttled, and a 404 — the same
page whatever the reason — once revoked, expired, tampered with or unpublished."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from governance import share_links
from governance.models import ShareLink, ShareLinkUse
from maps.models import JourneyMap, ResearchSource
from tests.builders import build_map_content
from tests.factories import CXProjectFactory, JourneyMapFactory, PersonaFactory, StepFactory

pytestmark = pytest.mark.django_db

ROLES = ("viewer", "team_member", "other_owner", "owner", "leader", "admin_user")
MAY_SHARE = {"owner", "leader", "admin_user"}


def make_link(journey_map, by, **kwargs) -> tuple[ShareLink, str]:
    return share_links.share_link_create(journey_map=journey_map, by=by, **kwargs)


def public_path(token: str) -> str:
    return reverse("share-link-public", args=[token])


@pytest.fixture
def shared(team_map, owner):
    """Olivia's published map with content, and a link to it."""
    steps = build_map_content(team_map, steps=5, items_per_step=2)
    link, token = make_link(team_map, owner, label="Agency workshop")
    return {"map": team_map, "steps": steps, "link": link, "token": token}


class TestOpeningALink:
    def test_a_valid_link_shows_the_map_and_every_step_name_without_signing_in(
        self, client, shared
    ):
        response = client.get(public_path(shared["token"]))
        assert response.status_code == 200
        page = response.text
        assert "Open an account" in page
        for step in shared["steps"]:
            assert f"{step.name}</div>" in page
        assert response.text.count('class="step-head') == len(shared["steps"])

    def test_the_page_is_not_indexed_sends_no_referrer_sets_no_cookie_and_is_not_cached(
        self, client, shared
    ):
        response = client.get(public_path(shared["token"]))
        assert response["X-Robots-Tag"] == "noindex, nofollow, noarchive"
        assert response["Referrer-Policy"] == "no-referrer"
        assert "no-store" in response["Cache-Control"]
        assert '<meta name="robots" content="noindex' in response.text
        assert response.cookies == {}  # no session, no CSRF cookie for a visitor
        assert "Content-Security-Policy" in response

    def test_the_page_has_no_inline_script_or_style(self, client, shared):
        page = client.get(public_path(shared["token"])).text
        assert "<script" not in page
        assert "<style" not in page
        assert " style=" not in page

    def test_an_expired_link_answers_404(self, client, shared):
        ShareLink.objects.filter(pk=shared["link"].pk).update(
            expires_on=timezone.localdate() - dt.timedelta(days=1)
        )
        assert client.get(public_path(shared["token"])).status_code == 404

    def test_a_link_works_through_its_last_day(self, client, team_map, owner):
        _, token = make_link(team_map, owner, expires_on=timezone.localdate())
        assert client.get(public_path(token)).status_code == 200

    def test_a_revoked_link_answers_404(self, client, shared, owner):
        share_links.share_link_revoke(link=shared["link"], by=owner)
        assert client.get(public_path(shared["token"])).status_code == 404

    @pytest.mark.parametrize(
        "tamper",
        [
            lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character changed
            lambda t: t[:-1],  # cut short
            lambda t: t + "x",  # lengthened
            lambda t: "x" * 500,  # absurdly long
            lambda t: "..%2F..",  # not a token at all
        ],
        ids=["changed", "cut", "lengthened", "long", "garbage"],
    )
    def test_a_tampered_link_answers_404(self, client, shared, tamper):
        response = client.get(f"/s/{tamper(shared['token'])}/")
        assert response.status_code == 404
        assert ShareLinkUse.objects.count() == 0

    def test_every_refusal_is_the_same_page(self, client, shared, owner, team_map):
        tampered = client.get(public_path("not-a-token")).content
        _, unpublished = make_link(team_map, owner)
        revoked_link, revoked = make_link(team_map, owner)
        share_links.share_link_revoke(link=revoked_link, by=owner)
        expired_link, expired = make_link(team_map, owner)
        ShareLink.objects.filter(pk=expired_link.pk).update(expires_on=dt.date(2020, 1, 1))
        assert client.get(public_path(revoked)).content == tampered
        assert client.get(public_path(expired)).content == tampered
        JourneyMap.objects.filter(pk=team_map.pk).update(status=JourneyMap.Status.ARCHIVED)
        assert client.get(public_path(unpublished)).content == tampered
        assert b"This link does not open a map" in tampered

    @pytest.mark.parametrize("status", [JourneyMap.Status.DRAFT, JourneyMap.Status.ARCHIVED])
    def test_links_stop_working_when_the_map_is_unpublished_and_return_with_it(
        self, client, shared, status
    ):
        path = public_path(shared["token"])
        JourneyMap.objects.filter(pk=shared["map"].pk).update(status=status)
        assert client.get(path).status_code == 404
        JourneyMap.objects.filter(pk=shared["map"].pk).update(status="published")
        assert client.get(path).status_code == 200

    def test_only_get_is_answered(self, client, shared):
        assert client.post(public_path(shared["token"])).status_code == 405


class TestWhatThePublicPageHides:
    @pytest.fixture
    def surrounded(self, owner, other_owner, team):
        """A map with a parent, a sub-map on a step, a hidden draft sibling, a CX project,
        research behind a step and an item with an external link."""
        lifecycle = JourneyMapFactory(
            title="Secret lifecycle", slug="secret-lifecycle", owner=other_owner
        )
        journey = JourneyMapFactory(
            title="Open an account", slug="open-an-account", owner=owner, team=team,
            parent=lifecycle,
        )  # fmt: skip
        steps = build_map_content(journey, steps=4, items_per_step=2)
        JourneyMapFactory(
            title="Zoomed task", slug="zoomed-task", owner=owner, parent=journey,
            parent_step=steps[0],
        )  # fmt: skip
        JourneyMapFactory(
            title="Draft sibling", slug="draft-sibling", owner=other_owner, parent=lifecycle,
            status="draft",
        )  # fmt: skip
        CXProjectFactory(title="Hush project", owner=owner, maps=[journey], steps=[steps[1]])
        source = ResearchSource.objects.create(
            map=journey, title="Interviews 2026", kind="interview",
            url="https://intranet.example/research/42",
        )  # fmt: skip
        source.steps.add(steps[0])
        item = journey.lane_items.first()
        item.external_links = ["https://intranet.example/board/7"]
        item.owner = other_owner
        item.save()
        _, token = make_link(journey, owner)
        return {"map": journey, "steps": steps, "token": token}

    def test_no_edit_controls_and_nothing_of_other_maps_in_the_html(self, client, surrounded):
        page = client.get(public_path(surrounded["token"])).text
        for name in ("Secret lifecycle", "secret-lifecycle", "Zoomed task", "zoomed-task"):
            assert name not in page
        for name in ("Draft sibling", "draft-sibling", "Hush project", "Interviews 2026"):
            assert name not in page
        assert "intranet.example" not in page
        assert "Omar" not in page  # the lane item's owner
        for control in ("<form", "<button", "hx-", "csrf", "data-reorder-url", "icon-button"):
            assert control not in page
        for path in ("/maps/", "/projects/", "/api/", "/admin/", "/accounts/", "/search/"):
            assert path not in page
        # the only links: to steps of this page, and the style sheet
        hrefs = set(re.findall(r'href="([^"]*)"', page))
        assert all(h.startswith("#step-") or h.startswith("/static/") for h in hrefs), hrefs
        ids = {str(s.pk) for s in surrounded["steps"]}
        assert {h.removeprefix("#step-") for h in hrefs if h.startswith("#")} <= ids
        assert "Search everything" not in page and "Sign out" not in page

    def test_the_signed_in_map_page_still_shows_what_the_public_page_leaves_out(
        self, client, surrounded, owner
    ):
        # the public page hides these by choice: the grid has them for people with access
        client.force_login(owner)
        page = client.get(surrounded["map"].get_absolute_url()).text
        assert "Zoomed task" in page and "Hush project" in page


class TestMakingAndRevokingLinksInTheBrowser:
    def test_the_owner_makes_a_link_and_sees_its_address_once(self, client, owner, team_map):
        client.force_login(owner)
        response = client.post(
            reverse("governance:share-link-create", args=[team_map.slug]),
            {"label": "Agency workshop", "expires_on": "2099-12-31"},
        )
        assert response.status_code == 302
        link = ShareLink.objects.get(map=team_map)
        assert (link.label, link.expires_on, link.created_by) == (
            "Agency workshop",
            dt.date(2099, 12, 31),
            owner,
        )
        page = client.get(reverse("governance:share", args=[team_map.slug])).text
        url = re.search(r'id="new-link-url" value="([^"]+)"', page).group(1)
        token = url.rsplit("/s/", 1)[1].strip("/")
        assert share_links.token_hash(token) == link.token_hash
        assert token not in ShareLink.objects.values_list("token_hash", flat=True)
        # shown once: the next visit lists the link by its first characters only
        again = client.get(reverse("governance:share", args=[team_map.slug])).text
        assert token not in again
        assert f"/s/{link.token_prefix}…" in again
        client.logout()
        assert client.get(url.removeprefix("http://127.0.0.1:8000")).status_code == 200

    def test_the_sharing_page_lists_each_link_with_its_facts_and_a_revoke_button(
        self, client, shared, owner
    ):
        share_links.share_link_record_use(link=shared["link"], ip="10.1.2.3", user_agent="x")
        client.force_login(owner)
        page = client.get(reverse("governance:share", args=[shared["map"].slug])).text
        row = page.split(f'id="share-link-{shared["link"].pk}"', 1)[1].split("</tr>", 1)[0]
        assert "Agency workshop" in row
        assert "by Olivia Owens" in row
        assert "<td>1</td>" in row  # uses
        assert "never" not in row  # last used is set
        assert "Active" in row
        revoke = reverse(
            "governance:share-link-revoke", args=[shared["map"].slug, shared["link"].pk]
        )
        assert f'<form method="post" action="{revoke}">' in row
        assert "csrfmiddlewaretoken" in row

    def test_revoking_marks_the_link_revoked_and_it_stays_listed(self, client, shared, owner):
        client.force_login(owner)
        url = reverse("governance:share-link-revoke", args=[shared["map"].slug, shared["link"].pk])
        assert client.post(url).status_code == 302
        shared["link"].refresh_from_db()
        assert shared["link"].revoked_by == owner and shared["link"].revoked_at is not None
        page = client.get(reverse("governance:share", args=[shared["map"].slug])).text
        assert "Revoked" in page and "Revoke<span" not in page

    def test_revoking_needs_a_post(self, client, shared, owner):
        client.force_login(owner)
        url = reverse("governance:share-link-revoke", args=[shared["map"].slug, shared["link"].pk])
        assert client.get(url).status_code == 405
        assert ShareLink.objects.get(pk=shared["link"].pk).revoked_at is None

    def test_a_link_of_another_map_cannot_be_revoked_through_this_one(self, client, shared, owner):
        mine = JourneyMapFactory(owner=owner)
        client.force_login(owner)
        url = reverse("governance:share-link-revoke", args=[mine.slug, shared["link"].pk])
        assert client.post(url).status_code == 404
        assert ShareLink.objects.get(pk=shared["link"].pk).revoked_at is None

    def test_a_draft_map_cannot_get_a_link_and_the_page_says_why(self, client, other_owner):
        draft = JourneyMapFactory(title="Close my account", owner=other_owner, status="draft")
        client.force_login(other_owner)
        share_page = client.get(reverse("governance:share", args=[draft.slug])).text
        assert "Only published maps can be shared by link" in share_page
        response = client.post(reverse("governance:share-link-create", args=[draft.slug]), {})
        assert response.status_code == 400
        assert "Only published maps can be shared by link" in response.text
        assert not ShareLink.objects.exists()

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"label": "x" * 101}, "at most 100 characters"),
            ({"expires_on": "next tuesday"}, "Enter a valid date"),
            ({"expires_on": "2020-01-01"}, "The last day cannot be in the past"),
        ],
    )
    def test_bad_input_is_refused_naming_the_field_and_makes_nothing(
        self, client, owner, team_map, data, message
    ):
        client.force_login(owner)
        response = client.post(reverse("governance:share-link-create", args=[team_map.slug]), data)
        assert response.status_code == 400
        assert message in response.text
        assert 'class="field has-error"' in response.text
        assert not ShareLink.objects.exists()


class TestWhoMayMakeAndRevokeLinks:
    @pytest.mark.parametrize("role", ROLES)
    def test_making_a_link_on_the_page(self, client, request, team_map, role):
        client.force_login(request.getfixturevalue(role))
        response = client.post(reverse("governance:share-link-create", args=[team_map.slug]), {})
        assert response.status_code == (302 if role in MAY_SHARE else 403)
        assert ShareLink.objects.filter(map=team_map).exists() == (role in MAY_SHARE)

    @pytest.mark.parametrize("role", ROLES)
    def test_revoking_a_link_on_the_page(self, client, request, shared, role):
        client.force_login(request.getfixturevalue(role))
        url = reverse("governance:share-link-revoke", args=[shared["map"].slug, shared["link"].pk])
        assert client.post(url).status_code == (302 if role in MAY_SHARE else 403)
        shared["link"].refresh_from_db()
        assert (shared["link"].revoked_at is not None) == (role in MAY_SHARE)

    @pytest.mark.parametrize("role", ROLES)
    def test_listing_making_and_revoking_through_the_api(self, request, shared, role):
        api = APIClient()
        api.force_authenticate(request.getfixturevalue(role))
        base = f"/api/maps/{shared['map'].pk}/share-links/"
        allowed = role in MAY_SHARE
        assert api.get(base).status_code == (200 if allowed else 403)
        assert api.post(base, {}, format="json").status_code == (201 if allowed else 403)
        revoke = api.post(f"{base}{shared['link'].pk}/revoke/")
        assert revoke.status_code == (200 if allowed else 403)
        assert ShareLink.objects.filter(map=shared["map"]).count() == (2 if allowed else 1)

    def test_a_map_the_user_cannot_see_is_not_found(self, viewer, draft_map):
        api = APIClient()
        api.force_authenticate(viewer)
        assert api.get(f"/api/maps/{draft_map.pk}/share-links/").status_code == 404

    def test_the_service_itself_refuses_those_who_may_not_share(self, team_map, team_member):
        with pytest.raises(PermissionDenied):
            make_link(team_map, team_member)

    def test_anonymous_api_calls_are_refused(self, team_map):
        assert APIClient().get(f"/api/maps/{team_map.pk}/share-links/").status_code == 401


class TestTheApi:
    @pytest.fixture
    def api(self, owner):
        client = APIClient()
        client.force_authenticate(owner)
        return client

    def test_creating_returns_the_token_and_url_once_and_the_list_never_does(
        self, api, team_map, client
    ):
        base = f"/api/maps/{team_map.pk}/share-links/"
        made = api.post(base, {"label": "Board", "expires_on": "2099-01-31"}, format="json")
        assert made.status_code == 201
        body = made.json()
        assert body["label"] == "Board" and body["expires_on"] == "2099-01-31"
        assert body["state"] == "active" and body["created_by"] == "olivia"
        assert body["url"].endswith(f"/s/{body['token']}/")
        assert body["token"].startswith(body["token_prefix"])
        listed = api.get(base).json()["results"]
        assert [row["id"] for row in listed] == [body["id"]]
        assert "token" not in listed[0] and body["token"] not in str(listed)
        assert client.get(public_path(body["token"])).status_code == 200

    def test_a_draft_map_gets_a_clear_400(self, other_owner, draft_map):
        api = APIClient()
        api.force_authenticate(other_owner)
        response = api.post(f"/api/maps/{draft_map.pk}/share-links/", {}, format="json")
        assert response.status_code == 400
        assert "only published maps can be shared by link" in response.json()["map"][0]

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"label": "x" * 101}, "label"),
            ({"label": ["a"]}, "label"),
            ({"expires_on": "tomorrow"}, "expires_on"),
            ({"expires_on": "2020-01-01"}, "expires_on"),
            ({"expires_on": 20991231}, "expires_on"),
        ],
    )
    def test_bad_input_gets_a_400_naming_the_field_and_makes_nothing(
        self, api, team_map, payload, field
    ):
        response = api.post(f"/api/maps/{team_map.pk}/share-links/", payload, format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert not ShareLink.objects.exists()

    def test_a_body_that_is_not_an_object_is_refused(self, api, team_map):
        response = api.post(f"/api/maps/{team_map.pk}/share-links/", [1, 2], format="json")
        assert response.status_code == 400
        assert not ShareLink.objects.exists()

    def test_revoking_twice_changes_nothing_the_second_time(self, api, shared, leader):
        url = f"/api/maps/{shared['map'].pk}/share-links/{shared['link'].pk}/revoke/"
        first = api.post(url).json()
        assert first["state"] == "revoked" and first["revoked_by"] == "olivia"
        second = api.post(url).json()
        assert second["revoked_at"] == first["revoked_at"]
        assert shared["link"].history.count() == 2  # made, revoked

    def test_a_link_of_another_map_is_not_found(self, api, shared, owner):
        other = JourneyMapFactory(owner=owner)
        url = f"/api/maps/{other.pk}/share-links/{shared['link'].pk}/revoke/"
        assert api.post(url).status_code == 404

    def test_the_list_reports_expired_and_paused_links(self, api, shared, owner):
        base = f"/api/maps/{shared['map'].pk}/share-links/"
        ShareLink.objects.filter(pk=shared["link"].pk).update(expires_on=dt.date(2020, 1, 1))
        make_link(shared["map"], owner)
        JourneyMap.objects.filter(pk=shared["map"].pk).update(status="draft")
        states = [row["state"] for row in api.get(base).json()["results"]]
        assert states == ["paused", "expired"]


class TestUsesAndHistory:
    def test_every_opening_is_logged_with_the_network_and_a_cut_user_agent(self, client, shared):
        path = public_path(shared["token"])
        client.get(path, REMOTE_ADDR="203.0.113.77", HTTP_USER_AGENT="Mozilla/5.0 " + "x" * 300)
        client.get(path, REMOTE_ADDR="2001:db8:abcd:12::1", HTTP_USER_AGENT="curl/8")
        client.get(public_path("wrong"), REMOTE_ADDR="203.0.113.77")  # not a use
        uses = list(ShareLinkUse.objects.filter(link=shared["link"]).order_by("used_at", "pk"))
        assert [u.network for u in uses] == ["203.0.113.0/24", "2001:db8:abcd::/48"]
        assert len(uses[0].user_agent) == 200 and uses[1].user_agent == "curl/8"
        shared["link"].refresh_from_db()
        assert shared["link"].uses == 2
        assert shared["link"].last_used_at == uses[1].used_at

    def test_no_full_address_is_stored(self, client, shared):
        client.get(public_path(shared["token"]), REMOTE_ADDR="198.51.100.23")
        assert "198.51.100.23" not in str(list(ShareLinkUse.objects.values()))

    def test_making_and_revoking_are_in_the_links_history(self, shared, leader):
        share_links.share_link_revoke(link=shared["link"], by=leader)
        records = list(shared["link"].history.order_by("history_date", "history_id"))
        assert [(r.history_type, r.history_user, r.history_change_reason) for r in records] == [
            ("+", shared["map"].owner, "Share link created"),
            ("~", leader, "Share link revoked"),
        ]

    def test_a_use_adds_no_history_record(self, client, shared):
        client.get(public_path(shared["token"]))
        assert shared["link"].history.count() == 1


class TestLimits:
    def test_the_public_route_is_throttled_per_address_with_retry_after(
        self, client, shared, settings
    ):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "share_links": "3/minute",
            },
        }
        cache.clear()
        try:
            path = public_path(shared["token"])
            statuses = [client.get(path, REMOTE_ADDR="192.0.2.1").status_code for _ in range(3)]
            statuses.append(client.get(public_path("guess"), REMOTE_ADDR="192.0.2.1").status_code)
            assert statuses == [200, 200, 200, 429]
            refused = client.get(path, REMOTE_ADDR="192.0.2.1")
            assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
            assert refused["X-Robots-Tag"].startswith("noindex")
            # a forged X-Forwarded-For does not make a new client
            forged = client.get(path, REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="198.51.100.9")
            assert forged.status_code == 429
            assert client.get(path, REMOTE_ADDR="192.0.2.2").status_code == 200  # other address
            assert ShareLinkUse.objects.count() == 4
        finally:
            cache.clear()

    def test_the_public_page_runs_a_fixed_number_of_queries_with_ten_times_the_data(
        self, client, owner, django_assert_max_num_queries
    ):
        small = JourneyMapFactory(owner=owner, slug="small")
        build_map_content(small, steps=4, items_per_step=1)
        large = JourneyMapFactory(
            owner=owner, slug="large", personas=[PersonaFactory(), PersonaFactory()]
        )
        build_map_content(large, steps=40, items_per_step=10)
        for i in range(3):
            StepFactory(map=large, name=f"Extra {i}")
        _, small_token = make_link(small, owner)
        _, large_token = make_link(large, owner)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(public_path(small_token)).status_code == 200
        small_count = len(ctx.captured_queries)
        # link with its map, its personas, stages, steps, links, pain points, lane items,
        # KPIs with latest values, project steps and projects (read, then left out), the
        # event-log funnel, vocabulary; then the use: insert + counter update
        with django_assert_max_num_queries(small_count):
            response = client.get(public_path(large_token))
        assert response.text.count('class="step-head') == 43
        assert small_count <= 15  # 14 measured


def test_the_network_of_an_address_cuts_ipv4_to_24_and_ipv6_to_48_bits():
    assert share_links.ip_network_of("192.168.7.200") == "192.168.7.0/24"
    assert share_links.ip_network_of("2001:db8:1:2:3::9") == "2001:db8:1::/48"
    assert share_links.ip_network_of("not an address") == ""
    assert share_links.ip_network_of("") == ""


def test_the_service_refuses_a_draft_map_naming_the_field(other_owner, draft_map):
    with pytest.raises(ValidationError) as refused:
        make_link(draft_map, other_owner)
    assert "only published maps" in refused.value.message_dict["map"][0]
