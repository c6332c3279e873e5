"""Our JSON Schemas (draft 2020-12) of TheyDo's six import formats, written from the
contract TheyDo publishes (README "Specific Schema Ingestion Rules" and the schemas of
github.com/theydo/theydo-s3-integrations): the same required keys, types, enums and
``format`` constants, ``additionalProperties: false``, "a value or null" as ``oneOf``,
dates as YYYY-MM-DD, response times in UTC ending in ``Z``, counts 0..2³¹−1.

Built from shared pieces, so the six formats cannot drift from one another. ``SCHEMAS``
holds them by format name; ``manage.py theydo_schemas --write`` writes them to
``docs/theydo/schemas/<Name>.schema.json`` (a test keeps the files equal to this module).
"""

from __future__ import annotations

import copy
from typing import Any

Schema = dict[str, Any]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
INT_MAX = 2**31 - 1  # TheyDo stores counts and ratio parts as 32-bit integers
INT_MIN = -(2**31)

METRICS = "THEYDO_METRICS_V1"
INSIGHTS = "THEYDO_INSIGHTS_V1"
OPPORTUNITIES = "THEYDO_OPPORTUNITIES_V1"
SOLUTIONS = "THEYDO_SOLUTIONS_V1"
SURVEY_RESPONSES = "THEYDO_SURVEY_RESPONSES_V1"
FEEDBACK_RESPONSES = "THEYDO_FEEDBACK_RESPONSES_V1"

#: format → (schema title, the key of the file's list, the noun of one entry)
FORMATS: dict[str, tuple[str, str, str]] = {
    METRICS: ("MetricsFile", "metrics", "metric"),
    INSIGHTS: ("InsightsFile", "insights", "insight"),
    OPPORTUNITIES: ("OpportunitiesFile", "opportunities", "opportunity"),
    SOLUTIONS: ("SolutionsFile", "solutions", "solution"),
    SURVEY_RESPONSES: ("SurveyResponsesFile", "responses", "response"),
    FEEDBACK_RESPONSES: ("FeedbackResponsesFile", "responses", "response"),
}
#: the ``?kind=`` of the export API and command, by format
KINDS: dict[str, str] = {
    "metrics": METRICS,
    "insights": INSIGHTS,
    "opportunities": OPPORTUNITIES,
    "solutions": SOLUTIONS,
    "survey_responses": SURVEY_RESPONSES,
    "feedback_responses": FEEDBACK_RESPONSES,
}
#: responses formats → (metadata key, name key, id key, fields key)
RESPONSES_METADATA: dict[str, tuple[str, str, str, str]] = {
    SURVEY_RESPONSES: ("surveyMetadata", "surveyName", "surveyId", "surveyFields"),
    FEEDBACK_RESPONSES: ("feedbackMetadata", "feedbackName", "feedbackId", "feedbackFields"),
}

METRIC_TYPES = ("CES", "CSAT", "NPS", "OTHER", "RATIO")
COMPARISON_OPERATORS = ("LESS_THAN_OR_EQUAL_TO", "MORE_THAN_OR_EQUAL_TO")
AGGREGATION_METHODS = ("SUM", "AVERAGE")
PRIORITIES = ("HIGH", "MEDIUM", "LOW")
FIELD_TYPES = ("TEXT", "TAG_GROUP", "PERSONA", "IGNORE")
CSAT_COUNTS = ("veryUnsatisfied", "unsatisfied", "neutral", "satisfied", "verySatisfied")

# --- patterns: the rules the ``format`` keywords name, for tools that skip formats ----

_MONTH_31 = r"(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])"
_MONTH_30 = r"(?:0[469]|11)-(?:0[1-9]|[12]\d|30)"
_FEBRUARY = r"02-(?:0[1-9]|1\d|2[0-8])"
# leap years: divisible by 4 but not by 100, or by 400
_LEAP_YEAR = r"(?:\d\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
DATE_RE = rf"(?:\d{{4}}-(?:{_MONTH_31}|{_MONTH_30}|{_FEBRUARY})|{_LEAP_YEAR}-02-29)"
UTC_TIME_RE = r"(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?Z"
EMAIL_RE = (
    r"^(?!\.)(?!.*\.\.)[A-Za-z0-9_'+.\-]*[A-Za-z0-9_+\-]"  # no leading dot, no ".."
    r"@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$"
)

