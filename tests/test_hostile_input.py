"""Hostile input, as a table: every input that used to crash a request (500), store a
non-finite number or an implausible date, or hold a worker's memory — for every import
format (CSV measurements, TheyDo JSON, event-log CSV) and the JSON endpoints — is
refused with a 4xx whose message names the field, line or JSON path; nothing is
written; and the next ordinary requests still answer 200.

Plus: the database itself refuses non-finite numbers (check constraints), and an import
with thousands of problems keeps only the first ``MAX_PROBLEMS`` of them.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from journeyhub.api import safe_json
from maps.analytics import event_import_create, event_import_run
from maps.imports import MAX_PROBLEMS, ImportRefused, measurements_import
from maps.models import (
    KPI,
    CXProject,
    EventImport,
    Measurement,
    MeasurementObservation,
    StepLink,
)
from tests.factories import (
    CXProjectFactory,
    KPIFactory,
    MeasurementFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INT = "9" * 5000  # over Python's 4,300-digit int() limit
BIG_INT = str(10**400)  # float() of it overflows
HUGE_ID = "35688714910420787200"  # beyond 64 bits: OverflowError on SQLite
BIG_CELL = "x" * (200 * 1024)  # over the csv module's 128 KB field limit


@pytest.fixture
def world(owner, team_map):
    """A map with steps (for event logs), a value KPI, a ratio KPI with a measurement
    (so the scorecard has numbers) and a project."""
    for position, key in enumerate("abc"):
        StepFactory(map=team_map, key=key, name=f"Step {key}", position=position)
    value = KPIFactory(map=team_map, name="Days to open", import_key="days", baseline=10, target=4)
    value.direction = KPI.Direction.LOWER
    value.save()
    ratio = KPIFactory(
        map=team_map, name="First contact", import_key="fcr", kind=KPI.Kind.RATIO, target=90
    )
    MeasurementFactory(kpi=ratio, date=dt.date(2026, 1, 31), value=70)
    project = CXProjectFactory(owner=owner, maps=[team_map])
    return {"map": team_map, "value": value, "ratio": ratio, "project": project}


@pytest.fixture
def api(owner):
    client = APIClient()
    client.force_authenticate(owner)
    return client


def written() -> dict:
    """What a refused request must not change: row counts and the numbers that were
    stored before."""
    return {
        "kpis": sorted(KPI.objects.values_list("pk", "target", "baseline", "weight")),
        "measurements": sorted(Measurement.objects.values_list("pk", "date", "value")),
        "observations": MeasurementObservation.objects.count(),
        "projects": sorted(CXProject.objects.values_list("pk", "effort", "start_date")),
        "links": StepLink.objects.count(),
    }


def message_of(response) -> str:
    return json.dumps(response.json(), ensure_ascii=False)


def still_works(api, world) -> None:
    assert api.get("/api/kpis/").status_code == 200
    assert api.get(f"/api/kpis/{world['ratio'].pk}/measurements/").status_code == 200
    assert api.get(f"/api/maps/{world['map'].pk}/scorecard/").status_code == 200
    page = api.get(f"/api/measurements/?kpi={world['ratio'].pk}")
    assert page.status_code == 200 and len(page.json()["results"]) == 1


def _obs(body: str) -> str:
    return '{"date": "2026-02-28", ' + body + "}"


def _theydo(target: str = "4", point: str = '"value": 3') -> str:
    return (
        '{"format": "THEYDO_METRICS_V1", "metrics": [{"importKey": "days", "title": '
        '"Days to open", "type": "OTHER", "unit": "days", "aggregationMethod": "AVERAGE", '
        '"target": ' + target + ', "dataPoints": '
        '[{"dateOfMeasurement": "2026-02-28", ' + point + "}]}]}"
    )


# (name, method, path, body, content type, expected status, words the answer names)
# Paths: {ratio}, {value}, {map}, {project} are filled from the fixture.
JSON_CASES = [
    # nesting 100,000 deep: RecursionError before
    ("deep JSON, observation", "post", "/api/kpis/{ratio}/measurements/", DEEP, 400, ["nested"]),
    ("deep JSON, new map", "post", "/api/maps/", DEEP, 400, ["nested more than 64"]),
    ("deep JSON, KPI edit", "patch", "/api/kpis/{value}/", DEEP, 400, ["nested"]),
    ("deep JSON, import", "post", "/api/maps/{map}/measurements/import/", DEEP, 400, ["nested"]),
    (
        "deep JSON inside a field",
        "post",
        "/api/kpis/{ratio}/measurements/",
        _obs('"dimensions": {"a": ' + "[" * 70 + "]" * 70 + "}"),
        400,
        ["dimensions.a", "nested more than 64"],
    ),
    # integers of 5,000 digits (int() limit) and 401 digits (float() overflow)
    (
        "5000-digit numerator",
        "post",
        "/api/kpis/{ratio}/measurements/",
        _obs(f'"numerator": {HUGE_INT}, "denominator": 2'),
        400,
        ["numerator", "5000 digits"],
    ),
    (
        "10**400 value",
        "post",
        "/api/kpis/{value}/measurements/",
        _obs(f'"value": {BIG_INT}'),
        400,
        ["value", "401 digits"],
    ),
    (
        "10**400 KPI target",
        "patch",
        "/api/kpis/{value}/",
        '{"map_version": 1, "target": ' + BIG_INT + "}",
        400,
        ["target", "401 digits"],
    ),
    # non-finite numbers: NaN, Infinity, 1e999
    (
        "NaN literal",
        "post",
        "/api/kpis/{value}/measurements/",
        _obs('"value": NaN'),
        400,
        ["value", "NaN", "not a finite number"],
    ),
    (
        "-Infinity literal",
        "post",
        "/api/measurements/",
        '{"kpi": {value}, "date": "2026-02-28", "value": -Infinity}',
        400,
        ["value", "Infinity"],
    ),
    (
        "1e999 KPI target",
        "patch",
        "/api/kpis/{value}/",
        '{"map_version": 1, "target": 1e999}',
        400,
        ["target", "not finite"],
    ),
    (
        "1e999 as a string, KPI target",
        "patch",
        "/api/kpis/{value}/",
        '{"map_version": 1, "target": "1e999"}',
        400,
        ["target"],
    ),
    (
        "Infinity as a string, measurement",
        "post",
        "/api/measurements/",
        '{"kpi": {value}, "date": "2026-02-28", "value": "Infinity"}',
        400,
        ["value"],
    ),
    (
        "1e16 KPI baseline (beyond 10^15)",
        "patch",
        "/api/kpis/{value}/",
        '{"map_version": 1, "baseline": 1e16}',
        400,
        ["baseline", "10^15"],
    ),
    (
        "target 1e-320 from the baseline (attainment would be infinite)",
        "patch",
        "/api/kpis/{ratio}/",
        '{"map_version": 1, "baseline": 0, "target": 1e-320}',
        400,
        ["target", "at least 10^-9"],
    ),
    (
        "NaN weight",
        "patch",
        "/api/kpis/{value}/",
        '{"map_version": 1, "weight": "NaN"}',
        400,
        ["weight"],
    ),
    (
        "1e999 project effort",
        "patch",
        "/api/projects/{project}/",
        '{"effort": "1e999"}',
        400,
        ["effort"],
    ),
    # overflowing arithmetic: 1e308 ÷ 1e-300, and a ratio beyond 10^15 %
    (
        "ratio 1e308 / 1e-300",
        "post",
        "/api/kpis/{ratio}/measurements/",
        _obs('"numerator": 1e308, "denominator": 1e-300'),
        400,
        ["numerator", "10^15"],
    ),
    (
        "ratio 1e14 / 1e-300",
        "post",
        "/api/kpis/{ratio}/measurements/",
        _obs('"numerator": 1e14, "denominator": 1e-300'),
        400,
        ["denominator", "too small"],
    ),
    (
        "count beyond a 32-bit integer",
        "post",
        "/api/kpis/{ratio}/measurements/",
        _obs('"numerator": 5, "denominator": 99999999999999999999'),
        400,
        ["denominator"],
    ),
    # implausible dates
    (
        "year 9999 observation",
        "post",
        "/api/kpis/{value}/measurements/",
        '{"date": "9999-12-31", "value": 3}',
        400,
        ["date", "9999-12-31", "not plausible"],
    ),
    (
        "year 9999 measurement",
        "post",
        "/api/measurements/",
        '{"kpi": {value}, "date": "9999-12-31", "value": 3}',
        400,
        ["date", "not plausible"],
    ),
    (
        "year 1066 measurement",
        "post",
        "/api/measurements/",
        '{"kpi": {value}, "date": "1066-10-14", "value": 3}',
        400,
        ["date", "not plausible"],
    ),
    (
        "year 9999 project end",
        "patch",
        "/api/projects/{project}/",
        '{"end_date": "9999-12-31"}',
        400,
        ["end_date", "not plausible"],
    ),
    # TheyDo's JSON as the import body: the JSON path is named
    (
        "TheyDo target 1e999",
        "post",
        "/api/maps/{map}/measurements/import/",
        _theydo(target="1e999"),
        400,
        ["metrics[0].target", "not finite"],
    ),
    (
        "TheyDo target 1e300",
        "post",
        "/api/maps/{map}/measurements/import/",
        _theydo(target="1e300"),
        400,
        ["metrics[0]", "target", "10^15"],
    ),
    (
        "TheyDo 5000-digit value",
        "post",
        "/api/maps/{map}/measurements/import/",
        _theydo(point=f'"value": {HUGE_INT}'),
        400,
        ["metrics[0].dataPoints[0].value", "5000 digits"],
    ),
    (
        "TheyDo NaN value",
        "post",
        "/api/maps/{map}/measurements/import/",
        _theydo(point='"value": NaN'),
        400,
        ["metrics[0].dataPoints[0].value", "NaN"],
    ),
    (
        "TheyDo year 9999",
        "post",
        "/api/maps/{map}/measurements/import/",
        _theydo().replace("2026-02-28", "9999-12-31"),
        400,
        ["metrics[0].dataPoints[0].dateOfMeasurement", "not plausible"],
    ),
    # a body over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): JSON, not Django's HTML page
    (
        "3 MB JSON body",
        "post",
        "/api/kpis/{value}/measurements/",
        "[" + ",".join(['{"date": "2026-02-28", "value": 1}'] * 90_000) + "]",
        413,
        ["larger than 2.5 MB"],
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in JSON_CASES],
)
def test_a_hostile_json_body_is_refused_naming_the_problem_and_writes_nothing(
    api, world, method, path, body, status, words
):
    ids = {name: world[name].pk for name in ("ratio", "value", "map", "project")}
    for name, pk in ids.items():
        path = path.replace("{" + name + "}", str(pk))
        body = body.replace("{" + name + "}", str(pk))
    before = written()
    response = getattr(api, method)(path, data=body.encode(), content_type="application/json")
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    text = message_of(response)
    for word in words:
        assert word in text, text[:500]
    assert written() == before
    still_works(api, world)


@pytest.mark.parametrize("format", ["multipart", "form"])
def test_a_form_body_over_the_limit_answers_json_413_too(api, world, format):
    big = "x" * (3 * 1024 * 1024)
    if format == "form":
        response = api.post(
            "/api/maps/", data=f"title={big}", content_type="application/x-www-form-urlencoded"
        )
    else:
        response = api.post("/api/maps/", {"title": big}, format="multipart")
    assert response.status_code == 413
    assert "larger than 2.5 MB" in response.json()["detail"]
    still_works(api, world)


# --- the measurements import: CSV and TheyDo files --------------------------------------

HEADER = "kpi,date,value,numerator,denominator\n"
RATIO_OVERFLOW = (
    _theydo(target="90", point='"numerator": 1e14, "denominator": 1e-300')
    .replace('"OTHER"', '"RATIO"')
    .replace('"days"', '"fcr"')
    .replace("Days to open", "First contact")
)

FILE_CASES = [
    (
        "CSV cell over 128 KB",
        (HEADER + f"days,2026-02-28,{BIG_CELL},,\n").encode(),
        ["line 2", "128 KB"],
    ),
    (
        "CSV value 1e999",
        (HEADER + "days,2026-02-28,1e999,,\n").encode(),
        ["line 2, column value", "finite"],
    ),
    (
        "CSV 5000-digit value",
        (HEADER + f"days,2026-02-28,{HUGE_INT},,\n").encode(),
        ["line 2, column value", "finite"],
    ),
    ("CSV NaN value", (HEADER + "days,2026-02-28,nan,,\n").encode(), ["line 2, column value"]),
    (
        "CSV year 9999",
        (HEADER + "days,9999-12-31,3,,\n").encode(),
        ["line 2, column date", "not plausible"],
    ),
    (
        "CSV ratio overflow",
        (HEADER + "fcr,2026-02-28,,1e14,1e-300\n").encode(),
        ["line 2, column denominator"],
    ),
    (
        "CSV numerator 1e308",
        (HEADER + "fcr,2026-02-28,,1e308,1e-300\n").encode(),
        ["line 2, column numerator"],
    ),
    ("CSV as UTF-16", (HEADER + "days,2026-02-28,3,,\n").encode("utf-16"), ["UTF-16", "UTF-8"]),
    ("CSV binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe", ["binary"]),
    (
        "CSV NUL byte on line 3",
        (HEADER + "days,2026-02-28,3,,\ndays,2026-03-31,\x00,,\n").encode(),
        ["line 3", "binary"],
    ),
    (
        "CSV not UTF-8 on line 3",
        HEADER.encode() + b"days,2026-02-28,3,,\ndays,\xe9t\xe9,3,,\n",
        ["line 3", "not UTF-8"],
    ),
    ("TheyDo file nested deep", DEEP.encode(), ["nested"]),
    (
        "TheyDo file 10**400",
        _theydo(point=f'"value": {BIG_INT}').encode(),
        ["metrics[0].dataPoints[0].value", "401 digits"],
    ),
    (
        "TheyDo file Infinity target",
        _theydo(target="Infinity").encode(),
        ["metrics[0].target", "Infinity"],
    ),
    (
        "TheyDo file ratio overflow",
        RATIO_OVERFLOW.encode(),
        ["metrics[0].dataPoints[0].denominator"],
    ),
]


@pytest.mark.parametrize(
    ("content", "words"), [pytest.param(*case[1:], id=case[0]) for case in FILE_CASES]
)
def test_a_hostile_measurements_file_is_refused_naming_its_line_or_path(api, world, content, words):
    before = written()
    response = api.post(
        f"/api/maps/{world['map'].pk}/measurements/import/",
        {"file": ContentFile(content, name="upload.csv")},
        format="multipart",
    )
    assert response.status_code == 400, response.content[:500]
    text = message_of(response)
    for word in words:
        assert word in text, text[:500]
    assert "Nothing was imported" in response.json()["detail"]
    assert written() == before
    still_works(api, world)


def test_a_hostile_csv_body_is_refused_too(api, world):
    response = api.post(
        f"/api/maps/{world['map'].pk}/measurements/import/",
        data=(HEADER + f"days,2026-02-28,{BIG_CELL},,\n").encode(),
        content_type="text/csv",
    )
    assert response.status_code == 400
    assert response.json()["problems"] == ["line 2: a cell is longer than 128 KB"]


# --- event logs (imported by a task: refused means failed, with the line) ---------------

LOG_HEADER = "case_id,step_key,timestamp,channel\n"
GOOD_EVENT = "A,a,2026-05-04T09:00:00Z,app\n"

EVENT_CASES = [
    (
        "cell over 128 KB",
        (LOG_HEADER + GOOD_EVENT + f"B,{BIG_CELL},2026-05-04T09:00:00Z,app\n").encode(),
        ["line 3", "128 KB"],
    ),
    ("UTF-16", (LOG_HEADER + GOOD_EVENT).encode("utf-16"), ["line 1", "UTF-16", "UTF-8"]),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe\x00", ["line 1", "not UTF-8"]),
    (
        "not UTF-8 on line 3",
        (LOG_HEADER + GOOD_EVENT).encode() + b"B,\xe9,2026-05-04T09:00:00Z,app\n",
        ["line 3", "not UTF-8"],
    ),
    (
        "NUL byte on line 2",
        (LOG_HEADER + "A,a\x00,2026-05-04T09:00:00Z,app\n").encode(),
        ["line 2", "binary"],
    ),
    ("no line breaks, 2 MB", b"x" * (2 * 1024 * 1024), ["line 1", "longer than 1 MB"]),
    (
        "year 9999 timestamp",
        (LOG_HEADER + "A,a,9999-12-31T23:59:59Z,app\n").encode(),
        ["line 2, column timestamp", "not plausible"],
    ),
    (
        "huge step key",
        (LOG_HEADER + f"A,{'k' * 100_000},2026-05-04T09:00:00Z,app\n").encode(),
        ["line 2, column step_key"],
    ),
]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize(
    ("content", "words"), [pytest.param(*case[1:], id=case[0]) for case in EVENT_CASES]
)
def test_a_hostile_event_log_fails_naming_its_line_or_encoding(
    api, world, media, owner, content, words
):
    before = written()
    queued = event_import_create(
        journey_map=world["map"],
        file=ContentFile(content, name="log.csv"),
        by=owner,
        enqueue=False,
    )
    done = event_import_run(import_id=queued.pk)
    assert done.status == EventImport.Status.FAILED
    assert "unexpectedly" not in done.error
    problems = " ".join(done.result["problems"])
    for word in words:
        assert word in problems, problems[:500]
    assert len(done.error) < 2000  # a 100 KB cell is not echoed back
    assert written() == before
    still_works(api, world)


# --- list filters -----------------------------------------------------------------------

FILTER_URLS = [
    f"/api/step-links/?map={HUGE_ID}",
    f"/api/projects/?map={HUGE_ID}",
    f"/api/kpis/?map={HUGE_ID}",
    f"/api/kpis/?step={HUGE_ID}",
    f"/api/steps/?stage={HUGE_ID}",
    f"/api/step-links/?from_step={HUGE_ID}",
    f"/api/measurements/?kpi={HUGE_ID}",
    f"/api/maps/?level={HUGE_ID}",
    f"/api/maps/?parent={HUGE_ID}",
    f"/api/pain-points/?min_severity={HUGE_ID}",
    f"/api/pain-points/?severity=-{HUGE_ID}",
    f"/api/qualitative-factors/?rating={HUGE_ID}",
    f"/api/map-grants/?content_object={HUGE_ID}",
    f"/api/portfolio/?team={HUGE_ID}",
    f"/api/portfolio/?owner={HUGE_ID}",
    f"/api/projects/?map={'9' * 5000}",
    "/api/measurements/?date_from=9999-12-31",
    f"/api/maps/{HUGE_ID}/",
    f"/api/kpis/{HUGE_ID}/measurements/",
    f"/api/maps/{HUGE_ID}/scorecard/",
]


@pytest.mark.parametrize("url", FILTER_URLS)
def test_a_huge_integer_in_a_filter_or_path_answers_4xx_or_nothing(api, world, url):
    response = api.get(url)
    assert response.status_code in (200, 400, 404), response.content[:300]
    if response.status_code == 400:
        # the answer names the filter that was refused
        name = url.split("?", 1)[1].split("=", 1)[0]
        assert name in response.json(), response.json()
    elif response.status_code == 200:
        body = response.json()
        assert body["results"] == [] and body["next"] is None
    still_works(api, world)


def test_a_huge_map_filter_names_the_filter(api, world):
    response = api.get(f"/api/step-links/?map={HUGE_ID}")
    assert response.status_code == 400
    assert list(response.json()) == ["map"]


# --- the database is the last line ------------------------------------------------------


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, 1e300])
def test_the_database_refuses_non_finite_numbers_written_by_the_orm(world, bad):
    kpi = world["value"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(kpi=kpi, date=dt.date(2026, 3, 31), value=bad)
    with pytest.raises(IntegrityError), transaction.atomic():
        KPI.objects.filter(pk=kpi.pk).update(weight=bad)
    try:  # SQLite stores NaN as NULL: a nullable column may end up empty, never NaN
        with transaction.atomic():
            KPI.objects.filter(pk=kpi.pk).update(target=bad)
    except IntegrityError:
        pass
    kpi.refresh_from_db()
    assert kpi.target is None or math.isfinite(kpi.target)
    assert all(math.isfinite(v) for v in Measurement.objects.values_list("value", flat=True))
    with pytest.raises(IntegrityError), transaction.atomic():
        CXProject.objects.filter(pk=world["project"].pk).update(effort=bad)


def test_a_scorecard_never_answers_infinity_even_for_a_kpi_written_past_validation(api, world):
    # the ORM skips the model's rules: a target 1e-320 above the baseline makes the raw
    # attainment of 70 infinite, which JSON cannot carry
    KPI.objects.filter(pk=world["ratio"].pk).update(baseline=0, target=1e-320)
    response = api.get(f"/api/maps/{world['map'].pk}/scorecard/")
    assert response.status_code == 200
    assert b"Infinity" not in response.content and b"NaN" not in response.content


def test_model_validation_names_the_non_finite_field(world):
    from django.core.exceptions import ValidationError

    kpi = world["value"]
    kpi.target = math.inf
    with pytest.raises(ValidationError) as caught:
        kpi.full_clean()
    assert "target" in caught.value.message_dict


# --- bounded problems, the guarded JSON loader ------------------------------------------


def test_an_import_with_thousands_of_problems_keeps_the_first_ones_and_counts_the_rest(world):
    points = [{"dateOfMeasurement": "2026-02-28", "value": "many"} for _ in range(5000)]
    data = {
        "format": "THEYDO_METRICS_V1",
        "metrics": [
            {
                "importKey": "days",
                "title": "Days to open",
                "type": "OTHER",
                "unit": "days",
                "aggregationMethod": "SUM",
                "dataPoints": points,
            }
        ],
    }
    with pytest.raises(ImportRefused) as caught:
        measurements_import(journey_map=world["map"], content=json.dumps(data))
    problems = caught.value.problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[0] == "metrics[0].dataPoints[0].value: must be a number, found “many”"
    assert problems[-1] == f"… and {5000 - MAX_PROBLEMS} more problems"
    assert MeasurementObservation.objects.count() == 0


def test_the_guarded_loader_accepts_ordinary_json_and_names_paths():
    assert safe_json.loads('{"a": [1, 2.5, -3, {"b": null}]}') == {"a": [1, 2.5, -3, {"b": None}]}
    assert safe_json.loads("1" * 30) == int("1" * 30)
    with pytest.raises(safe_json.JSONRefused, match=r"a\[1\]\.b: 1{12}… is an integer of 31"):
        safe_json.loads('{"a": [0, {"b": ' + "1" * 31 + "}]}")
    with pytest.raises(safe_json.JSONRefused, match="line 1, column 7"):
        safe_json.loads('{"a": }')


@pytest.mark.django_db
def test_non_ascii_digits_in_ids_are_refused_or_ignored_never_a_500(client, owner, team_map):
    """'²'.isdigit() is true but int('²') fails: every id read from a request checks ASCII."""
    client.force_login(owner)
    assert client.get("/maps/?after=²").status_code == 400
    assert client.get(f"/maps/{team_map.slug}/print/?columns=²").status_code == 400
    response = client.post("/projects/new/", {"maps": ["²"], "refresh": "1", "title": "x"})
    assert response.status_code == 200
    assert not response.context["form"].fields["steps"].queryset.exists()
