"""Moving content in the map grid (#17 rough edges): a step into another stage (dragged, or
one place at a time from the keyboard), cards reordered within their cell; who may, stale
versions, and bad input refused with a 400 naming the field and nothing changed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from maps import services
from maps.models import JourneyMap, LaneItem, PainPoint, Step
from tests.factories import (
    JourneyMapFactory,
    LaneItemFactory,
    PainPointFactory,
    StageFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def reorder_url(journey, kind):
    return reverse("maps:reorder", args=[journey.slug, kind])


@pytest.fixture
def two_stages(team_map):
    """Stage A: a1, a2; stage B: b1, b2."""
    apply, use = (
        StageFactory(map=team_map, name="A", position=0),
        StageFactory(map=team_map, name="B", position=1),
    )
    steps = {
        name: StepFactory(map=team_map, stage=stage, name=name, key=name, position=i)
        for i, (name, stage) in enumerate((("a1", apply), ("a2", apply), ("b1", use), ("b2", use)))
    }
    return {"A": apply, "B": use, **steps}


def layout(journey) -> list[tuple[str, str]]:
    """(stage, step) in the grid's reading order."""
    from maps.selectors import STEP_ORDER

    steps = Step.objects.filter(map=journey).select_related("stage").order_by(*STEP_ORDER)
    return [(s.stage.name if s.stage else "-", s.name) for s in steps]


def ids(*steps) -> str:
    return ",".join(str(s.pk) for s in steps)


def version_of(journey) -> int:
    return JourneyMap.objects.get(pk=journey.pk).version


class TestDraggingAStepIntoAnotherStage:
    def test_the_step_lands_in_the_stage_at_the_dropped_place(
        self, client, owner, team_map, two_stages
    ):
        s = two_stages
        client.force_login(owner)
        response = client.post(
            reorder_url(team_map, "step"),
            {"order": ids(s["a1"], s["b1"], s["a2"], s["b2"]), "moved": s["a2"].pk,
             "stage": s["B"].pk, "map_version": 1},
            **HX,
        )  # fmt: skip
        assert response.status_code == 200
        assert "Moved step “a2” to stage “B”, 2 of 3." in response.text
        assert layout(team_map) == [("A", "a1"), ("B", "b1"), ("B", "a2"), ("B", "b2")]
        assert version_of(team_map) == 2
        a2 = Step.objects.get(pk=s["a2"].pk)
        record = a2.history.first()
        assert record.stage_id == s["B"].pk and record.history_user == owner

    def test_a_step_dropped_at_a_stages_edge_joins_the_stage_named(
        self, client, owner, team_map, two_stages
    ):
        # the same order either way: the stage decides which side of the edge it is
        s = two_stages
        client.force_login(owner)
        client.post(
            reorder_url(team_map, "step"),
            {"order": ids(s["a1"], s["a2"], s["b1"], s["b2"]), "moved": s["a2"].pk,
             "stage": s["B"].pk, "map_version": 1},
            **HX,
        )  # fmt: skip
        assert layout(team_map) == [("A", "a1"), ("B", "a2"), ("B", "b1"), ("B", "b2")]

    def test_an_empty_stage_means_unstaged(self, client, owner, team_map, two_stages):
        s = two_stages
        client.force_login(owner)
        client.post(
            reorder_url(team_map, "step"),
            {"order": ids(s["a1"], s["a2"], s["b1"], s["b2"]), "moved": s["b2"].pk,
             "stage": "", "map_version": 1},
        )  # fmt: skip
        assert layout(team_map)[-1] == ("-", "b2")

    def test_a_stage_of_another_map_is_refused_naming_the_stage(
        self, client, owner, team_map, two_stages
    ):
        s = two_stages
        foreign = StageFactory(map=JourneyMapFactory(owner=owner), name="Elsewhere")
        client.force_login(owner)
        response = client.post(
            reorder_url(team_map, "step"),
            {"order": ids(s["a1"], s["a2"], s["b1"], s["b2"]), "moved": s["a2"].pk,
             "stage": foreign.pk, "map_version": 1},
            **HX,
        )  # fmt: skip
        assert response.status_code == 400
        assert f"stage: Stage {foreign.pk} is not a stage of “Open an account”" in response.text
        assert layout(team_map) == [("A", "a1"), ("A", "a2"), ("B", "b1"), ("B", "b2")]
        assert version_of(team_map) == 1

    @pytest.mark.parametrize(
        ("field", "value", "named"),
        [
            ("stage", "x", "stage"),
            ("moved", "x", "moved"),
            ("order", "1,x", "order"),
            ("map_version", "", "map_version"),
        ],
    )
    def test_malformed_input_is_refused_naming_the_field(
        self, client, owner, team_map, two_stages, field, value, named
    ):
        s = two_stages
        data = {"order": ids(s["a1"], s["a2"], s["b1"], s["b2"]), "moved": s["a2"].pk,
                "stage": s["B"].pk, "map_version": 1}  # fmt: skip
        data[field] = value
        client.force_login(owner)
        response = client.post(reorder_url(team_map, "step"), data)
        assert response.status_code == 400
        assert f"{named}:" in response.text
        assert version_of(team_map) == 1

    def test_a_step_of_another_map_is_refused(self, client, owner, team_map, two_stages):
        s = two_stages
        foreign = StepFactory(map=JourneyMapFactory(owner=owner))
        client.force_login(owner)
        response = client.post(
            reorder_url(team_map, "step"),
            {"order": ids(s["a1"], s["a2"], s["b1"], s["b2"], foreign), "moved": foreign.pk,
             "stage": s["B"].pk, "map_version": 1},
        )  # fmt: skip
        assert response.status_code == 400 and "moved:" in response.text
        assert Step.objects.get(pk=foreign.pk).map_id != team_map.pk

    def test_a_stale_version_is_a_conflict_and_moves_nothing(
        self, client, owner, team_map, two_stages
    ):
        s = two_stages
        JourneyMap.objects.filter(pk=team_map.pk).update(version=3)
        client.force_login(owner)
        response = client.post(
            reorder_url(team_map, "step"),
            {"order": ids(s["a1"], s["b1"], s["a2"], s["b2"]), "moved": s["a2"].pk,
             "stage": s["B"].pk, "map_version": 2},
            **HX,
        )  # fmt: skip
        assert response.status_code == 409
        assert "Nothing moved." in response.text and "now at version 3" in response.text
        assert 'data-map-version="3"' in response.text  # the grid as it is now
        assert layout(team_map) == [("A", "a1"), ("A", "a2"), ("B", "b1"), ("B", "b2")]


