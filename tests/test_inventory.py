"""The inventory of maps kept elsewhere (/inventory/, /api/inventory/): who reads, adds
and changes entries, migration to a JourneyHub map and retirement, filters, progress
numbers, CSV, files, history and query budgets."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from governance import inventory
from governance.models import TOOLS, ExternalMap
from tests.factories import GroupFactory, JourneyMapFactory, UserFactory
from tests.research_data import PDF

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # uploaded files land in a temporary folder


@pytest.fixture
def deck(owner, team):
    """Olivia's slide deck, shared with her team, still to migrate."""
    return ExternalMap.objects.create(
        title="Onboarding deck 2024",
        tool="slides",
        link="https://intranet.example.com/onboarding.pptx",
        owner=owner,
        team=team,
        area="Onboarding",
    )


def entry(owner, **fields) -> ExternalMap:
    fields.setdefault("title", "A map")
    fields.setdefault("tool", "miro")
    return ExternalMap.objects.create(owner=owner, **fields)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# --- the model ------------------------------------------------------------------------


class TestModel:
    def test_the_tool_constraint_lists_exactly_the_tool_choices(self):
        assert ExternalMap.Tool.values == TOOLS

    def test_the_database_refuses_a_migrated_entry_without_its_map(self, owner):
        with pytest.raises(IntegrityError), transaction.atomic():
            entry(owner, status="migrated")

    def test_the_database_refuses_a_retired_entry_without_a_reason(self, owner):
        with pytest.raises(IntegrityError), transaction.atomic():
            entry(owner, status="retired")

    def test_deleting_the_journeyhub_map_puts_the_entry_back_to_migrate(self, owner, team_map):
        migrated = entry(owner, status="migrated", migrated_to=team_map)
        team_map.delete()
        migrated.refresh_from_db()
        assert (migrated.status, migrated.migrated_to) == ("to_migrate", None)


# --- who may do what ------------------------------------------------------------------


class TestRoles:
    def test_anonymous_visitors_are_sent_to_sign_in(self, client, deck):
        for url in ("/inventory/", f"/inventory/{deck.pk}/", "/inventory/new/"):
            assert client.get(url).url.startswith("/accounts/login/")
        assert APIClient().get("/api/inventory/").status_code == 401

    @pytest.mark.parametrize(
        "role", ["viewer", "team_member", "owner", "other_owner", "leader", "admin_user"]
    )
    def test_every_signed_in_role_reads_the_inventory(self, client, request, deck, role):
        client.force_login(request.getfixturevalue(role))
        assert "Onboarding deck 2024" in client.get("/inventory/").text
        assert client.get(f"/inventory/{deck.pk}/").status_code == 200
        assert len(api(request.getfixturevalue(role)).get("/api/inventory/").json()["results"]) == 1

    @pytest.mark.parametrize(
        ("role", "status"),
        [
            ("viewer", 403),
            ("team_member", 302),
            ("owner", 302),
            ("other_owner", 403),
            ("leader", 302),
            ("admin_user", 302),
        ],
    )
    def test_the_owner_the_team_leadership_and_admins_edit_an_entry(
        self, client, request, deck, role, status
    ):
        client.force_login(request.getfixturevalue(role))
        response = client.post(
            f"/inventory/{deck.pk}/edit/",
            {"title": "Onboarding deck", "tool": "slides", "version": deck.version},
        )
        assert response.status_code == status
        deck.refresh_from_db()
        assert (deck.title == "Onboarding deck") is (status == 302)

    def test_a_viewer_adds_an_entry_and_owns_it(self, client, viewer):
        client.force_login(viewer)
        response = client.post(
            "/inventory/new/",
            {"title": "Support journey", "tool": "mural", "link": "https://mural.co/b/1"},
        )
        added = ExternalMap.objects.get(title="Support journey")
        assert response.url == f"/inventory/{added.pk}/"
        assert added.owner == viewer and added.status == "to_migrate"
        assert added.history.get().history_user == viewer

    def test_the_owner_field_is_offered_to_leadership_only(self, client, viewer, leader):
        client.force_login(viewer)
        assert 'name="owner"' not in client.get("/inventory/new/").text
        client.force_login(leader)
        assert 'name="owner"' in client.get("/inventory/new/").text

    def test_only_leadership_gives_an_entry_to_someone_else(self, viewer, leader, owner):
        refused = api(viewer).post(
            "/api/inventory/", {"title": "X", "tool": "miro", "owner": "olivia"}, format="json"
        )
        assert refused.status_code == 403
        assert "owner" in refused.json()["fields"]
        assert not ExternalMap.objects.exists()
        given = api(leader).post(
            "/api/inventory/", {"title": "X", "tool": "miro", "owner": "olivia"}, format="json"
        )
        assert given.status_code == 201 and given.json()["owner"] == "olivia"

    def test_a_team_can_be_only_one_of_your_own(self, client, viewer, team):
        client.force_login(viewer)
        response = client.post("/inventory/new/", {"title": "X", "tool": "miro", "team": team.pk})
        assert response.status_code == 200
        assert "team" in response.context["form"].errors
        assert not ExternalMap.objects.exists()


