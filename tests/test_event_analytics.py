"""Journey analytics from event logs (``maps.analytics``): the figures against numbers
worked out by hand, all-or-nothing imports, re-imports, the task and its pages, the
command, and a query count that does not grow with the events."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from maps.analytics import (
    event_import_create,
    event_import_run,
    events_analyse,
    events_import,
    funnel_for_map,
)
from maps.demo_events import demo_event_log
from maps.imports import ImportRefused
from maps.models import KPI, EventImport, Measurement, MeasurementObservation
from tests.factories import JourneyMapFactory, KPIFactory, StepFactory

pytestmark = pytest.mark.django_db

# The small fixture: steps a → b → c → d. Case A's events come in no particular order
# (they are sorted by time); A loops b → c → b → c; B drops off at b; C skips b and is
# completed by its outcome without reaching d; D has a single event, given with an offset
# (2026-06-01 01:00+02:00 = 2026-05-31 23:00 UTC, so the period is May).
LOG = """case_id,step_key,timestamp,channel,outcome
A,d,2026-05-04T18:00:00Z,app,completed
A,a,2026-05-04T09:00:00Z,app,
A,c,2026-05-04T12:00:00Z,web,
A,b,2026-05-04T10:00:00Z,app,
A,b,2026-05-04T13:00:00Z,app,
A,c,2026-05-04T14:00:00Z,web,
B,a,2026-05-05T09:00:00Z,app,
B,b,2026-05-05T11:00:00Z,phone,abandoned
C,a,2026-05-06T08:00:00Z,app,
C,c,2026-05-06T20:00:00Z,branch,completed
D,a,2026-06-01T01:00:00+02:00,app,
"""
# Worked out by hand. Visits in time order and, per first visit of a step, the first
# later event at a step further along the map:
#   A: a 9h, b 10h, c 12h, b 13h, c 14h, d 18h → a→b 1 h, b→c 2 h, c→d 6 h;
#      b and c visited twice (repeat); reached d (completed); duration 9 h
#   B: a 9h, b 11h → a→b 2 h; b: nothing further (drop-off); duration 2 h
#   C: a 8h, c 20h → a→c 12 h (a skip counts); c: nothing further; outcome completed;
#      duration 12 h
#   D: a only → ends at a; duration 0 h
# The map declares no end steps: d (the last) is the end, a case is complete when it
# reached d or its outcome says so; a drop-off ends (last event) at a step, not complete.
# step a: reached 4 (A B C D), converted 3 (A B C) → 75 %, ended 1 (D) → drop-off 1 (25 %),
#         repeat 0 %, median of 1, 2, 12 h = 2 h
# step b: reached 2 (A B), converted 1 (A) → 50 %, ended 1 (B) → drop-off 1 (50 %),
#         repeat 1 of 2 = 50 %, median of 2 h = 2 h
# step c: reached 2 (A C), converted 1 (A) → 50 %, ended 1 (C, completed by its outcome)
#         → drop-off 0 (it was 1 before end steps: C is complete, not lost), repeat 50 %,
#         median of 6 h = 6 h
# step d: reached 1 (A), ended 1 (A); the end: no conversion, no drop-off; repeat 0 %
# completion: A (reached d) and C (outcome) of 4 cases = 50 %
# median duration: 0, 2, 9, 12 h → (2 + 9) / 2 = 5.5 h
# events 11, cases 4; the last event is on 31 May (UTC) → recorded on 2026-05-01


@pytest.fixture
def journey(team_map):
    for position, key in enumerate("abcd"):
        StepFactory(map=team_map, key=key, name=f"Step {key.upper()}", position=position)
    return team_map


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _import(journey_map, text=LOG, **kwargs):
    return events_import(journey_map=journey_map, stream=io.StringIO(text), **kwargs)


def test_the_figures_match_the_hand_worked_numbers(journey):
    analysis = events_analyse(journey_map=journey, stream=io.BytesIO(LOG.encode()))
    assert (analysis.events, analysis.cases, analysis.completed) == (11, 4, 2)
    assert analysis.completion_rate == 50.0
    assert analysis.median_duration_hours == 5.5
    assert analysis.last_event == dt.datetime(2026, 5, 31, 23, tzinfo=dt.UTC)
    figures = {
        row["key"]: (
            row["reached"],
            row["converted"],
            row["conversion"],
            row["drop_off"],
            row["drop_off_rate"],
            row["repeat_rate"],
            row["median_hours"],
        )
        for row in analysis.steps
    }
    assert figures == {
        "a": (4, 3, 75.0, 1, 25.0, 0.0, 2.0),
        "b": (2, 1, 50.0, 1, 50.0, 50.0, 2.0),
        "c": (2, 1, 50.0, 0, 0.0, 50.0, 6.0),
        "d": (1, 0, None, None, None, 0.0, None),
    }
    assert [(row["ended"], row["ended_completed"]) for row in analysis.steps] == [
        (1, 0),
        (1, 0),
        (1, 1),
        (1, 1),
    ]
    assert analysis.end_rule == "last_step"
    assert analysis.median_duration_seconds == 5.5 * 3600
    assert analysis.channels == {"app": 7, "web": 2, "phone": 1, "branch": 1}


def test_customer_id_and_step_are_accepted_as_column_names(journey):
    text = "Customer_ID,Step,Timestamp,Channel\nX,a,2026-05-01,app\nX,b,2026-05-01T06:00,app\n"
    analysis = events_analyse(journey_map=journey, stream=io.StringIO(text))
    assert [row["reached"] for row in analysis.steps] == [1, 1, 0, 0]
    assert analysis.steps[0]["median_hours"] == 6.0
    assert analysis.completion_rate == 0.0  # no outcome column, d not reached


def test_the_figures_become_measurements_of_analytics_kpis(journey):
    result = _import(journey)
    assert result["period"] == "2026-05-01"
    kpis = {kpi.import_key: kpi for kpi in KPI.objects.filter(map=journey)}
    prefix = "analytics"
    assert sorted(kpis) == sorted(
        [
            f"{prefix}:a:conversion",
            f"{prefix}:b:conversion",
            f"{prefix}:c:conversion",
            f"{prefix}:completion",
            f"{prefix}:median-duration",
        ]
    )
    conversion_a = kpis[f"{prefix}:a:conversion"]
    assert conversion_a.name == "Conversion after Step A"
    assert (conversion_a.source, conversion_a.kind, conversion_a.step.key) == (
        "analytics",
        "ratio",
        "a",
    )
    assert kpis[f"{prefix}:median-duration"].direction == KPI.Direction.LOWER
    values = {
        m.kpi.import_key: m.value
        for m in Measurement.objects.filter(date=dt.date(2026, 5, 1)).select_related("kpi")
    }
    assert values == {
        f"{prefix}:a:conversion": 75.0,  # 3 of 4
        f"{prefix}:b:conversion": 50.0,  # 1 of 2
        f"{prefix}:c:conversion": 50.0,  # 1 of 2
        f"{prefix}:completion": 50.0,  # 2 of 4
        f"{prefix}:median-duration": 5.5,
    }
    ratio = MeasurementObservation.objects.get(kpi=conversion_a)
    assert (ratio.numerator, ratio.denominator) == (3, 4)  # counts, so periods pool


def test_reimporting_updates_instead_of_duplicating(journey):
    _import(journey)
    step_b = journey.steps.get(key="b")
    step_b.name = "Step Bee"
    step_b.save()
    # B now gets to c: b converts 2 of 2; the same period
    again = LOG.replace(
        "B,b,2026-05-05T11:00:00Z,phone,abandoned",
        "B,b,2026-05-05T11:00:00Z,phone,\nB,c,2026-05-05T12:00:00Z,app,",
    )
    result = _import(journey, again)
    assert result["kpis_created"] == []
    assert result["kpis_updated"] == ["Conversion after Step Bee"]
    assert KPI.objects.filter(map=journey).count() == 5
    assert Measurement.objects.filter(kpi__map=journey).count() == 5
    assert MeasurementObservation.objects.filter(kpi__map=journey).count() == 5
    value = Measurement.objects.get(kpi__import_key="analytics:b:conversion")
    assert value.value == 100.0
    # another period adds one measurement per KPI
    _import(journey, period=dt.date(2026, 6, 1))
    assert Measurement.objects.filter(kpi__map=journey).count() == 10


def test_a_hand_made_kpi_with_the_same_name_is_kept_apart(journey):
    KPIFactory(map=journey, name="Journey completion rate")
    _import(journey)
    names = set(KPI.objects.filter(map=journey).values_list("name", flat=True))
    assert {"Journey completion rate", "Journey completion rate (event log)"} <= names


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (
            LOG.replace("B,b,2026-05-05T11", "B,zz,2026-05-05T11"),
            [
                "1 activity in 1 row maps to no step of “Open an account”: map them to steps "
                "on the import page (or give the steps' keys in the log)",
                "column step_key: “zz” (1 row, first on line 9)",
            ],
        ),
        (
            LOG.replace("2026-05-06T08:00:00Z", "6 May 2026"),
            [
                "line 10, column timestamp: “6 May 2026” is not an ISO 8601 timestamp "
                "(e.g. 2026-05-03T09:15:00Z)"
            ],
        ),
        (
            LOG + "A,a,2026-05-07T08:00:00Z,app,\n",
            [
                "line 13, column case_id: the events of case “A” started on line 2 and were "
                "interrupted by other cases; keep each case's events together (sort the file "
                "by case id)"
            ],
        ),
        (
            "case_id,timestamp\n",
            ["line 1: the header needs a step_key (or step, or activity) column"],
        ),
        ("", ["line 1: the file is empty; it needs a header line"]),
    ],
)
def test_a_bad_line_imports_nothing_and_names_the_line(journey, text, problems):
    with pytest.raises(ImportRefused) as refused:
        _import(journey, text)
    assert refused.value.problems == problems
    assert not KPI.objects.filter(map=journey).exists()
    assert not Measurement.objects.exists()


def test_the_funnel_is_the_latest_done_import_in_one_query(journey, owner):
    result = _import(journey)
    EventImport.objects.create(map=journey, file="event-logs/x.csv", status="done", result=result)
    EventImport.objects.create(map=journey, file="event-logs/y.csv", status="failed")
    with CaptureQueriesContext(connection) as queries:
        funnel = funnel_for_map(journey)
    assert len(queries) == 1
    by_step = {step.key: step.pk for step in journey.steps.all()}
    assert funnel[0][:6] == (by_step["a"], 4, 75.0, 1, 0.0, 7200.0)
    assert (funnel[0].median_text, funnel[0].is_end) == ("2 h", False)
    assert funnel[1].repeat_rate == 50.0
    assert funnel[3][:6] == (by_step["d"], 1, None, None, 0.0, None)
    assert (funnel[3].is_end, funnel[3].ended, funnel[3].ended_completed) == (True, 1, 1)
    assert funnel_for_map(JourneyMapFactory()) == []


# --- the query budget -------------------------------------------------------------------


def _synthetic(cases: int) -> str:
    """``cases`` journeys of four events each (a, b, c, d an hour apart)."""
    lines = ["case_id,step_key,timestamp,channel"]
    for n in range(cases):
        for hour, key in enumerate("abcd"):
            lines.append(f"K{n:05d},{key},2026-05-0{1 + n % 9}T{10 + hour}:00:00Z,app")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("runner", ["service", "task"])
def test_the_import_needs_as_many_queries_for_5000_events_as_for_100(owner, media, runner):
    counts = []
    for cases in (25, 1250):  # 100 and 5,000 events
        journey_map = JourneyMapFactory(owner=owner)
        for position, key in enumerate("abcd"):
            StepFactory(map=journey_map, key=key, position=position)
        text = _synthetic(cases)
        if runner == "task":
            queued = event_import_create(
                journey_map=journey_map,
                file=ContentFile(text.encode(), name="l.csv"),
                enqueue=False,
            )
        with CaptureQueriesContext(connection) as queries:
            if runner == "task":
                assert event_import_run(import_id=queued.pk).status == "done"
            else:
                events_import(journey_map=journey_map, stream=io.StringIO(text))
        counts.append(len(queries))
    # service: steps; steps in bulk; KPIs; savepoint; KPI bulk insert, history bulk insert,
    # KPI read-back; map version; periods entered directly? (observations, values);
    # observation upsert and its history; period recompute (KPIs, observations,
    # measurement upsert and its history); release — the task adds claim, load, ten
    # progress updates and the final update
    assert counts[0] == counts[1], counts
    assert counts[0] <= (20 if runner == "service" else 34)


# --- the task, the pages ----------------------------------------------------------------


def test_an_upload_runs_the_task_and_shows_the_results(
    client, team_member, journey, media, django_capture_on_commit_callbacks
):
    client.force_login(team_member)
    upload = SimpleUploadedFile("may.csv", LOG.encode(), "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/maps/{journey.slug}/events/", {"file": upload})
    event_import = EventImport.objects.get(map=journey)
    assert response.status_code == 302
    assert response.url == f"/maps/{journey.slug}/events/{event_import.pk}/"
    assert (event_import.status, event_import.progress) == ("done", 100)
    assert (event_import.events, event_import.cases, event_import.uploaded_by) == (
        11,
        4,
        team_member,
    )
    assert event_import.result["completion_rate"] == 50.0
    page = client.get(response.url).content.decode()
    assert '<progress class="events-progress" max="100" value="100"' in page
    assert "Conversion after Step A" in page and "75.0 %" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no polling
    listing = client.get(f"/maps/{journey.slug}/events/").content.decode()
    assert "may" in listing and "Done" in listing


def test_a_running_import_polls_its_partial(client, owner, journey):
    running = EventImport.objects.create(
        map=journey, file="event-logs/big.csv", status="running", progress=40
    )
    client.force_login(owner)
    url = f"/maps/{journey.slug}/events/{running.pk}/"
    partial = client.get(url, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert html.startswith('<div id="event-import-status"')  # only the partial
    assert f'hx-get="{url}" hx-trigger="every 1s" hx-swap="outerHTML"' in html
    assert 'value="40"' in html and f'href="{url}"' in html
    assert "HX-Request" in partial["Vary"]
    assert "<html" in client.get(url).content.decode()


def test_a_bad_upload_fails_with_its_lines_and_writes_nothing(
    client, owner, journey, media, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    bad = LOG.replace("C,a,2026-05-06T08:00:00Z", "C,a,yesterday")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/maps/{journey.slug}/events/",
            {"file": SimpleUploadedFile("bad.csv", bad.encode(), "text/csv")},
        )
    event_import = EventImport.objects.get(map=journey)
    assert event_import.status == "failed"
    assert event_import.result["problems"] == [
        "line 10, column timestamp: “yesterday” is not an ISO 8601 timestamp "
        "(e.g. 2026-05-03T09:15:00Z)"
    ]
    page = client.get(event_import.get_absolute_url()).content.decode()
    assert "Nothing was imported." in page and "line 10, column timestamp" in page
    # the refused log is not kept on disk
    assert not event_import.file
    assert not [p for p in media.rglob("*") if p.is_file()]
    assert not KPI.objects.filter(map=journey).exists()
    assert funnel_for_map(journey) == []


def test_logs_waiting_for_a_mapping_expire_and_their_imports_fail_saying_so(
    owner, journey, media, settings
):
    from django.utils import timezone

    from maps.analytics import event_logs_expire

    settings.JOURNEYHUB_EVENT_LOG_UNCONFIRMED_HOURS = 24
    unmapped = LOG.replace("B,b,", "B,Bee,")
    old, recent = (
        event_import_create(
            journey_map=journey, file=ContentFile(unmapped.encode(), name=name), enqueue=False
        )
        for name in ("old.csv", "recent.csv")
    )
    for record in (old, recent):
        assert event_import_run(import_id=record.pk).status == "mapping"
    EventImport.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert event_logs_expire() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, bool(old.file), old.finished_at is not None) == ("failed", False, True)
    assert "not mapped to steps within 24 hours" in old.error
    assert recent.status == "mapping" and recent.file.storage.exists(recent.file.name)
    assert len([p for p in media.rglob("*") if p.is_file()]) == 1


def test_a_task_runs_an_import_once(journey, media):
    queued = event_import_create(
        journey_map=journey, file=ContentFile(LOG.encode(), name="l.csv"), enqueue=False
    )
    assert event_import_run(import_id=queued.pk).status == "done"
    assert event_import_run(import_id=queued.pk) is None


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("viewer", 200),
        ("team_member", 200),
        ("owner", 200),
        ("other_owner", 200),
        ("leader", 200),
        ("admin_user", 200),
        ("anonymous", 302),
    ],
)
def test_the_events_pages_and_partial_are_read_by_everyone_who_sees_the_map(
    client, request, journey, role, status
):
    done = EventImport.objects.create(map=journey, file="event-logs/x.csv", status="done")
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    base = f"/maps/{journey.slug}/events/"
    assert client.get(base).status_code == status
    assert client.get(f"{base}{done.pk}/").status_code == status
    partial = client.get(f"{base}{done.pk}/", headers={"HX-Request": "true"})
    assert partial.status_code == status


def test_a_viewer_reads_past_imports_but_gets_no_upload_form(client, viewer, journey, owner):
    EventImport.objects.create(
        map=journey, uploaded_by=owner, file="event-logs/may.csv", status="done", events=11
    )
    client.force_login(viewer)
    page = client.get(f"/maps/{journey.slug}/events/").text
    assert "may.csv" in page and "Done" in page
    assert 'type="file"' not in page
    assert "Only the map's editors import new logs." in page.replace("&#x27;", "'")
    refused = client.post(f"/maps/{journey.slug}/events/", {})
    assert refused.status_code == 403
    assert "Only the map" in refused.text
    assert EventImport.objects.count() == 1


def test_an_editor_gets_the_upload_form_on_the_same_page(client, team_member, journey):
    client.force_login(team_member)
    page = client.get(f"/maps/{journey.slug}/events/").text
    assert 'type="file"' in page and "Import" in page


# --- the commands ---------------------------------------------------------------------------


def test_the_command_imports_a_file_and_prints_the_summary(journey, media, tmp_path):
    path = tmp_path / "may.csv"
    path.write_text(LOG)
    out = io.StringIO()
    call_command("import_events", journey.slug, str(path), stdout=out)
    assert out.getvalue().strip() == (
        "11 events of 4 cases; completion 50.0 %, median duration 5.5 h; "
        "5 measurements recorded for 2026-05-01."
    )
    assert EventImport.objects.get(map=journey).status == "done"
    call_command("import_events", journey.slug, str(path), "--period", "2026-04-30", stdout=out)
    assert Measurement.objects.filter(date=dt.date(2026, 4, 30)).count() == 5


def test_the_command_refuses_a_bad_file(journey, media, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(LOG.replace("B,b,", "B,nope,"))
    with pytest.raises(CommandError, match=r"column step_key: “nope” \(1 row, first on line 9\)"):
        call_command("import_events", journey.slug, str(path))
    with pytest.raises(CommandError, match="No journey map"):
        call_command("import_events", "no-such-map", str(path))
    assert not KPI.objects.filter(map=journey).exists()


def test_the_demo_log_is_deterministic_and_seeds_idempotently(team_map, media):
    start = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    assert demo_event_log(start=start, cases=50) == demo_event_log(start=start, cases=50)
    keys = "start-application enter-details verify-identity credit-check sign-contract"
    for position, key in enumerate((keys + " receive-card activate-card first-login").split()):
        StepFactory(map=team_map, key=key, position=position)
    call_command("seed_demo_events", "--cases", "60", stdout=io.StringIO())
    kpis, measurements = KPI.objects.count(), Measurement.objects.count()
    assert kpis == 9 and measurements == 27  # 7 conversions + 2, over three windows
    call_command("seed_demo_events", "--cases", "60", stdout=io.StringIO())
    assert (KPI.objects.count(), Measurement.objects.count()) == (kpis, measurements)
    assert EventImport.objects.filter(map=team_map, status="done").count() == 3
    assert len(funnel_for_map(team_map)) == 8