class TestMovingAStepFromTheKeyboard:
    def move(self, client, journey, step, direction, version):
        return client.post(
            reorder_url(journey, "step"), {direction: step.pk, "map_version": version}, **HX
        )

    def test_right_past_its_stages_end_it_becomes_the_next_stages_first(
        self, client, owner, team_map, two_stages
    ):
        s = two_stages
        client.force_login(owner)
        response = self.move(client, team_map, s["a2"], "right", 1)
        assert "Moved step “a2” to stage “B”, 1 of 3." in response.text
        assert layout(team_map) == [("A", "a1"), ("B", "a2"), ("B", "b1"), ("B", "b2")]
        self.move(client, team_map, s["a2"], "right", 2)
        assert layout(team_map) == [("A", "a1"), ("B", "b1"), ("B", "a2"), ("B", "b2")]

    def test_left_from_a_stages_first_it_becomes_the_previous_stages_last(
        self, client, owner, team_map, two_stages
    ):
        client.force_login(owner)
        self.move(client, team_map, two_stages["b1"], "left", 1)
        assert layout(team_map) == [("A", "a1"), ("A", "a2"), ("A", "b1"), ("B", "b2")]

    def test_an_empty_stage_between_is_a_stop_on_the_way(self, client, owner, team_map, two_stages):
        s = two_stages
        type(s["B"]).objects.filter(pk=s["B"].pk).update(position=2)
        StageFactory(map=team_map, name="Between", position=1)
        client.force_login(owner)
        self.move(client, team_map, s["a2"], "right", 1)
        assert layout(team_map) == [("A", "a1"), ("Between", "a2"), ("B", "b1"), ("B", "b2")]

    def test_the_last_step_cannot_move_further_right(self, client, owner, team_map, two_stages):
        client.force_login(owner)
        response = self.move(client, team_map, two_stages["b2"], "right", 1)
        assert (
            response.status_code == 400 and "right: “b2” is already the last step" in response.text
        )
        assert version_of(team_map) == 1

    def test_the_grid_disables_only_the_very_ends(self, client, owner, team_map, two_stages):
        s = two_stages
        client.force_login(owner)
        page = client.get(team_map.get_absolute_url()).text
        for step, name, disabled in (
            (s["a1"], "left", True), (s["a2"], "right", False),
            (s["b1"], "left", False), (s["b2"], "right", True),
        ):  # fmt: skip
            button = page.split(f'form="step-move" name="{name}" value="{step.pk}"')[1].split(">")[
                0
            ]
            assert ("disabled" in button) is disabled, (step, name)

    def test_without_javascript_the_move_button_posts_and_redirects(
        self, client, owner, team_map, two_stages
    ):
        client.force_login(owner)
        response = client.post(
            reorder_url(team_map, "step"), {"right": two_stages["a2"].pk, "map_version": 1}
        )
        assert response.status_code == 302
        assert layout(team_map)[1] == ("B", "a2")


