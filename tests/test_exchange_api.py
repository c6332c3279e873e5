"""The journeyhub/1 entry points: ``GET /api/maps/{id}/export/``, ``POST /api/import/``,
``manage.py export_maps`` / ``import_maps``, and the schema file in docs/."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from maps.exchange.schema import document_schema
from maps.management.commands.export_maps import SCHEMA_FILE
from maps.models import JourneyMap
from tests.test_exchange_export import populated_map
from tests.test_exchange_import import minimal

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_export_endpoint_answers_the_document_as_an_attachment(owner, team, viewer):
    root = populated_map(owner, team, children=1)
    response = client_for(viewer).get(f"/api/maps/{root.pk}/export/?measurements=0")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="open-an-account-')
    document = json.loads(response.content)
    assert document["format"] == "journeyhub/1" and document["exported_by"] == "vic"
    assert [m["slug"] for m in document["maps"]] == ["open-an-account", "open-an-account-verify-0"]
    assert "measurements" not in document["maps"][0]["kpis"][0]
    single = client_for(viewer).get(f"/api/maps/{root.pk}/export/?subtree=0")
    assert [m["slug"] for m in json.loads(single.content)["maps"]] == ["open-an-account"]


def test_a_map_the_user_may_not_see_answers_404_on_export(viewer, draft_map):
    response = client_for(viewer).get(f"/api/maps/{draft_map.pk}/export/")
    assert response.status_code == 404


def test_the_import_endpoint_imports_a_json_body_under_a_map(owner, team_map):
    response = client_for(owner).post(
        "/api/import/?under=open-an-account", minimal(), format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["created"]["step"] == 2
    assert response.json()["detail"].startswith("Created 1 map")
    assert JourneyMap.objects.get(slug="pay-a-bill").parent == team_map


def test_the_import_endpoint_takes_an_uploaded_file_and_a_dry_run(owner, team_map):
    upload = SimpleUploadedFile(
        "pay.json", json.dumps(minimal()).encode(), content_type="application/json"
    )
    response = client_for(owner).post(
        "/api/import/?under=open-an-account&dry_run=1", {"file": upload}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert response.json()["dry_run"] is True and response.json()["created"]["map"] == 1
    assert not JourneyMap.objects.filter(slug="pay-a-bill").exists()


def test_the_import_endpoint_answers_400_with_every_problem_by_path(owner, team_map):
    document = minimal(owner="nobody")
    document["maps"][0]["links"][0]["to_step"] = "vanished"
    response = client_for(owner).post("/api/import/?under=open-an-account", document, format="json")
    assert response.status_code == 400
    assert response.json()["problems"] == [
        "maps[0].links[0].to_step: the map “pay-a-bill” has no step with the key “vanished”",
        "maps[0].owner: no user has the username “nobody”",
    ]
    assert not JourneyMap.objects.filter(slug="pay-a-bill").exists()


def test_the_import_endpoint_answers_403_to_what_the_user_may_not_do(owner, viewer, team_map):
    response = client_for(owner).post("/api/import/", minimal(), format="json")
    assert response.status_code == 403  # a top-level map: leadership and admins only
    assert response.json()["problems"][0].startswith("maps[0].parent:")
    response = client_for(viewer).post(
        "/api/import/?under=open-an-account", minimal(owner="vic"), format="json"
    )
    assert response.status_code == 403
    assert not JourneyMap.objects.filter(slug="pay-a-bill").exists()


def test_a_body_that_is_not_json_is_a_400_naming_where(owner):
    response = client_for(owner).post(
        "/api/import/", b'{"format": "journeyhub/1", "maps": [', content_type="application/json"
    )
    assert response.status_code == 400
    assert "line 1" in response.json()["problems"][0]


def test_the_commands_export_and_import_a_subtree(owner, team, tmp_path):
    root = populated_map(owner, team, children=1)
    path = tmp_path / "export.json"
    call_command("export_maps", root.slug, "-o", str(path), "--as", "olivia", stderr=StringIO())
    document = json.loads(path.read_text())
    assert [m["slug"] for m in document["maps"]] == ["open-an-account", "open-an-account-verify-0"]

    out = StringIO()
    call_command("import_maps", str(path), "--as", "olivia", "--dry-run", stdout=out)
    assert "Dry run, nothing written" in out.getvalue()
    assert "left as they were" in out.getvalue()

    with pytest.raises(CommandError, match="no active user"):
        call_command("import_maps", str(path), "--as", "nobody")


def test_the_schema_file_in_docs_is_the_one_the_importer_checks_against():
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == document_schema(), (
        "run: manage.py export_maps --write-schema"
    )


def test_the_field_reference_in_docs_describes_every_exchanged_field():
    from maps.exchange.schema import fields_markdown
    from maps.management.commands.export_maps import DOC_FILE

    assert fields_markdown() in DOC_FILE.read_text(encoding="utf-8"), (
        "run: manage.py export_maps --write-schema"
    )
    rows = [line for line in fields_markdown().splitlines() if line.startswith("| `")]
    undescribed = [row for row in rows if row.rstrip().endswith("|  |")]
    assert rows and not undescribed, undescribed
