"""The map page's small reads compiled once per process (#16): each gives what the
queryset it replaced gives, and sees a change made after it was first used (nothing of
the data is kept between calls, only the SQL); statements compiled once run with named
placeholders on SQLite (``maps.sql.named_placeholders``) and give the ORM's rows."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db.models import JSONField
from django.db.models.expressions import RawSQL
from django.test import RequestFactory
from django.utils import timezone

from governance import permissions, scoring
from governance.models import ScorecardWeights
from governance.weights import singleton_update
from maps import sql
from maps.analytics import latest_event_result
from maps.editor import grid_context
from maps.models import EventImport, LaneItem, Step, VocabularyTerm
from maps.models.vocabulary import DEFAULT_TERMS
from maps.precompiled import Precompiled
from maps.sql import Prepared, named_placeholders, with_names
from maps.vocabulary import vocabulary_labels
from tests.factories import (
    JourneyMapFactory,
    LaneItemFactory,
    QualitativeFactorFactory,
    StepFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _orm_latest(journey_map) -> tuple:
    latest = (
        EventImport.objects.filter(map=journey_map, status=EventImport.Status.DONE)
        .order_by("-created_at", "-pk")
        .values_list("pk", "result")
        .first()
    )
    return latest if latest and latest[1] else (None, {})


def test_latest_event_result_is_the_querysets_and_follows_new_imports():
    journey, other = JourneyMapFactory(), JourneyMapFactory()
    assert latest_event_result(journey) == (None, {}) == _orm_latest(journey)
    EventImport.objects.create(map=journey, file="event-logs/a.csv", status="failed")
    EventImport.objects.create(map=journey, file="event-logs/e.csv", status="done", result={})
    assert latest_event_result(journey) == (None, {}) == _orm_latest(journey)
    first = EventImport.objects.create(
        map=journey, file="event-logs/b.csv", status="done", result={"steps": [1]}
    )
    assert latest_event_result(journey) == (first.pk, {"steps": [1]}) == _orm_latest(journey)
    # the same creation time: the higher id is the later one
    tie = EventImport.objects.create(
        map=journey, file="event-logs/c.csv", status="done", result={"steps": [2]}
    )
    EventImport.objects.filter(pk__in=[first.pk, tie.pk]).update(created_at=timezone.now())
    assert latest_event_result(journey) == (tie.pk, {"steps": [2]}) == _orm_latest(journey)
    EventImport.objects.filter(pk=first.pk).update(
        created_at=timezone.now() + dt.timedelta(hours=1)
    )
    assert latest_event_result(journey) == _orm_latest(journey)
    assert latest_event_result(journey)[0] == first.pk
    assert latest_event_result(other) == (None, {}) == _orm_latest(other)


def test_vocabulary_labels_are_read_on_every_call():
    assert vocabulary_labels() == DEFAULT_TERMS
    term = VocabularyTerm.objects.create(key="pain_point", label="Friction")
    assert vocabulary_labels() == {**DEFAULT_TERMS, "pain_point": "Friction"}
    term.label = "Irritant"
    term.save()
    VocabularyTerm.objects.create(key="not_a_default", label="Extra")
    assert vocabulary_labels() == {
        **DEFAULT_TERMS,
        "pain_point": "Irritant",
        "not_a_default": "Extra",
    }


def test_a_users_groups_and_leadership_are_the_related_managers():
    leadership = Group.objects.create(name=settings.JOURNEYHUB_LEADERSHIP_GROUP)
    team = Group.objects.create(name="Team A")
    user = UserFactory()
    assert permissions._group_ids(user) == frozenset()
    assert not permissions.is_leadership(user)
    user.groups.add(team)
    fresh = User.objects.get(pk=user.pk)  # the cache is per user object (one request)
    assert permissions._group_ids(fresh) == frozenset(fresh.groups.values_list("pk", flat=True))
    assert not permissions.is_leadership(fresh)
    user.groups.add(leadership)
    fresh = User.objects.get(pk=user.pk)
    assert permissions._group_ids(fresh) == {team.pk, leadership.pk}
    assert permissions.is_leadership(fresh)
    assert permissions._group_ids(UserFactory()) == frozenset()


def test_the_header_health_uses_the_current_weights():
    owner = UserFactory()
    journey = JourneyMapFactory(owner=owner)
    # two quadrants with different scores: their weights change the health
    QualitativeFactorFactory(map=journey, perspective="business", rating=1)
    QualitativeFactorFactory(map=journey, perspective="customer", rating=5)
    request = RequestFactory().get(journey.get_absolute_url())
    request.user = owner

    def shown() -> float | None:
        return grid_context(request, journey)["scorecard"].health

    before = shown()
    assert before is not None
    assert before == scoring.health_values([journey.pk])[journey.pk]
    current = scoring.current_weights()
    values = dict.fromkeys(ScorecardWeights.FIELDS, 0.0)
    values["qualitative_customer"] = 1.0  # the customer rating alone
    singleton_update(
        ScorecardWeights, by=None, expected_version=current.version or 1, values=values, noun="w"
    )
    assert shown() == scoring.health_values([journey.pk])[journey.pk]
    assert shown() != before


def test_named_placeholders_keep_literal_percents_and_the_parameters_order():
    sql = "SELECT '%%s', a FROM t WHERE b = %s AND c LIKE '5%%' AND d IN (%s, %s)"
    named, names = named_placeholders(sql, "sqlite")
    assert names == ("p0", "p1", "p2")
    assert named == (
        "SELECT '%%s', a FROM t WHERE b = %(p0)s AND c LIKE '5%%' AND d IN (%(p1)s, %(p2)s)"
    )
    assert with_names([7, 8, 9], names) == {"p0": 7, "p1": 8, "p2": 9}
    assert named_placeholders(sql, "postgresql") == (sql, None)
    assert with_names([7, 8, 9], None) == [7, 8, 9]


def test_statements_with_named_placeholders_give_the_orms_rows():
    """Prepared and Precompiled statements (run with named placeholders on SQLite) give
    what the queryset gives, a literal ``%`` in the SQL and ``%`` in a value included."""
    journey = JourneyMapFactory()
    steps = [StepFactory(map=journey, name=name) for name in ("50% off", "plain", "%s")]
    StepFactory(name="50% off")  # another map's

    def rows(map_id: int):
        return (
            Step.objects.filter(map=map_id, name__contains="%")
            .annotate(literal=RawSQL("'100%%'", ()))
            .order_by("pk")
            .values_list("pk", "name", "literal")
        )

    assert Prepared(rows).rows(journey.pk) == list(rows(journey.pk))
    assert [row[1] for row in Prepared(rows).rows(journey.pk)] == ["50% off", "%s"]

    def objects(name: str):
        return Step.objects.filter(name=name, map__title__contains="%").order_by("pk")

    journey.title = "100% map"
    journey.save()
    for name in ("50% off", "%s", "plain"):
        found = Precompiled(objects, args=(str,)).objects(name)
        assert found == list(objects(name))
    assert Precompiled(objects, args=(str,)).objects("%s") == [steps[2]]


def test_json_values_read_by_a_prepared_statement_are_the_orms():
    journey = JourneyMapFactory()
    values = [[], {}, ["https://example.com/a"], {"a": [1, 2]}, "[]", [[]], 3]
    items = [LaneItemFactory(map=journey, external_links=value) for value in values]

    def links(map_id: int):
        queryset = LaneItem.objects.filter(map=map_id).order_by("pk")
        return queryset.values_list("pk", "external_links")

    rows = Prepared(links).rows(journey.pk)
    assert rows == [list(row) for row in links(journey.pk)]
    assert [row[1] for row in rows] == values
    assert rows[0][1] is not rows[-1][1]
    empty = [row[1] for row in Prepared(links).rows(journey.pk) if row[1] == []]
    assert len(empty) == 1 and empty[0] is not rows[0][1]  # a new list each time
    assert [item.pk for item in items] == [row[0] for row in rows]


def test_a_json_field_with_its_own_decoder_keeps_its_converter():
    class Decoder(json.JSONDecoder):
        pass

    plain, decoded = JSONField(), JSONField(decoder=Decoder)
    assert sql._faster(decoded.from_db_value) == decoded.from_db_value
    assert sql._faster(plain.from_db_value) != plain.from_db_value
    assert sql._faster(plain.from_db_value)("[]", None, None) == []
    assert sql._faster(plain.from_db_value)('{"a": []}', None, None) == {"a": []}
    assert sql._faster(plain.from_db_value)(None, None, None) is None
