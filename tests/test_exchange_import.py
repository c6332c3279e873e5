"""journeyhub/1 import (``maps.exchange.import_document``): all or nothing, every problem
by JSON path, permissions, updates by key, history."""

from __future__ import annotations

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from maps.exchange import ExchangeInvalid, export_document, import_document
from maps.exchange.importer import CHANGE_REASON
from maps.models import KPI, JourneyMap, LaneItem, Stage, Step, StepLink
from tests.factories import JourneyMapFactory, StepFactory
from tests.test_exchange_export import populated_map

pytestmark = pytest.mark.django_db


def minimal(slug: str = "pay-a-bill", owner: str = "olivia", **extra) -> dict:
    """A hand-written document: readable keys, only what is needed."""
    entry = {
        "slug": slug,
        "title": "Pay a bill",
        "owner": owner,
        "stages": [{"key": "find", "name": "Find the bill"}],
        "steps": [
            {"key": "open-app", "stage": "find", "name": "Open the app", "emotion": 1},
            {"key": "pay", "stage": "find", "name": "Pay", "channel": "app"},
        ],
        "links": [{"from_step": "pay", "to_step": "open-app", "kind": "loop"}],
        "pain_points": [{"key": "slow", "step": "pay", "title": "Slow", "severity": 4}],
        **extra,
    }
    return {"format": "journeyhub/1", "maps": [entry]}


def test_a_hand_written_document_creates_its_map_under_one_the_user_edits(owner, team_map):
    summary = import_document(minimal(), by=owner, under=team_map)
    journey_map = JourneyMap.objects.get(slug="pay-a-bill")
    assert journey_map.parent == team_map and journey_map.owner == owner
    assert list(journey_map.steps.values_list("key", "stage__exchange_key")) == [
        ("open-app", "find"),
        ("pay", "find"),
    ]
    assert StepLink.objects.get(from_step__key="pay").to_step.key == "open-app"
    assert journey_map.pain_points.get().step.key == "pay"
    assert summary.created == {"map": 1, "stage": 1, "step": 2, "step link": 1, "pain point": 1}
    assert summary.maps["pay-a-bill"]["created"]["step"] == 2


def test_every_problem_is_named_by_its_json_path_and_nothing_is_written(owner, team_map):
    document = minimal(owner="nobody")
    entry = document["maps"][0]
    entry["steps"][1]["emotion"] = 7
    entry["steps"].append({"key": "pay", "name": "Pay again"})
    entry["links"].append({"from_step": "pay", "to_step": "vanished"})
    entry["pain_points"][0]["colour"] = "red"
    entry["team"] = "No such team"
    document["maps"].append({"slug": "pay-a-bill", "title": "Twin", "owner": "olivia"})
    document["maps"].append({"slug": "a", "title": "A", "owner": "olivia", "parent": "b"})
    document["maps"].append({"slug": "b", "title": "B", "owner": "olivia", "parent": "a"})
    before = JourneyMap.objects.count(), Step.objects.count()

    with pytest.raises(ExchangeInvalid) as refused:
        import_document(document, by=owner, under=team_map)
    # the schema's problems come first, alone: its shape must be right to look further
    assert refused.value.problems == [
        "maps[0].pain_points[0].colour: unknown field “colour” (known: title, "
        "description, evidence, position, key, step, kind, severity, frequency)",
        "maps[0].steps[1].emotion: 7 is more than 2, the largest allowed",
    ]

    del entry["pain_points"][0]["colour"]
    entry["steps"][1]["emotion"] = 1
    with pytest.raises(ExchangeInvalid) as refused:
        import_document(document, by=owner, under=team_map)
    problems = "\n".join(refused.value.problems)
    assert "maps[0].owner: no user has the username “nobody”" in problems
    assert "maps[0].team: no team (group) is named “No such team”" in problems
    assert "maps[0].steps[2].key: “pay” is also maps[0].steps[1].key" in problems
    assert (
        "maps[0].links[1].to_step: the map “pay-a-bill” has no step with the key “vanished”"
        in problems
    )
    assert "maps[1].slug: “pay-a-bill” is also maps[0].slug" in problems
    assert "the parents form a cycle" in problems
    assert (JourneyMap.objects.count(), Step.objects.count()) == before


def test_a_document_that_is_not_journeyhub_1_is_refused_saying_what_it_is(owner):
    with pytest.raises(ExchangeInvalid) as refused:
        import_document({"format": "THEYDO_METRICS_V1"}, by=owner)
    assert refused.value.problems == [
        "format: must be “journeyhub/1”, found “THEYDO_METRICS_V1” (docs/exchange.md)"
    ]


def test_only_leadership_and_admins_create_top_level_maps(owner, leader):
    with pytest.raises(ExchangeInvalid) as refused:
        import_document(minimal(), by=owner)
    assert refused.value.forbidden
    assert refused.value.problems[0].startswith("maps[0].parent: A map goes under a map")
    assert not JourneyMap.objects.filter(slug="pay-a-bill").exists()

    import_document(minimal(owner="leader"), by=leader)
    assert JourneyMap.objects.get(slug="pay-a-bill").parent is None


def test_a_viewer_may_not_import_under_a_map_they_only_see(viewer, team_map):
    with pytest.raises(ExchangeInvalid) as refused:
        import_document(minimal(owner="vic"), by=viewer, under=team_map)
    assert refused.value.forbidden
    assert refused.value.problems[0].startswith("under: Only the map's owner")


def test_a_slug_taken_by_a_map_the_user_may_not_edit_is_refused(owner, team_map, draft_map):
    document = minimal(slug=draft_map.slug)
    with pytest.raises(ExchangeInvalid) as refused:
        import_document(document, by=owner, under=team_map)
    assert refused.value.forbidden
    assert refused.value.problems == [
        "maps[0].slug: the map “close-my-account” exists here and you may not edit it: "
        "Only the map's owner, its team and people it is shared with may change it."
    ]
    assert not draft_map.steps.exists()


