"""A map's content exported in TheyDo's six formats: each export passes our schema,
carries the values of our models, round-trips through the import, runs a fixed number
of queries, and is served (API, command) only to people who may see the map."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from maps.imports import Problems
from maps.models import KPI, CXProject, LaneItem, Quote, ResearchSource, Tag, TagGroup
from maps.theydo import validation
from maps.theydo.engine import theydo_import
from maps.theydo.export import ExportRefused, export
from maps.theydo.schemas import KINDS
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    LaneItemFactory,
    MeasurementFactory,
    MeasurementObservationFactory,
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "theydo"


def fixture(kind: str) -> dict:
    return json.loads((FIXTURES / f"{kind}.json").read_text())


def assert_valid(document: dict) -> None:
    problems = Problems(limit=100)
    assert validation.validate(document, problems) == document["format"], problems.listed()


def tag(name: str, group: str | None = None, kind: str = Tag.Kind.TAG) -> Tag:
    tag_group = TagGroup.objects.get_or_create(name=group)[0] if group else None
    return Tag.objects.get_or_create(kind=kind, group=tag_group, name=name)[0]


@pytest.fixture
def tess_email(team_member):
    team_member.email = "tess@example.com"
    team_member.save()
    return team_member


# --- values of our models ----------------------------------------------------------------


def test_metrics_export_every_kind_with_its_data_points_dimensions_and_settings(team_map, owner):
    ces = KPIFactory(
        map=team_map, name="Effort", kind=KPI.Kind.CES, import_key="ces", unit="score",
        baseline=None, target=4.5, direction=KPI.Direction.LOWER, owner=owner,
        description="Effort to get help",
    )  # fmt: skip
    ces.tags.set([tag("CX", kind=Tag.Kind.GROUP), tag("Support", "Channel"), tag("plain")])
    for region, mean, respondents in (("EMEA", 5.0, 300), ("APAC", 4.0, 100)):
        MeasurementObservationFactory(
            kpi=ces, date=dt.date(2025, 1, 31), value=None, mean=mean, respondents=respondents,
            dimensions={"region": region}, dimension_key=f"region={region}",
        )  # fmt: skip
    csat = KPIFactory(map=team_map, name="CSAT", kind=KPI.Kind.CSAT, baseline=None, target=None)
    MeasurementObservationFactory(
        kpi=csat, value=None, very_dissatisfied=1, dissatisfied=2, neutral=3, satisfied=4,
        very_satisfied=5,
    )  # fmt: skip
    nps = KPIFactory(map=team_map, name="NPS", kind=KPI.Kind.NPS, import_key="nps")
    MeasurementObservationFactory(kpi=nps, value=None, promoters=6, passives=3, detractors=1)
    ratio = KPIFactory(map=team_map, name="FCR", kind=KPI.Kind.RATIO, import_key="fcr")
    MeasurementObservationFactory(kpi=ratio, value=None, numerator=30.0, denominator=40.0)
    # a ratio part TheyDo cannot hold (not a whole number) is left out
    MeasurementObservationFactory(
        kpi=ratio, date=dt.date(2026, 2, 28), value=None, numerator=2.5, denominator=4.0
    )
    total = KPIFactory(
        map=team_map, name="Tickets", kind=KPI.Kind.VALUE, import_key="tickets",
        aggregation=KPI.Aggregation.SUM, unit="tickets",
    )  # fmt: skip
    MeasurementObservationFactory(kpi=total, value=120.0, dimensions={"channel": "email"},
                                  dimension_key="channel=email")  # fmt: skip
    # a period entered directly is a data point of its own
    MeasurementFactory(kpi=total, date=dt.date(2025, 12, 31), value=95.5)

    document = export(team_map, "THEYDO_METRICS_V1")

    assert_valid(document)
    metrics = {m["importKey"]: m for m in document["metrics"]}
    assert [m["importKey"] for m in document["metrics"]] == sorted(metrics)
    assert metrics["ces"] == {
        "type": "CES",
        "importKey": "ces",
        "title": "Effort",
        "description": "Effort to get help",
        "unit": "score",
        "target": 4.5,
        "targetComparisonOperator": "LESS_THAN_OR_EQUAL_TO",
        "ownerEmail": "olivia@example.com",
        "groups": ["CX"],
        "groupTags": [{"tagGroup": "Channel", "tag": "Support"}],
        "dataPoints": [
            {
                "dateOfMeasurement": "2025-01-31",
                "score": 4,
                "respondents": 100,
                "dimensions": [{"key": "region", "value": "APAC"}],
            },
            {
                "dateOfMeasurement": "2025-01-31",
                "score": 5,
                "respondents": 300,
                "dimensions": [{"key": "region", "value": "EMEA"}],
            },
        ],
    }
    assert metrics[f"jh-{csat.pk}"]["dataPoints"] == [
        {"dateOfMeasurement": "2026-01-31", "veryUnsatisfied": 1, "unsatisfied": 2,
         "neutral": 3, "satisfied": 4, "verySatisfied": 5},
    ]  # fmt: skip
    assert metrics[f"jh-{csat.pk}"]["target"] is None
    assert metrics[f"jh-{csat.pk}"]["ownerEmail"] is None
    assert metrics["nps"]["dataPoints"][0] | {"dateOfMeasurement": None} == {
        "dateOfMeasurement": None, "promoters": 6, "passives": 3, "detractors": 1,
    }  # fmt: skip
    assert metrics["nps"]["targetComparisonOperator"] == "MORE_THAN_OR_EQUAL_TO"
    assert metrics["fcr"]["dataPoints"] == [
        {"dateOfMeasurement": "2026-01-31", "numerator": 30, "denominator": 40}
    ]
    assert metrics["tickets"]["aggregationMethod"] == "SUM"
    assert metrics["tickets"]["dataPoints"] == [
        {"dateOfMeasurement": "2025-12-31", "value": 95.5},
        {"dateOfMeasurement": "2026-01-31", "value": 120,
         "dimensions": [{"key": "channel", "value": "email"}]},
    ]  # fmt: skip
    assert "aggregationMethod" not in metrics["nps"]


def test_insights_and_opportunities_export_their_fields_tags_and_owner(team_map, owner):
    insight = LaneItemFactory(
        map=team_map, kind=LaneItem.Kind.INSIGHT, title="Glare", import_key="ins-glare",
        description="Seen in **7 of 12** visits", icon="☀️", empathy_score=-2.0, weight=8.0,
        external_links=["https://research.example.com/visits"], item_type="Observation",
        status="validated", owner=owner,
    )  # fmt: skip
    insight.tags.set(
        [tag("payments"), tag("In-store", kind=Tag.Kind.GROUP), tag("Store", "Channel")]
    )
    bare = LaneItemFactory(map=team_map, kind=LaneItem.Kind.INSIGHT, title="Bare")
    LaneItemFactory(map=team_map, kind=LaneItem.Kind.OPPORTUNITY, title="Hood", import_key="o1")
    LaneItemFactory(map=team_map, kind=LaneItem.Kind.IDEA, title="Not exported")
    LaneItemFactory(kind=LaneItem.Kind.INSIGHT, title="Another map's")

    insights = export(team_map, "THEYDO_INSIGHTS_V1")
    opportunities = export(team_map, "THEYDO_OPPORTUNITIES_V1")

    assert_valid(insights)
    assert_valid(opportunities)
    assert insights["insights"] == [
        {
            "importKey": "ins-glare",
            "title": "Glare",
            "description": "Seen in **7 of 12** visits",
            "status": "validated",
            "type": "Observation",
            "externalLinks": ["https://research.example.com/visits"],
            "icon": "☀️",
            "empathyScore": -2,
            "weight": 8,
            "tags": ["payments"],
            "groups": ["In-store"],
            "groupTags": [{"tagGroup": "Channel", "tag": "Store"}],
            "ownerEmail": "olivia@example.com",
        },
        {
            "importKey": f"jh-{bare.pk}",
            "title": "Bare",
            "description": None,
            "status": None,
            "type": None,
            "externalLinks": [],
            "icon": None,
            "empathyScore": None,
            "weight": None,
            "tags": [],
            "groups": [],
            "groupTags": [],
            "ownerEmail": None,
        },
    ]
    assert [o["title"] for o in opportunities["opportunities"]] == ["Hood"]
    assert "icon" not in opportunities["opportunities"][0]  # not in TheyDo's opportunity


def test_an_owner_whose_address_theydo_refuses_is_left_out_not_cleared(team_map, owner):
    owner.email = "olivia@localhost"
    owner.save()
    LaneItemFactory(map=team_map, kind=LaneItem.Kind.INSIGHT, title="Glare", owner=owner)
    document = export(team_map, "THEYDO_INSIGHTS_V1")
    assert_valid(document)
    assert "ownerEmail" not in document["insights"][0]  # omitted: a re-import leaves it


def test_solutions_are_the_projects_linked_to_the_map_with_status_and_priority(team_map, owner):
    imported = CXProjectFactory(
        title="Hoods", owner=owner, maps=[team_map], status=CXProject.Status.ONGOING,
        priority=CXProject.Priority.HIGH, project_type="Hardware",
        external_links=["https://tickets.example.com/OPS-142"], import_key="sol-hoods",
        import_map=team_map, source_status="In Build",
    )  # fmt: skip
    imported.tags.set([tag("Store", "Channel")])
    mine = CXProjectFactory(title="Live frame", owner=owner, maps=[team_map],
                            status=CXProject.Status.ONGOING)  # fmt: skip
    elsewhere = JourneyMapFactory(owner=owner)
    foreign_key = CXProjectFactory(
        title="Keyed elsewhere", owner=owner, maps=[team_map, elsewhere],
        status=CXProject.Status.CANCELLED, import_key="k", import_map=elsewhere,
    )  # fmt: skip
    CXProjectFactory(title="Not linked", owner=owner)

    document = export(team_map, "THEYDO_SOLUTIONS_V1")

    assert_valid(document)
    solutions = {s["title"]: s for s in document["solutions"]}
    assert set(solutions) == {"Hoods", "Live frame", "Keyed elsewhere"}
    assert solutions["Hoods"] | {"description": "?"} == {
        "importKey": "sol-hoods",
        "title": "Hoods",
        "description": "?",
        "status": "In Build",  # TheyDo's own status, as it came
        "type": "Hardware",
        "priority": "HIGH",
        "externalLinks": ["https://tickets.example.com/OPS-142"],
        "tags": [],
        "groups": [],
        "groupTags": [{"tagGroup": "Channel", "tag": "Store"}],
        "ownerEmail": "olivia@example.com",
    }
    assert solutions["Live frame"]["status"] == "in progress"
    assert solutions["Live frame"]["importKey"] == f"jh-{mine.pk}"
    assert solutions["Live frame"]["priority"] is None
    # a key belongs to the map the project was imported through
    assert solutions["Keyed elsewhere"]["importKey"] == f"jh-{foreign_key.pk}"
    assert solutions["Keyed elsewhere"]["status"] == "cancelled"


def _survey(team_map, **extra) -> ResearchSource:
    extra = {"kind": ResearchSource.Kind.SURVEY, "import_key": "onb", **extra}
    return ResearchSource.objects.create(
        map=team_map,
        title="Onboarding survey",
        one_quote_per_response=extra.pop("one_quote_per_response", False),
        fields=[
            {"fieldId": "improve", "fieldName": "Improve?", "fieldType": "TEXT", "required": True},
            {
                "fieldId": "seg",
                "fieldName": "Segment",
                "fieldType": "TAG_GROUP",
                "tagGroupTitle": "Customer segment",
                "required": False,
            },
            {"fieldId": "who", "fieldName": "Who", "fieldType": "PERSONA", "required": False},
            {"fieldId": "mail", "fieldName": "Mail", "fieldType": "IGNORE", "required": False},
        ],
        **extra,
    )


def test_responses_are_rebuilt_from_quotes_with_tag_groups_personas_and_utc_times(team_map):
    source = _survey(team_map)
    at = dt.datetime(2026, 3, 2, 9, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    quote = Quote.objects.create(
        source=source, text="Tell me the documents", response_id="r-2", field_id="improve",
        responded_at=at, persona_hint="First-time saver",
    )  # fmt: skip
    quote.tags.set([tag("Retail", "customer SEGMENT"), tag("unrelated")])
    Quote.objects.create(
        source=source, text="Selfie failed", response_id="r-1", field_id="improve",
        responded_at=dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC),
    )  # fmt: skip
    by_hand = Quote.objects.create(source=source, text="Said at the counter")

    document = export(team_map, "THEYDO_SURVEY_RESPONSES_V1")

    assert_valid(document)
    metadata = document["surveyMetadata"]
    assert metadata["surveyName"] == "Onboarding survey"
    assert metadata["surveyId"] == "onb"
    assert metadata["convertAllRowsToQuotes"] is False
    assert [f["fieldId"] for f in metadata["surveyFields"]] == ["improve", "seg", "who", "mail"]
    responses = {r["responseId"]: r for r in document["responses"]}
    assert list(responses) == sorted(responses)
    assert responses["r-2"] == {
        "responseId": "r-2",
        "responseDateTime": "2026-03-02T08:15:30Z",
        "responseFields": [
            {"fieldId": "improve", "textValue": "Tell me the documents"},
            {"fieldId": "seg", "textValue": "Retail"},
            {"fieldId": "who", "textValue": "First-time saver"},
        ],
    }
    assert responses["r-1"]["responseFields"] == [
        {"fieldId": "improve", "textValue": "Selfie failed"}
    ]
    assert responses[f"jh-{by_hand.pk}"]["responseFields"] == [
        {"fieldId": "improve", "textValue": "Said at the counter"}
    ]


def test_a_whole_response_quote_gives_back_its_answers(team_map):
    source = _survey(team_map, one_quote_per_response=True)
    Quote.objects.create(
        source=source, text="Improve?: faster", response_id="r-1",
        answers={"improve": "faster"}, responded_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    document = export(team_map, "THEYDO_SURVEY_RESPONSES_V1")
    assert_valid(document)
    assert document["surveyMetadata"]["convertAllRowsToQuotes"] is True
    assert document["responses"][0]["responseFields"] == [
        {"fieldId": "improve", "textValue": "faster"}
    ]


def test_a_required_field_a_response_lost_since_is_exported_as_optional(team_map):
    source = _survey(team_map)
    Quote.objects.create(
        source=source, text="", response_id="r-1", field_id="improve",
        responded_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    document = export(team_map, "THEYDO_SURVEY_RESPONSES_V1")
    assert_valid(document)
    assert document["surveyMetadata"]["surveyFields"][0]["required"] is False


def test_a_responses_export_names_the_source_when_the_map_has_several(team_map):
    _survey(team_map)
    with pytest.raises(ExportRefused, match="no feedback source"):
        export(team_map, "THEYDO_FEEDBACK_RESPONSES_V1")
    ResearchSource.objects.create(map=team_map, kind=ResearchSource.Kind.SURVEY, title="Two")
    with pytest.raises(ExportRefused, match="several survey sources: name one as source"):
        export(team_map, "THEYDO_SURVEY_RESPONSES_V1")
    with pytest.raises(ExportRefused, match="no survey source “nope”"):
        export(team_map, "THEYDO_SURVEY_RESPONSES_V1", source="nope")
    assert (
        export(team_map, "THEYDO_SURVEY_RESPONSES_V1", source="onb")["surveyMetadata"]["surveyId"]
        == "onb"
    )


# --- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_export_import_export_gives_the_same_document(kind, owner, tess_email):
    """Our fixture into one map, its export into a second map: both export the same."""
    first, second = JourneyMapFactory(owner=owner), JourneyMapFactory(owner=owner)
    theydo_import(journey_map=first, data=fixture(kind), by=owner)
    exported = export(first, KINDS[kind])
    assert_valid(exported)

    theydo_import(journey_map=second, data=exported, by=owner)

    assert export(second, KINDS[kind]) == exported


def test_an_export_carries_the_values_of_the_imported_fixture(owner, tess_email):
    journey_map = JourneyMapFactory(owner=owner)
    theydo_import(journey_map=journey_map, data=fixture("metrics"), by=owner)
    metrics = {m["importKey"]: m for m in export(journey_map, "THEYDO_METRICS_V1")["metrics"]}
    source = {m["importKey"]: m for m in fixture("metrics")["metrics"]}
    for key in ("ces-support", "csat-onboarding", "tickets-opened", "first-contact-resolution"):
        assert len(metrics[key]["dataPoints"]) == len(source[key]["dataPoints"])
        assert metrics[key]["target"] == source[key]["target"]
        assert metrics[key]["targetComparisonOperator"] == source[key]["targetComparisonOperator"]
    assert metrics["ces-support"]["ownerEmail"] == "olivia@example.com"
    assert metrics["csat-onboarding"]["ownerEmail"] == "tess@example.com"
    assert metrics["handling-time"]["aggregationMethod"] == "AVERAGE"
    assert metrics["nps-relationship"]["description"] is None
    assert metrics["csat-onboarding"]["groupTags"] == [
        {"tagGroup": "Channel", "tag": "Web"},
        {"tagGroup": "Lifecycle", "tag": "Join"},
    ]


# --- queries -----------------------------------------------------------------------------


def _content(journey_map, owner, n: int) -> None:
    group = tag("Support", "Channel")
    for _ in range(n):
        kpi = KPIFactory(map=journey_map, kind=KPI.Kind.NPS, owner=owner)
        kpi.tags.set([group])
        MeasurementObservationFactory(kpi=kpi, value=None, promoters=5, passives=1, detractors=1)
        value = KPIFactory(map=journey_map, kind=KPI.Kind.VALUE)
        MeasurementFactory(kpi=value)
        item = LaneItemFactory(map=journey_map, kind=LaneItem.Kind.INSIGHT, owner=owner)
        item.tags.set([group])
        LaneItemFactory(map=journey_map, kind=LaneItem.Kind.OPPORTUNITY, owner=owner)
        project = CXProjectFactory(owner=owner, maps=[journey_map])
        project.tags.set([group])
    for kind in (ResearchSource.Kind.SURVEY, ResearchSource.Kind.FEEDBACK):
        source = ResearchSource.objects.filter(map=journey_map, kind=kind).first()
        source = source or _survey(journey_map, kind=kind, import_key=kind)
        for i in range(n):
            quote = Quote.objects.create(
                source=source, text=f"quote {i}", response_id=f"r{i}-{source.quotes.count()}",
                field_id="improve",
            )  # fmt: skip
            quote.tags.set([tag("Retail", "Customer segment")])


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_export_runs_the_same_number_of_queries_whatever_the_maps_size(kind, team_map, owner):
    _content(team_map, owner, 2)
    with CaptureQueriesContext(connection) as small:
        export(team_map, KINDS[kind])
    _content(team_map, owner, 6)
    with CaptureQueriesContext(connection) as large:
        assert_valid(export(team_map, KINDS[kind]))
    # metrics: KPIs, their tags, their observations, the directly entered values (4);
    # items and projects: the rows with owners, their tags (2); responses: the source,
    # its quotes, their tags (3)
    assert len(large) == len(small) <= 4


# --- the API and the command ---------------------------------------------------------------


def test_a_viewer_downloads_the_export_as_an_attachment(team_map, viewer):
    LaneItemFactory(map=team_map, kind=LaneItem.Kind.INSIGHT, title="Glare", import_key="g")
    client = APIClient()
    client.force_authenticate(viewer)
    response = client.get(f"/api/maps/{team_map.pk}/export/theydo/?kind=insights")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="open-an-account-insights.theydo.json"'
    )
    document = json.loads(response.content)
    assert document["format"] == "THEYDO_INSIGHTS_V1"
    assert [i["importKey"] for i in document["insights"]] == ["g"]


def test_a_map_the_user_may_not_see_is_not_found(draft_map, viewer):
    LaneItemFactory(map=draft_map, kind=LaneItem.Kind.INSIGHT, title="Secret")
    client = APIClient()
    client.force_authenticate(viewer)
    response = client.get(f"/api/maps/{draft_map.pk}/export/theydo/?kind=insights")
    assert response.status_code == 404
    assert b"Secret" not in response.content


def test_an_unknown_kind_or_a_missing_source_is_a_400_naming_the_parameter(team_map, viewer):
    client = APIClient()
    client.force_authenticate(viewer)
    response = client.get(f"/api/maps/{team_map.pk}/export/theydo/?kind=journeys")
    assert response.status_code == 400
    assert "journeys" in response.json()["kind"][0]
    assert "survey_responses" in response.json()["kind"][0]
    response = client.get(f"/api/maps/{team_map.pk}/export/theydo/?kind=survey_responses")
    assert response.status_code == 400
    assert response.json() == {"source": ["This map has no survey source to export."]}


def test_the_api_exports_a_named_survey_source(team_map, viewer):
    _survey(team_map)
    ResearchSource.objects.create(map=team_map, kind=ResearchSource.Kind.SURVEY, title="Two")
    client = APIClient()
    client.force_authenticate(viewer)
    response = client.get(
        f"/api/maps/{team_map.pk}/export/theydo/?kind=survey_responses&source=onb"
    )
    assert response.status_code == 200
    assert json.loads(response.content)["surveyMetadata"]["surveyId"] == "onb"


def test_the_command_writes_the_export_to_a_file(team_map, tmp_path, capsys):
    LaneItemFactory(map=team_map, kind=LaneItem.Kind.OPPORTUNITY, title="Hood", import_key="h")
    out = tmp_path / "opps.json"
    call_command("export_theydo", team_map.slug, "opportunities", "-o", str(out))
    document = json.loads(out.read_text())
    assert document["format"] == "THEYDO_OPPORTUNITIES_V1"
    assert [o["importKey"] for o in document["opportunities"]] == ["h"]
    call_command("export_theydo", team_map.slug, "THEYDO_OPPORTUNITIES_V1")
    assert json.loads(capsys.readouterr().out) == document


def test_the_command_names_an_unknown_map_or_format(team_map):
    with pytest.raises(CommandError, match="No journey map with the slug “nope”"):
        call_command("export_theydo", "nope", "metrics")
    with pytest.raises(CommandError, match="“journeys” is not one of: metrics, insights"):
        call_command("export_theydo", team_map.slug, "journeys")
