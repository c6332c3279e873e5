"""Measurement imports (CSV and TheyDo's metrics file), the measurements page and the
import page: all or nothing, problems named by line or JSON path, editors only, and a
fixed number of queries."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from maps.imports import ImportRefused, measurements_import
from maps.models import KPI, Measurement, MeasurementObservation
from maps.services import observations_record
from tests.factories import KPIFactory

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "theydo-metrics.json"
HEADER = "kpi,date,value,promoters,passives,detractors,region\n"


@pytest.fixture
def kpis(team_map):
    return {
        "nps": KPIFactory(map=team_map, name="Onboarding NPS", kind=KPI.Kind.NPS, baseline=0),
        "days": KPIFactory(
            map=team_map,
            name="Days to open",
            import_key="days-to-open",
            kind=KPI.Kind.VALUE,
            aggregation=KPI.Aggregation.SUM,
            baseline=10,
            target=4,
            direction=KPI.Direction.LOWER,
        ),
    }


def counts() -> tuple[int, int]:
    return MeasurementObservation.objects.count(), Measurement.objects.count()


def problems_of(journey_map, content) -> list[str]:
    with pytest.raises(ImportRefused) as caught:
        measurements_import(journey_map=journey_map, content=content)
    return caught.value.problems


class TestCSV:
    def test_a_good_file_is_imported_and_pooled(self, team_map, kpis):
        text = HEADER + (
            "Onboarding NPS,2026-03-31,,180,60,60,A\n"
            "Onboarding NPS,2026-03-31,,10,30,60,B\n"
            "days-to-open,2026-03-31,6,,,,A\n"
            "Days to open,2026-03-31,8,,,,B\n"
        )
        result = measurements_import(journey_map=team_map, content=text.encode())
        assert (result.observations, result.periods) == (4, 2)
        # NPS pooled: 190/90/120 of 400 → 47.5% − 30% = +17.5
        assert Measurement.objects.get(kpi=kpis["nps"]).value == pytest.approx(17.5)
        # days (sum): 6 + 8 = 14
        assert Measurement.objects.get(kpi=kpis["days"]).value == pytest.approx(14)

    def test_a_bad_row_on_line_4_names_line_and_column_and_writes_nothing(self, team_map, kpis):
        measurements_import(
            journey_map=team_map, content=HEADER + "Days to open,2026-01-31,9,,,,\n"
        )
        before = counts()
        text = HEADER + (
            "Onboarding NPS,2026-03-31,,180,60,60,A\n"  # line 2
            "Onboarding NPS,2026-03-31,,10,30,60,B\n"  # line 3
            "Onboarding NPS,2026-04-30,,12,many,3,A\n"  # line 4: bad
            "Days to open,2026-03-31,8,,,,B\n"  # line 5
        )
        problems = problems_of(team_map, text)
        assert problems == ["line 4, column passives: “many” is not a whole number."]
        assert counts() == before

    def test_an_unknown_kpi_is_named(self, team_map, kpis):
        problems = problems_of(team_map, HEADER + "Churn,2026-03-31,3,,,,\n")
        assert problems[0].startswith("line 2, column kpi: “Churn” is not a KPI of")
        assert counts() == (0, 0)

    def test_a_bad_date_is_named(self, team_map, kpis):
        problems = problems_of(team_map, HEADER + "Days to open,31/03/2026,3,,,,\n")
        assert problems == ["line 2, column date: “31/03/2026” is not a date (YYYY-MM-DD)."]

    def test_inputs_of_another_kind_and_repeated_rows_are_refused(self, team_map, kpis):
        text = HEADER + (
            "Days to open,2026-03-31,3,5,,,\n"  # promoters on a value KPI
            "Days to open,2026-03-31,3,,,,A\n"
            "Days to open,2026-03-31,4,,,,A\n"  # same KPI, date and region as line 3
        )
        problems = problems_of(team_map, text)
        assert problems[0].startswith("line 2, column promoters: “promoters” does not apply")
        assert problems[1].startswith("line 4: repeats line 3")
        assert counts() == (0, 0)

    def test_an_unknown_column_is_named_on_line_1(self, team_map, kpis):
        problems = problems_of(team_map, "kpi,date,score\nDays to open,2026-03-31,3\n")
        assert problems[0].startswith("line 1: unknown column(s) score")


def theydo() -> dict:
    return json.loads(EXAMPLE.read_text())


class TestTheyDo:
    def test_the_example_file_creates_kpis_and_reimporting_updates_them(self, team_map):
        version = team_map.version
        first = measurements_import(journey_map=team_map, content=EXAMPLE.read_bytes())
        assert len(first.kpis_created) == 5
        nps = KPI.objects.get(import_key="nps-onboarding")
        assert (nps.map, nps.kind, nps.target, nps.comparison) == (team_map, "nps", 40, "at_least")
        days = KPI.objects.get(import_key="days-to-open")
        assert days.comparison == KPI.Comparison.AT_MOST and days.kind == "value"
        # North 180/60/60 + South 10/30/60 → +17.5 (as in test_kpi_kinds)
        assert Measurement.objects.get(kpi=nps).value == pytest.approx(17.5)
        # CES: one respondent group per date; RATIO: 30 ÷ 40 = 75%
        assert Measurement.objects.get(kpi__import_key="ratio-first-contact").value == 75
        assert counts() == (7, 6)
        team_map.refresh_from_db()
        assert team_map.version == version + 1  # new KPIs are content: editors must reload

        data = theydo()
        data["metrics"][0]["target"] = 45
        # North corrected to 100/100/100 of 300 → pooled 110/130/160 of 400 = −12.5
        data["metrics"][0]["dataPoints"][0].update(promoters=100, passives=100, detractors=100)
        again = measurements_import(journey_map=team_map, content=json.dumps(data))
        assert again.kpis_created == [] and again.kpis_updated == ["Onboarding NPS"]
        assert KPI.objects.filter(map=team_map).count() == 5
        assert counts() == (7, 6)
        nps.refresh_from_db()
        assert nps.target == 45
        assert Measurement.objects.get(kpi=nps).value == pytest.approx(-12.5)

    def test_a_bad_json_path_is_named_and_nothing_is_written(self, team_map):
        data = theydo()
        data["metrics"][1]["dataPoints"][0]["dateOfMeasurement"] = "last Tuesday"
        problems = problems_of(team_map, json.dumps(data))
        assert problems == [
            "metrics[1].dataPoints[0].dateOfMeasurement: “last Tuesday” is not a date (YYYY-MM-DD)"
        ]
        assert counts() == (0, 0) and not KPI.objects.exists()

    def test_a_bad_count_and_a_bad_type_are_both_named_in_one_round(self, team_map):
        data = theydo()
        data["metrics"][0]["dataPoints"][1]["detractors"] = -3
        data["metrics"][4]["type"] = "SCORE"
        problems = problems_of(team_map, json.dumps(data))
        assert problems == [
            "metrics[0].dataPoints[1].detractors: -3 is less than 0, the smallest allowed",
            "metrics[4].type: “SCORE” is not one of CES, CSAT, NPS, OTHER, RATIO",
        ]

    def test_another_theydo_format_is_refused_here_with_where_to_import_it(self, team_map):
        data = {"format": "THEYDO_INSIGHTS_V1", "insights": [{"importKey": "a", "title": "A"}]}
        problems = problems_of(team_map, json.dumps(data))
        assert problems[0].startswith("format: “THEYDO_INSIGHTS_V1” cannot be imported here")

    def test_a_key_used_by_another_map_neither_blocks_nor_names_that_map(self, team_map, draft_map):
        """Keys are scoped to their map: a hidden draft's KPI is neither reached nor named."""
        theirs = KPIFactory(map=draft_map, import_key="nps-onboarding", kind="nps", target=40)
        measurements_import(journey_map=team_map, content=EXAMPLE.read_bytes())
        mine = KPI.objects.get(map=team_map, import_key="nps-onboarding")
        assert mine.pk != theirs.pk
        theirs.refresh_from_db()
        assert theirs.target == 40 and not theirs.measurements.exists()

    def test_analytics_keys_are_kept_for_journey_analytics(self, team_map):
        kpi = KPI(map=team_map, name="Mine", import_key="analytics:completion")
        with pytest.raises(ValidationError) as caught:
            kpi.full_clean()
        assert "kept for journey analytics" in str(caught.value.message_dict["import_key"])

    def test_the_command_imports_and_reports_problems(self, team_map, tmp_path, capsys):
        call_command("import_measurements", team_map.slug, str(EXAMPLE))
        assert "Imported 7 observations into 6 period values" in capsys.readouterr().out
        bad = tmp_path / "bad.csv"
        bad.write_text(HEADER + "Nope,2026-01-01,1,,,,\n")
        with pytest.raises(CommandError, match="line 2, column kpi"):
            call_command("import_measurements", team_map.slug, str(bad))