def test_a_team_member_may_not_hand_an_imported_map_to_someone_else(team_member, team_map):
    with pytest.raises(ExchangeInvalid) as refused:
        import_document(minimal(owner="olivia"), by=team_member, under=team_map)
    assert any(p.startswith("maps[0].parent:") for p in refused.value.problems)
    import_document(minimal(owner="tess"), by=team_member, under=team_map)
    assert JourneyMap.objects.get(slug="pay-a-bill").owner == team_member


def test_reimporting_updates_rows_by_key_instead_of_copying_them(owner, team, admin_user):
    root = populated_map(owner, team, children=1)
    document = export_document(root, user=admin_user)
    versions = dict(JourneyMap.objects.values_list("slug", "version"))
    counts = Step.objects.count(), LaneItem.objects.count(), KPI.objects.count()
    child = document["maps"][1]
    child["steps"][0]["name"] = "Fill in the short form"
    child["kpis"][0]["measurements"][0]["value"] = 70.0
    child["lane_items"][0]["tags"] = []

    summary = import_document(copy.deepcopy(document), by=owner)

    assert summary.updated == {"step": 1, "measurement": 1, "lane item": 1}
    assert not summary.created
    assert (Step.objects.count(), LaneItem.objects.count(), KPI.objects.count()) == counts
    renamed = Step.objects.get(map__slug=child["slug"], key="fill-form")
    assert renamed.name == "Fill in the short form"
    assert not LaneItem.objects.get(map__slug=child["slug"]).tags.exists()
    after = dict(JourneyMap.objects.values_list("slug", "version"))
    assert after[child["slug"]] == versions[child["slug"]] + 1
    assert after[root.slug] == versions[root.slug]  # untouched maps keep their version
    history = renamed.history.first()
    assert history.history_user == owner and history.history_change_reason == CHANGE_REASON

    again = import_document(document, by=owner)
    assert not again.created and not again.updated


def test_rows_the_document_leaves_out_are_left_alone(owner, team_map):
    import_document(minimal(), by=owner, under=team_map)
    document = minimal()
    del document["maps"][0]["pain_points"]
    document["maps"][0]["steps"] = document["maps"][0]["steps"][:1]
    document["maps"][0]["links"] = []
    summary = import_document(document, by=owner, under=team_map)
    assert not summary.updated and not summary.created
    assert JourneyMap.objects.get(slug="pay-a-bill").steps.count() == 2
    assert StepLink.objects.count() == 1


def test_a_dry_run_answers_the_same_summary_and_writes_nothing(owner, team_map):
    dry = import_document(minimal(), by=owner, under=team_map, dry_run=True)
    assert not JourneyMap.objects.filter(slug="pay-a-bill").exists()
    assert not Stage.objects.exists()
    real = import_document(minimal(), by=owner, under=team_map)
    assert dry.as_dict() | {"dry_run": False} == real.as_dict()
    assert dry.text.startswith("Dry run, nothing written: the import would have created 1 map")


def test_a_name_taken_by_a_row_the_document_leaves_out_is_refused(owner, team_map):
    import_document(minimal(kpis=[{"key": "k1", "name": "Completion"}]), by=owner, under=team_map)
    document = minimal(kpis=[{"key": "k2", "name": "Completion"}])
    with pytest.raises(ExchangeInvalid) as refused:
        import_document(document, by=owner, under=team_map)
    assert refused.value.problems == [
        "maps[0].kpis[0].name: name “Completion” is also used by a KPI of “pay-a-bill” that "
        "the document leaves out (key “k1”)"
    ]


def test_an_import_into_existing_maps_costs_the_same_queries_whatever_its_size(
    owner, team_map, django_assert_num_queries
):
    def document(steps: int) -> dict:
        doc = minimal()
        doc["maps"][0]["steps"] = [
            {"key": f"s{n}", "stage": "find", "name": f"Step {n}", "position": n}
            for n in range(steps)
        ]
        doc["maps"][0]["links"] = [
            {"from_step": f"s{n + 1}", "to_step": f"s{n}"} for n in range(steps - 1)
        ]
        doc["maps"][0]["pain_points"] = [
            {"key": f"p{n}", "step": f"s{n}", "title": f"Pain {n}"} for n in range(steps)
        ]
        return doc

    import_document(minimal(), by=owner, under=team_map)  # the map exists: content only
    with CaptureQueriesContext(connection) as probe:
        import_document(document(3), by=owner, under=team_map)
    JourneyMapFactory(slug="other", owner=owner)  # unrelated data changes nothing
    with django_assert_num_queries(len(probe.captured_queries)):
        import_document(document(30), by=owner, under=team_map)
    assert JourneyMap.objects.get(slug="pay-a-bill").steps.count() == 32
    StepFactory  # noqa: B018 - factories stay importable for future cases


def test_rules_only_the_database_keeps_are_refused_by_path_too(owner, team_map):
    document = minimal(
        kpis=[
            {
                "key": "k1",
                "name": "Completion",
                "kind": "ratio",
                "observations": [{"date": "2026-01-01", "numerator": 1, "denominator": 0}],
            }
        ]
    )
    document["maps"][0]["links"].append({"from_step": "pay", "to_step": "pay"})
    with pytest.raises(ExchangeInvalid) as refused:
        import_document(document, by=owner, under=team_map)
    assert refused.value.problems == [
        "maps[0].kpis[0].observations[0].denominator: must be greater than 0",
        "maps[0].links[1].to_step: a step cannot link to itself; mark it as recurring instead",
    ]