# --- migrating and retiring -----------------------------------------------------------


class TestStatus:
    def test_marking_migrated_links_the_journeyhub_map(self, client, owner, deck, team_map):
        client.force_login(owner)
        response = client.post(
            f"/inventory/{deck.pk}/status/",
            {"status": "migrated", "migrated_to": team_map.slug, "version": deck.version},
        )
        assert response.status_code == 302
        deck.refresh_from_db()
        assert deck.status == "migrated" and deck.migrated_to == team_map
        assert deck.version == 2

    def test_migrated_without_a_map_is_refused_on_the_map_field(self, client, owner, deck):
        client.force_login(owner)
        response = client.post(
            f"/inventory/{deck.pk}/status/", {"status": "migrated", "version": deck.version}
        )
        assert response.status_code == 200
        assert response.context["form"].errors["migrated_to"] == [
            "Choose the JourneyHub map this one became."
        ]
        deck.refresh_from_db()
        assert deck.status == "to_migrate"

    def test_a_map_the_user_may_not_see_cannot_be_picked(self, client, owner, deck, draft_map):
        client.force_login(owner)
        page = client.get(f"/inventory/{deck.pk}/status/?status=migrated").text
        assert draft_map.slug not in page
        response = client.post(
            f"/inventory/{deck.pk}/status/",
            {"status": "migrated", "migrated_to": draft_map.slug, "version": deck.version},
        )
        assert "migrated_to" in response.context["form"].errors
        refused = api(owner).patch(
            f"/api/inventory/{deck.pk}/",
            {"status": "migrated", "migrated_to": draft_map.pk, "version": deck.version},
            format="json",
        )
        assert refused.status_code == 400 and "migrated_to" in refused.json()
        deck.refresh_from_db()
        assert deck.status == "to_migrate"

    def test_retiring_needs_a_reason(self, client, owner, deck):
        client.force_login(owner)
        response = client.post(
            f"/inventory/{deck.pk}/status/", {"status": "retired", "version": deck.version}
        )
        assert response.context["form"].errors["retired_reason"] == ["Say why the map is retired."]
        client.post(
            f"/inventory/{deck.pk}/status/",
            {"status": "retired", "retired_reason": "Covered by Onboard", "version": deck.version},
        )
        deck.refresh_from_db()
        assert (deck.status, deck.retired_reason) == ("retired", "Covered by Onboard")

    def test_reopening_clears_the_map_and_the_reason(self, owner, deck, team_map):
        inventory.entry_set_status(
            entry=deck, by=owner, expected_version=1, status="migrated", migrated_to=team_map
        )
        reopened = inventory.entry_set_status(
            entry=deck, by=owner, expected_version=2, status="to_migrate"
        )
        assert (reopened.status, reopened.migrated_to, reopened.version) == ("to_migrate", None, 3)

    def test_a_stale_edit_is_refused_and_changes_nothing(self, client, owner, team_member, deck):
        inventory.entry_update(
            entry=deck, by=team_member, expected_version=1, values={"area": "KYC"}
        )
        client.force_login(owner)
        response = client.post(
            f"/inventory/{deck.pk}/edit/", {"title": "Mine", "tool": "slides", "version": 1}
        )
        assert response.status_code == 200
        assert "was changed since you opened it" in response.text
        deck.refresh_from_db()
        assert (deck.title, deck.area) == ("Onboarding deck 2024", "KYC")
        # the form now carries the current version: saving again applies it knowingly
        assert response.context["form"].data["version"] == "2"

    def test_the_map_page_says_where_it_was_migrated_from(self, client, owner, deck, team_map):
        inventory.entry_set_status(
            entry=deck, by=owner, expected_version=1, status="migrated", migrated_to=team_map
        )
        client.force_login(owner)
        page = client.get(f"/maps/{team_map.slug}/").text
        assert "Migrated from" in page
        assert "Slides" in page and "https://intranet.example.com/onboarding.pptx" in page


