"""TheyDo metrics, insights, opportunities and solutions into a map (``maps.theydo``):
the values they carry, TheyDo's re-import rules (omitted leaves, null clears, a value
replaces, lists replace), owners matched by e-mail and never created, tags created when
missing, all or nothing, and a fixed number of queries whatever the file's size."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from maps.imports import ImportRefused
from maps.models import KPI, CXProject, LaneItem, Measurement, MeasurementObservation, Tag
from maps.theydo.engine import theydo_import, theydo_preview
from tests.factories import JourneyMapFactory, KPIFactory, UserFactory

FIXTURES = Path(__file__).parent / "fixtures" / "theydo"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def period(kpi_key: str, date: str, journey_map) -> float:
    return Measurement.objects.get(
        kpi__map=journey_map, kpi__import_key=kpi_key, date=dt.date.fromisoformat(date)
    ).value


# --- metrics -----------------------------------------------------------------------


def test_every_metric_kind_pools_its_data_points_into_the_hand_computed_period_value(
    team_map, owner, team_member
):
    theydo_import(journey_map=team_map, data=fixture("metrics.json"), by=owner)

    # CES: Σ(score × respondents) ÷ Σ respondents = (4.0×100 + 5.0×300) ÷ 400
    assert period("ces-support", "2025-01-31", team_map) == pytest.approx(4.75)
    assert period("ces-support", "2025-02-28", team_map) == pytest.approx(5.0)
    # CSAT: (satisfied + very satisfied) ÷ answers = (80 + 60) ÷ 200
    assert period("csat-onboarding", "2025-01-31", team_map) == pytest.approx(70.0)
    # NPS: (promoters − detractors) ÷ answers = (60 − 15) ÷ 100
    assert period("nps-relationship", "2025-01-31", team_map) == pytest.approx(45.0)
    assert period("nps-relationship", "2025-02-28", team_map) == pytest.approx(30.0)
    # OTHER with SUM: 120 + 80; with AVERAGE: (8.5 + 11.5) ÷ 2
    assert period("tickets-opened", "2025-01-31", team_map) == pytest.approx(200.0)
    assert period("tickets-opened", "2025-02-28", team_map) == pytest.approx(130.0)
    assert period("handling-time", "2025-01-31", team_map) == pytest.approx(10.0)
    assert period("handling-time", "2025-02-28", team_map) == pytest.approx(9.25)
    # RATIO: Σ numerators ÷ Σ denominators = 72 ÷ 100
    assert period("first-contact-resolution", "2025-01-31", team_map) == pytest.approx(72.0)
    assert period("first-contact-resolution", "2025-02-28", team_map) == pytest.approx(81.0)


def test_a_metric_keeps_its_definition_owner_and_tags(team_map, owner, team_member):
    theydo_import(journey_map=team_map, data=fixture("metrics.json"), by=owner)

    ces = KPI.objects.get(map=team_map, import_key="ces-support")
    assert (ces.name, ces.kind, ces.unit) == ("Effort to get help", "ces", "score")
    assert ces.description.startswith("How easy it was")
    assert ces.target == 4.5 and ces.comparison == KPI.Comparison.AT_MOST
    assert ces.owner == owner  # olivia@example.com
    assert {str(t) for t in ces.tags.all()} == {"Customer Experience", "Channel: Support"}
    assert KPI.objects.get(import_key="tickets-opened").aggregation == "sum"
    assert KPI.objects.get(import_key="handling-time").aggregation == "average"
    csat = KPI.objects.get(import_key="csat-onboarding")
    assert csat.owner == team_member and csat.comparison == KPI.Comparison.AT_LEAST
    obs = MeasurementObservation.objects.filter(kpi=ces, date="2025-01-31")
    assert sorted(o.dimensions["region"] for o in obs) == ["APAC", "EMEA"]
    # history says who imported
    assert ces.history.first().history_user == owner


def test_reimport_follows_omitted_null_and_value(team_map, owner, team_member):
    data = fixture("metrics.json")
    theydo_import(journey_map=team_map, data=data, by=owner)
    again = copy.deepcopy(data)
    ces, csat, nps = again["metrics"][0], again["metrics"][1], again["metrics"][2]
    del ces["description"]  # omitted: left as it is
    del ces["groupTags"]  # omitted: that part of the tags is left
    ces["groups"] = ["Support"]  # a list replaces that part
    csat["target"] = None  # null clears
    csat["ownerEmail"] = None
    nps["title"] = "Relationship NPS (all customers)"  # a value replaces
    plan = theydo_import(journey_map=team_map, data=again, by=owner)

    kpi = KPI.objects.get(map=team_map, import_key="ces-support")
    assert kpi.description.startswith("How easy it was")
    assert {str(t) for t in kpi.tags.all()} == {"Support", "Channel: Support"}
    csat_kpi = KPI.objects.get(import_key="csat-onboarding")
    assert csat_kpi.target is None and csat_kpi.owner is None
    assert KPI.objects.get(import_key="nps-relationship").name.endswith("(all customers)")
    assert KPI.objects.filter(map=team_map).count() == len(data["metrics"])  # no duplicates
    summary = plan.summary()
    assert summary["updated"] == {"KPI": 3}
    assert summary["unchanged"] == {"KPI": len(data["metrics"]) - 3}
    changes = {c["key"]: c["fields"] for c in summary["changes"] if c["action"] == "update"}
    assert changes["ces-support"] == ["groups"]
    assert set(changes["csat-onboarding"]) == {"target", "ownerEmail"}


def test_an_owner_email_nobody_has_is_treated_as_omitted_and_no_user_is_created(team_map, owner):
    data = fixture("metrics.json")
    for metric in data["metrics"]:
        metric["ownerEmail"] = "stranger@elsewhere.example"
    users = type(owner).objects.count()
    plan = theydo_import(journey_map=team_map, data=data, by=owner)
    assert type(owner).objects.count() == users
    assert not KPI.objects.filter(map=team_map, owner__isnull=False).exists()
    assert any("stranger@elsewhere.example" in note for note in plan.notes)


def test_keys_are_scoped_to_the_map(team_map, owner):
    other = JourneyMapFactory(owner=owner)
    KPIFactory(map=other, name="Someone else's", import_key="ces-support")
    theydo_import(journey_map=team_map, data=fixture("metrics.json"), by=owner)
    assert KPI.objects.get(map=other, import_key="ces-support").name == "Someone else's"
    assert KPI.objects.get(map=team_map, import_key="ces-support").name == "Effort to get help"


def test_a_bad_value_deep_inside_writes_nothing_and_names_its_path(team_map, owner):
    data = fixture("metrics.json")
    data["metrics"][5]["dataPoints"][1]["denominator"] = 0
    data["metrics"][0]["dataPoints"][3]["dateOfMeasurement"] = "2025-02-30"
    with pytest.raises(ImportRefused) as refused:
        theydo_import(journey_map=team_map, data=data, by=owner)
    text = "\n".join(refused.value.problems)
    assert "metrics[0].dataPoints[3].dateOfMeasurement" in text
    assert not KPI.objects.filter(map=team_map).exists()
    assert not Tag.objects.exists()


def test_every_problem_of_a_file_is_listed_not_only_the_first(team_map, owner):
    data = fixture("metrics.json")
    data["metrics"][2]["dataPoints"][0]["promoters"] = 0
    data["metrics"][2]["dataPoints"][0]["passives"] = 0
    data["metrics"][2]["dataPoints"][0]["detractors"] = 0
    data["metrics"][5]["dataPoints"][0]["denominator"] = 0
    with pytest.raises(ImportRefused) as refused:
        theydo_import(journey_map=team_map, data=data, by=owner)
    text = "\n".join(refused.value.problems)
    assert "metrics[2].dataPoints[0].promoters" in text
    assert "metrics[5].dataPoints[0].denominator" in text


def test_a_file_cannot_change_the_kind_of_a_kpi_that_has_data(team_map, owner):
    data = fixture("metrics.json")
    theydo_import(journey_map=team_map, data=data, by=owner)
    nps = data["metrics"][2]
    nps["type"] = "OTHER"
    nps["aggregationMethod"] = "SUM"
    nps["dataPoints"] = [{"dateOfMeasurement": "2025-03-31", "value": 3}]
    with pytest.raises(ImportRefused) as refused:
        theydo_import(journey_map=team_map, data=data, by=owner)
    assert any(p.startswith("metrics[2].type:") for p in refused.value.problems)


def test_two_metrics_may_not_give_one_name(team_map, owner):
    data = fixture("metrics.json")
    data["metrics"][1]["title"] = data["metrics"][0]["title"]
    with pytest.raises(ImportRefused) as refused:
        theydo_import(journey_map=team_map, data=data, by=owner)
    assert any(p.startswith("metrics[1].title:") for p in refused.value.problems)


def test_the_preview_writes_nothing(team_map, owner):
    plan = theydo_preview(journey_map=team_map, data=fixture("metrics.json"), by=owner)
    assert plan.summary()["created"] == {"KPI": 6}
    assert plan.counts["observations"] > 0
    assert not KPI.objects.exists() and not Tag.objects.exists()


def _metrics(n: int) -> dict:
    return {
        "format": "THEYDO_METRICS_V1",
        "metrics": [
            {
                "type": "NPS",
                "importKey": f"m{i}",
                "title": f"Metric {i}",
                "unit": "points",
                "groups": [f"Group {i % 3}"],
                "groupTags": [{"tagGroup": "Region", "tag": f"R{i % 4}"}],
                "ownerEmail": "olivia@example.com",
                "dataPoints": [
                    {"dateOfMeasurement": f"2025-0{m}-01", "promoters": 5, "passives": 3,
                     "detractors": 2, "dimensions": [{"key": "region", "value": f"R{i % 4}"}]}
                    for m in range(1, 4)
                ],
            }
            for i in range(n)
        ],
    }  # fmt: skip


@pytest.mark.parametrize("n", [5, 50])
def test_a_metrics_import_takes_the_same_queries_whatever_its_size(
    team_map, owner, n, django_assert_max_num_queries
):
    theydo_import(journey_map=team_map, data=_metrics(3), by=owner)  # some exist already
    # a bounded number of statements; bulk writes batch by the database's parameter limit
    with django_assert_max_num_queries(45):
        theydo_import(journey_map=team_map, data=_metrics(n), by=owner)
    assert KPI.objects.filter(map=team_map).count() == n


# --- insights and opportunities ----------------------------------------------------


def test_insights_and_opportunities_become_lane_items_with_all_they_carry(team_map, owner):
    theydo_import(journey_map=team_map, data=fixture("insights.json"), by=owner)
    theydo_import(journey_map=team_map, data=fixture("opportunities.json"), by=owner)
    insights = fixture("insights.json")["insights"]
    stored = {i.import_key: i for i in LaneItem.objects.filter(map=team_map, kind="insight")}
    assert set(stored) == {i["importKey"] for i in insights}
    for entry in insights:
        item = stored[entry["importKey"]]
        assert item.title == entry["title"].strip()
        if "empathyScore" in entry:
            assert item.empathy_score == entry["empathyScore"]
        if "weight" in entry:
            assert item.weight == entry["weight"]
        if entry.get("externalLinks"):
            assert item.external_links == entry["externalLinks"]
        if entry.get("tags"):
            assert {t.name for t in item.tags.all() if t.kind == "tag" and not t.group_id} == set(
                entry["tags"]
            )
    opportunities = fixture("opportunities.json")["opportunities"]
    assert LaneItem.objects.filter(map=team_map, kind="opportunity").count() == len(opportunities)


def test_an_insight_key_and_an_opportunity_key_do_not_collide(team_map, owner):
    insight = {"format": "THEYDO_INSIGHTS_V1", "insights": [{"importKey": "k1", "title": "A"}]}
    opportunity = {
        "format": "THEYDO_OPPORTUNITIES_V1",
        "opportunities": [{"importKey": "k1", "title": "B"}],
    }
    theydo_import(journey_map=team_map, data=insight, by=owner)
    theydo_import(journey_map=team_map, data=opportunity, by=owner)
    assert LaneItem.objects.get(map=team_map, kind="insight").title == "A"
    assert LaneItem.objects.get(map=team_map, kind="opportunity").title == "B"


def test_reimporting_insights_updates_instead_of_duplicating(team_map, owner):
    data = {
        "format": "THEYDO_INSIGHTS_V1",
        "insights": [
            {"importKey": "i1", "title": "Glare on the card reader", "weight": 3,
             "tags": ["hardware", "store"], "externalLinks": ["https://example.org/1"]},
        ],
    }  # fmt: skip
    theydo_import(journey_map=team_map, data=data, by=owner)
    data["insights"][0].update({"weight": None, "tags": ["store"], "externalLinks": None})
    plan = theydo_import(journey_map=team_map, data=data, by=owner)
    item = LaneItem.objects.get(map=team_map, import_key="i1")
    assert item.weight is None and item.external_links == []
    assert [t.name for t in item.tags.all()] == ["store"]
    assert plan.summary()["updated"] == {"insight": 1}
    assert item.history.count() == 2


def test_tags_match_case_insensitively_and_are_created_once(team_map, owner):
    data = {
        "format": "THEYDO_INSIGHTS_V1",
        "insights": [
            {"importKey": "i1", "title": "One", "tags": ["Store"],
             "groupTags": [{"tagGroup": "Channel", "tag": "Web"}]},
            {"importKey": "i2", "title": "Two", "tags": ["store"],
             "groupTags": [{"tagGroup": "channel", "tag": "WEB"}]},
        ],
    }  # fmt: skip
    theydo_import(journey_map=team_map, data=data, by=owner)
    assert Tag.objects.count() == 2
    assert Tag.objects.get(group__isnull=False).group.name == "Channel"


def test_insight_import_takes_the_same_queries_whatever_its_size(
    team_map, owner, django_assert_max_num_queries
):
    def file(n):
        return {
            "format": "THEYDO_INSIGHTS_V1",
            "insights": [
                {"importKey": f"i{i}", "title": f"Insight {i}", "tags": [f"t{i % 5}"],
                 "groups": ["G"], "groupTags": [{"tagGroup": "Channel", "tag": f"c{i % 3}"}],
                 "ownerEmail": "olivia@example.com"}
                for i in range(n)
            ],
        }  # fmt: skip

    theydo_import(journey_map=team_map, data=file(3), by=owner)
    with django_assert_max_num_queries(40):
        theydo_import(journey_map=team_map, data=file(200), by=owner)
    assert LaneItem.objects.filter(map=team_map).count() == 200


# --- solutions ---------------------------------------------------------------------


def test_solutions_become_projects_linked_to_the_map(team_map, owner):
    theydo_import(journey_map=team_map, data=fixture("solutions.json"), by=owner)
    solutions = fixture("solutions.json")["solutions"]
    projects = {p.import_key: p for p in CXProject.objects.filter(import_map=team_map)}
    assert set(projects) == {s["importKey"] for s in solutions}
    for entry in solutions:
        project = projects[entry["importKey"]]
        assert list(project.maps.all()) == [team_map]
        if entry.get("priority"):
            assert project.priority == entry["priority"].lower()
        if entry.get("status"):
            assert project.source_status == entry["status"]


@pytest.mark.parametrize(
    ("written", "ours"),
    [("draft", "idea"), ("In Progress", "ongoing"), ("in_progress", "ongoing"),
     ("Shipped", "done"), ("won't do", "cancelled"), ("Ready", "planned")],
)  # fmt: skip
def test_solution_statuses_map_to_ours_and_are_kept_as_written(team_map, owner, written, ours):
    data = {
        "format": "THEYDO_SOLUTIONS_V1",
        "solutions": [{"importKey": "s1", "title": "Fix it", "status": written}],
    }
    theydo_import(journey_map=team_map, data=data, by=owner)
    project = CXProject.objects.get(import_key="s1")
    assert (project.status, project.source_status) == (ours, written)


def test_an_unknown_status_is_noted_and_the_project_starts_as_an_idea(team_map, owner):
    data = {
        "format": "THEYDO_SOLUTIONS_V1",
        "solutions": [{"importKey": "s1", "title": "Fix it", "status": "Blue sky"}],
    }
    plan = theydo_import(journey_map=team_map, data=data, by=owner)
    assert CXProject.objects.get(import_key="s1").status == "idea"
    assert any("Blue sky" in n for n in plan.notes)


def test_only_leadership_hands_an_imported_project_to_someone_else(
    team_map, owner, team_member, leader
):
    data = {
        "format": "THEYDO_SOLUTIONS_V1",
        "solutions": [{"importKey": "s1", "title": "Fix it", "ownerEmail": "olivia@example.com"}],
    }
    plan = theydo_import(journey_map=team_map, data=data, by=team_member)
    project = CXProject.objects.get(import_key="s1")
    assert project.owner == team_member  # tess imported it; she may not give it to olivia
    assert any("only CX leadership" in n for n in plan.notes)

    theydo_import(journey_map=team_map, data=data, by=leader)
    project.refresh_from_db()
    assert project.owner == owner


def test_a_project_the_importer_may_not_edit_is_refused_with_its_path(team_map, owner, team_member):
    data = {
        "format": "THEYDO_SOLUTIONS_V1",
        "solutions": [{"importKey": "s1", "title": "Fix it"}],
    }
    theydo_import(journey_map=team_map, data=data, by=owner)
    stranger = UserFactory(username="sam")
    data["solutions"][0]["title"] = "Taken over"
    with pytest.raises(ImportRefused) as refused:
        theydo_import(journey_map=team_map, data=data, by=stranger)
    assert refused.value.problems[0].startswith("solutions[0]:")
    assert CXProject.objects.get(import_key="s1").title == "Fix it"


def test_a_command_import_gives_new_projects_to_the_matched_owner_or_the_map_owner(
    team_map, owner, other_owner
):
    data = {
        "format": "THEYDO_SOLUTIONS_V1",
        "solutions": [
            {"importKey": "s1", "title": "A", "ownerEmail": "omar@example.com"},
            {"importKey": "s2", "title": "B"},
        ],
    }
    theydo_import(journey_map=team_map, data=data, by=None)
    assert CXProject.objects.get(import_key="s1").owner == other_owner
    assert CXProject.objects.get(import_key="s2").owner == owner


# --- our own exports back into the same map ------------------------------------------


@pytest.mark.parametrize("kind", ["metrics", "insights", "opportunities", "solutions"])
def test_an_export_imported_back_into_its_map_updates_instead_of_copying(team_map, owner, kind):
    from maps.theydo.export import export
    from maps.theydo.schemas import KINDS
    from tests.factories import CXProjectFactory, LaneItemFactory

    # content made by hand has no import key: the export names it jh-<pk>
    KPIFactory(map=team_map, name="Days to open", kind="value", unit="days")
    LaneItemFactory(map=team_map, kind="insight", title="People read the small print")
    LaneItemFactory(map=team_map, kind="opportunity", title="Show the fees up front")
    CXProjectFactory(owner=owner, maps=[team_map], title="Plain-language fees")
    counts = (KPI.objects.count(), LaneItem.objects.count(), CXProject.objects.count())

    document = export(team_map, KINDS[kind])
    first = document[next(k for k in document if k != "format")][0]
    assert first["importKey"].startswith("jh-")
    first["title"] = first["title"] + " (edited)"
    plan = theydo_import(journey_map=team_map, data=document, by=owner)

    assert (KPI.objects.count(), LaneItem.objects.count(), CXProject.objects.count()) == counts
    assert plan.summary()["created"] == {}
    assert export(team_map, KINDS[kind]) == document  # and the keys now stay


def test_a_survey_source_page_links_to_its_export_and_the_file_imports_back(
    client, team_map, owner, viewer
):
    import re

    theydo_import(journey_map=team_map, data=fixture("survey_responses.json"), by=owner)
    from maps.models import ResearchSource

    source = ResearchSource.objects.get(map=team_map)
    client.force_login(viewer)  # reading the map is enough to export it
    page = client.get(f"/maps/{team_map.slug}/research/{source.pk}/").content.decode()
    link = re.search(r'href="(/api/maps/\d+/export/theydo/[^"]+)"', page)[1].replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["format"] == "THEYDO_SURVEY_RESPONSES_V1"
    plan = theydo_import(journey_map=team_map, data=document, by=owner)
    assert plan.summary()["created"] == {}