class TestReorderingCardsInACell:
    @pytest.fixture
    def cell(self, team_map):
        step = StepFactory(map=team_map, name="Apply")
        pains = [
            PainPointFactory(map=team_map, step=step, title=t, position=p)
            for t, p in (("first", 3), ("second", 3), ("third", 9))
        ]
        # the same step but another lane (employee) and another step: not in the cell
        PainPointFactory(map=team_map, step=step, title="staff", kind="employee", position=4)
        PainPointFactory(map=team_map, title="whole map", position=5)
        return step, pains

    def titles(self, step):
        return list(
            PainPoint.objects.filter(step=step, kind="customer")
            .order_by("position", "pk")
            .values_list("title", flat=True)
        )

    def test_a_dragged_order_is_stored_and_the_other_cells_keep_theirs(
        self, client, owner, team_map, cell
    ):
        step, (first, second, third) = cell
        client.force_login(owner)
        response = client.post(
            reorder_url(team_map, "painpoint"),
            {"order": ids(third, first, second), "moved": third.pk, "map_version": 1},
            **HX,
        )
        assert response.status_code == 200
        assert "Moved pain point “third”: 1 of 3." in response.text
        assert self.titles(step) == ["third", "first", "second"]
        assert PainPoint.objects.get(title="staff").position == 4
        assert PainPoint.objects.get(title="whole map").position == 5
        assert third.history.count() == 2 and version_of(team_map) == 2

    def test_up_and_down_move_one_place(self, client, owner, team_map, cell):
        step, (first, _second, third) = cell
        client.force_login(owner)
        response = client.post(
            reorder_url(team_map, "painpoint"), {"down": first.pk, "map_version": 1}, **HX
        )
        assert "Moved pain point “first” down: 2 of 3." in response.text
        client.post(reorder_url(team_map, "painpoint"), {"up": third.pk, "map_version": 2}, **HX)
        assert self.titles(step) == ["second", "third", "first"]

    def test_lane_items_reorder_within_their_kind(self, client, owner, team_map):
        step = StepFactory(map=team_map)
        a, b = (LaneItemFactory(map=team_map, step=step, kind="insight", title=t) for t in "ab")
        LaneItemFactory(map=team_map, step=step, kind="idea", title="idea")
        client.force_login(owner)
        response = client.post(
            reorder_url(team_map, "laneitem"), {"order": ids(b, a), "map_version": 1}
        )
        assert response.status_code == 302
        assert list(
            LaneItem.objects.filter(kind="insight")
            .order_by("position", "pk")
            .values_list("title", flat=True)
        ) == ["b", "a"]

    def test_cards_of_two_cells_are_refused_naming_the_order(self, client, owner, team_map, cell):
        _step, (first, second, third) = cell
        staff = PainPoint.objects.get(title="staff")
        client.force_login(owner)
        response = client.post(
            reorder_url(team_map, "painpoint"),
            {"order": ids(first, second, third, staff), "map_version": 1},
        )
        assert (
            response.status_code == 400
            and "order: The new order must list every one" in response.text
        )
        assert version_of(team_map) == 1

    def test_an_incomplete_cell_is_refused(self, client, owner, team_map, cell):
        _, (first, second, _third) = cell
        client.force_login(owner)
        response = client.post(
            reorder_url(team_map, "painpoint"), {"order": ids(second, first), "map_version": 1}
        )
        assert response.status_code == 400 and "order:" in response.text

    def test_another_maps_card_is_refused_and_left_alone(self, client, owner, team_map, cell):
        foreign = PainPointFactory(map=JourneyMapFactory(owner=owner), position=7)
        client.force_login(owner)
        for data in (
            {"order": ids(foreign), "map_version": 1},
            {"up": foreign.pk, "map_version": 1},
        ):
            response = client.post(reorder_url(team_map, "painpoint"), data)
            assert response.status_code == 400
            assert f"{foreign.pk}" in response.text
        assert PainPoint.objects.get(pk=foreign.pk).position == 7

    def test_a_stale_version_is_a_conflict(self, client, owner, team_map, cell):
        _, (first, _second, _third) = cell
        JourneyMap.objects.filter(pk=team_map.pk).update(version=5)
        client.force_login(owner)
        response = client.post(
            reorder_url(team_map, "painpoint"), {"down": first.pk, "map_version": 4}, **HX
        )
        assert response.status_code == 409 and "Nothing moved." in response.text
        assert PainPoint.objects.get(pk=first.pk).position == 3

    def test_kpis_projects_and_unknown_kinds_are_not_reordered(self, client, owner, team_map):
        client.force_login(owner)
        for kind in ("kpi", "link", "gadget"):
            assert client.post(reorder_url(team_map, kind), {"map_version": 1}).status_code == 404

    def test_a_bad_direction_is_refused_naming_it(self, client, owner, team_map, cell):
        _, (first, _second, _third) = cell
        client.force_login(owner)
        response = client.post(
            reorder_url(team_map, "painpoint"),
            {"move": first.pk, "direction": "sideways", "map_version": 1},
        )
        assert response.status_code == 400 and "direction:" in response.text