class TestImportPage:
    url = "/maps/open-an-account/measurements/import/"

    def test_an_editor_uploads_a_csv(self, client, team_member, team_map, kpis):
        client.force_login(team_member)
        upload = SimpleUploadedFile(
            "m.csv", (HEADER + "Days to open,2026-03-31,6,,,,\n").encode(), "text/csv"
        )
        response = client.post(self.url, {"file": upload}, follow=True)
        assert "Imported 1 observation into 1 period value." in response.text
        assert Measurement.objects.get(kpi=kpis["days"]).value == 6

    def test_a_bad_file_lists_its_problems_and_imports_nothing(self, client, owner, team_map):
        client.force_login(owner)
        data = theydo()
        data["metrics"][1]["dataPoints"][0]["dateOfMeasurement"] = "soon"
        upload = SimpleUploadedFile("m.json", json.dumps(data).encode(), "application/json")
        response = client.post(self.url, {"file": upload})
        assert response.status_code == 200
        assert "Nothing was imported." in response.text
        assert "metrics[1].dataPoints[0].dateOfMeasurement" in response.text
        assert counts() == (0, 0) and not KPI.objects.exists()

    @pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("other_owner", 403)])
    def test_people_who_may_not_edit_the_map_are_refused(self, client, request, role, status):
        request.getfixturevalue("team_map")
        client.force_login(request.getfixturevalue(role))
        upload = SimpleUploadedFile("m.json", EXAMPLE.read_bytes(), "application/json")
        assert client.get(self.url).status_code == status
        assert client.post(self.url, {"file": upload}).status_code == status
        assert not KPI.objects.exists()

    def test_anonymous_visitors_are_sent_to_sign_in(self, client, team_map):
        assert client.get(self.url).status_code == 302


