"""Model rules: the validation messages users see and the database constraints behind them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from maps.models import JourneyMap, PainPoint, Step, VocabularyTerm
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
    QualitativeFactorFactory,
    StageFactory,
    StepFactory,
    StepLinkFactory,
)

pytestmark = pytest.mark.django_db


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


class TestJourneyMapTree:
    def test_parent_step_must_belong_to_the_parent_map(self):
        lifecycle = JourneyMapFactory(title="Lifecycle")
        elsewhere = StepFactory(name="Pay a bill", map=JourneyMapFactory(title="Pay"))
        child = JourneyMapFactory.build(
            title="Onboard",
            slug="onboard",
            owner=lifecycle.owner,
            parent=lifecycle,
            parent_step=elsewhere,
        )
        with pytest.raises(ValidationError) as exc:
            child.full_clean()
        assert errors_of(exc)["parent_step"] == [
            "The step “Pay a bill” belongs to the map “Pay”, not to the parent map “Lifecycle”."
        ]

    def test_parent_step_of_the_parent_is_accepted(self):
        lifecycle = JourneyMapFactory(title="Lifecycle")
        join = StepFactory(map=lifecycle, name="Join")
        child = JourneyMapFactory(parent=lifecycle, parent_step=join)
        child.full_clean()
        assert list(join.sub_maps.all()) == [child]
        assert child.level == 1

    def test_parent_step_needs_a_parent(self):
        step = StepFactory()
        orphan = JourneyMapFactory.build(slug="orphan", owner=step.map.owner, parent_step=step)
        with pytest.raises(ValidationError) as exc:
            orphan.full_clean()
        assert "choose a parent first" in errors_of(exc)["parent_step"][0]

    def test_a_map_cannot_become_its_own_ancestor(self):
        top = JourneyMapFactory(title="Lifecycle")
        middle = JourneyMapFactory(title="Onboard", parent=top)
        bottom = JourneyMapFactory(title="Verify identity", parent=middle)
        top.parent = bottom
        with pytest.raises(ValidationError) as exc:
            top.full_clean()
        assert errors_of(exc)["parent"] == [
            "A map cannot become its own ancestor: “Verify identity” lies inside “Lifecycle”. "
            "Choose a parent outside this map's subtree."
        ]

    def test_a_map_cannot_be_its_own_parent(self):
        journey = JourneyMapFactory()
        journey.parent = journey
        with pytest.raises(ValidationError) as exc:
            journey.full_clean()
        assert errors_of(exc)["parent"] == ["A map cannot be its own parent."]

    def test_review_every_days_must_be_positive_in_the_database(self):
        journey = JourneyMapFactory()
        JourneyMap.objects.filter(pk=journey.pk)
        with pytest.raises(IntegrityError), transaction.atomic():
            JourneyMap.objects.filter(pk=journey.pk).update(review_every_days=0)

    def test_slug_is_unique(self):
        JourneyMapFactory(slug="onboard")
        with pytest.raises(IntegrityError), transaction.atomic():
            JourneyMapFactory(slug="onboard")

    def test_review_is_due_when_last_review_is_older_than_the_cadence(self):
        now = timezone.now()
        fresh = JourneyMapFactory(
            review_every_days=30, last_reviewed_at=now - dt.timedelta(days=29)
        )
        stale = JourneyMapFactory(
            review_every_days=30, last_reviewed_at=now - dt.timedelta(days=31)
        )
        never = JourneyMapFactory(review_every_days=30)
        never.created_at = now - dt.timedelta(days=40)
        never.save()
        assert not fresh.is_review_due
        assert stale.is_review_due
        assert never.is_review_due

    def test_history_is_kept_without_the_tree_fields(self):
        journey = JourneyMapFactory(title="Pay")
        journey.title = "Pay and transfer"
        journey.save()
        titles = list(journey.history.values_list("title", flat=True))
        assert titles == ["Pay and transfer", "Pay"]


class TestStepsAndLinks:
    def test_step_key_is_unique_within_a_map(self):
        step = StepFactory(key="apply")
        StepFactory(key="apply")  # another map may reuse it
        duplicate = Step(map=step.map, key="apply", name="Apply again")
        with pytest.raises(ValidationError) as exc:
            duplicate.full_clean()
        assert errors_of(exc)["__all__"] == ["Another step of this map already uses this key."]

    def test_emotion_outside_minus_two_to_plus_two_is_refused(self):
        step = StepFactory.build(map=JourneyMapFactory(), emotion=3)
        with pytest.raises(ValidationError) as exc:
            step.full_clean()
        assert errors_of(exc) == {"emotion": ["Emotion must be between -2 and 2."]}

    def test_stage_must_be_on_the_same_map(self):
        stage = StageFactory(name="Join")
        step = StepFactory.build(map=JourneyMapFactory(), stage=stage)
        with pytest.raises(ValidationError) as exc:
            step.full_clean()
        assert errors_of(exc)["stage"] == ["The stage “Join” belongs to another map."]

    def test_link_between_maps_is_refused(self):
        link = StepLinkFactory.build(from_step=StepFactory(), to_step=StepFactory())
        with pytest.raises(ValidationError) as exc:
            link.full_clean()
        assert errors_of(exc)["to_step"] == ["Both steps of a link must be on the same map."]

    def test_a_step_cannot_link_to_itself(self):
        step = StepFactory()
        link = StepLinkFactory.build(from_step=step, to_step=step)
        with pytest.raises(ValidationError) as exc:
            link.full_clean()
        assert "mark it as recurring instead" in errors_of(exc)["__all__"][0]

    def test_a_loop_back_is_stored(self):
        link = StepLinkFactory(kind="loop")
        assert list(link.from_step.links_out.all()) == [link]
        assert list(link.to_step.links_in.all()) == [link]


class TestPainPoints:
    @pytest.mark.parametrize("severity", [0, 6])
    def test_severity_outside_one_to_five_is_refused(self, severity):
        pain = PainPointFactory.build(map=JourneyMapFactory(), severity=severity)
        with pytest.raises(ValidationError) as exc:
            pain.full_clean()
        assert errors_of(exc) == {"severity": ["Severity must be between 1 and 5."]}

    def test_severity_constraint_holds_in_the_database(self):
        pain = PainPointFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            PainPoint.objects.filter(pk=pain.pk).update(severity=9)

    def test_frequency_outside_one_to_five_is_refused(self):
        pain = PainPointFactory.build(map=JourneyMapFactory(), frequency=0)
        with pytest.raises(ValidationError) as exc:
            pain.full_clean()
        assert errors_of(exc) == {"frequency": ["Frequency must be between 1 and 5."]}

    def test_step_must_be_on_the_same_map(self):
        pain = PainPointFactory.build(map=JourneyMapFactory(), step=StepFactory(name="Apply"))
        with pytest.raises(ValidationError) as exc:
            pain.full_clean()
        assert errors_of(exc)["step"] == [
            "The step “Apply” is on another map; pin the item to a step of its own map."
        ]

    def test_score_is_severity_times_frequency(self):
        assert PainPointFactory.build(severity=4, frequency=5).score == 20

    def test_every_change_is_in_the_history(self):
        pain = PainPointFactory(severity=2)
        pain.severity = 5
        pain.save()
        assert list(pain.history.values_list("severity", flat=True)) == [5, 2]


class TestKPIs:
    def test_higher_is_better_needs_a_target_above_baseline(self):
        kpi = KPIFactory.build(map=JourneyMapFactory(), baseline=40, target=30, direction="higher")
        with pytest.raises(ValidationError) as exc:
            kpi.full_clean()
        assert errors_of(exc)["target"] == [
            "Higher is better, so the target must be above the baseline (40); "
            "or switch the direction to lower is better."
        ]

    def test_lower_is_better_needs_a_target_below_baseline(self):
        kpi = KPIFactory.build(map=JourneyMapFactory(), baseline=5, target=8, direction="lower")
        with pytest.raises(ValidationError) as exc:
            kpi.full_clean()
        assert "target must be below the baseline (5)" in errors_of(exc)["target"][0]

    def test_a_kpi_without_target_is_valid(self):
        KPIFactory.build(map=JourneyMapFactory(), target=None).full_clean()

    def test_weight_must_be_positive(self):
        kpi = KPIFactory.build(map=JourneyMapFactory(), weight=0)
        with pytest.raises(ValidationError) as exc:
            kpi.full_clean()
        assert errors_of(exc) == {"weight": ["Weight must be greater than 0."]}

    def test_one_measurement_per_kpi_and_date(self):
        first = MeasurementFactory(date=dt.date(2026, 3, 1))
        with pytest.raises(IntegrityError), transaction.atomic():
            MeasurementFactory(kpi=first.kpi, date=dt.date(2026, 3, 1))


class TestProjectsAndRatings:
    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("impact", 6, "Impact must be between 1 and 5."),
            ("confidence", 101, "Confidence must be between 0 and 100%."),
            ("effort", 0, "Effort must be at least 0.1 person-weeks."),
        ],
    )
    def test_ranges_are_refused_with_a_message(self, field, value, message):
        project = CXProjectFactory.build(owner=JourneyMapFactory().owner, **{field: value})
        with pytest.raises(ValidationError) as exc:
            project.full_clean()
        assert errors_of(exc) == {field: [message]}

    def test_end_date_cannot_precede_start(self):
        project = CXProjectFactory.build(
            owner=JourneyMapFactory().owner,
            start_date=dt.date(2026, 5, 1),
            end_date=dt.date(2026, 4, 1),
        )
        with pytest.raises(ValidationError) as exc:
            project.full_clean()
        assert errors_of(exc)["end_date"] == ["The end date cannot be before the start date."]

    def test_linked_maps_are_in_the_project_history(self):
        journey = JourneyMapFactory()
        project = CXProjectFactory(maps=[journey])
        assert project.history.count() >= 1
        assert list(journey.projects.all()) == [project]

    def test_rating_outside_one_to_five_is_refused(self):
        factor = QualitativeFactorFactory.build(map=JourneyMapFactory(), rating=0)
        with pytest.raises(ValidationError) as exc:
            factor.full_clean()
        assert errors_of(exc) == {"rating": ["Rating must be between 1 and 5."]}


class TestVocabulary:
    def test_unknown_terms_are_refused(self):
        with pytest.raises(ValidationError) as exc:
            VocabularyTerm(key="painpoint", label="Friction").full_clean()
        assert errors_of(exc)["key"][0].startswith("Unknown term “painpoint”. Known terms:")
