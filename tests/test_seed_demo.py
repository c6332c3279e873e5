"""``manage.py seed_demo``: a complete, consistent retail-bank demo, idempotent."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models import Count, F

from governance.models import Review
from maps.models import (
    KPI,
    CXProject,
    JourneyMap,
    LaneItem,
    Measurement,
    PainPoint,
    Persona,
    QualitativeFactor,
    Stage,
    Step,
    StepLink,
)

pytestmark = pytest.mark.django_db

DOMAIN_MODELS = [
    get_user_model(),
    Group,
    Persona,
    JourneyMap,
    Stage,
    Step,
    StepLink,
    PainPoint,
    LaneItem,
    KPI,
    Measurement,
    QualitativeFactor,
    CXProject,
    Review,
]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def domain_counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in DOMAIN_MODELS}


def history_counts() -> dict[str, int]:
    return {
        model.__name__: model._default_manager.count()
        for model in apps.get_models()
        if model.__name__.startswith("Historical")
    }


@pytest.fixture
def seeded() -> str:
    return seed()


def test_second_run_changes_nothing():
    started = time.perf_counter()
    first_output = seed()
    assert time.perf_counter() - started < 30
    after_first = domain_counts()
    history_after_first = history_counts()
    measurement_values = dict(Measurement.objects.values_list("pk", "value"))

    second_output = seed()

    assert domain_counts() == after_first
    assert history_counts() == history_after_first, "unchanged rows must not be saved again"
    assert dict(Measurement.objects.values_list("pk", "value")) == measurement_values
    assert "demo: 0 created, 0 updated" in second_output
    assert "demo: 0 created" not in first_output
    assert "journey maps: 15" in second_output

    assert after_first["User"] == 6
    assert after_first["Group"] == 3
    assert 3 <= after_first["Persona"] <= 4
    assert 130 <= after_first["PainPoint"] <= 170
    assert 25 <= after_first["CXProject"] <= 40
    assert after_first["Measurement"] == 12 * after_first["KPI"]
    assert after_first["Review"] > 0


def test_users_and_their_groups(seeded, client):
    User = get_user_model()
    users = {user.username: user for user in User.objects.prefetch_related("groups")}
    assert set(users) == {"admin", "leader", "olivia", "omar", "tess", "vic"}

    def groups(username: str) -> set[str]:
        return {group.name for group in users[username].groups.all()}

    assert users["admin"].is_superuser and users["admin"].is_staff
    assert groups("leader") == {settings.JOURNEYHUB_LEADERSHIP_GROUP}
    assert not users["leader"].is_staff and not users["leader"].is_superuser
    olivia_team = groups("olivia")
    assert len(olivia_team) == 1
    assert groups("tess") == olivia_team
    assert len(groups("omar")) == 1 and groups("omar") != olivia_team
    assert groups("vic") == set()
    assert not users["vic"].is_staff
    for user in users.values():
        assert user.first_name and user.last_name
        assert user.email.endswith("@example.com")

    assert client.login(username="olivia", password="journeyhub")


def test_map_tree(seeded):
    lifecycle = JourneyMap.objects.get(slug="customer-lifecycle")
    assert lifecycle.is_root_node()
    assert lifecycle.status == JourneyMap.Status.PUBLISHED
    assert 12 <= lifecycle.steps.count() <= 16
    assert 4 <= lifecycle.stages.count() <= 6
    assert not lifecycle.steps.filter(stage__isnull=True).exists()
    assert lifecycle.steps.filter(is_moment_of_truth=True).count() >= 2

    journeys = list(lifecycle.get_children())
    assert len(journeys) == 7
    for journey in journeys:
        assert journey.parent_step is not None
        assert journey.parent_step.map_id == lifecycle.pk
        assert 5 <= journey.steps.count() <= 10
        assert journey.stages.count() >= 2
    assert len({journey.parent_step_id for journey in journeys}) == 7
    titles = {journey.title for journey in journeys}
    assert {"Open an account", "Pay and transfer", "Get help", "Close my account"} <= titles

    assert JourneyMap.objects.filter(level=2).count() >= 4
    for sub_map in JourneyMap.objects.filter(parent__isnull=False).select_related("parent_step"):
        assert sub_map.parent_step is not None, sub_map
        assert sub_map.parent_step.map_id == sub_map.parent_id, sub_map
        sub_map.full_clean()

    # Steps hang off stages of their own map; links stay inside one map.
    assert not Step.objects.exclude(stage__map=F("map")).exists()
    assert not StepLink.objects.exclude(from_step__map=F("to_step__map")).exists()
    assert StepLink.objects.filter(kind=StepLink.Kind.LOOP).exists()
    assert StepLink.objects.filter(kind=StepLink.Kind.BRANCH).exists()
    assert Step.objects.filter(is_recurring=True).exists()
    assert set(Step.objects.values_list("emotion", flat=True)) <= {-2, -1, 0, 1, 2}
    assert len(set(Step.objects.values_list("evidence", flat=True))) >= 3


def test_ownership_and_review_staleness(seeded):
    for username in ("olivia", "omar"):
        owned = JourneyMap.objects.filter(owner__username=username)
        assert owned.count() >= 3, username
        assert owned.filter(status=JourneyMap.Status.DRAFT).exists(), username
        assert not owned.exclude(team__user__username=username).exists(), username
    assert JourneyMap.objects.filter(status=JourneyMap.Status.ARCHIVED).exists()

    maps = list(JourneyMap.objects.all())
    overdue = [journey for journey in maps if journey.is_review_due]
    assert 2 <= len(overdue) < len(maps)
    assert any(journey.last_reviewed_at is None for journey in overdue)  # never reviewed
    assert any(journey.last_reviewed_at is not None for journey in overdue)

    for journey in maps:
        reviews = list(journey.reviews.all())
        if journey.last_reviewed_at is None:
            assert not reviews, journey
        else:
            assert reviews, journey
            assert reviews[0].reviewed_at == journey.last_reviewed_at
            assert {review.reviewed_by_id for review in reviews} == {journey.owner_id}


def test_lane_content(seeded):
    assert set(PainPoint.objects.values_list("kind", flat=True)) == set(PainPoint.Kind.values)
    assert not PainPoint.objects.filter(step__isnull=False).exclude(step__map=F("map")).exists()
    pinned = PainPoint.objects.filter(step__isnull=False).count()
    assert pinned > 0.8 * PainPoint.objects.count()
    assert len(set(PainPoint.objects.values_list("evidence", flat=True))) >= 3
    titles = list(PainPoint.objects.values_list("title", flat=True))
    assert len(set(titles)) == len(titles)
    assert not [title for title in titles if title.lower().startswith("pain point")]
    for severity, frequency in PainPoint.objects.values_list("severity", "frequency"):
        assert 1 <= severity <= 5 and 1 <= frequency <= 5

    assert set(LaneItem.objects.values_list("kind", flat=True)) == set(LaneItem.Kind.values)
    assert not LaneItem.objects.filter(step__isnull=False).exclude(step__map=F("map")).exists()
    research = LaneItem.objects.filter(kind=LaneItem.Kind.RESEARCH)
    assert research.exists()
    assert all(
        url.startswith("https://research.example.com/")
        for url in research.values_list("url", flat=True)
    )
    pain_points_per_map = Counter(PainPoint.objects.values_list("map_id", flat=True))
    assert len(pain_points_per_map) == JourneyMap.objects.count()


def test_kpis_measurements_and_ratings(seeded):
    kpis = list(KPI.objects.select_related("step"))
    assert {kpi.perspective for kpi in kpis} == {"business", "customer"}
    assert any(kpi.direction == KPI.Direction.LOWER for kpi in kpis)
    assert any(kpi.target is None for kpi in kpis)
    for kpi in kpis:
        kpi.full_clean()  # target on the right side of the baseline, step on the same map
    maps_with_kpis = {kpi.map_id for kpi in kpis}
    assert len(maps_with_kpis) > JourneyMap.objects.count() / 2

    per_kpi = KPI.objects.annotate(n=Count("measurements")).values_list("n", flat=True)
    assert set(per_kpi) == {12}
    dates = sorted(set(Measurement.objects.values_list("date", flat=True)))
    assert len(dates) == 12
    assert all(day.day == 1 for day in dates)

    factors = QualitativeFactor.objects.all()
    assert {factor.perspective for factor in factors} == {"business", "customer"}
    assert all(1 <= factor.rating <= 5 for factor in factors)
    assert not factors.exclude(rated_by=F("map__owner")).exists()
    rated_maps = set(factors.values_list("map_id", flat=True))
    assert len(rated_maps) > JourneyMap.objects.count() / 2
    assert len(rated_maps) < JourneyMap.objects.count()  # some maps have no ratings


def test_projects(seeded):
    projects = list(CXProject.objects.prefetch_related("maps", "steps", "pain_points"))
    assert 25 <= len(projects) <= 40
    assert {project.status for project in projects} == set(CXProject.Status.values)
    assert {project.owner.username for project in projects} == {"leader", "olivia", "omar"}
    for project in projects:
        project.full_clean()
        assert project.maps.all(), project
        assert project.reach > 0 and project.effort > 0
        assert 1 <= project.impact <= 5 and 0 <= project.confidence <= 100
        if project.start_date and project.end_date:
            assert project.end_date >= project.start_date
        if project.status in (CXProject.Status.DONE, CXProject.Status.CANCELLED):
            assert project.outcome, project
        if project.status != CXProject.Status.IDEA:
            assert project.start_date and project.end_date, project
        map_ids = {journey.pk for journey in project.maps.all()}
        assert {step.map_id for step in project.steps.all()} <= map_ids
        assert {pain_point.map_id for pain_point in project.pain_points.all()} <= map_ids

    # A deliberate overlap: two active projects on the same step, with overlapping dates.
    active = [project for project in projects if project.is_active]
    overlapping = [
        (a, b)
        for i, a in enumerate(active)
        for b in active[i + 1 :]
        if {s.pk for s in a.steps.all()} & {s.pk for s in b.steps.all()}
        and a.start_date <= b.end_date
        and b.start_date <= a.end_date
    ]
    assert overlapping


def test_the_demo_is_a_journeyhub_file_loaded_through_the_importer(seeded):
    from maps.demo import DEMO_FILE

    document = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    assert document["format"] == "journeyhub/1"
    assert len(document["maps"]) == JourneyMap.objects.count() == 15
    lifecycle = JourneyMap.objects.get(slug="customer-lifecycle")
    history = lifecycle.history.earliest()
    assert history.history_user.username == "admin"
    assert history.history_change_reason == "journeyhub/1 import"


def test_a_run_in_a_later_month_moves_the_year_of_measurements_along():
    from maps.demo import seed_demo

    seed_demo(dt.date(2026, 11, 30))
    kpis = KPI.objects.count()
    result = seed_demo(dt.date(2027, 2, 3))  # three months on
    assert result.deleted == 3 * kpis
    per_kpi = set(KPI.objects.annotate(n=Count("measurements")).values_list("n", flat=True))
    assert per_kpi == {12}
    dates = sorted(set(Measurement.objects.values_list("date", flat=True)))
    assert (dates[0], dates[-1]) == (dt.date(2026, 3, 1), dt.date(2027, 2, 1))
    lifecycle = JourneyMap.objects.get(slug="customer-lifecycle")
    assert lifecycle.last_reviewed_at.date() == dt.date(2027, 2, 10)  # 10 Nov + 3 months
