"""The scorecard page's gate (``views_scorecard._map_for_page``): the map and its
ancestors in one precompiled query, their grants read together, decides exactly what
``get_map_for_user``, ``can_edit_map`` and ``map_crumbs`` over ``visible_maps`` decide,
for every role, grant and hidden ancestor, and is never stale after a grant changes;
``scorecard_report`` asks for the visible maps only for a roll-up (#16)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm, remove_perm

from governance import permissions, scorecard_reads
from governance.permissions import Action
from governance.views_scorecard import _map_for_page
from maps.models import JourneyMap
from maps.selectors import map_crumbs
from tests.factories import GroupFactory, JourneyMapFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fresh(user):
    """A new user object, as each request loads one (nothing cached on it)."""
    return get_user_model().objects.get(pk=user.pk)


def _slow(user, slug: str, *, posted: bool):
    """What the page decided before: the gate, the edit right and the crumbs."""
    try:
        journey_map = permissions.get_map_for_user(
            user,
            slug,
            action=Action.EDIT if posted else Action.VIEW,
            queryset=JourneyMap.objects.with_people(),
        )
    except (Http404, PermissionDenied) as exc:
        return type(exc), str(exc)
    crumbs = map_crumbs(journey_map, visible=permissions.visible_maps(user))
    return journey_map.pk, crumbs, permissions.can_edit_map(user, journey_map)


def _fast(user, slug: str, *, posted: bool):
    try:
        journey_map, crumbs, can_edit = _map_for_page(user, slug, posted=posted)
    except (Http404, PermissionDenied) as exc:
        return type(exc), str(exc)
    return journey_map.pk, crumbs, can_edit


@pytest.fixture
def forest(owner, other_owner, team):
    """Two trees mixing published and draft maps, teams and owners, with grants to
    users and groups of both kinds on different levels."""
    reviewers = GroupFactory(name="Reviewers")
    editors = GroupFactory(name="Editors")
    secret = JourneyMapFactory(title="Secret root", slug="secret-root", owner=other_owner,
                               status="draft")  # fmt: skip
    middle = JourneyMapFactory(title="Middle", slug="middle", owner=other_owner,
                               status="draft", parent=secret)  # fmt: skip
    open_leaf = JourneyMapFactory(title="Open leaf", slug="open-leaf", owner=owner,
                                  parent=middle)  # fmt: skip
    team_leaf = JourneyMapFactory(title="Team leaf", slug="team-leaf", owner=other_owner,
                                  team=team, status="draft", parent=middle)  # fmt: skip
    archived = JourneyMapFactory(title="Archived", slug="archived", owner=other_owner,
                                 status="archived", parent=secret)  # fmt: skip
    public = JourneyMapFactory(title="Public root", slug="public-root", owner=owner, team=team)
    hidden_mid = JourneyMapFactory(title="Hidden middle", slug="hidden-mid", owner=other_owner,
                                   status="draft", parent=public)  # fmt: skip
    deep = JourneyMapFactory(title="Deep", slug="deep", owner=other_owner, parent=hidden_mid)
    granted = UserFactory(username="granted")
    group_granted = UserFactory(username="grouped", groups=[reviewers, editors])
    assign_perm("view_journeymap", granted, middle)
    assign_perm("change_journeymap", granted, hidden_mid)
    assign_perm("view_journeymap", reviewers, archived)
    assign_perm("change_journeymap", editors, middle)
    maps = [secret, middle, open_leaf, team_leaf, archived, public, hidden_mid, deep]
    for journey_map in maps:
        journey_map.refresh_from_db()
    return {"maps": maps, "granted": granted, "group_granted": group_granted}


def _everyone(forest, owner, team_member, other_owner, viewer, leader, admin_user):
    inactive = UserFactory(username="gone", is_active=False)
    return [owner, team_member, other_owner, viewer, leader, admin_user, inactive,
            forest["granted"], forest["group_granted"]]  # fmt: skip


def test_the_gate_decides_as_the_general_checks(
    forest, owner, team_member, other_owner, viewer, leader, admin_user
):
    users = _everyone(forest, owner, team_member, other_owner, viewer, leader, admin_user)
    slugs = [m.slug for m in forest["maps"]] + ["no-such-map"]
    outcomes = set()
    for user in users:
        for slug in slugs:
            for posted in (False, True):
                slow = _slow(_fresh(user), slug, posted=posted)
                assert _fast(_fresh(user), slug, posted=posted) == slow, (user, slug, posted)
                kind = slow[0] if isinstance(slow[0], type) else "crumbs" if slow[1] else "top"
                outcomes.add(kind)
    # every kind of answer was compared: not found, not allowed, shown with and without crumbs
    assert outcomes == {Http404, PermissionDenied, "crumbs", "top"}


def test_hidden_ancestors_are_gaps_and_titles_follow_the_grants(forest, viewer):
    deep = "deep"
    _, crumbs, can_edit = _map_for_page(_fresh(viewer), deep, posted=False)
    assert [c.title for c in crumbs] == ["Public root", None] and not can_edit
    middle = forest["maps"][6]
    assign_perm("view_journeymap", viewer, middle)  # the hidden middle, for the next request
    _, crumbs, can_edit = _map_for_page(_fresh(viewer), deep, posted=False)
    assert [c.title for c in crumbs] == ["Public root", "Hidden middle"] and not can_edit
    assign_perm("change_journeymap", viewer, middle)
    assert _map_for_page(_fresh(viewer), deep, posted=True)[2] is True
    remove_perm("change_journeymap", viewer, middle)
    remove_perm("view_journeymap", viewer, middle)
    with pytest.raises(PermissionDenied):
        _map_for_page(_fresh(viewer), deep, posted=True)
    assert _fast(_fresh(viewer), deep, posted=False) == _slow(_fresh(viewer), deep, posted=False)


def test_a_group_grant_counts_from_the_next_request(forest, viewer):
    group = GroupFactory(name="Late joiners")
    viewer.groups.add(group)
    with pytest.raises(Http404):
        _map_for_page(_fresh(viewer), "team-leaf", posted=False)
    assign_perm("change_journeymap", group, forest["maps"][0])  # the secret root's subtree
    _, crumbs, can_edit = _map_for_page(_fresh(viewer), "team-leaf", posted=True)
    assert [c.title for c in crumbs] == ["Secret root", "Middle"] and can_edit


def test_the_map_and_its_ancestors_in_one_query(forest, django_assert_num_queries):
    with django_assert_num_queries(1):
        journey_map, ancestors = scorecard_reads.map_and_ancestors("deep")
    assert (journey_map.title, journey_map.owner_id, journey_map.is_leaf_node()) == (
        "Deep",
        forest["maps"][0].owner_id,
        True,
    )
    assert [m.slug for m in ancestors] == ["public-root", "hidden-mid"]
    assert scorecard_reads.map_and_ancestors("Deep") is None
    assert scorecard_reads.map_and_ancestors("public-root")[1] == []


def test_the_visible_maps_are_built_only_for_a_roll_up(forest, leader):
    asked = []

    def visible():
        asked.append(True)
        return permissions.visible_maps(leader)

    open_leaf, public = forest["maps"][2], forest["maps"][5]
    assert scorecard_reads.scorecard_report(open_leaf, maps=visible).rollup is None
    assert asked == []
    lazy = scorecard_reads.scorecard_report(public, maps=visible)
    assert asked == [True]
    assert lazy == scorecard_reads.scorecard_report(public, maps=permissions.visible_maps(leader))
    assert [m.title for m in lazy.rollup.maps] == ["Hidden middle", "Deep"]


def test_the_page_reads_no_owner_or_team(client, forest, viewer, owner, team_member):
    """The chain is loaded without its people: nothing on the page asks for them."""
    for user, slug in ((viewer, "deep"), (owner, "open-leaf"), (team_member, "team-leaf")):
        client.force_login(user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/maps/{slug}/scorecard/").status_code == 200
        sql = [q["sql"] for q in ctx.captured_queries]
        assert sum('FROM "auth_user" WHERE' in q for q in sql) == 1, sql  # the session's user
        assert not any('FROM "auth_group" WHERE "auth_group"."id"' in q for q in sql), sql
        assert len(sql) <= 11, sql