# --- shared pieces -------------------------------------------------------------------

TEXT: Schema = {"type": "string"}
NUMBER: Schema = {"type": "number"}
TEXTS: Schema = {"type": "array", "items": TEXT}


def ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def nullable(schema: Schema, description: str | None = None) -> Schema:
    """A value or ``null`` (null clears the field on re-import)."""
    out: Schema = {"description": description} if description else {}
    out["oneOf"] = [schema, {"type": "null"}]
    return out


def described(description: str, schema: Schema) -> Schema:
    return {"description": description, **schema}


def strict_object(properties: dict[str, Schema], required: list[str], **extra: Any) -> Schema:
    return {
        **extra,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


#: definitions each file may refer to; a file carries only the ones it uses
DEFS: dict[str, Schema] = {
    "ISODate": {
        "title": "ISODate",
        "description": "A calendar date, YYYY-MM-DD",
        "type": "string",
        "format": "date",
        "pattern": f"^{DATE_RE}$",
    },
    "UTCDateTime": {
        "title": "UTCDateTime",
        "description": "An ISO-8601 date and time in UTC ending in Z (2026-01-01T00:00:00Z); "
        "naive times and numeric offsets are refused",
        "type": "string",
        "format": "date-time",
        "pattern": f"^{DATE_RE}T{UTC_TIME_RE}$",
    },
    "Email": {
        "title": "Email",
        "description": "An e-mail address",
        "type": "string",
        "format": "email",
        "pattern": EMAIL_RE,
    },
    "Value": {"title": "Value", "description": "A number", "type": "number"},
    "Count": {
        "title": "Count",
        "description": "A whole number of people or answers, 0 or more",
        "type": "integer",
        "minimum": 0,
        "maximum": INT_MAX,
    },
    "Int": {
        "title": "Int",
        "description": "A 32-bit whole number",
        "type": "integer",
        "minimum": INT_MIN,
        "maximum": INT_MAX,
    },
    "Dimension": strict_object(
        {"key": TEXT, "value": TEXT},
        ["key", "value"],
        title="Dimension",
        description="One dimension of a data point, e.g. region = EMEA",
    ),
    "GroupTag": strict_object(
        {"tagGroup": TEXT, "tag": TEXT},
        ["tagGroup", "tag"],
        title="GroupTag",
        description="A tag inside a tag group; both are created when missing",
    ),
}

OWNER_EMAIL = nullable(
    ref("Email"),
    "The owner's e-mail address: omitted leaves the owner, null removes it, an address "
    "matching no user is treated as omitted (README 'Treatment of ownerEmail')",
)
DESCRIPTION = nullable(TEXT, "Description as Markdown")
TAGS = nullable(TEXTS)
GROUPS = nullable(TEXTS)
GROUP_TAGS = nullable({"type": "array", "items": ref("GroupTag")})
LINKS = nullable(TEXTS)
OPERATOR: Schema = {"type": "string", "enum": list(COMPARISON_OPERATORS)}


def _keyed(noun: str) -> dict[str, Schema]:
    """The keys every importable entry starts with."""
    return {
        "importKey": described(
            f"Stable identifier of the {noun}: re-importing the same key updates it", TEXT
        ),
        "title": TEXT,
        "description": DESCRIPTION,
    }


# --- metrics -------------------------------------------------------------------------

_DATA_POINT_VALUES: dict[str, dict[str, str]] = {
    "CES": {"score": "Value", "respondents": "Count"},
    "CSAT": {name: "Count" for name in CSAT_COUNTS},
    "NPS": {"detractors": "Count", "passives": "Count", "promoters": "Count"},
    "OTHER": {"value": "Value"},
    "RATIO": {"numerator": "Int", "denominator": "Int"},
}


def _data_point(kind: str) -> Schema:
    values = _DATA_POINT_VALUES[kind]
    return strict_object(
        {
            "dateOfMeasurement": ref("ISODate"),
            "dimensions": {"type": "array", "items": ref("Dimension")},
            **{name: ref(definition) for name, definition in values.items()},
        },
        ["dateOfMeasurement", *values],
        title=f"DataPoint{kind}",
        description=f"One {kind} measurement for a date and a combination of dimensions",
    )


def _metric(kind: str) -> Schema:
    properties: dict[str, Schema] = {
        "type": {"type": "string", "const": kind},
        **_keyed("metric"),
        "unit": TEXT,
        "ownerEmail": OWNER_EMAIL,
        "targetComparisonOperator": nullable(
            {"type": "string", "enum": list(COMPARISON_OPERATORS)}
        ),
        "target": nullable(NUMBER),
        "groups": GROUPS,
        "groupTags": GROUP_TAGS,
        "dataPoints": {"type": "array", "items": ref(f"DataPoint{kind}")},
    }
    required = ["type", "importKey", "title", "unit", "dataPoints"]
    if kind == "OTHER":
        properties["aggregationMethod"] = {
            "description": "How the data points of one date combine",
            "type": "string",
            "enum": list(AGGREGATION_METHODS),
        }
        required.append("aggregationMethod")
    return strict_object(
        properties, required, title=f"Metric{kind}", description=f"A metric of {kind} data points"
    )


# --- insights, opportunities, solutions ------------------------------------------------


def _insight() -> Schema:
    return strict_object(
        {
            **_keyed("insight"),
            "icon": nullable(TEXT),
            "empathyScore": nullable(NUMBER),
            "externalLinks": LINKS,
            "type": nullable(TEXT),
            "status": nullable(TEXT),
            "tags": TAGS,
            "groups": GROUPS,
            "groupTags": GROUP_TAGS,
            "weight": nullable(NUMBER),
            "ownerEmail": OWNER_EMAIL,
        },
        ["importKey", "title"],
        title="Insight",
    )


def _opportunity() -> Schema:
    return strict_object(
        {
            **_keyed("opportunity"),
            "status": nullable(TEXT),
            "type": nullable(TEXT),
            "externalLinks": LINKS,
            "tags": TAGS,
            "groups": GROUPS,
            "groupTags": GROUP_TAGS,
            "ownerEmail": OWNER_EMAIL,
        },
        ["importKey", "title"],
        title="Opportunity",
    )


def _solution() -> Schema:
    return strict_object(
        {
            **_keyed("solution"),
            "externalLinks": LINKS,
            "status": nullable(TEXT),
            "tags": TAGS,
            "groups": GROUPS,
            "groupTags": GROUP_TAGS,
            "type": nullable(TEXT),
            "priority": nullable({"type": "string", "enum": list(PRIORITIES)}),
            "ownerEmail": OWNER_EMAIL,
        },
        ["importKey", "title"],
        title="Solution",
    )


# --- survey and feedback responses -----------------------------------------------------


def _responses_file(fmt: str, noun: str) -> tuple[dict[str, Schema], list[str], dict]:
    metadata_key, name_key, id_key, fields_key = RESPONSES_METADATA[fmt]
    field = strict_object(
        {
            "fieldId": described("Referenced by responses[].responseFields[].fieldId", TEXT),
            "fieldName": described("The column's label", {"type": "string", "minLength": 1}),
            "fieldType": {
                "description": "TEXT: plain text; TAG_GROUP: the value is a tag in the tag "
                "group tagGroupTitle; PERSONA (one field at most): a hint of the persona; "
                "IGNORE: skipped",
                "default": "TEXT",
                "type": "string",
                "enum": list(FIELD_TYPES),
            },
            "tagGroupTitle": {
                "description": "Required when fieldType is TAG_GROUP: the tag group, matched "
                "case-insensitively and created when missing",
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
            },
            "required": described(
                "Whether this field must have a non-empty value in every response",
                {"type": "boolean"},
            ),
        },
        ["fieldId", "fieldName", "required"],
        title="Field",
    )
    metadata = strict_object(
        {
            name_key: described(f"The {noun} source's name", TEXT),
            id_key: described(
                f"Stable identifier of the {noun} source: re-importing it updates the source",
                TEXT,
            ),
            fields_key: {"type": "array", "items": ref("Field")},
            "convertAllRowsToQuotes": described(
                "true: every response is one verbatim quote; false (default): each text "
                "answer is read on its own",
                {"type": "boolean"},
            ),
        },
        [name_key, id_key, fields_key],
        title=f"{noun.capitalize()}Metadata",
    )
    response_field = strict_object(
        {
            "fieldId": described(f"A fieldId declared in {metadata_key}.{fields_key}", TEXT),
            "textValue": TEXT,
        },
        ["fieldId", "textValue"],
        title="ResponseField",
    )
    response = strict_object(
        {
            "responseId": described("Unique identifier of the response", TEXT),
            "responseDateTime": ref("UTCDateTime"),
            "responseFields": {"type": "array", "items": ref("ResponseField")},
        },
        ["responseId", "responseDateTime", "responseFields"],
        title="Response",
    )
    properties = {
        metadata_key: ref("Metadata"),
        "responses": {"type": "array", "items": ref("Response")},
    }
    defs = {"Metadata": metadata, "Field": field, "Response": response}
    return properties, [metadata_key, "responses"], {**defs, "ResponseField": response_field}


# --- files -----------------------------------------------------------------------------


def _used_defs(node: Any, defs: dict[str, Schema], found: dict[str, Schema]) -> None:
    """The definitions ``node`` refers to, transitively."""
    if isinstance(node, dict):
        target = node.get("$ref", "")
        if target.startswith("#/$defs/"):
            name = target.rsplit("/", 1)[1]
            if name not in found:
                found[name] = defs[name]
                _used_defs(defs[name], defs, found)
        for value in node.values():
            _used_defs(value, defs, found)
    elif isinstance(node, list):
        for value in node:
            _used_defs(value, defs, found)


def _file(fmt: str) -> Schema:
    title, list_key, noun = FORMATS[fmt]
    defs = dict(DEFS)
    if fmt == METRICS:
        for kind in METRIC_TYPES:
            defs[f"Metric{kind}"] = _metric(kind)
            defs[f"DataPoint{kind}"] = _data_point(kind)
        properties = {
            "metrics": {
                "type": "array",
                "items": {"title": "Metric", "oneOf": [ref(f"Metric{k}") for k in METRIC_TYPES]},
            }
        }
        required = ["metrics"]
    elif fmt in RESPONSES_METADATA:
        noun = "survey" if fmt == SURVEY_RESPONSES else "feedback"
        properties, required, extra = _responses_file(fmt, noun)
        defs.update(extra)
    else:
        entry = {INSIGHTS: _insight, OPPORTUNITIES: _opportunity, SOLUTIONS: _solution}[fmt]()
        defs[entry["title"]] = entry
        properties = {list_key: {"type": "array", "items": ref(entry["title"])}}
        required = [list_key]
    body = strict_object(
        {"format": {"type": "string", "const": fmt}, **properties}, ["format", *required]
    )
    used: dict[str, Schema] = {}
    _used_defs(body, defs, used)
    return {
        "$schema": DRAFT,
        "$id": f"./{title}.schema.json",
        "title": title,
        "description": f"TheyDo's {fmt} file, as JourneyHub reads and writes it",
        **body,
        # definitions in the order of DEFS then the format's own, for stable files
        "$defs": copy.deepcopy({name: defs[name] for name in defs if name in used}),
    }


SCHEMAS: dict[str, Schema] = {fmt: _file(fmt) for fmt in FORMATS}


def schema_file_name(fmt: str) -> str:
    return f"{FORMATS[fmt][0]}.schema.json"
