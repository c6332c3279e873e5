"""The map page around its grid, read fast (#16): the map and its ancestors from
precompiled queries, the reader's grants on them read once for the page, the discussion
panel told by the card counts whether any thread is open, the map's drafts read
without the reader's filter. Each fast path gives what the slow one gave."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from governance import comments, permissions
from governance.models import ExternalMap
from governance.scoring import health_by_map
from maps.future_state import map_states
from maps.models import JourneyMap
from maps.selectors import map_for_display, map_for_page
from tests.factories import (
    GroupFactory,
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PersonaFactory,
    QualitativeFactorFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db
Status = JourneyMap.Status


@pytest.fixture
def chain(owner, other_owner):
    """A draft lifecycle map of Omar's, a published journey under it zooming into one of
    its steps, and a draft task map of Omar's under that: top first."""
    top = JourneyMapFactory(title="Lifecycle", owner=other_owner, status=Status.DRAFT)
    step = StepFactory(map=top, name="Join")
    journey = JourneyMapFactory(
        title="Open an account",
        owner=other_owner,
        parent=top,
        parent_step=step,
        personas=[PersonaFactory(name="Saver"), PersonaFactory(name="Borrower")],
        status=Status.PUBLISHED,
    )
    task = JourneyMapFactory(title="Verify", owner=other_owner, parent=journey, status=Status.DRAFT)
    ExternalMap.objects.create(
        title="Old onboarding board",
        tool="miro",
        link="https://miro.example/b/1",
        status="migrated",
        migrated_to=journey,
        owner=other_owner,
    )
    return [JourneyMap.objects.get(pk=m.pk) for m in (top, journey, task)]


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_the_precompiled_map_equals_the_orms_with_its_relations_and_ancestors(chain):
    top, journey, task = chain
    for target, ancestors in ((top, []), (journey, [top]), (task, [top, journey])):
        fast, fast_ancestors = map_for_page(target.slug)
        slow = map_for_display(JourneyMap.objects.all(), target.slug)
        assert _fields(fast) == _fields(slow)
        assert [a.pk for a in fast_ancestors] == [a.pk for a in ancestors]
        assert [_fields(a) for a in fast_ancestors] == [_fields(a) for a in ancestors]
        assert _fields(fast.owner) == _fields(slow.owner)
        assert fast.team == slow.team
        assert (fast.parent_step and _fields(fast.parent_step)) == (
            slow.parent_step and _fields(slow.parent_step)
        )
        if slow.parent_id:
            assert _fields(fast.parent) == _fields(slow.parent)
        with CaptureQueriesContext(connection) as queries:
            personas = [p.name for p in fast.personas.all()]
            migrated = [e.title for e in fast.migrated_from.all()]
            if fast.parent_step_id:
                assert fast.parent_step.map == slow.parent_step.map
        assert len(queries) == 0  # read with the map
        assert personas == [p.name for p in slow.personas.all()]
        assert migrated == [e.title for e in slow.migrated_from.all()]
    assert map_for_page("no-such-map") is None
    assert [p.name for p in map_for_page(journey.slug)[0].personas.all()] == ["Borrower", "Saver"]


def test_the_grants_read_once_answer_as_the_queries_do(chain, viewer, team_member, leader):
    """A user grant on the top map (covering all), a group view grant on the journey, an
    edit grant on the task only, and none: each map's may-see and may-edit equal
    visible_maps / editable_maps read by the database."""
    top, journey, task = chain
    auditors = GroupFactory(name="Auditors")
    team_member.groups.add(auditors)
    assign_perm("view_journeymap", auditors, journey)
    assign_perm("change_journeymap", viewer, top)
    editor = type(viewer).objects.create(username="ed")
    assign_perm("change_journeymap", editor, task)
    for username in ("vic", "tess", "ed", "leader"):
        user = type(viewer).objects.get(username=username)
        visible = set(permissions.visible_maps(user).values_list("pk", flat=True))
        editable = set(permissions.editable_maps(user).values_list("pk", flat=True))
        user = type(viewer).objects.get(username=username)  # nothing cached
        with permissions.grants_memoised(user):
            permissions.grants_read_together(user, chain)
            with CaptureQueriesContext(connection) as queries:
                seen = {m.pk for m in chain if permissions.can_view_map(user, m)}
                edited = {m.pk for m in chain if permissions.can_edit_map(user, m)}
        assert seen == visible & {m.pk for m in chain}, username
        assert edited == editable & {m.pk for m in chain}, username
        # beside the user's groups, one read of the grants at most, whatever was asked
        grants = [q for q in queries if "objectpermission" in q["sql"]]
        assert len(grants) <= 1, username
        assert len(queries) - len(grants) <= 2, username  # the groups (and leadership)


def test_a_memoised_grant_never_outlives_its_block_nor_reaches_another_user(chain, viewer):
    top, _journey, task = chain
    other = type(viewer).objects.get(pk=viewer.pk)  # the same person, another request
    with permissions.grants_memoised(viewer):
        permissions.grants_read_together(viewer, chain)
        assert not permissions.can_view_map(viewer, task)
        assign_perm("view_journeymap", viewer, top)
        assert permissions.can_view_map(other, task)  # not memoised: its own answer
        assert not permissions.can_view_map(viewer, task)  # this page's answer
    assert not hasattr(viewer, "_journeyhub_grant_memo")
    assert permissions.can_view_map(viewer, task)  # read again after the block