class TestWhoMayMove:
    @pytest.fixture
    def content(self, team_map):
        stage_a, stage_b = (
            StageFactory(map=team_map, name="A"),
            StageFactory(map=team_map, name="B"),
        )
        step = StepFactory(map=team_map, stage=stage_a, name="s")
        pains = [PainPointFactory(map=team_map, step=step) for _ in range(2)]
        return {"step": step, "stage": stage_b, "pains": pains}

    def attempts(self, journey, content):
        step, (p1, p2) = content["step"], content["pains"]
        return [
            ("step", {"order": ids(step), "moved": step.pk, "stage": content["stage"].pk}),
            ("step", {"left": step.pk}),  # back into A
            ("painpoint", {"order": ids(p2, p1)}),
            ("painpoint", {"up": p1.pk}),  # back to first
        ]

    @pytest.mark.parametrize("role", ["owner", "team_member", "admin_user"])
    def test_the_owner_her_team_and_admins_move(self, request, client, team_map, content, role):
        client.force_login(request.getfixturevalue(role))
        for version, (kind, data) in enumerate(self.attempts(team_map, content), start=1):
            response = client.post(
                reorder_url(team_map, kind), {**data, "map_version": version}, **HX
            )
            assert response.status_code == 200, (kind, data, response.text[-300:])
        assert version_of(team_map) == 5

    @pytest.mark.parametrize("role", ["viewer", "other_owner", "leader"])
    def test_readers_and_leadership_are_refused_and_nothing_moves(
        self, request, client, team_map, content, role
    ):
        client.force_login(request.getfixturevalue(role))
        for kind, data in self.attempts(team_map, content):
            response = client.post(reorder_url(team_map, kind), {**data, "map_version": 1}, **HX)
            assert response.status_code == 403
        assert version_of(team_map) == 1
        assert Step.objects.get(pk=content["step"].pk).stage.name == "A"

    def test_signed_out_visitors_are_sent_to_sign_in(self, client, team_map, content):
        response = client.post(reorder_url(team_map, "painpoint"), {"down": content["pains"][0].pk})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_the_service_refuses_a_user_who_may_not_edit(self, team_map, content, viewer):
        from django.core.exceptions import PermissionDenied

        step = content["step"]
        with pytest.raises(PermissionDenied):
            services.step_move(
                journey_map=team_map, step_id=step.pk, stage_id=content["stage"].pk,
                ordered_ids=[step.pk], expected_version=1, by=viewer,
            )  # fmt: skip
        assert version_of(team_map) == 1
