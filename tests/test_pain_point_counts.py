"""MapPainPointCounts: each map's pain points and how many a CX project addresses, kept by
database triggers (maps.derived.pain_point_counts) and summed by the home page.

Every test compares the stored rows with the live count (the pain points and their links
counted by the ORM) after each kind of write that can change it. The file runs on SQLite
here and on PostgreSQL under ``make test-postgres``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count, Exists, OuterRef

from governance import reviews
from maps.models import CXProject, JourneyMap, MapPainPointCounts, PainPoint
from tests.builders import trigger_names
from tests.factories import CXProjectFactory, JourneyMapFactory, PainPointFactory

pytestmark = pytest.mark.django_db

Links = CXProject.pain_points.through


def live_counts() -> dict[int, tuple[int, int]]:
    """Every map with pain points: (total, addressed) counted from the rows themselves."""
    linked = Links.objects.filter(painpoint_id=OuterRef("pk"))
    rows = (
        PainPoint.objects.annotate(linked=Exists(linked))
        .values("map_id")
        .annotate(total=Count("pk"), addressed=Count("pk", filter=Exists(linked)))
        .order_by()
    )
    return {r["map_id"]: (r["total"], r["addressed"]) for r in rows}


def stored_counts() -> dict[int, tuple[int, int]]:
    """The stored rows, less those of maps whose pain points are all gone (a row at
    zero is the same answer as no row)."""
    rows = MapPainPointCounts.objects.values_list("map_id", "total", "addressed")
    return {m: (t, a) for m, t, a in rows if (t, a) != (0, 0)}


def assert_exact() -> None:
    assert stored_counts() == live_counts()


@pytest.fixture
def maps(owner, other_owner):
    return JourneyMapFactory(owner=owner), JourneyMapFactory(owner=other_owner)


@pytest.fixture
def pains(maps):
    a, b = maps
    return [PainPointFactory(map=a) for _ in range(4)] + [PainPointFactory(map=b) for _ in range(3)]


class TestTriggersKeepTheCounts:
    def test_a_map_without_pain_points_reads_as_zero(self, maps):
        assert MapPainPointCounts.objects.count() == 0
        assert MapPainPointCounts.objects.unaddressed_in(JourneyMap.objects.all()) == 0

    def test_create_and_bulk_create_count_each_pain_point(self, maps, pains):
        a, b = maps
        PainPoint.objects.bulk_create([PainPoint(map=b, title=f"Bulk {i}") for i in range(5)])
        assert stored_counts() == {a.pk: (4, 0), b.pk: (8, 0)}
        assert_exact()

    def test_links_count_a_pain_point_once_however_many_projects_address_it(self, owner, pains):
        first, second = CXProjectFactory(owner=owner), CXProjectFactory(owner=owner)
        first.pain_points.add(pains[0], pains[1], pains[4])
        second.pain_points.add(pains[0])
        assert stored_counts()[pains[0].map_id] == (4, 2)
        assert stored_counts()[pains[4].map_id] == (3, 1)
        second.pain_points.remove(pains[0])  # still addressed by the first
        assert stored_counts()[pains[0].map_id] == (4, 2)
        first.pain_points.remove(pains[0])
        assert stored_counts()[pains[0].map_id] == (4, 1)
        first.pain_points.set([pains[2], pains[3], pains[5], pains[6]])
        assert_exact()
        first.pain_points.clear()
        assert_exact()

    def test_links_written_in_one_statement_for_the_same_pain_point(self, owner, pains):
        # PostgreSQL runs the row triggers after the whole statement
        projects = [CXProjectFactory(owner=owner) for _ in range(3)]
        Links.objects.bulk_create(
            [Links(cxproject=p, painpoint=pains[1]) for p in projects]
            + [Links(cxproject=projects[0], painpoint=pains[5])]
        )
        assert stored_counts()[pains[1].map_id] == (4, 1)
        assert_exact()
        Links.objects.filter(painpoint=pains[1]).delete()
        assert stored_counts()[pains[1].map_id] == (4, 0)
        assert_exact()

    def test_a_pain_point_moved_to_another_map_moves_its_counts(self, owner, maps, pains):
        a, b = maps
        CXProjectFactory(owner=owner, pain_points=[pains[0], pains[1]])
        pains[0].map = b
        pains[0].save()
        assert stored_counts() == {a.pk: (3, 1), b.pk: (4, 1)}
        PainPoint.objects.filter(pk__in=[pains[1].pk, pains[2].pk]).update(map=b)
        assert stored_counts() == {a.pk: (1, 0), b.pk: (6, 2)}
        third = JourneyMapFactory(owner=owner)  # a map with no row yet
        PainPoint.objects.filter(map=b).update(map=third)
        assert stored_counts() == {a.pk: (1, 0), third.pk: (6, 2)}
        assert_exact()

    def test_saving_a_pain_point_in_place_changes_nothing(self, owner, pains):
        CXProjectFactory(owner=owner, pain_points=[pains[0]])
        before = stored_counts()
        pains[0].title = "Renamed"
        pains[0].save()
        PainPoint.objects.update(severity=5)
        assert stored_counts() == before
        assert_exact()

    def test_deletes_of_pain_points_with_and_without_links(self, owner, maps, pains):
        a, b = maps
        CXProjectFactory(owner=owner, pain_points=[pains[0], pains[1], pains[4]])
        pains[0].delete()
        PainPoint.objects.filter(pk__in=[pains[4].pk, pains[5].pk]).delete()
        assert stored_counts() == {a.pk: (3, 1), b.pk: (1, 0)}
        assert_exact()

    def test_deleting_a_project_unaddresses_its_pain_points(self, owner, pains):
        project = CXProjectFactory(owner=owner, pain_points=pains[:3])
        CXProjectFactory(owner=owner, pain_points=[pains[0]])
        project.delete()
        assert stored_counts()[pains[0].map_id] == (4, 1)
        CXProject.objects.all().delete()
        assert_exact()

    def test_deleting_a_map_deletes_its_row_and_leaves_the_others_exact(self, owner, maps, pains):
        a, b = maps
        CXProjectFactory(owner=owner, pain_points=[pains[0], pains[4]])
        a.delete()
        assert stored_counts() == {b.pk: (3, 1)}
        assert not MapPainPointCounts.objects.filter(map_id=a.pk).exists()
        assert_exact()

    def test_raw_sql_writes_are_followed(self, owner, maps, pains):
        a, b = maps
        project = CXProjectFactory(owner=owner)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO maps_cxproject_pain_points (cxproject_id, painpoint_id) "
                "VALUES (%s, %s), (%s, %s)",
                [project.pk, pains[0].pk, project.pk, pains[1].pk],
            )
            assert stored_counts() == {a.pk: (4, 2), b.pk: (3, 0)}
            # a link repointed to a pain point of the other map
            cursor.execute(
                "UPDATE maps_cxproject_pain_points SET painpoint_id = %s WHERE painpoint_id = %s",
                [pains[4].pk, pains[1].pk],
            )
            assert stored_counts() == {a.pk: (4, 1), b.pk: (3, 1)}
            # a pain point deleted before its links (foreign keys are checked at commit)
            cursor.execute("DELETE FROM maps_painpoint WHERE id = %s", [pains[0].pk])
            assert stored_counts() == {a.pk: (3, 0), b.pk: (3, 1)}
            cursor.execute(
                "DELETE FROM maps_cxproject_pain_points WHERE painpoint_id = %s", [pains[0].pk]
            )
        assert_exact()


class TestTheHomeCount:
    def test_it_equals_the_count_of_the_queryset_for_each_scope(self, owner, other_owner, pains):
        CXProjectFactory(owner=owner, status="cancelled", pain_points=[pains[0], pains[4]])
        PainPointFactory(map=JourneyMapFactory(owner=owner, status="archived"))
        for scope in (
            JourneyMap.objects.all(),  # leadership: no filter
            JourneyMap.objects.filter(owner=owner),
            JourneyMap.objects.filter(owner=other_owner),
            JourneyMap.objects.none(),
        ):
            expected = reviews.pain_points_without_project(scope).count()
            assert MapPainPointCounts.objects.unaddressed_in(scope) == expected
        assert MapPainPointCounts.objects.unaddressed_in(JourneyMap.objects.all()) == 6


def test_the_triggers_exist_after_every_migration():
    # maps.derived installs them after every migrate, whatever it rebuilt
    # (tests/test_derived_triggers.py runs such migrations)
    names = trigger_names()
    expected = (
        {
            "maps_painpoint_counts_on_insert",
            "maps_painpoint_counts_on_delete",
            "maps_painpoint_counts_on_move",
            "maps_painpoint_link_counts_on_insert",
            "maps_painpoint_link_counts_on_delete",
            "maps_painpoint_link_counts_on_update",
        }
        if connection.vendor == "sqlite"
        else {"maps_painpoint_counts", "maps_painpoint_link_counts"}
    )
    assert expected <= names
