"""Event analytics that read right (#18): completion, drop-off and conversion against a
map's end steps, success against its successful ends, a funnel per main path, activity
names mapped to steps once and remembered, durations in the unit that fits, "… and N
more" on refusals, and uploaded logs removed once they have served."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from maps.analytics import (
    event_import_create,
    event_import_run,
    events_analyse,
    events_import,
    map_funnel,
    summary_text,
)
from maps.durations import duration_text
from maps.imports import ImportRefused
from maps.models import KPI, EventActivityMapping, EventImport, Measurement
from tests.factories import JourneyMapFactory, StepFactory

pytestmark = pytest.mark.django_db

# Steps in map order: apply, review, approved (a successful end), rejected (another
# end), appeal (the last step, not an end). Events an hour apart.
#   P1, P2: apply → review → approved        complete, success
#   P3:     apply → review → rejected        complete (another end), not a success
#   P4:     apply → review                   drop-off at review
#   P5:     apply → review → rejected → appeal   ends at appeal (not an end): drop-off
#   P6:     apply                            drop-off at apply
# completion 3 of 6 = 50 %; success 2 of 6 = 33.33 %. Under the old rule (the last step
# ends the journey) completion would be 1 of 6 and approved's 2 cases "drop-offs".
# per step (reached, went further, conversion, ended, ended complete, drop-off, rate):
#   apply    6, 5, 83.33, 1, 0, 1, 16.67
#   review   5, 4, 80.0,  1, 0, 1, 20.0
#   approved 2, 0, —,     2, 2, —, —      (an end: no conversion, never a drop-off)
#   rejected 2, 1, —,     1, 1, —, —      (P5 went on to appeal)
#   appeal   1, 0, 0.0,   1, 0, 1, 100.0
KEYS = ("apply", "review", "approved", "rejected", "appeal")
PATHS = {
    "P1": "apply review approved",
    "P2": "apply review approved",
    "P3": "apply review rejected",
    "P4": "apply review",
    "P5": "apply review rejected appeal",
    "P6": "apply",
}


def log(paths: dict[str, str] = PATHS, rename: dict[str, str] | None = None) -> str:
    rename = rename or {}
    lines = ["case_id,activity,timestamp"]
    for day, (case, path) in enumerate(paths.items(), start=1):
        for hour, key in enumerate(path.split()):
            lines.append(f"{case},{rename.get(key, key)},2026-05-{day:02d}T{9 + hour:02d}:00:00Z")
    return "\n".join(lines) + "\n"


@pytest.fixture
def process(team_map):
    ends = {"approved": "success", "rejected": "other"}
    for position, key in enumerate(KEYS):
        StepFactory(
            map=team_map,
            key=key,
            name=key.title(),
            position=position,
            end_kind=ends.get(key, ""),
        )
    return team_map


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def files_in(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()]


def analyse(journey_map, text: str, **kwargs):
    return events_analyse(journey_map=journey_map, stream=io.StringIO(text), **kwargs)


# --- end steps ---------------------------------------------------------------------------


def test_a_case_ending_at_a_non_final_end_step_is_complete_and_not_a_drop_off(process):
    analysis = analyse(process, log())
    assert (analysis.cases, analysis.completed, analysis.completion_rate) == (6, 3, 50.0)
    assert analysis.end_rule == "declared"
    figures = {
        row["key"]: (
            row["reached"],
            row["converted"],
            row["conversion"],
            row["ended"],
            row["ended_completed"],
            row["drop_off"],
            row["drop_off_rate"],
        )
        for row in analysis.steps
    }
    assert figures == {
        "apply": (6, 5, 83.33, 1, 0, 1, 16.67),
        "review": (5, 4, 80.0, 1, 0, 1, 20.0),
        "approved": (2, 0, None, 2, 2, None, None),
        "rejected": (2, 1, None, 1, 1, None, None),
        "appeal": (1, 0, 0.0, 1, 0, 1, 100.0),
    }
    assert [row["is_end"] for row in analysis.steps] == [False, False, True, True, False]


def test_success_counts_only_cases_ending_at_a_successful_end(process):
    analysis = analyse(process, log())
    assert (analysis.succeeded, analysis.success_rate) == (2, 33.33)
    process.steps.filter(key="approved").update(end_kind="other")
    plain = analyse(process, log())
    # no successful end declared: no success figure at all, completion unchanged
    assert (plain.succeeded, plain.success_rate, plain.completion_rate) == (None, None, 50.0)


def test_without_end_steps_the_last_step_ends_the_journey_as_before(process):
    process.steps.update(end_kind="")
    analysis = analyse(process, log())
    assert analysis.end_rule == "last_step"
    assert (analysis.completed, analysis.success_rate) == (1, None)  # P5 reached appeal
    approved = next(row for row in analysis.steps if row["key"] == "approved")
    assert (approved["conversion"], approved["drop_off"]) == (0.0, 2)


def test_the_kpis_follow_the_ends_conversion_for_steps_that_are_not_ends_and_success(process):
    result = events_import(journey_map=process, stream=io.StringIO(log()))
    keys = set(KPI.objects.filter(map=process).values_list("import_key", flat=True))
    assert keys == {
        "analytics:apply:conversion",
        "analytics:review:conversion",
        "analytics:appeal:conversion",
        "analytics:completion",
        "analytics:success",
        "analytics:median-duration",
    }
    success = Measurement.objects.get(kpi__import_key="analytics:success")
    assert round(success.value, 2) == 33.33
    assert result["measurements"] == 6


# --- main paths --------------------------------------------------------------------------


def test_each_main_path_has_its_own_funnel(process):
    analysis = analyse(process, log())
    names = [" → ".join(path["names"]) for path in analysis.paths]
    assert names == [
        "Apply → Review → Approved",  # 2 cases; then the single ones by their steps
        "Apply",
        "Apply → Review",
        "Apply → Review → Rejected",
        "Apply → Review → Rejected → Appeal",
    ]
    first = analysis.paths[0]
    assert (first["cases"], first["share"], first["completes"]) == (2, 33.33, True)
    # (followed so far, went on along it, ended here, took another way)
    assert [
        (row["following"], row["went_on"], row["ended"], row["elsewhere"])
        for row in first["funnel"]
    ] == [(6, 5, 1, 0), (5, 2, 1, 2), (2, None, 2, 0)]
    assert analysis.paths[4]["completes"] is False  # ends at appeal


def test_paths_with_loops_keep_their_revisits(process):
    paths = {"L1": "apply review apply review approved", "L2": "apply review approved"}
    analysis = analyse(process, log(paths))
    assert analysis.paths[0]["names"] == ["Apply", "Review", "Approved"]
    loop = analysis.paths[1]
    assert loop["names"] == ["Apply", "Review", "Apply", "Review", "Approved"]
    assert [row["following"] for row in loop["funnel"]] == [2, 2, 1, 1, 1]


def test_cases_past_the_path_bounds_count_as_untracked_and_in_every_other_figure(
    process, monkeypatch
):
    import maps.analytics

    monkeypatch.setattr(maps.analytics, "MAX_DISTINCT_PATHS", 2)
    analysis = analyse(process, log())
    # P1's and P2's path and P3's are counted; P4, P5, P6 bring new paths past the bound
    assert [path["cases"] for path in analysis.paths] == [2, 1]
    assert analysis.untracked_paths == 3
    assert (analysis.cases, analysis.completed) == (6, 3)


# --- activity mapping ---------------------------------------------------------------------

RENAMED = {"apply": "Submit application", "review": "REVIEW", "approved": "Approved"}


def test_unmapped_activities_wait_for_a_mapping_with_suggestions_then_are_remembered(
    client, owner, process, media, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    text = log(rename=RENAMED)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/maps/{process.slug}/events/",
            {"file": SimpleUploadedFile("renamed.csv", text.encode(), "text/csv")},
        )
    waiting = EventImport.objects.get(map=process)
    assert waiting.status == "mapping"
    assert [(row["activity"], row["rows"]) for row in waiting.result["unmapped"]] == [
        ("Submit application", 6),
        ("REVIEW", 5),
        ("Approved", 2),
    ]
    assert len(files_in(media)) == 1  # kept while it waits
    assert not KPI.objects.filter(map=process).exists()
    page = client.get(waiting.get_absolute_url()).text
    steps = {step.key: step.pk for step in process.steps.all()}
    # REVIEW matches a key, Approved a name (case-insensitively); the first matches nothing
    assert f'<option value="{steps["review"]}" selected>' in page
    assert f'<option value="{steps["approved"]}" selected>' in page
    assert 'hx-trigger="every 1s"' not in page  # waiting for the owner: no polling

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{waiting.get_absolute_url()}mapping/",
            {"a0": steps["apply"], "a1": steps["review"], "a2": steps["approved"]},
        )
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert (waiting.status, waiting.cases, waiting.result["completion_rate"]) == ("done", 6, 50.0)
    assert not files_in(media)  # imported: removed
    remembered = dict(
        EventActivityMapping.objects.filter(map=process).values_list("activity", "step__key")
    )
    assert remembered == {
        "Submit application": "apply",
        "REVIEW": "review",
        "Approved": "approved",
    }
    assert EventActivityMapping.history.filter(history_user=owner).count() == 3

    # the next log of the map uses the mapping without asking
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/maps/{process.slug}/events/",
            {"file": SimpleUploadedFile("june.csv", text.encode(), "text/csv")},
        )
    again = EventImport.objects.filter(map=process).order_by("-pk").first()
    assert (again.status, again.result["completed"], again.result["left_out"]) == ("done", 3, {})


def test_activities_left_out_are_counted_not_dropped_silently(process, media):
    process_log = log(rename={"apply": "Coffee break"})
    queued = event_import_create(
        journey_map=process, file=ContentFile(process_log.encode(), name="l.csv"), enqueue=False
    )
    EventImport.objects.filter(pk=queued.pk).update(mapping_confirmed=True)
    done = event_import_run(import_id=queued.pk)
    assert done.status == "done"
    assert done.result["left_out"] == {
        "rows": 6,
        "activities": [{"activity": "Coffee break", "rows": 6}],
        "more_activities": 0,
    }
    assert done.result["cases"] == 5  # P6 had only the left-out event
    assert "6 rows of unmapped activities were left out." in summary_text(done.result)


def test_a_mapping_to_another_maps_step_is_refused_naming_the_activity_and_changes_nothing(
    client, owner, process, media, django_capture_on_commit_callbacks
):
    foreign = StepFactory(map=JourneyMapFactory(owner=owner), key="elsewhere")
    queued = event_import_create(
        journey_map=process,
        file=ContentFile(log(rename=RENAMED).encode(), name="l.csv"),
        enqueue=False,
    )
    event_import_run(import_id=queued.pk)
    client.force_login(owner)
    response = client.post(f"{queued.get_absolute_url()}mapping/", {"a0": foreign.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.text and "Submit application" in response.text
    queued.refresh_from_db()
    assert queued.status == "mapping" and not EventActivityMapping.objects.exists()


def test_only_editors_map_activities(client, viewer, process, media):
    queued = event_import_create(
        journey_map=process,
        file=ContentFile(log(rename=RENAMED).encode(), name="l.csv"),
        enqueue=False,
    )
    event_import_run(import_id=queued.pk)
    client.force_login(viewer)
    page = client.get(queued.get_absolute_url()).text
    assert "Submit application" in page and 'name="a0"' not in page
    response = client.post(f"{queued.get_absolute_url()}mapping/", {"a0": ""})
    assert response.status_code == 403
    queued.refresh_from_db()
    assert queued.status == "mapping"


def test_the_column_naming_the_steps_can_be_chosen(process):
    text = "case_id,stage,activity,timestamp\nX,apply,noise,2026-05-01T09:00:00Z\n"
    analysis = analyse(process, text, activity_column="Stage")
    assert analysis.steps[0]["reached"] == 1
    with pytest.raises(ImportRefused) as refused:
        analyse(process, text, activity_column="phase")
    assert refused.value.problems == [
        "line 1: the header has no “phase” column (it has: case_id, stage, activity, timestamp)"
    ]


def test_an_activity_too_long_to_map_is_a_problem_of_its_line(process):
    text = "case_id,activity,timestamp\nX," + "x" * 201 + ",2026-05-01T09:00:00Z\n"
    with pytest.raises(ImportRefused) as refused:
        analyse(process, text)
    assert refused.value.problems == [
        f"line 2, column activity: “{'x' * 80}…” is longer than 200 characters: no step is named so"
    ]


# --- refusals and files ----------------------------------------------------------------------


def test_a_refusal_lists_the_first_problems_and_counts_the_rest(process):
    lines = ["case_id,step_key,timestamp"] + [f"C{n},apply,soon" for n in range(60)]
    with pytest.raises(ImportRefused) as refused:
        analyse(process, "\n".join(lines) + "\n")
    problems = refused.value.problems
    assert len(problems) == 51
    assert problems[0].startswith("line 2, column timestamp: “soon”")
    assert problems[-1] == "… and 10 more problems"


def test_the_uploaded_file_is_removed_after_an_import_and_after_a_refusal(
    client, owner, process, media, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    for name, text in (("good.csv", log()), ("bad.csv", log().replace("T09:00", "X"))):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                f"/maps/{process.slug}/events/",
                {"file": SimpleUploadedFile(name, text.encode(), "text/csv")},
            )
        assert not files_in(media), name
    good, bad = EventImport.objects.filter(map=process).order_by("pk")
    assert (good.status, bad.status) == ("done", "failed")
    assert (good.file_name, bad.file_name) == ("good.csv", "bad.csv")  # named, not kept
    listing = client.get(f"/maps/{process.slug}/events/").text
    assert "good.csv" in listing and "bad.csv" in listing


# --- readable figures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "0 s"),
        (38, "38 s"),
        (59.4, "59 s"),
        (59.6, "1 min"),
        (270, "4.5 min"),
        (600, "10 min"),
        (3569, "59 min"),
        (3570, "1 h"),
        (7560, "2.1 h"),
        (36000, "10 h"),
        (84_500, "23 h"),
        (84_700, "1 d"),
        (276_480, "3.2 d"),
        (3_888_000, "45 d"),
    ],
)
def test_durations_read_in_the_unit_that_fits(seconds, text):
    assert duration_text(seconds) == text


def test_the_import_page_shows_seconds_ends_paths_and_explains_its_figures(
    client, owner, process, media
):
    fast = {f"F{n}": "apply review approved" for n in range(3)}
    queued = event_import_create(
        journey_map=process, file=ContentFile(log(fast).encode(), name="l.csv"), enqueue=False
    )
    event_import_run(import_id=queued.pk)
    client.force_login(owner)
    page = client.get(queued.get_absolute_url()).text
    assert "<dd>2 h</dd>" in page  # median duration: 9:00 to 11:00
    assert ">1 h</td>" in page  # median time to the next step
    assert "success end" in page and "Main paths" in page
    assert 'title="Cases with at least one event at the step"' in page
    assert "counted against the map's end steps" in page
    assert "0.0 h" not in page


def test_the_api_gives_the_latest_figures_with_durations_as_seconds_and_text(
    viewer, process, media
):
    api = APIClient()
    api.force_authenticate(viewer)
    empty = api.get(f"/api/maps/{process.pk}/funnel/").json()
    assert (empty["import_id"], empty["completion_rate"], empty["steps"]) == (None, None, [])
    queued = event_import_create(
        journey_map=process, file=ContentFile(log().encode(), name="l.csv"), enqueue=False
    )
    event_import_run(import_id=queued.pk)
    body = api.get(f"/api/maps/{process.pk}/funnel/").json()
    assert body["import_id"] == queued.pk
    assert (body["completion_rate"], body["success_rate"], body["end_rule"]) == (
        50.0,
        33.33,
        "declared",
    )
    assert (body["median_duration_seconds"], body["median_duration_text"]) == (7200.0, "2 h")
    apply, *_, appeal = body["steps"]
    assert (apply["median_seconds"], apply["median_text"]) == (3600.0, "1 h")
    assert apply["is_end"] is False
    assert (appeal["median_seconds"], appeal["median_text"]) == (None, "")
    assert body["paths"][0]["cases"] == 2


# --- the step's end kind is edited like its other fields -------------------------------------


def test_an_editor_marks_a_step_as_an_end_through_the_api(team_member, process):
    api = APIClient()
    api.force_authenticate(team_member)
    step = process.steps.get(key="appeal")
    version = process.version
    response = api.patch(
        f"/api/steps/{step.pk}/", {"end_kind": "other", "map_version": version}, format="json"
    )
    assert response.status_code == 200, response.data
    step.refresh_from_db()
    assert step.end_kind == "other"
    bad = api.patch(
        f"/api/steps/{step.pk}/", {"end_kind": "maybe", "map_version": version + 1}, format="json"
    )
    assert bad.status_code == 400 and "end_kind" in bad.data


# --- query budgets ---------------------------------------------------------------------------


def test_the_events_page_costs_the_same_queries_with_ten_times_the_imports_and_mappings(
    client, owner, process, media
):
    counts = []
    for extra in (2, 20):
        start = EventActivityMapping.objects.count()
        for n in range(start, start + extra):
            EventActivityMapping.objects.create(
                map=process, activity=f"act {n}", step=process.steps.first()
            )
            EventImport.objects.create(
                map=process, uploaded_by=owner, status="done", result={"file_name": f"{n}.csv"}
            )
        client.force_login(owner)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/maps/{process.slug}/events/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_map_funnel_is_one_query_with_the_whole_map_figures(process, media):
    events_import(journey_map=process, stream=io.StringIO(log()))
    EventImport.objects.create(
        map=process,
        status="done",
        result=events_import(journey_map=process, stream=io.StringIO(log())),
    )
    with CaptureQueriesContext(connection) as queries:
        funnel = map_funnel(process)
    assert len(queries) == 1
    assert (funnel.completion_rate, funnel.success_rate, funnel.end_rule) == (
        50.0,
        33.33,
        "declared",
    )
    assert funnel.median_duration_text == "2 h"  # cases of 0, 1, 2, 2, 2, 3 hours
    approved = funnel.by_step()[process.steps.get(key="approved").pk]
    assert (approved.is_end, approved.end_kind, approved.drop_off) == (True, "success", None)


# --- the command and the beat schedule ---------------------------------------------------------


def test_the_command_refuses_unmapped_activities_unless_told_to_leave_them_out(
    process, media, tmp_path_factory
):
    from django.core.management import CommandError, call_command

    path = tmp_path_factory.mktemp("source") / "renamed.csv"  # outside MEDIA_ROOT
    path.write_text(log(rename={"apply": "Coffee break"}))
    with pytest.raises(CommandError, match=r"“Coffee break” \(6 rows, first on line 2\)"):
        call_command("import_events", process.slug, str(path))
    refused = EventImport.objects.get(map=process)
    assert (refused.status, bool(refused.file)) == ("failed", False)
    out = io.StringIO()
    call_command("import_events", process.slug, str(path), "--leave-out-unmapped", stdout=out)
    assert "6 rows of unmapped activities were left out." in out.getvalue()
    assert not files_in(media)


def test_the_beat_schedule_expires_waiting_logs_hourly():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["expire-event-logs-hourly"]
    assert entry["task"] == "maps.tasks.expire_event_logs"
    assert entry["schedule"].minute == {15} and len(entry["schedule"].hour) == 24


def test_the_map_pages_funnel_row_reads_ends_and_the_whole_map(client, viewer, process, media):
    EventImport.objects.create(
        map=process,
        status="done",
        result=events_import(journey_map=process, stream=io.StringIO(log())),
    )
    client.force_login(viewer)

    page = client.get(process.get_absolute_url()).text
    row = page.split('<tr class="lane-funnel">')[1].split("</tr>")[0]

    assert "<strong>50.0%</strong> complete" in row  # 3 of 6 cases ended at an end step
    assert "33.3% succeed" in row and "median 2 h" in row
    assert "✓ successful end</span> 2 end here" in row  # approved: not a drop-off
    assert '<span class="tag">end</span> 1 end here' in row  # rejected
    assert "80.0% go on · 1 drop off" in row  # review
    assert "median 1 h to next" in row  # durations in the unit that fits, not "1.0 h"
