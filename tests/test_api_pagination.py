"""Keyset ("cursor") pages of the API lists (journeyhub/pagination.py): every row once, in
the list's order, while rows come and go between requests; ties broken by id; nullable
orderings; links back; page numbers for old clients; bad cursors refused by name; hidden
rows on no page; the same queries on a deep page at ten times the data."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from maps.models import JourneyMap, PainPoint
from tests.builders import build_repository
from tests.factories import JourneyMapFactory, PainPointFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def walk(client: APIClient, url: str, *, between=None, limit: int = 200) -> list[int]:
    """Every id of a list, page after page through the next links; ``between(n)`` runs
    after page n (to change the data under the walk)."""
    seen: list[int] = []
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        assert "count" not in body  # no COUNT over the list
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
        assert pages < limit, "the next links never end"
        if between is not None and url:
            between(pages)
    return seen


def pain_point_order() -> list[int]:
    """The pain points in the list's default ordering: map id, position, id."""
    return list(PainPoint.objects.order_by("map_id", "position", "pk").values_list("pk", flat=True))


@pytest.fixture
def three_maps(owner, team):
    """Pain points on three maps with positions that tie (several rows share one)."""
    maps = [JourneyMapFactory(owner=owner, team=team) for _ in range(3)]
    for journey_map in maps:
        for i in range(9):
            PainPointFactory(map=journey_map, position=i // 3, title=f"{journey_map.pk}-{i}")
    return maps


class TestWalkingThePages:
    def test_the_pages_follow_each_other_in_order_without_gaps_or_repeats(self, owner, three_maps):
        assert walk(api(owner), "/api/pain-points/?page_size=4") == pain_point_order()

    def test_ties_on_a_chosen_ordering_are_broken_by_id(self, owner, three_maps):
        PainPoint.objects.filter(pk__in=pain_point_order()[::2]).update(severity=5)
        expected = list(PainPoint.objects.order_by("-severity", "pk").values_list("pk", flat=True))
        assert walk(api(owner), "/api/pain-points/?ordering=-severity&page_size=5") == expected

    def test_rows_added_and_removed_between_pages_are_neither_repeated_nor_skipped(
        self, owner, three_maps
    ):
        first, _, last = three_maps
        before = set(pain_point_order())
        added: list[int] = []
        removed: list[int] = []

        def change(page: int) -> None:
            order = pain_point_order()
            # one row behind the reader, one ahead of it, at tied positions
            added.append(PainPointFactory(map=first, position=0).pk)
            added.append(PainPointFactory(map=last, position=2).pk)
            gone = [order[page * 4 - 1], order[-1 - page]]  # one read, one not yet read
            removed.extend(gone)
            PainPoint.objects.filter(pk__in=gone).delete()

        seen = walk(api(owner), "/api/pain-points/?page_size=4", between=change)
        assert len(seen) == len(set(seen)), "a row was read twice"
        # every row there from start to end was read exactly once …
        assert before - set(removed) <= set(seen)
        # … and nothing was read that was not there when its page was read
        assert set(seen) <= before | set(added)

    def test_previous_links_lead_back_through_the_same_pages(self, owner, three_maps):
        client = api(owner)
        pages, url = [], "/api/pain-points/?page_size=5"
        while url:
            body = client.get(url).json()
            pages.append([row["id"] for row in body["results"]])
            url = body["next"]
        assert len(pages) == 6
        back = []
        while body["previous"]:
            body = client.get(body["previous"]).json()
            back.append([row["id"] for row in body["results"]])
        assert back == pages[-2::-1]
        assert body["previous"] is None  # the first page again

    def test_a_nullable_ordering_pages_through_every_row_nulls_first(self, owner):
        now = timezone.now()
        for days in (None, 3, None, 1, 3, None, 2):
            JourneyMapFactory(
                owner=owner, last_reviewed_at=None if days is None else now - dt.timedelta(days)
            )
        client = api(owner)
        maps = JourneyMap.objects.all()
        nulls = sorted(m.pk for m in maps if m.last_reviewed_at is None)
        dated = sorted(
            (m for m in maps if m.last_reviewed_at), key=lambda m: (m.last_reviewed_at, m.pk)
        )
        ascending = walk(client, "/api/maps/?ordering=last_reviewed_at&page_size=2")
        assert ascending == nulls + [m.pk for m in dated]
        descending = walk(client, "/api/maps/?ordering=-last_reviewed_at&page_size=2")
        newest_first = sorted(dated, key=lambda m: (-m.last_reviewed_at.timestamp(), m.pk))
        assert descending == [m.pk for m in newest_first] + nulls

    def test_a_page_emptied_meanwhile_still_links_back(self, owner, three_maps):
        client = api(owner)
        body = client.get("/api/pain-points/?page_size=25").json()
        PainPoint.objects.filter(pk__in=pain_point_order()[25:]).delete()
        emptied = client.get(body["next"]).json()
        assert emptied["results"] == [] and emptied["next"] is None
        back = client.get(emptied["previous"]).json()
        assert [row["id"] for row in back["results"]] == pain_point_order()[:25]


class TestPageNumbers:
    def test_page_number_clients_still_get_pages_with_a_count(self, owner, three_maps):
        client = api(owner)
        first = client.get("/api/pain-points/?page=1&page_size=10").json()
        second = client.get(first["next"]).json()
        assert first["count"] == 27 and "page=2" in first["next"]
        ids = [row["id"] for row in first["results"] + second["results"]]
        assert ids == pain_point_order()[:20]

    def test_a_page_beyond_the_last_is_a_404(self, owner, three_maps):
        assert api(owner).get("/api/pain-points/?page=9").status_code == 404


def cursor(payload) -> str:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


ORDER = ["map_id", "position", "id"]


class TestBadCursors:
    @pytest.mark.parametrize(
        "value",
        [
            "not-a-cursor!",
            "%%%",
            cursor(b"\xff\xfe binary"),
            cursor(b"[1, 2, 3]"),
            cursor({"o": ORDER}),
            cursor({"o": ORDER, "v": "1,2,3"}),
            cursor({"o": ORDER, "v": [1, 2]}),  # too few values
            cursor({"o": ORDER, "v": [1, 2, 3, 4]}),  # too many
            cursor({"o": ORDER, "v": ["one", 2, 3]}),
            cursor({"o": ORDER, "v": [None, 2, 3]}),  # a map id is never empty
            cursor({"o": ORDER, "v": [10**30, 2, 3]}),  # beyond 64 bits
            cursor({"o": ORDER, "v": [{"a": 1}, 2, 3]}),
            cursor({"o": ORDER, "v": [1.5e308, 2, 3]}),
            cursor({"o": ["-severity", "id"], "v": [3, 1]}),  # another ordering's
            "x" * 5000,
        ],
    )
    def test_a_bad_cursor_is_a_400_naming_the_cursor(self, owner, three_maps, value):
        response = api(owner).get("/api/pain-points/", {"cursor": value})
        assert response.status_code == 400, response.content[:300]
        assert "cursor" in response.json()

    def test_a_cursor_for_another_ordering_says_so(self, owner, three_maps):
        client = api(owner)
        next_link = client.get("/api/pain-points/?page_size=2").json()["next"]
        response = client.get(next_link + "&ordering=-severity")
        assert response.status_code == 400
        assert "another ordering" in response.json()["cursor"][0]

    def test_a_cursor_of_one_list_means_nothing_to_another(self, owner, three_maps):
        client = api(owner)
        next_link = client.get("/api/pain-points/?page_size=2").json()["next"]
        token = next_link.split("cursor=")[1]
        assert client.get(f"/api/kpis/?cursor={token}").status_code == 400


class TestVisibility:
    @pytest.mark.parametrize("who", ["viewer", "other_owner", "team_member"])
    def test_no_page_shows_a_hidden_row(self, request, who, owner, team, other_owner):
        published = JourneyMapFactory(owner=owner, team=team)
        hidden = JourneyMapFactory(owner=owner, status="draft")  # no team: olivia's only
        for journey_map in (published, hidden, published):
            for _ in range(4):
                PainPointFactory(map=journey_map)
        seen = walk(api(request.getfixturevalue(who)), "/api/pain-points/?page_size=3")
        assert seen == list(
            PainPoint.objects.filter(map=published)
            .order_by("map_id", "position", "pk")
            .values_list("pk", flat=True)
        )
        assert walk(api(owner), "/api/pain-points/?page_size=3") == pain_point_order()


CURSOR_LISTS = [
    "/api/maps/",
    "/api/stages/",
    "/api/steps/",
    "/api/step-links/",
    "/api/pain-points/",
    "/api/lane-items/",
    "/api/kpis/",
    "/api/measurements/",
    "/api/qualitative-factors/",
    "/api/projects/",
    "/api/map-grants/",
    "/api/inventory/",
]


@pytest.mark.parametrize("url", CURSOR_LISTS)
def test_a_deep_page_needs_no_more_queries_with_ten_times_the_data(
    url, owner, team, other_owner, django_assert_max_num_queries
):
    """A page read through a cursor, for a plain owner: the same queries as on a small
    repository (session, groups, leadership, the page, its prefetches), never a count."""
    client = api(owner)
    build_repository(owner=owner, team=team, other_owner=other_owner, copies=2)
    next_link = client.get(url + "?page_size=1").json()["next"]
    assert next_link, "a second page is needed"
    with CaptureQueriesContext(connection) as small:
        assert client.get(next_link).status_code == 200
    budget = len(small.captured_queries)  # (the next request clears the captured log)
    assert not any("COUNT(" in q["sql"].upper() for q in small.captured_queries)
    build_repository(owner=owner, team=team, other_owner=other_owner, copies=18)
    deep = client.get(url + "?page_size=7").json()["next"]
    with django_assert_max_num_queries(budget):
        response = client.get(deep)
    assert response.status_code == 200 and response.json()["results"]
