"""Build populated repositories of a chosen size, for page tests and query budgets."""

from __future__ import annotations

import datetime as dt

from guardian.shortcuts import assign_perm

from governance.map_snapshots import snapshot_take
from governance.models import ExternalMap, ReminderLog, Review
from governance.scoring import scorecard_snapshot_all
from maps.models import EventImport, JourneyMap, LaneItem, PainPoint, StepLink, VocabularyTerm
from tests.factories import (
    CXProjectFactory,
    GroupFactory,
    JourneyMapFactory,
    KPIFactory,
    LaneItemFactory,
    MeasurementFactory,
    MeasurementObservationFactory,
    PainPointFactory,
    PersonaFactory,
    QualitativeFactorFactory,
    StageFactory,
    StepFactory,
)


def build_map_content(journey_map: JourneyMap, *, steps: int = 4, items_per_step: int = 2) -> list:
    """Stages, steps and every kind of lane content on one map; returns the steps."""
    stages = [StageFactory(map=journey_map, name=f"Stage {i + 1}", position=i) for i in range(2)]
    made = [
        StepFactory(
            map=journey_map,
            stage=stages[i * 2 // max(steps, 1)],
            key=f"{journey_map.slug}-s{i}",
            name=f"Step {i + 1}",
            position=i,
            emotion=(i % 5) - 2,
            is_moment_of_truth=i == 1,
            is_recurring=i == 2,
        )
        for i in range(steps)
    ]
    if steps >= 3:
        StepLink.objects.create(from_step=made[2], to_step=made[0], kind=StepLink.Kind.LOOP)
    for i, step in enumerate(made):
        for j in range(items_per_step):
            kind = PainPoint.Kind.CUSTOMER if j % 2 == 0 else PainPoint.Kind.EMPLOYEE
            PainPointFactory(map=journey_map, step=step, kind=kind, severity=1 + (i + j) % 5)
            LaneItemFactory(map=journey_map, step=step, kind=LaneItem.Kind.values[j % 4])
        kpi = KPIFactory(map=journey_map, step=step, name=f"KPI {i}")
        measurement = MeasurementFactory(kpi=kpi, value=55 + i)
        MeasurementObservationFactory(kpi=kpi, date=measurement.date, value=55 + i)
    PainPointFactory(map=journey_map, title="Unpinned pain point")
    QualitativeFactorFactory(map=journey_map, name="Ease", rating=4)
    CXProjectFactory(owner=journey_map.owner, maps=[journey_map], steps=made[:1])
    Review.objects.create(map=journey_map, reviewed_by=journey_map.owner)
    return made


def build_repository(*, owner, team, other_owner, copies: int = 1) -> list[JourneyMap]:
    """``copies`` lifecycle trees (lifecycle → journey → task), each fully populated."""
    personas = [PersonaFactory(), PersonaFactory()]
    roots = []
    for n in range(copies):
        # drawn for two personas: lists and pages name both without a query per map
        root = JourneyMapFactory(
            title=f"Customer lifecycle {n}", owner=owner, team=team, personas=personas
        )
        steps = build_map_content(root)
        journey = JourneyMapFactory(
            title=f"Onboard {n}", owner=owner, team=team, parent=root, parent_step=steps[1]
        )
        journey_steps = build_map_content(journey)
        JourneyMapFactory(
            title=f"Verify identity {n}",
            owner=other_owner,
            parent=journey,
            parent_step=journey_steps[0],
            status="draft",
        )
        assign_perm("change_journeymap", other_owner, journey)
        assign_perm("view_journeymap", GroupFactory(name="Auditors"), root)
        day = dt.date(2026, 1, 1) + dt.timedelta(days=root.pk)  # unique per root
        ReminderLog.objects.create(owner=owner, day=day, maps=n + 1)
        snapshot_take(journey_map=journey, label=f"after research {n}", by=owner)
        EventImport.objects.create(  # the file name only: nothing on disk
            map=journey, uploaded_by=owner, file=f"event-logs/log-{n}.csv", status="done"
        )
        # the inventory of maps kept elsewhere: one migrated into the journey, one to do
        ExternalMap.objects.create(
            title=f"Onboarding deck {n}", tool="slides", owner=owner, team=team,
            status="migrated", migrated_to=journey,
        )  # fmt: skip
        ExternalMap.objects.create(
            title=f"Service blueprint {n}", tool="miro", owner=other_owner,
            link="https://miro.com/app/board/example/",
        )  # fmt: skip
        roots.append(root)
    VocabularyTerm.objects.get_or_create(key="pain_point", defaults={"label": "Friction"})
    scorecard_snapshot_all()  # today's scorecards, as the nightly task stores them
    return roots


def trigger_names() -> set[str]:
    """The names of the database's triggers (SQLite's, or PostgreSQL's user triggers):
    the derived-data tests check theirs survive every migration."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {row[0] for row in cursor.fetchall()}