# --- bad input ------------------------------------------------------------------------


class TestBadInput:
    @pytest.mark.parametrize(
        "link", ["ftp://files.example.com/map.pdf", "javascript:alert(1)", "not a url"]
    )
    def test_a_link_that_is_not_http_or_https_is_refused_on_the_link_field(
        self, client, owner, link
    ):
        client.force_login(owner)
        response = client.post("/inventory/new/", {"title": "X", "tool": "miro", "link": link})
        assert response.status_code == 200
        assert response.context["form"].errors["link"] == ["Enter an http or https URL."]
        refused = api(owner).post(
            "/api/inventory/", {"title": "X", "tool": "miro", "link": link}, format="json"
        )
        assert refused.status_code == 400 and "link" in refused.json()
        assert "Enter a valid URL." in refused.json()["link"] or "http or https" in str(
            refused.json()["link"]
        )
        assert not ExternalMap.objects.exists()

    def test_an_unknown_tool_or_status_is_refused_naming_the_field(self, owner):
        refused = api(owner).post(
            "/api/inventory/", {"title": "X", "tool": "paper", "status": "lost"}, format="json"
        )
        assert refused.status_code == 400
        assert {"tool", "status"} <= set(refused.json())

    def test_an_update_without_its_version_is_refused(self, client, owner, deck):
        refused = api(owner).patch(f"/api/inventory/{deck.pk}/", {"area": "X"}, format="json")
        assert refused.status_code == 400 and "version" in refused.json()
        client.force_login(owner)
        response = client.post(f"/inventory/{deck.pk}/edit/", {"title": "Y", "tool": "miro"})
        assert "lacks the entry's version" in response.context["form"].non_field_errors()[0]
        deck.refresh_from_db()
        assert deck.title == "Onboarding deck 2024"

    def test_a_stale_api_update_answers_409_with_the_current_entry(self, owner, deck):
        inventory.entry_update(entry=deck, by=owner, expected_version=1, values={"area": "KYC"})
        refused = api(owner).patch(
            f"/api/inventory/{deck.pk}/", {"area": "X", "version": 1}, format="json"
        )
        assert refused.status_code == 409
        assert refused.json()["current"]["area"] == "KYC"

    def test_bad_filters_answer_400_naming_the_filter(self, owner, client):
        response = api(owner).get("/api/inventory/?tool=paper&owner=99999999999999999999999")
        assert response.status_code == 400
        assert {"tool", "owner"} <= set(response.json())
        client.force_login(owner)
        page = client.get("/inventory/?status=lost")
        assert page.status_code == 200 and "Status: Select a valid choice" in page.text

    def test_a_file_whose_content_is_not_its_type_is_refused(self, client, owner):
        client.force_login(owner)
        fake = SimpleUploadedFile("deck.pdf", b"<html><script>alert(1)</script></html>")
        response = client.post("/inventory/new/", {"title": "X", "tool": "slides", "upload": fake})
        assert response.status_code == 200
        assert "its content is not a PDF" in response.context["form"].errors["upload"][0]
        assert not ExternalMap.objects.exists()

    def test_an_uploaded_file_is_kept_and_downloaded_as_an_attachment(self, client, owner, viewer):
        client.force_login(owner)
        client.post(
            "/inventory/new/",
            {"title": "X", "tool": "slides", "upload": SimpleUploadedFile("deck.pdf", PDF)},
        )
        added = ExternalMap.objects.get()
        assert (added.file_name, added.file_content_type) == ("deck.pdf", "application/pdf")
        client.force_login(viewer)
        response = client.get(f"/inventory/{added.pk}/file/")
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert b"".join(response.streaming_content) == PDF


# --- the list: filters, progress, CSV, queries ----------------------------------------


