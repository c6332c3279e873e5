"""The map editor's views: add, edit, delete and reorder content, conflicts, permissions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from maps.models import JourneyMap, PainPoint, Stage, Step, StepLink
from tests.builders import build_map_content
from tests.factories import JourneyMapFactory, PainPointFactory, StageFactory, StepFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def new_url(journey, kind):
    return reverse("maps:item-new", args=[journey.slug, kind])


def edit_url(journey, kind, pk):
    return reverse("maps:item-edit", args=[journey.slug, kind, pk])


@pytest.fixture
def olivia(client, owner):
    client.force_login(owner)
    return client


class TestAddingContent:
    def test_the_add_form_starts_from_the_page_version_and_presets_the_lane(self, olivia, team_map):
        step = StepFactory(map=team_map)
        page = olivia.get(
            new_url(team_map, "painpoint") + f"?v=1&kind=employee&step={step.pk}", **HX
        )
        assert page.status_code == 200
        assert 'name="map_version" value="1"' in page.text
        assert '<option value="employee" selected>' in page.text
        assert f'<option value="{step.pk}" selected>' in page.text
        assert "<html" not in page.text  # a partial for htmx

    def test_a_new_step_of_a_one_stage_map_starts_in_that_stage(self, olivia, team_map):
        stage = StageFactory(map=team_map, name="Apply")
        page = olivia.get(new_url(team_map, "step") + "?v=1", **HX)
        assert f'<option value="{stage.pk}" selected>Apply</option>' in page.text

    def test_with_several_stages_the_new_step_names_none_until_asked(self, olivia, team_map):
        first = StageFactory(map=team_map, name="Apply")
        StageFactory(map=team_map, name="Use")
        assert "selected>Apply" not in olivia.get(new_url(team_map, "step") + "?v=1", **HX).text
        preset = olivia.get(new_url(team_map, "step") + f"?v=1&stage={first.pk}", **HX).text
        assert f'<option value="{first.pk}" selected>Apply</option>' in preset

    def test_without_htmx_the_form_is_a_whole_page(self, olivia, team_map):
        page = olivia.get(new_url(team_map, "stage"))
        assert "<html" in page.text and "Add stage" in page.text

    def test_adding_a_step_refreshes_the_grid_and_bumps_the_version(self, olivia, team_map):
        stage = StageFactory(map=team_map, name="Apply")
        response = olivia.post(
            new_url(team_map, "step"),
            {
                "name": "Upload payslip",
                "stage": stage.pk,
                "emotion": -1,
                "evidence": "researched",
                "map_version": 1,
            },
            **HX,
        )
        assert response.status_code == 200
        assert response["HX-Retarget"] == "#map-grid"
        assert 'id="map-grid"' in response.text and "Upload payslip" in response.text
        assert "Added step “Upload payslip”." in response.text
        step = Step.objects.get(name="Upload payslip")
        assert (step.key, step.stage, step.emotion) == ("upload-payslip", stage, -1)
        team_map.refresh_from_db()
        assert team_map.version == 2

    def test_new_items_go_last(self, olivia, team_map):
        StepFactory(map=team_map, position=7)
        olivia.post(
            new_url(team_map, "step"),
            {"name": "Last", "emotion": 0, "evidence": "assumption", "map_version": 1},
        )
        assert Step.objects.get(name="Last").position == 8

    def test_validation_errors_sit_next_to_the_field_and_nothing_changes(self, olivia, team_map):
        response = olivia.post(
            new_url(team_map, "painpoint"),
            {
                "kind": "customer",
                "title": "",
                "severity": 3,
                "frequency": 3,
                "evidence": "assumption",
                "map_version": 1,
            },
            **HX,
        )
        assert 'class="field has-error"' in response.text
        assert "This field is required." in response.text
        assert not PainPoint.objects.exists()
        team_map.refresh_from_db()
        assert team_map.version == 1

    def test_a_duplicate_step_key_is_reported_on_the_form(self, olivia, team_map):
        StepFactory(map=team_map, key="apply")
        response = olivia.post(
            new_url(team_map, "step"),
            {
                "name": "Apply again",
                "key": "apply",
                "emotion": 0,
                "evidence": "assumption",
                "map_version": 1,
            },
            **HX,
        )
        assert "Another step of this map already uses this key." in response.text
        assert Step.objects.count() == 1

    def test_a_link_forms_a_loop(self, olivia, team_map):
        first, last = StepFactory(map=team_map), StepFactory(map=team_map)
        olivia.post(
            new_url(team_map, "link"),
            {
                "from_step": last.pk,
                "to_step": first.pk,
                "kind": "loop",
                "label": "Retry",
                "map_version": 1,
            },
            **HX,
        )
        link = StepLink.objects.get()
        assert (link.from_step, link.to_step, link.kind) == (last, first, "loop")
        assert "Loop back" in olivia.get(team_map.get_absolute_url()).text

    def test_steps_of_other_maps_are_not_offered(self, olivia, team_map):
        foreign = StepFactory(name="Somebody else's step")
        page = olivia.get(new_url(team_map, "painpoint"), **HX).text
        assert "Somebody else" not in page
        response = olivia.post(
            new_url(team_map, "painpoint"),
            {
                "kind": "customer",
                "title": "x",
                "step": foreign.pk,
                "severity": 3,
                "frequency": 3,
                "evidence": "assumption",
                "map_version": 1,
            },
            **HX,
        )
        assert "Select a valid choice" in response.text
        assert not PainPoint.objects.exists()

    def test_an_unknown_kind_is_404(self, olivia, team_map):
        assert olivia.get(new_url(team_map, "gadget")).status_code == 404


class TestConflicts:
    def test_an_edit_from_an_old_page_shows_the_newer_content_and_can_be_reapplied(
        self, client, owner, team_member, team_map
    ):
        pain = PainPointFactory(map=team_map, title="Original")
        client.force_login(team_member)
        client.post(
            edit_url(team_map, "painpoint", pain.pk),
            {
                "kind": "customer",
                "title": "Tess's wording",
                "severity": 4,
                "frequency": 3,
                "evidence": "anecdotal",
                "map_version": 1,
            },
            **HX,
        )
        client.force_login(owner)
        stale = {
            "kind": "customer",
            "title": "Olivia's wording",
            "severity": 2,
            "frequency": 3,
            "evidence": "assumption",
            "map_version": 1,
        }
        response = client.post(edit_url(team_map, "painpoint", pain.pk), stale, **HX)
        assert "Not saved." in response.text
        assert "Tess&#x27;s wording" in response.text  # what it says now
        assert 'value="Olivia&#x27;s wording"' in response.text  # her version kept in the form
        assert 'name="map_version" value="2"' in response.text  # saving again re-applies
        pain.refresh_from_db()
        assert pain.title == "Tess's wording"
        again = client.post(
            edit_url(team_map, "painpoint", pain.pk), {**stale, "map_version": 2}, **HX
        )
        assert "Saved pain point" in again.text
        pain.refresh_from_db()
        assert pain.title == "Olivia's wording"

    def test_editing_an_item_deleted_meanwhile_says_so(self, olivia, team_map):
        pain = PainPointFactory(map=team_map)
        url = edit_url(team_map, "painpoint", pain.pk)
        form = olivia.get(url + "?v=1", **HX)
        assert form.status_code == 200
        olivia.post(
            reverse("maps:item-delete", args=[team_map.slug, "painpoint", pain.pk]),
            {"map_version": 1},
            **HX,
        )
        assert olivia.post(url, {"title": "x", "map_version": 1}, **HX).status_code == 404

    def test_a_stale_delete_deletes_nothing(self, olivia, team_map):
        pain = PainPointFactory(map=team_map)
        JourneyMap.objects.filter(pk=team_map.pk).update(version=3)
        response = olivia.post(
            reverse("maps:item-delete", args=[team_map.slug, "painpoint", pain.pk]),
            {"map_version": 2},
            **HX,
        )
        assert "Nothing deleted." in response.text
        assert PainPoint.objects.filter(pk=pain.pk).exists()


class TestReordering:
    def test_moving_a_step_right_swaps_it_with_its_neighbour(self, olivia, team_map):
        a, _b, _c = (StepFactory(map=team_map, name=n, position=i) for i, n in enumerate("ABC"))
        olivia.post(
            reverse("maps:reorder", args=[team_map.slug, "step"]),
            {"move": a.pk, "direction": "right", "map_version": 1},
            **HX,
        )
        assert list(Step.objects.order_by("position").values_list("name", flat=True)) == [
            "B",
            "A",
            "C",
        ]

    def test_a_dragged_order_is_stored(self, olivia, team_map):
        a, b, c = (StepFactory(map=team_map, name=n, position=i) for i, n in enumerate("ABC"))
        response = olivia.post(
            reverse("maps:reorder", args=[team_map.slug, "step"]),
            {"order": f"{c.pk},{a.pk},{b.pk}", "map_version": 1},
            **HX,
        )
        assert "Moved the steps." in response.text
        assert list(Step.objects.order_by("position").values_list("name", flat=True)) == [
            "C",
            "A",
            "B",
        ]
        assert a.history.count() == 2  # the move is in the history

    def test_an_incomplete_order_is_refused(self, olivia, team_map):
        a, b = StepFactory(map=team_map, position=0), StepFactory(map=team_map, position=1)
        response = olivia.post(
            reverse("maps:reorder", args=[team_map.slug, "step"]),
            {"order": f"{b.pk}", "map_version": 1},
            **HX,
        )
        assert "must list every one" in response.text
        assert list(Step.objects.order_by("position").values_list("pk", flat=True)) == [a.pk, b.pk]

    def test_stages_reorder_too(self, olivia, team_map):
        first, second = (
            StageFactory(map=team_map, position=0),
            StageFactory(map=team_map, position=1),
        )
        olivia.post(
            reverse("maps:reorder", args=[team_map.slug, "stage"]),
            {"move": second.pk, "direction": "left", "map_version": 1},
        )
        assert list(Stage.objects.order_by("position")) == [second, first]


class TestMapSettings:
    def test_the_owner_hides_lanes(self, olivia, team_map):
        build_map_content(team_map)
        team_map.refresh_from_db()
        response = olivia.post(
            reverse("maps:settings", args=[team_map.slug]),
            {
                "title": team_map.title,
                "summary": "",
                "status": "published",
                "review_every_days": 90,
                "map_version": team_map.version,
                "shown_lanes": ["customer_pain_points", "kpis"],
            },
        )
        assert response.status_code == 302
        team_map.refresh_from_db()
        assert "employee_pain_points" in team_map.hidden_lanes
        page = olivia.get(team_map.get_absolute_url()).text
        assert "Customer pain point" in page and "Employee pain point" not in page

    def test_a_stale_settings_form_conflicts(self, olivia, team_map):
        JourneyMap.objects.filter(pk=team_map.pk).update(version=4, title="Renamed meanwhile")
        response = olivia.post(
            reverse("maps:settings", args=[team_map.slug]),
            {
                "title": "Mine",
                "summary": "",
                "status": "published",
                "review_every_days": 90,
                "map_version": 3,
            },
        )
        assert "Not saved." in response.text and "Renamed meanwhile" in response.text


class TestZoomingIn:
    def test_a_sub_map_is_created_from_a_step(self, olivia, owner, team_map):
        step = StepFactory(map=team_map, name="Verify identity")
        url = reverse("maps:new") + f"?parent={team_map.slug}&step={step.pk}"
        form = olivia.get(url)
        assert 'value="Verify identity"' in form.text
        response = olivia.post(
            url, {"title": "Verify identity", "status": "draft", "parent_step": step.pk}
        )
        child = JourneyMap.objects.get(parent=team_map)
        assert response["Location"] == child.get_absolute_url()
        assert (child.owner, child.parent_step, child.team) == (owner, step, team_map.team)
        assert f"Zoom in: {child.title}" in olivia.get(team_map.get_absolute_url()).text

    def test_journey_owners_cannot_create_top_level_maps(self, olivia):
        assert olivia.get(reverse("maps:new")).status_code == 403

    def test_leadership_can(self, client, leader):
        client.force_login(leader)
        response = client.post(
            reverse("maps:new"), {"title": "Business customer lifecycle", "status": "draft"}
        )
        assert response.status_code == 302
        assert JourneyMap.objects.get().level == 0


class TestPermissions:
    def test_viewers_get_a_clean_read_only_map(self, client, viewer, team_map):
        build_map_content(team_map)
        client.force_login(viewer)
        page = client.get(team_map.get_absolute_url()).text
        # (htmx is there for the discussion dialog: viewers comment too)
        for control in ("+ Step", "add-button", "Map settings", "icon-button", "editor.js"):
            assert control not in page

    @pytest.mark.parametrize("who", ["viewer", "other_owner", "leader"])
    def test_crafted_writes_by_non_editors_are_403(self, request, client, who, team_map):
        pain = PainPointFactory(map=team_map)
        client.force_login(request.getfixturevalue(who))
        assert (
            client.post(new_url(team_map, "stage"), {"name": "x", "map_version": 1}).status_code
            == 403
        )
        assert (
            client.post(
                reverse("maps:item-delete", args=[team_map.slug, "painpoint", pain.pk]),
                {"map_version": 1},
            ).status_code
            == 403
        )
        assert client.get(reverse("maps:settings", args=[team_map.slug])).status_code == 403
        assert PainPoint.objects.count() == 1 and not Stage.objects.exists()

    def test_an_item_of_another_map_is_404_even_for_an_editor(self, olivia, team_map):
        foreign = PainPointFactory()
        assert olivia.get(edit_url(team_map, "painpoint", foreign.pk)).status_code == 404

    def test_team_members_edit_the_teams_map(self, client, team_member, team_map):
        client.force_login(team_member)
        assert "+ Step" in client.get(team_map.get_absolute_url()).text


def test_the_editable_map_page_keeps_a_fixed_query_count(
    olivia, owner, django_assert_max_num_queries
):
    small = JourneyMapFactory(owner=owner, slug="small")
    build_map_content(small, steps=4, items_per_step=1)
    large = JourneyMapFactory(owner=owner, slug="large")
    build_map_content(large, steps=40, items_per_step=10)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        olivia.get(small.get_absolute_url())
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        page = olivia.get(large.get_absolute_url())
    assert (
        page.text.count('class="add-button"') == 41 * 7
    )  # 7 editable lanes × (40 steps + whole map)
