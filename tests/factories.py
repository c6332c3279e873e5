"""factory_boy factories for the repository models."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth.models import Group, User

from maps.models import (
    KPI,
    CXProject,
    JourneyMap,
    LaneItem,
    Measurement,
    MeasurementObservation,
    PainPoint,
    Persona,
    QualitativeFactor,
    Stage,
    Step,
    StepLink,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "journeyhub")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*extracted)
        if create:
            self.save()


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class PersonaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Persona

    name = factory.Sequence(lambda n: f"Persona {n}")
    slug = factory.Sequence(lambda n: f"persona-{n}")


class JourneyMapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JourneyMap
        skip_postgeneration_save = True  # personas are links: the map needs no second save

    title = factory.Sequence(lambda n: f"Journey {n:05d}")
    slug = factory.Sequence(lambda n: f"journey-{n}")
    owner = factory.SubFactory(UserFactory)
    status = JourneyMap.Status.PUBLISHED

    @factory.post_generation
    def personas(self, create, extracted, **kwargs):
        if create and extracted:
            self.personas.add(*extracted)


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    map = factory.SubFactory(JourneyMapFactory)
    name = factory.Sequence(lambda n: f"Stage {n}")
    position = factory.Sequence(lambda n: n)


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Step

    map = factory.SubFactory(JourneyMapFactory)
    key = factory.Sequence(lambda n: f"step-{n}")
    name = factory.Sequence(lambda n: f"Step {n}")
    position = factory.Sequence(lambda n: n)


class StepLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StepLink

    from_step = factory.SubFactory(StepFactory)
    to_step = factory.SubFactory(StepFactory, map=factory.SelfAttribute("..from_step.map"))
    kind = StepLink.Kind.LOOP


class PainPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PainPoint

    map = factory.SubFactory(JourneyMapFactory)
    title = factory.Sequence(lambda n: f"Pain point {n}")
    severity = 3
    frequency = 3


class LaneItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LaneItem

    map = factory.SubFactory(JourneyMapFactory)
    title = factory.Sequence(lambda n: f"Insight {n}")
    kind = LaneItem.Kind.INSIGHT


class KPIFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KPI

    map = factory.SubFactory(JourneyMapFactory)
    name = factory.Sequence(lambda n: f"KPI {n}")
    baseline = 50.0
    target = 80.0


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    kpi = factory.SubFactory(KPIFactory)
    date = factory.Sequence(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=n))
    value = 60.0


class QualitativeFactorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QualitativeFactor

    map = factory.SubFactory(JourneyMapFactory)
    name = factory.Sequence(lambda n: f"Factor {n}")
    rating = 3


class CXProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CXProject
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Project {n}")
    owner = factory.SubFactory(UserFactory)
    reach = 1000
    impact = 3
    confidence = 80
    effort = 4.0

    @factory.post_generation
    def maps(self, create, extracted, **kwargs):
        if create and extracted:
            self.maps.add(*extracted)

    @factory.post_generation
    def steps(self, create, extracted, **kwargs):
        if create and extracted:
            self.steps.add(*extracted)

    @factory.post_generation
    def pain_points(self, create, extracted, **kwargs):
        if create and extracted:
            self.pain_points.add(*extracted)


class MeasurementObservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeasurementObservation

    kpi = factory.SubFactory(KPIFactory)
    date = dt.date(2026, 1, 31)
    value = 60.0