@pytest.fixture
def ten(owner, other_owner, team, team_map):
    """Ten entries, counted by hand: 5 to migrate, 3 migrated, 2 retired.
    Miro: 4 (2 migrated, 1 retired, 1 to migrate); slides: 3 (1 migrated, 2 to migrate);
    spreadsheet: 3 (1 retired, 2 to migrate). Olivia's team holds the 4 Miro boards."""
    rows = [
        ("miro", "migrated", owner, team),
        ("miro", "migrated", owner, team),
        ("miro", "retired", owner, team),
        ("miro", "to_migrate", owner, team),
        ("slides", "migrated", other_owner, None),
        ("slides", "to_migrate", other_owner, None),
        ("slides", "to_migrate", other_owner, None),
        ("spreadsheet", "retired", other_owner, None),
        ("spreadsheet", "to_migrate", owner, None),
        ("spreadsheet", "to_migrate", owner, None),
    ]
    for n, (tool, status, who, in_team) in enumerate(rows):
        entry(
            who,
            title=f"Map {n}",
            tool=tool,
            status=status,
            team=in_team,
            migrated_to=team_map if status == "migrated" else None,
            retired_reason="Duplicate" if status == "retired" else "",
        )


class TestList:
    def test_progress_counts_and_shares_are_those_counted_by_hand(self, ten, viewer):
        progress = inventory.inventory_progress(ExternalMap.objects.all())
        assert progress.total == 10 and progress.done == 5 and progress.percent_done == 50.0
        assert [(s.status, s.count, s.percent) for s in progress.statuses] == [
            ("to_migrate", 5, 50.0),
            ("migrated", 3, 30.0),
            ("retired", 2, 20.0),
        ]
        tools = {
            t.tool: (t.total, t.to_migrate, t.migrated, t.retired, t.percent_done)
            for t in progress.tools
        }
        assert tools == {
            "miro": (4, 1, 2, 1, 75.0),
            "slides": (3, 2, 1, 0, 33.3),
            "spreadsheet": (3, 2, 0, 1, 33.3),
        }
        assert [t.tool for t in progress.tools] == ["miro", "slides", "spreadsheet"]

    def test_the_page_shows_the_progress_of_the_filtered_entries(self, client, ten, viewer):
        client.force_login(viewer)
        page = client.get("/inventory/")
        assert page.context["progress"].percent_done == 50.0
        assert "5 of 10 done (50%)" in page.text
        filtered = client.get("/inventory/?tool=miro")
        assert "3 of 4 done (75%)" in filtered.text
        assert filtered.context["page"].paginator.count == 4

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("tool=slides", 3),
            ("status=to_migrate", 5),
            ("status=migrated&tool=miro", 2),
            ("owner={owner}", 6),
            ("owner={other_owner}", 4),
            ("team={team}", 4),
            ("q=Map 1", 1),
        ],
    )
    def test_filters_select_the_entries(
        self, client, ten, viewer, owner, other_owner, team, query, expected
    ):
        query = query.format(owner=owner.pk, other_owner=other_owner.pk, team=team.pk)
        client.force_login(viewer)
        assert client.get(f"/inventory/?{query}").context["page"].paginator.count == expected
        assert len(api(viewer).get(f"/api/inventory/?{query}").json()["results"]) == expected

    def test_a_hidden_draft_is_never_named(self, client, owner, viewer, other_owner, draft_map):
        entry(owner, title="Closing deck", status="migrated", migrated_to=draft_map)
        client.force_login(viewer)
        assert "Close my account" not in client.get("/inventory/").text
        assert "Close my account" not in client.get("/inventory/export.csv").content.decode()
        row = api(viewer).get("/api/inventory/").json()["results"][0]
        assert (row["migrated_to"], row["migrated_to_title"]) == (None, None)
        client.force_login(other_owner)
        assert "Close my account" in client.get("/inventory/").text

    def test_the_csv_has_every_entry_and_neutralises_formulas(self, client, owner, team_map):
        entry(owner, title='=HYPERLINK("http://evil")', tool="figma", area="+SUM(A1)")
        entry(owner, title="Onboard board", status="migrated", migrated_to=team_map)
        client.force_login(owner)
        response = client.get("/inventory/export.csv")
        assert response["Content-Disposition"] == 'attachment; filename="map-inventory.csv"'
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [r["title"] for r in rows] == ['\'=HYPERLINK("http://evil")', "Onboard board"]
        assert rows[0]["journey_or_area"] == "'+SUM(A1)" and rows[0]["tool"] == "Figma"
        assert rows[1]["status"] == "Migrated" and rows[1]["journeyhub_map"] == team_map.title
        assert rows[1]["journeyhub_map_url"].endswith(f"/maps/{team_map.slug}/")

    def test_the_csv_follows_the_filters(self, client, ten, owner):
        client.force_login(owner)
        body = client.get("/inventory/export.csv?tool=miro&status=migrated").content.decode()
        assert len(list(csv.DictReader(io.StringIO(body)))) == 2

    def test_the_list_page_and_api_run_the_same_queries_with_ten_times_the_data(
        self, client, owner, other_owner, team, leader
    ):
        def grow(n: int) -> None:
            for i in range(n):
                journey = JourneyMapFactory(
                    owner=other_owner, status="draft" if i % 2 else "published"
                )
                group = GroupFactory(name=f"Team {ExternalMap.objects.count()}")
                person = UserFactory(groups=[group])
                entry(
                    person,
                    title=f"Migrated {i}",
                    status="migrated",
                    migrated_to=journey,
                    team=group,
                )
                entry(owner, title=f"Board {i}", tool="mural", team=team, link="https://x.io")
                entry(person, title=f"Retired {i}", status="retired", retired_reason="Old")

        grow(2)
        client.force_login(owner)
        small = (
            count_queries(client, "/inventory/"),
            count_queries(client, "/inventory/export.csv"),
        )
        fresh = UserFactory._meta.model.objects.get  # no group ids cached on the user
        with CaptureQueriesContext(connection) as api_small:
            api(fresh(pk=owner.pk)).get("/api/inventory/?page_size=100")
        grow(18)
        assert ExternalMap.objects.count() == 60
        large = (
            count_queries(client, "/inventory/"),
            count_queries(client, "/inventory/export.csv"),
        )
        with CaptureQueriesContext(connection) as api_large:
            listed = api(fresh(pk=owner.pk)).get("/api/inventory/?page_size=100").json()
        assert len(listed["results"]) == 60
        assert small == large
        assert len(api_small.captured_queries) == len(api_large.captured_queries)