def test_the_map_page_reads_grants_once_and_hides_what_the_reader_may_not_see(
    client, chain, viewer
):
    top, journey, task = chain
    client.force_login(viewer)
    assert client.get(task.get_absolute_url()).status_code == 404
    page = client.get(journey.get_absolute_url()).text
    assert 'class="crumb-hidden"' in page and "Lifecycle" not in page
    assert "Zooms into" not in page  # its parent is hidden
    assert "Old onboarding board" in page  # migrated from
    assign_perm("view_journeymap", viewer, top)
    page = client.get(task.get_absolute_url()).text
    assert ">Lifecycle</a>" in page and ">Open an account</a>" in page
    assert 'class="crumb-hidden"' not in page


def test_the_open_thread_count_read_with_the_card_counts_equals_the_panels(
    client, team_map, owner, viewer
):
    def counted():
        counts = comments.comment_counts_for_map(team_map)
        return counts.open_threads, comments.open_thread_count(team_map), dict(counts)

    assert counted() == (0, 0, {})
    first = comments.comment_create(journey_map=team_map, author=owner, body="Still current?")
    reply = comments.comment_create(journey_map=team_map, author=viewer, body="Yes", parent=first)
    second = comments.comment_create(journey_map=team_map, author=viewer, body="Typo")
    assert counted() == (2, 2, {("map", None): 3})
    comments.comment_remove(comment=second, by=viewer)  # its thread stays open
    assert counted() == (2, 2, {("map", None): 2})
    comments.thread_set_resolved(thread=first, by=owner, resolved=True)
    comments.comment_remove(comment=reply, by=viewer)
    assert counted() == (1, 1, {("map", None): 1})
    client.force_login(viewer)
    assert (
        'Discussion <span class="count">1 open</span>'
        in client.get(team_map.get_absolute_url()).text
    )
    comments.thread_set_resolved(thread=second, by=owner, resolved=True)
    assert counted() == (0, 0, {("map", None): 1})
    with CaptureQueriesContext(connection) as queries:
        page = client.get(team_map.get_absolute_url()).text
    assert "No open threads." in page
    assert not any('"governance_comment"."body"' in q["sql"] for q in queries)  # none read


def test_drafts_beside_a_map_read_fast_are_those_the_reader_may_see(
    owner, other_owner, viewer, leader
):
    current = JourneyMapFactory(title="Pay a bill", owner=owner, status=Status.PUBLISHED)
    future = JourneyMapFactory(
        title="Pay a bill (future)",
        owner=other_owner,
        state=JourneyMap.State.FUTURE,
        state_of=current,
        status=Status.DRAFT,
    )
    shared = JourneyMapFactory(
        title="Pay a bill (scenario: app)",
        owner=other_owner,
        state=JourneyMap.State.SCENARIO,
        scenario_label="app",
        state_of=current,
        status=Status.DRAFT,
    )
    assign_perm("view_journeymap", viewer, shared)
    for user in (owner, other_owner, viewer, leader):
        user = type(user).objects.get(pk=user.pk)
        visible = permissions.visible_maps(user)
        expected = list(
            visible.filter(state_of=current).order_by("state", "scenario_label", "title", "pk")
        )
        assert [m.pk for m in map_states(user, current).variants] == [m.pk for m in expected]
        draft_view = map_states(user, JourneyMap.objects.get(pk=future.pk))
        assert draft_view.state_of == current
    assert [m.pk for m in map_states(viewer, current).variants] == [shared.pk]


def test_the_headers_health_is_the_scorecards_after_every_change(client, team_map, owner):
    """The header's link shows health_values' number, which must be health_by_map's:
    with nothing scored, a KPI, a rating, a new measurement, a deleted KPI."""

    def header() -> str:
        page = client.get(team_map.get_absolute_url()).text
        return page[page.index('<a class="health') :].split("</a>")[0]

    def expected() -> str:
        card = health_by_map([team_map.pk])[team_map.pk]
        text = "Scorecard"
        if card.health is not None:
            text = f"Health {round(card.health)} · {card.status_label}"
        return (
            f'<a class="health health-{card.status}" href="/maps/{team_map.slug}/scorecard/">{text}'
        )

    client.force_login(owner)
    assert header() == expected() and "Scorecard" in header()
    kpi = KPIFactory(map=team_map, baseline=0, target=100)
    MeasurementFactory(kpi=kpi, value=35, date=dt.date(2026, 1, 1))
    assert header() == expected() and "Health 35 · Critical" in header()
    QualitativeFactorFactory(map=team_map, rating=5, perspective="customer")
    assert header() == expected()
    MeasurementFactory(kpi=kpi, value=90, date=dt.date(2030, 1, 1))
    assert header() == expected() and "Health 9" in header()
    kpi.delete()
    assert header() == expected()