class TestImportAPI:
    def url(self, journey_map) -> str:
        return f"/api/maps/{journey_map.pk}/measurements/import/"

    def test_the_theydo_json_body_is_imported(self, owner, team_map):
        client = APIClient()
        client.force_authenticate(owner)
        response = client.post(self.url(team_map), theydo(), format="json")
        assert response.status_code == 200, response.data
        assert response.data["observations"] == 7

    def test_a_multipart_csv_with_a_bad_row_answers_400(self, owner, team_map, kpis):
        client = APIClient()
        client.force_authenticate(owner)
        upload = SimpleUploadedFile(
            "m.csv", (HEADER + "Days to open,2026-13-01,6,,,,\n").encode(), "text/csv"
        )
        response = client.post(self.url(team_map), {"file": upload}, format="multipart")
        assert response.status_code == 400
        assert response.data["problems"] == [
            "line 2, column date: “2026-13-01” is not a date (YYYY-MM-DD)."
        ]

    def test_a_text_csv_body_is_imported(self, owner, team_map, kpis):
        client = APIClient()
        client.force_authenticate(owner)
        body = HEADER + "Days to open,2026-03-31,6,,,,\n"
        response = client.post(self.url(team_map), body, content_type="text/csv")
        assert response.status_code == 200, response.data

    @pytest.mark.parametrize(
        ("role", "status"), [("viewer", 403), ("other_owner", 403), (None, 401)]
    )
    def test_only_editors_import(self, request, team_map, role, status):
        client = APIClient()
        if role:
            client.force_authenticate(request.getfixturevalue(role))
        assert client.post(self.url(team_map), theydo(), format="json").status_code == status
        assert not KPI.objects.exists()

    def test_a_draft_of_someone_else_is_not_found(self, owner, draft_map):
        client = APIClient()
        client.force_authenticate(owner)
        assert client.post(self.url(draft_map), theydo(), format="json").status_code == 404