# --- the API --------------------------------------------------------------------------


class TestApi:
    def test_a_team_member_marks_an_entry_migrated(self, team_member, deck, team_map):
        response = api(team_member).patch(
            f"/api/inventory/{deck.pk}/",
            {"status": "migrated", "migrated_to": team_map.pk, "version": 1},
            format="json",
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["migrated_to"], body["version"]) == (
            "migrated",
            team_map.pk,
            2,
        )
        assert body["migrated_to_title"] == "Open an account"

    def test_someone_elses_entry_is_refused_before_the_payload_is_read(self, other_owner, deck):
        response = api(other_owner).patch(
            f"/api/inventory/{deck.pk}/", {"tool": "nonsense"}, format="json"
        )
        assert response.status_code == 403

    def test_an_upload_through_the_api_is_checked_like_research_files(self, owner):
        ok = api(owner).post(
            "/api/inventory/",
            {"title": "Deck", "tool": "slides", "file": SimpleUploadedFile("d.pdf", PDF)},
            format="multipart",
        )
        assert ok.status_code == 201 and ok.json()["file_url"].endswith("/file/")
        refused = api(owner).post(
            "/api/inventory/",
            {"title": "Deck", "tool": "slides", "file": SimpleUploadedFile("d.exe", b"MZ")},
            format="multipart",
        )
        assert refused.status_code == 400 and "file" in refused.json()

    def test_an_entry_can_be_recorded_as_already_migrated(self, owner, team_map):
        response = api(owner).post(
            "/api/inventory/",
            {
                "title": "Old map",
                "tool": "smaply",
                "status": "migrated",
                "migrated_to": team_map.pk,
            },
            format="json",
        )
        assert response.status_code == 201
        refused = api(owner).post(
            "/api/inventory/",
            {"title": "Old map", "tool": "smaply", "status": "migrated"},
            format="json",
        )
        assert refused.status_code == 400 and "migrated_to" in refused.json()
