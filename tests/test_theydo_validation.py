"""TheyDo files are checked against our schemas of the six formats: every problem is
listed by JSON path in plain words, TheyDo's own cross-field checks and ours included,
and TheyDo's published examples pass."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from jsonschema import Draft202012Validator

from maps.imports import Problems
from maps.management.commands.theydo_schemas import SCHEMA_DIR, schema_text
from maps.theydo import validation
from maps.theydo.schemas import FORMATS, KINDS, SCHEMAS, schema_file_name

FIXTURES = Path(__file__).parent / "fixtures" / "theydo"
MIRROR = Path("/work/.mirror/theydo+theydo-s3-integrations/repo")
ACCEPTED = ", ".join(FORMATS)


def fixture(kind: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{kind}.json").read_text())


def problems_of(data: Any) -> tuple[str | None, list[str]]:
    problems = Problems(limit=500)
    fmt = validation.validate(data, problems)
    return fmt, problems.listed()


@pytest.mark.parametrize("kind", list(KINDS))
def test_our_fixtures_validate_without_problems(kind):
    assert problems_of(fixture(kind)) == (KINDS[kind], [])


def _published_example(name: str) -> Any:
    if not MIRROR.exists():
        pytest.skip(f"TheyDo's repository is not mirrored at {MIRROR}")
    shown = subprocess.run(
        ["git", "-C", str(MIRROR), "show", f"HEAD:examples/{name}.json"],
        capture_output=True,
        check=False,
    )
    if shown.returncode != 0:
        pytest.skip(f"TheyDo publishes no examples/{name}.json")
    return json.loads(shown.stdout)


@pytest.mark.parametrize("kind", list(KINDS))
def test_theydos_published_examples_validate_without_problems(kind):
    assert problems_of(_published_example(kind)) == (KINDS[kind], [])


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_schema_is_a_valid_draft_2020_12_schema(fmt):
    Draft202012Validator.check_schema(SCHEMAS[fmt])
    assert SCHEMAS[fmt]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMAS[fmt]["properties"]["format"] == {"type": "string", "const": fmt}
    assert SCHEMAS[fmt]["additionalProperties"] is False


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_the_schema_files_in_docs_equal_the_python_schemas(fmt):
    path = SCHEMA_DIR / schema_file_name(fmt)
    assert path.read_text(encoding="utf-8") == schema_text(fmt)
    assert json.loads(path.read_text(encoding="utf-8")) == SCHEMAS[fmt]


def test_the_schemas_command_check_fails_when_a_file_drifts(tmp_path, monkeypatch):
    monkeypatch.setattr("maps.management.commands.theydo_schemas.SCHEMA_DIR", tmp_path)
    with pytest.raises(CommandError, match="6 schema file"):
        call_command("theydo_schemas", "--check")
    call_command("theydo_schemas", "--write")
    call_command("theydo_schemas", "--check")  # now current
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        schema_file_name(f) for f in FORMATS
    )


# --- the format ------------------------------------------------------------------------


def test_a_missing_format_is_one_problem_naming_the_six_accepted_formats():
    assert problems_of({"metrics": []}) == (
        None,
        [f"format: is missing; the accepted formats are {ACCEPTED}"],
    )


def test_an_unknown_format_is_one_problem_naming_it_and_the_six_accepted_formats():
    fmt, problems = problems_of({"format": "THEYDO_JOURNEYS_V1", "journeys": [{"x": 1}]})
    assert fmt is None
    assert problems == [
        f"format: “THEYDO_JOURNEYS_V1” is not a TheyDo format; the accepted formats are {ACCEPTED}"
    ]


@pytest.mark.parametrize("data", [[], "THEYDO_METRICS_V1", 3, None])
def test_a_file_that_is_not_an_object_is_refused_with_the_accepted_formats(data):
    fmt, problems = problems_of(data)
    assert fmt is None
    assert len(problems) == 1
    assert problems[0].startswith("the file must be a JSON object with a “format”")
    assert ACCEPTED in problems[0]


def test_a_format_that_is_not_a_text_is_named_without_failing():
    assert problems_of({"format": ["THEYDO_METRICS_V1"]})[1] == [
        f"format: a list is not a TheyDo format; the accepted formats are {ACCEPTED}"
    ]


def test_nesting_deeper_than_the_safe_json_limit_is_refused_by_path():
    deep: Any = "x"
    for _ in range(70):
        deep = [deep]
    data = fixture("insights")
    data["insights"][0]["tags"] = deep
    fmt, problems = problems_of(data)
    assert fmt is None
    assert problems[0].startswith("insights[0].tags")
    assert "nested more than 64 levels deep" in problems[0]


# --- one rule, one sentence --------------------------------------------------------------


def _set(data: dict, path: tuple, value: Any) -> None:
    *parents, last = path
    node = data
    for key in parents:
        node = node[key]
    if isinstance(node, list) and last == len(node):
        node.append(value)
    else:
        node[last] = value


def _delete(data: dict, path: tuple) -> None:
    *parents, last = path
    node = data
    for key in parents:
        node = node[key]
    del node[last]


DELETE = object()
M, I, O, S = "metrics", "insights", "opportunities", "solutions"  # noqa: E741
SR, FR = "survey_responses", "feedback_responses"
KNOWN_METRIC = (
    "type, importKey, title, description, unit, ownerEmail, targetComparisonOperator, "
    "target, groups, groupTags, dataPoints"
)

RULES = [
    # dates, times, e-mail addresses
    (
        M,
        (M, 1, "dataPoints", 0, "dateOfMeasurement"),
        "2025-13-01",
        "metrics[1].dataPoints[0].dateOfMeasurement: “2025-13-01” is not a date (YYYY-MM-DD)",
    ),
    (
        M,
        (M, 0, "dataPoints", 0, "dateOfMeasurement"),
        "2025-02-29",
        "metrics[0].dataPoints[0].dateOfMeasurement: “2025-02-29” is not a date (YYYY-MM-DD)",
    ),
    (
        M,
        (M, 0, "dataPoints", 0, "dateOfMeasurement"),
        "31/01/2025",
        "metrics[0].dataPoints[0].dateOfMeasurement: “31/01/2025” is not a date (YYYY-MM-DD)",
    ),
    (
        SR,
        ("responses", 3, "responseDateTime"),
        "2026-03-04T07:00:00+02:00",
        "responses[3].responseDateTime: “2026-03-04T07:00:00+02:00” is not a date and time "
        "in UTC ending in Z (YYYY-MM-DDThh:mm:ssZ)",
    ),
    (
        FR,
        ("responses", 0, "responseDateTime"),
        "2026-03-10T14:22:00",
        "responses[0].responseDateTime: “2026-03-10T14:22:00” is not a date and time in UTC "
        "ending in Z (YYYY-MM-DDThh:mm:ssZ)",
    ),
    (
        I,
        (I, 0, "ownerEmail"),
        "olivia.example.com",
        "insights[0].ownerEmail: “olivia.example.com” is not an e-mail address",
    ),
    (
        S,
        (S, 1, "ownerEmail"),
        ".tess@example.com",
        "solutions[1].ownerEmail: “.tess@example.com” is not an e-mail address",
    ),
    # types, "a value or null"
    (M, (M, 0, "description"), 5, "metrics[0].description: must be a text or null, found 5"),
    (M, (M, 1, "target"), "80", "metrics[1].target: must be a number or null, found “80”"),
    (
        I,
        (I, 0, "empathyScore"),
        True,
        "insights[0].empathyScore: must be a number or null, found true",
    ),
    (
        O,
        (O, 0, "tags"),
        "payments",
        "opportunities[0].tags: must be a list or null, found “payments”",
    ),
    (O, (O, 0, "tags", 1), 7, "opportunities[0].tags[1]: must be a text, found 7"),
    (M, (M, 0, "unit"), None, "metrics[0].unit: must be a text, found null"),
    (I, (I, 2, "title"), ["x"], "insights[2].title: must be a text, found a list"),
    (
        M,
        (M, 4, "dataPoints", 0, "value"),
        "8.5",
        "metrics[4].dataPoints[0].value: must be a number, found “8.5”",
    ),
    # enums and constants
    (
        S,
        (S, 0, "priority"),
        "URGENT",
        "solutions[0].priority: “URGENT” is not one of HIGH, MEDIUM, LOW",
    ),
    (
        M,
        (M, 0, "targetComparisonOperator"),
        "LESS_THAN",
        "metrics[0].targetComparisonOperator: “LESS_THAN” is not one of "
        "LESS_THAN_OR_EQUAL_TO, MORE_THAN_OR_EQUAL_TO",
    ),
    (
        M,
        (M, 3, "aggregationMethod"),
        "MEDIAN",
        "metrics[3].aggregationMethod: “MEDIAN” is not one of SUM, AVERAGE",
    ),
    (
        M,
        (M, 2, "type"),
        "NET_PROMOTER",
        "metrics[2].type: “NET_PROMOTER” is not one of CES, CSAT, NPS, OTHER, RATIO",
    ),
    (
        SR,
        ("surveyMetadata", "surveyFields", 0, "fieldType"),
        "FREE_TEXT",
        "surveyMetadata.surveyFields[0].fieldType: “FREE_TEXT” is not one of TEXT, TAG_GROUP, "
        "PERSONA, IGNORE",
    ),
    # required keys and unknown ones
    (M, (M, 1, "title"), DELETE, "metrics[1].title: is required but missing"),
    (
        M,
        (M, 3, "aggregationMethod"),
        DELETE,
        "metrics[3].aggregationMethod: is required but missing",
    ),
    (
        M,
        (M, 2, "type"),
        DELETE,
        "metrics[2].type: is required but missing (one of CES, CSAT, NPS, OTHER, RATIO)",
    ),
    (
        M,
        (M, 0, "dataPoints", 1, "respondents"),
        DELETE,
        "metrics[0].dataPoints[1].respondents: is required but missing",
    ),
    (
        S,
        (S, 0, "groupTags", 0, "tag"),
        DELETE,
        "solutions[0].groupTags[0].tag: is required but missing",
    ),
    (
        FR,
        ("feedbackMetadata", "feedbackId"),
        DELETE,
        "feedbackMetadata.feedbackId: is required but missing",
    ),
    (
        M,
        (M, 0, "name"),
        "Effort",
        f"metrics[0].name: unknown field “name” (known: {KNOWN_METRIC})",
    ),
    (
        M,
        (M, 5, "dataPoints", 0, "dimensions", 0, "label"),
        "EMEA",
        "metrics[5].dataPoints[0].dimensions[0].label: unknown field “label” (known: key, value)",
    ),
    (
        M,
        (M, 2, "dataPoints", 0, "veryDissatisfied"),
        3,
        "metrics[2].dataPoints[0].veryDissatisfied: unknown field “veryDissatisfied” "
        "(known: dateOfMeasurement, dimensions, detractors, passives, promoters)",
    ),
    # numbers and lengths
    (
        M,
        (M, 2, "dataPoints", 0, "promoters"),
        -1,
        "metrics[2].dataPoints[0].promoters: -1 is less than 0, the smallest allowed",
    ),
    (
        M,
        (M, 1, "dataPoints", 0, "neutral"),
        2**31,
        "metrics[1].dataPoints[0].neutral: 2147483648 is more than 2147483647, the largest allowed",
    ),
    (
        M,
        (M, 5, "dataPoints", 0, "numerator"),
        2.5,
        "metrics[5].dataPoints[0].numerator: must be a whole number, found 2.5",
    ),
    (
        M,
        (M, 0, "dataPoints", 0, "respondents"),
        10.5,
        "metrics[0].dataPoints[0].respondents: must be a whole number, found 10.5",
    ),
    (
        SR,
        ("surveyMetadata", "surveyFields", 1, "fieldName"),
        "",
        "surveyMetadata.surveyFields[1].fieldName: must not be empty",
    ),
    (
        SR,
        ("surveyMetadata", "surveyFields", 2, "tagGroupTitle"),
        "x" * 201,
        "surveyMetadata.surveyFields[2].tagGroupTitle: is longer than 200 characters",
    ),
    # keys within one file
    (
        O,
        (O, 2, "importKey"),
        "opp-anti-glare",
        "opportunities[2].importKey: “opp-anti-glare” is also opportunities[0].importKey",
    ),
    (I, (I, 1, "importKey"), "  ", "insights[1].importKey: must not be blank"),
    (S, (S, 2, "title"), "", "solutions[2].title: must not be blank"),
    # TheyDo's cross-field checks of the responses formats, and ours
    (
        SR,
        ("surveyMetadata", "surveyFields", 6),
        {"fieldId": "improve", "fieldName": "Again", "required": False},
        "surveyMetadata.surveyFields[6].fieldId: “improve” is also "
        "surveyMetadata.surveyFields[0].fieldId",
    ),
    (
        FR,
        ("feedbackMetadata", "feedbackFields", 2, "tagGroupTitle"),
        DELETE,
        "feedbackMetadata.feedbackFields[2].tagGroupTitle: a TAG_GROUP field needs a tag group "
        "title",
    ),
    (
        FR,
        ("feedbackMetadata", "feedbackFields", 3, "tagGroupTitle"),
        "   ",
        "feedbackMetadata.feedbackFields[3].tagGroupTitle: a TAG_GROUP field needs a tag group "
        "title",
    ),
    (
        SR,
        ("surveyMetadata", "surveyFields", 5, "fieldType"),
        "PERSONA",
        "surveyMetadata.surveyFields[5].fieldType: only one field may be PERSONA, and "
        "surveyMetadata.surveyFields[4] already is",
    ),
    (
        FR,
        ("responses", 1, "responseFields", 1, "fieldId"),
        "follow_up",
        "responses[1].responseFields[1].fieldId: “follow_up” is not a field of "
        "feedbackMetadata.feedbackFields (declared: message, followup, channel, sentiment, agent)",
    ),
    (
        FR,
        ("responses", 1, "responseFields", 3, "fieldId"),
        "channel",
        "responses[1].responseFields[3].fieldId: “channel” is also "
        "responses[1].responseFields[2].fieldId",
    ),
    (
        SR,
        ("responses", 1, "responseFields", 0, "textValue"),
        "  ",
        "responses[1].responseFields[0].textValue: the field “improve” is required and may not be "
        "empty",
    ),
    (
        SR,
        ("responses", 1, "responseFields", 1),
        DELETE,
        "responses[1].responseFields: no value for the required field “device”",
    ),
    (
        FR,
        ("responses", 2, "responseId"),
        "t-58812",
        "responses[2].responseId: “t-58812” is also responses[0].responseId",
    ),
]


@pytest.mark.parametrize(
    ("kind", "path", "value", "expected"), RULES, ids=[r[3][:60] for r in RULES]
)
def test_each_rule_names_its_json_path_in_one_plain_sentence(kind, path, value, expected):
    data = fixture(kind)
    if value is DELETE:
        _delete(data, path)
    else:
        _set(data, path, value)
    assert problems_of(data) == (None, [expected])


def test_a_leap_day_of_a_leap_year_is_a_date():
    data = fixture("metrics")
    data["metrics"][0]["dataPoints"][0]["dateOfMeasurement"] = "2024-02-29"
    data["metrics"][0]["dataPoints"][1]["dateOfMeasurement"] = "2000-02-29"
    assert problems_of(data) == ("THEYDO_METRICS_V1", [])


def test_a_utc_time_with_a_fraction_or_without_seconds_is_accepted():
    data = fixture("survey_responses")
    data["responses"][0]["responseDateTime"] = "2026-03-02T08:15:30.123456Z"
    data["responses"][1]["responseDateTime"] = "2026-03-02T19:40Z"
    assert problems_of(data) == ("THEYDO_SURVEY_RESPONSES_V1", [])


def test_a_field_type_left_out_is_text_and_needs_no_tag_group():
    data = fixture("survey_responses")
    del data["surveyMetadata"]["surveyFields"][0]["fieldType"]
    assert problems_of(data) == ("THEYDO_SURVEY_RESPONSES_V1", [])


# --- many problems --------------------------------------------------------------------


def test_a_file_with_many_problems_lists_them_all_sorted_by_path():
    data = fixture("metrics")
    m = data["metrics"]
    m[5]["importKey"] = "ces-support"
    m[4]["dataPoints"][1]["value"] = None
    m[0]["ownerEmail"] = "nobody"
    m[1]["dataPoints"][2]["dateOfMeasurement"] = "2025-02-30"
    m[3]["type"] = "SUM"
    m[2]["extra"] = True
    data["generatedBy"] = "exporter 2.1"
    fmt, problems = problems_of(data)
    assert fmt is None
    assert problems == [
        "generatedBy: unknown field “generatedBy” (known: format, metrics)",
        "metrics[0].ownerEmail: “nobody” is not an e-mail address",
        "metrics[1].dataPoints[2].dateOfMeasurement: “2025-02-30” is not a date (YYYY-MM-DD)",
        "metrics[2].extra: unknown field “extra” (known: type, importKey, title, description, "
        "unit, ownerEmail, targetComparisonOperator, target, groups, groupTags, dataPoints)",
        "metrics[3].type: “SUM” is not one of CES, CSAT, NPS, OTHER, RATIO",
        "metrics[4].dataPoints[1].value: must be a number, found null",
        "metrics[5].importKey: “ces-support” is also metrics[0].importKey",
    ]


def test_a_metric_with_problems_in_every_data_point_lists_each_one():
    data = fixture("metrics")
    for point in data["metrics"][1]["dataPoints"]:
        point["satisfied"] = -5
    problems = problems_of(data)[1]
    assert problems == [
        f"metrics[1].dataPoints[{i}].satisfied: -5 is less than 0, the smallest allowed"
        for i in range(3)
    ]


def test_problems_past_the_limit_are_counted_and_the_first_ones_listed():
    data = fixture("insights")
    data["insights"] = [{"importKey": f"k{i}", "title": "t", "weight": "heavy"} for i in range(120)]
    problems = Problems()  # keeps 50
    assert validation.validate(data, problems) is None
    assert problems.count == 120
    listed = problems.listed()
    assert listed[0] == "insights[0].weight: must be a number or null, found “heavy”"
    assert listed[-1] == "… and 70 more problems"


def test_checking_stops_after_a_thousand_schema_problems_and_says_where(monkeypatch):
    monkeypatch.setattr(validation, "MAX_SCHEMA_ERRORS", 10)
    data = fixture("insights")
    data["insights"] = [{"importKey": f"k{i}", "title": 1} for i in range(30)]
    problems = Problems()
    assert validation.validate(data, problems) is None
    assert problems.count == 10
    assert problems.listed()[-1] == "… checking stopped after insights[9]"


# --- the fast check never accepts what jsonschema refuses ------------------------------

BAD_VALUES = [None, "", "x", -1, 2.5, 2**31, True, [], {}, [1], {"a": 1}]


def _leaves(node: Any, path: tuple = ()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, (*path, i))
    yield path


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_fast_check_and_jsonschema_agree_on_every_changed_value(kind):
    """Every entry of each fixture with each of its values (and itself) replaced by each
    of ``BAD_VALUES``: ``fastjsonschema`` flags the entry exactly when ``jsonschema``
    finds a problem, so a file it lets through has none."""
    checker = validation.checker_of(KINDS[kind])
    entries = fixture(kind)[checker.list_key]
    disagreements = []
    for entry in entries[:3]:
        for path in _leaves(entry):
            for bad in BAD_VALUES:
                changed = copy.deepcopy(entry)
                if path:
                    _set(changed, path, copy.deepcopy(bad))
                else:
                    changed = copy.deepcopy(bad)
                fast = checker.entry_fails(changed)
                exact = bool(list(checker.explain_entry(changed)))
                if fast != exact:
                    disagreements.append((path, bad, fast, exact))
    assert disagreements == []