class TestMeasurementsPage:
    def url(self, kpi) -> str:
        return f"/maps/{kpi.map.slug}/kpis/{kpi.pk}/measurements/"

    def test_the_form_follows_the_kind_and_records_an_observation(self, client, owner, kpis):
        client.force_login(owner)
        page = client.get(self.url(kpis["nps"])).text
        assert 'name="promoters"' in page and 'name="value"' not in page
        response = client.post(
            self.url(kpis["nps"]),
            {
                "date": "2026-03-31",
                "promoters": 60,
                "passives": 20,
                "detractors": 20,
                "region": "A",
            },
            follow=True,
        )
        assert "Recorded Onboarding NPS" in response.text
        # 60% − 20% = +40
        assert Measurement.objects.get(kpi=kpis["nps"]).value == pytest.approx(40)
        assert "region: A" in response.text

    def test_a_kpi_of_another_map_is_not_found(self, client, owner, team_map, draft_map):
        other = KPIFactory(map=draft_map)
        client.force_login(owner)
        assert client.get(f"/maps/{team_map.slug}/kpis/{other.pk}/measurements/").status_code == 404

    @pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("other_owner", 403)])
    def test_people_who_may_not_edit_are_refused(self, client, request, kpis, role, status):
        client.force_login(request.getfixturevalue(role))
        assert client.get(self.url(kpis["nps"])).status_code == status
        response = client.post(self.url(kpis["nps"]), {"date": "2026-03-31", "promoters": 1})
        assert response.status_code == status
        assert counts() == (0, 0)


def _csv_rows(kpi_names: list[str], rows: int) -> str:
    lines = [HEADER.strip()]
    for i in range(rows):
        day = dt.date(2025, 1, 1) + dt.timedelta(days=i // 4)
        lines.append(f"{kpi_names[i % 2]},{day},{i},,,,R{i % 4}")
    return "\n".join(lines) + "\n"


def test_the_upload_of_1000_rows_runs_a_fixed_number_of_bulk_queries(team_map, kpis):
    days = KPIFactory(map=team_map, name="Days B", kind="value")
    names = ["Days to open", days.name]
    with CaptureQueriesContext(connection) as small:
        measurements_import(journey_map=team_map, content=_csv_rows(names, 10))
    MeasurementObservation.objects.all().delete()
    Measurement.objects.all().delete()
    with CaptureQueriesContext(connection) as large:
        result = measurements_import(journey_map=team_map, content=_csv_rows(names, 1000))
    assert result.observations == 1000 and result.periods == 500
    # 10 rows: KPIs of the map, savepoint, the periods' observations and values (is any
    # value entered directly? 2), observation upsert, its history, KPI kinds, observations
    # of the periods, measurement upsert, its history, release = 11. 1,000 rows: the same
    # statements, only the upserts and history inserts split into batches by SQLite's
    # 999-parameter limit (Django's batching): observations ⌈1000 ÷ ⌊999 ÷ 19⌋⌉ = 20,
    # their history ⌈1000 ÷ ⌊999 ÷ 24⌋⌉ = 25, measurements ⌈500 ÷ ⌊999 ÷ 4⌋⌉ = 3, their
    # history ⌈500 ÷ ⌊999 ÷ 9⌋⌉ = 5 → 11 − 4 + 20 + 25 + 3 + 5 = 60 — never one per row.
    assert len(small.captured_queries) == 11, [q["sql"][:60] for q in small.captured_queries]
    if connection.vendor == "sqlite":
        assert len(large.captured_queries) == 60, len(large.captured_queries)
    else:  # PostgreSQL's limit is 65,535 parameters: one batch each
        assert len(large.captured_queries) == 11


def test_the_measurements_page_runs_the_same_queries_with_ten_times_the_data(
    client, owner, kpis, django_assert_num_queries
):
    kpi = kpis["nps"]
    client.force_login(owner)
    url = f"/maps/{kpi.map.slug}/kpis/{kpi.pk}/measurements/"

    def observe(periods: int) -> None:
        rows = [
            {
                "date": dt.date(2024, 1, 1) + dt.timedelta(days=d),
                "promoters": 5,
                "passives": 3,
                "detractors": 2,
                "dimensions": {"region": f"R{r}"},
            }
            for d in range(periods)
            for r in range(3)
        ]
        observations_record(kpi=kpi, rows=rows)

    observe(3)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    observe(30)
    with django_assert_num_queries(len(small.captured_queries)):
        page = client.get(url)
    assert page.text.count("region: R") == 24 * 3  # the 24 most recent periods shown
