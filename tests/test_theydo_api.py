"""``POST /api/maps/{id}/import/theydo/`` (``maps.api.theydo_import``) and ``manage.py
import_theydo``: the file as the JSON body or as multipart ``file``, ``?dry_run=1`` and
``--dry-run`` write nothing, 400 with every problem by JSON path, editors only, the
``imports`` throttle, recorded imports, and the same queries for 10 metrics as for 100."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from maps.models import KPI, LaneItem, Measurement, TheydoImport
from maps.theydo.engine import theydo_import

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "theydo"
ROLES = ("anonymous", "viewer", "team_member", "owner", "other_owner", "leader", "admin_user")


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def metrics(n: int) -> dict:
    return {
        "format": "THEYDO_METRICS_V1",
        "metrics": [
            {
                "type": "NPS",
                "importKey": f"nps-{i}",
                "title": f"NPS {i}",
                "unit": "points",
                "ownerEmail": "olivia@example.com",
                "groupTags": [{"tagGroup": "Region", "tag": f"R{i % 3}"}],
                "dataPoints": [
                    {"dateOfMeasurement": "2025-01-31", "promoters": 6, "passives": 2,
                     "detractors": 2}
                ],
            }
            for i in range(n)
        ],
    }  # fmt: skip


def url(journey_map, query: str = "") -> str:
    return f"/api/maps/{journey_map.pk}/import/theydo/{query}"


def post_json(client, journey_map, data, query: str = ""):
    return client.post(url(journey_map, query), data, format="json")


# --- the endpoint --------------------------------------------------------------------


def test_a_json_body_is_imported_and_answers_what_was_done(team_map, team_member):
    response = post_json(
        api(team_member), team_map, json.loads((FIXTURES / "metrics.json").read_text())
    )

    assert response.status_code == 200, response.data
    body = response.json()
    assert body["format"] == "THEYDO_METRICS_V1" and body["dry_run"] is False
    assert body["created"] == {"KPI": 6} and body["updated"] == {} and body["unchanged"] == {}
    assert body["detail"].startswith("Created 6 KPIs")
    assert body["counts"]["observations"] > 0
    assert {c["key"] for c in body["changes"]} >= {"ces-support", "csat-onboarding"}
    assert KPI.objects.filter(map=team_map).count() == 6
    job = TheydoImport.objects.get()
    assert (job.via, job.status, job.uploaded_by, job.file.name) == ("api", "done", team_member, "")


def test_reimporting_answers_updated_and_unchanged(team_map, owner):
    client = api(owner)
    post_json(client, team_map, metrics(3))
    again = metrics(3)
    again["metrics"][1]["title"] = "NPS after onboarding"

    body = post_json(client, team_map, again).json()

    assert (body["created"], body["updated"], body["unchanged"]) == ({}, {"KPI": 1}, {"KPI": 2})
    assert [c["fields"] for c in body["changes"] if c["action"] == "update"] == [["title"]]


def test_a_multipart_file_is_imported(team_map, owner):
    upload = SimpleUploadedFile("insights.json", (FIXTURES / "insights.json").read_bytes())

    response = api(owner).post(url(team_map), {"file": upload}, format="multipart")

    assert response.status_code == 200, response.data
    assert response.json()["format"] == "THEYDO_INSIGHTS_V1"
    assert LaneItem.objects.filter(map=team_map, kind="insight").exists()
    assert TheydoImport.objects.get().file_name == "insights.json"


def test_a_dry_run_answers_the_preview_and_writes_nothing(team_map, owner):
    response = post_json(api(owner), team_map, metrics(4), "?dry_run=1")

    assert response.status_code == 200
    assert response.json()["created"] == {"KPI": 4} and response.json()["dry_run"] is True
    assert response.json()["detail"].startswith("The import will create 4 KPIs")
    assert not KPI.objects.exists() and not Measurement.objects.exists()
    assert not TheydoImport.objects.exists()


def test_a_bad_file_answers_400_with_every_problem_by_path_and_writes_nothing(team_map, owner):
    data = metrics(3)
    data["metrics"][0]["dataPoints"][0]["dateOfMeasurement"] = "2025-02-30"
    data["metrics"][2]["promoters"] = 3

    response = post_json(api(owner), team_map, data)

    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("Nothing was imported")
    assert [p.split(":")[0] for p in body["problems"]][:1] == [
        "metrics[0].dataPoints[0].dateOfMeasurement"
    ]
    assert any(p.startswith("metrics[2]") for p in body["problems"])
    assert not KPI.objects.exists() and not TheydoImport.objects.exists()


@pytest.mark.parametrize(
    "body, content_type, problem",
    [
        (b'{"format": "THEYDO_METRICS_V1",', "application/json", "the JSON is not valid"),
        (b'{"format": "THEYDO_METRICS_V1", "metrics": [1e999]}', "application/json", "metrics[0]"),
        (b"", "application/json", "format"),
        (b'"just text"', "application/json", ""),
    ],
)
def test_a_body_that_is_not_a_theydo_file_answers_400_with_problems(
    team_map, owner, body, content_type, problem
):
    response = api(owner).post(url(team_map), body, content_type=content_type)

    assert response.status_code == 400, response.content
    assert response.json()["problems"] and response.json()["problems"][0].startswith(problem)
    assert not KPI.objects.exists()


def test_a_multipart_upload_that_is_not_utf8_or_has_no_file_answers_400(team_map, owner):
    client = api(owner)
    utf16 = SimpleUploadedFile("m.json", json.dumps(metrics(1)).encode("utf-16"))
    answered = client.post(url(team_map), {"file": utf16}, format="multipart")
    assert answered.status_code == 400
    assert answered.json()["problems"] == [
        "the file is UTF-16 text: save it as UTF-8 (CSV UTF-8 in spreadsheets)"
    ]
    missing = client.post(url(team_map), {"other": "x"}, format="multipart")
    assert missing.status_code == 400 and missing.json()["problems"][0].startswith("file:")


def test_a_file_over_20_mb_answers_413_as_a_body_and_400_as_an_upload(team_map, owner):
    client = api(owner)
    big = b'{"format": "THEYDO_METRICS_V1", "metrics": [], "pad": "' + b" " * (20 * 2**20) + b'"}'
    as_body = client.post(url(team_map), big, content_type="application/json")
    assert as_body.status_code == 413
    as_file = client.post(url(team_map), {"file": SimpleUploadedFile("m.json", big)})
    assert as_file.status_code == 400 and "larger than 20 MB" in as_file.json()["problems"][0]


# editors of olivia's team map import; the others see it but may not; omar's draft is
# hidden from olivia's team and vic, and leadership sees it but may not edit it
ON_TEAM_MAP = dict(zip(ROLES, (401, 403, 200, 200, 403, 403, 200), strict=True))
ON_DRAFT = dict(zip(ROLES, (401, 404, 404, 404, 200, 403, 200), strict=True))


@pytest.mark.parametrize("role", ROLES)
def test_only_the_maps_editors_import(request, role, team_map, draft_map):
    user = None if role == "anonymous" else request.getfixturevalue(role)
    client = api(user)

    on_team_map = post_json(client, team_map, metrics(1))
    on_draft = post_json(client, draft_map, metrics(1), "?dry_run=1")

    assert on_team_map.status_code == ON_TEAM_MAP[role]
    assert on_draft.status_code == ON_DRAFT[role]
    assert KPI.objects.filter(map=team_map).count() == (1 if ON_TEAM_MAP[role] == 200 else 0)
    assert not KPI.objects.filter(map=draft_map).exists()  # a dry run


def test_the_endpoint_is_throttled_with_the_imports_scope(settings, team_map, owner):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "token": "10/minute",
            "imports": "2/hour",
            "writes": "600/minute",
        },
    }
    cache.clear()
    try:
        client = api(owner)
        codes = [
            post_json(client, team_map, metrics(1), "?dry_run=1").status_code for _ in range(3)
        ]
    finally:
        cache.clear()
    assert codes == [200, 200, 429]


def test_the_api_takes_the_same_reads_for_10_metrics_as_for_100_and_a_bounded_total(
    team_map, owner
):
    client = api(owner)
    theydo_import(journey_map=team_map, data=metrics(5))  # some exist: updates too
    post_json(client, team_map, metrics(1), "?dry_run=1")  # the user's group checks, cached
    reads, totals = [], []
    for n in (10, 100):
        data = metrics(n)
        data["metrics"][0]["title"] = f"Renamed {n}"
        with CaptureQueriesContext(connection) as queries:
            assert post_json(client, team_map, data).status_code == 200
        reads.append(sum(q["sql"].startswith("SELECT") for q in queries))
        totals.append(len(queries))
    # reads: the map's gate (visible maps), the engine's plan (KPIs with
    # their tags, owners, tags, names in use) — the same whatever the file's size; writes:
    # bulk statements, split in batches by the database's parameter limit only
    assert reads[0] == reads[1], reads
    assert max(totals) <= API_BUDGET, totals
    assert KPI.objects.filter(map=team_map).count() == 100


API_BUDGET = 50


# --- the command -------------------------------------------------------------------------


def write(tmp_path: Path, data: dict | bytes, name: str = "metrics.json") -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    return path


def test_the_command_imports_and_prints_the_summary(team_map, tmp_path, capsys):
    call_command("import_theydo", team_map.slug, str(write(tmp_path, metrics(3))))

    out = capsys.readouterr().out
    assert out.startswith("Created 3 KPIs")
    assert "Format: THEYDO_METRICS_V1" in out and "created      3  KPI" in out
    assert KPI.objects.filter(map=team_map).count() == 3
    job = TheydoImport.objects.get()
    assert (job.via, job.uploaded_by, job.file_name) == ("command", None, "metrics.json")


def test_the_command_prints_the_fields_an_update_changes(team_map, tmp_path, capsys):
    theydo_import(journey_map=team_map, data=metrics(2))
    data = metrics(2)
    data["metrics"][1]["unit"] = "score"

    call_command("import_theydo", team_map.slug, str(write(tmp_path, data)))

    assert "updated KPI “nps-1”: unit" in capsys.readouterr().out
    assert KPI.objects.get(import_key="nps-1").unit == "score"


def test_the_command_dry_run_writes_nothing(team_map, tmp_path, capsys):
    call_command("import_theydo", team_map.slug, str(write(tmp_path, metrics(3))), "--dry-run")

    out = capsys.readouterr().out
    assert out.startswith("Dry run, nothing written. The import will create 3 KPIs")
    assert "create       3  KPI" in out
    assert not KPI.objects.exists() and not TheydoImport.objects.exists()


def test_the_command_lists_every_problem_and_exits_with_1(team_map, tmp_path):
    data = metrics(2)
    data["metrics"][0]["type"] = "LOYALTY"
    data["metrics"][1]["unit"] = 5

    with pytest.raises(CommandError) as refused:
        call_command("import_theydo", team_map.slug, str(write(tmp_path, data)))

    assert refused.value.returncode == 1
    message = str(refused.value)
    assert message.startswith("Nothing was imported:")
    assert "metrics[0]" in message and "metrics[1].unit" in message
    assert not KPI.objects.exists() and not TheydoImport.objects.exists()


def test_the_command_refuses_an_unknown_map_and_an_unreadable_file(team_map, tmp_path):
    with pytest.raises(CommandError, match="No journey map with the slug “nope”"):
        call_command("import_theydo", "nope", str(write(tmp_path, metrics(1))))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_theydo", team_map.slug, str(tmp_path / "missing.json"))
    with pytest.raises(CommandError, match="not UTF-8 text"):
        call_command("import_theydo", team_map.slug, str(write(tmp_path, b"\xe9\xe9{}")))
