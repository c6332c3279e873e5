"""Restoring a snapshot loses nothing: every registered field of every content kind comes
back, measurements and observations are never touched, KPIs created since are kept,
and the cost in queries does not grow with the map."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.map_snapshots import capture, compare, snapshot_restore, snapshot_take
from maps.content import CONTENT_KINDS
from maps.models import KPI, LaneItem, Measurement, MeasurementObservation, PainPoint, Step
from tests.factories import (
    KPIFactory,
    LaneItemFactory,
    MeasurementFactory,
    MeasurementObservationFactory,
    PainPointFactory,
    QualitativeFactorFactory,
    StageFactory,
    StepFactory,
    StepLinkFactory,
)

pytestmark = pytest.mark.django_db


def every_kind(journey_map, steps: int = 4):
    stage = StageFactory(map=journey_map, name="Apply")
    made = [
        StepFactory(map=journey_map, stage=stage, name=f"Step {i}", key=f"s{i}", position=i)
        for i in range(steps)
    ]
    StepLinkFactory(from_step=made[-1], to_step=made[0], kind="loop", label="Try again")
    PainPointFactory(map=journey_map, step=made[0], title="Form too long", severity=4)
    LaneItemFactory(map=journey_map, step=made[1], kind="insight", title="People give up")
    kpis = {
        kind: KPIFactory(
            map=journey_map,
            name=f"{kind} KPI",
            kind=kind,
            aggregation="sum" if kind == "value" else "average",
            import_key=f"theydo-{kind}",
            unit="%",
        )
        for kind in ("value", "ratio", "nps", "csat", "ces")
    }
    for kpi in kpis.values():
        MeasurementFactory(kpi=kpi, value=61.0)
        MeasurementObservationFactory(kpi=kpi, value=61.0)
    QualitativeFactorFactory(map=journey_map, name="Tone", rating=4, note="Warm")
    return made, kpis


def data_counts():
    return Measurement.objects.count(), MeasurementObservation.objects.count()


def test_every_registered_field_comes_back_and_no_measurement_is_lost(owner, team_map):
    steps, kpis = every_kind(team_map)
    snapshot = snapshot_take(journey_map=team_map, label="before", by=owner)
    # change every field that used to be forgotten, delete and add content
    KPI.objects.filter(pk=kpis["nps"].pk).update(
        kind="value", aggregation="sum", import_key=None, unit="pts"
    )
    Step.objects.filter(pk=steps[2].pk).update(
        name="Renamed", emotion=-2, is_moment_of_truth=True, evidence="measured"
    )
    PainPoint.objects.filter(map=team_map).delete()
    LaneItem.objects.filter(map=team_map).update(kind="idea", url="https://example.com/x")
    added_since = KPIFactory(map=team_map, name="Added since", kind="ratio")
    MeasurementFactory(kpi=added_since, value=12.0)
    measurements_before = data_counts()
    team_map.refresh_from_db()

    snapshot_restore(snapshot=snapshot, by=owner, expected_version=team_map.version)

    team_map.refresh_from_db()
    now = capture(team_map)
    for kind in CONTENT_KINDS:
        then_rows = snapshot.data[kind.key]
        now_rows = [r for r in now[kind.key] if r["pk"] != added_since.pk]
        assert now_rows == then_rows, kind.key  # field by field, every registered field
    nps = KPI.objects.get(pk=kpis["nps"].pk)
    assert (nps.kind, nps.aggregation, nps.import_key, nps.unit) == (
        "nps",
        "average",
        "theydo-nps",
        "%",
    )
    assert KPI.objects.filter(pk=added_since.pk).exists()  # kept, with its data
    assert data_counts() == measurements_before


def test_the_registry_declares_the_fields_that_were_forgotten_before():
    kpi_fields = next(k for k in CONTENT_KINDS if k.key == "kpis").fields
    assert {"kind", "aggregation", "import_key", "unit", "step_id"} <= set(kpi_fields)
    assert "map_id" not in kpi_fields and "id" not in kpi_fields


def restore_queries(owner, journey_map, steps: int) -> int:
    made, _ = every_kind(journey_map, steps=steps)
    snapshot = snapshot_take(journey_map=journey_map, label="before", by=owner)
    Step.objects.filter(pk__in=[made[0].pk, made[1].pk]).update(name="Changed")
    PainPoint.objects.filter(map=journey_map).delete()
    PainPointFactory(map=journey_map, title="Added since")
    journey_map.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        snapshot_restore(snapshot=snapshot, by=owner, expected_version=journey_map.version)
    return len(queries)


def test_restore_costs_the_same_queries_for_a_4_and_a_40_step_map(owner, team_map, draft_map):
    small = restore_queries(owner, team_map, steps=4)
    large = restore_queries(draft_map.owner, draft_map, steps=40)
    assert small == large
    # the safety snapshot (a read per kind), the lock and version, the map itself, and
    # per kind: one read, one "moved away?" check, bulk writes with their history
    assert small <= 70


def test_a_kpi_added_since_under_a_restored_name_is_refused_clearly(owner, team_map):
    kpi = KPIFactory(map=team_map, name="Completion")
    snapshot = snapshot_take(journey_map=team_map, label="before", by=owner)
    kpi.delete()
    KPIFactory(map=team_map, name="Completion")  # kept by the restore, so the names clash
    team_map.refresh_from_db()
    with pytest.raises(ValidationError, match="clash with today's"):
        snapshot_restore(snapshot=snapshot, by=owner, expected_version=team_map.version)
    team_map.refresh_from_db()
    assert KPI.objects.filter(map=team_map).count() == 1  # nothing was written


def test_an_unchanged_map_restores_without_rewriting_a_row(owner, team_map):
    every_kind(team_map, steps=6)
    snapshot = snapshot_take(journey_map=team_map, label="before", by=owner)
    histories = {k.key: k.model.history.count() for k in CONTENT_KINDS}
    team_map.refresh_from_db()
    snapshot_restore(snapshot=snapshot, by=owner, expected_version=team_map.version)
    assert {k.key: k.model.history.count() for k in CONTENT_KINDS} == histories


def test_an_old_snapshot_without_newer_fields_compares_and_restores_cleanly(owner, team_map):
    _, kpis = every_kind(team_map)
    snapshot = snapshot_take(journey_map=team_map, label="old", by=owner)
    for rows in snapshot.data.values():  # as taken before the registry: no created_at, kind …
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict):
                row.pop("created_at", None)
                row.pop("kind", None)
    snapshot.save()
    _, kinds = compare(snapshot, team_map)
    assert all(not kind.items for kind in kinds)
    team_map.refresh_from_db()
    snapshot_restore(snapshot=snapshot, by=owner, expected_version=team_map.version)
    assert KPI.objects.get(pk=kpis["nps"].pk).kind == "nps"  # kept, not blanked
