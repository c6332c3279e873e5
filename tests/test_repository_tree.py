"""The repository tree renders in one flat loop and pages through a long top level:
what shows, how it nests, and that nothing is lost or repeated across pages."""

from __future__ import annotations

import re

import pytest

from maps.models import JourneyMap
from tests.factories import JourneyMapFactory, KPIFactory, MeasurementFactory

pytestmark = pytest.mark.django_db


def titles(html: str) -> list[str]:
    return re.findall(r'class="tree-title" href="[^"]+">([^<]+)</a>', html)


def test_a_long_top_level_loads_in_pages_with_every_map_once(client, owner, monkeypatch):
    monkeypatch.setattr("maps.selectors.TREE_ROW_BUDGET", 3)
    for i in range(7):
        JourneyMapFactory(title=f"Root {i}", owner=owner)
    client.force_login(owner)
    page = client.get("/maps/").text
    seen = titles(page)
    assert seen == ["Root 0", "Root 1", "Root 2"]
    assert "Show 4 more top-level maps" in page
    after = re.search(r'hx-get="/maps/\?after=(\d+)"', page).group(1)
    while after:
        part = client.get(f"/maps/?after={after}", HTTP_HX_REQUEST="true").text
        assert "<html" not in part
        seen += titles(part)
        match = re.search(r'hx-get="/maps/\?after=(\d+)"', part)
        after = match.group(1) if match else None
    assert seen == [f"Root {i}" for i in range(7)]


def test_a_bad_page_marker_is_refused_naming_it(client, owner):
    client.force_login(owner)
    response = client.get("/maps/?after=soon")
    assert response.status_code == 400
    assert "after" in response.text


def test_sub_maps_nest_inside_their_parent_and_every_item_closes(client, owner):
    root = JourneyMapFactory(title="Lifecycle", owner=owner)
    journey = JourneyMapFactory(title="Journey", owner=owner, parent=root)
    JourneyMapFactory(title="Task", owner=owner, parent=journey)
    JourneyMapFactory(title="Second journey", owner=owner, parent=root)
    JourneyMapFactory(title="Other lifecycle", owner=owner)
    client.force_login(owner)
    page = client.get("/maps/").text
    body = page[page.index('<ul class="tree"') :]
    body = body[: body.index("</main>")] if "</main>" in body else body
    assert body.count('<li role="treeitem"') == body.count("</li>") == 5
    assert body.count('<ul role="group">') == 2  # below Lifecycle and below Journey
    # Task sits inside Journey's group, which closes before the second journey
    journey_at, task_at = body.index(">Journey<"), body.index(">Task<")
    second_at = body.index(">Second journey<")
    assert journey_at < task_at < body.index("</ul>", task_at) < second_at
    assert 'aria-level="3"' in body  # the task


def test_each_row_shows_the_health_of_the_explained_scorecard(client, owner):
    journey = JourneyMapFactory(title="Scored", owner=owner)
    kpi = KPIFactory(map=journey, baseline=0, target=100)
    MeasurementFactory(kpi=kpi, value=62.4)
    client.force_login(owner)
    page = client.get("/maps/").text
    assert f'href="/maps/{journey.slug}/scorecard/"' in page
    assert '>62<span class="visually-hidden"> health, At risk</span>' in page  # 62.4 → 62
    assert JourneyMap.objects.count() == 1


# --- the shortcuts of #16 give the same answers as the slow paths ---------------------


@pytest.fixture
def mixed_repository(owner, team, team_member, other_owner, viewer):
    """Drafts, archived maps and grants on subtrees, for every role to see part of: a
    user grant on a draft subtree, a group grant on another, a grant on a leaf, maps of
    each status owned by each person."""
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    auditors = Group.objects.create(name="Auditors")
    viewer.groups.add(auditors)
    maps = []
    for person in (owner, other_owner, viewer):
        for status in ("published", "draft", "archived"):
            root = JourneyMapFactory(
                title=f"{person.username} {status}", owner=person, status=status
            )
            child = JourneyMapFactory(
                title=f"{person.username} {status} child", owner=person, status=status, parent=root
            )
            leaf = JourneyMapFactory(
                title=f"{person.username} {status} leaf", owner=person, status="draft", parent=child
            )
            maps += [root, child, leaf]
    team_draft = JourneyMapFactory(title="Team draft", owner=other_owner, team=team, status="draft")
    by_title = {m.title: m for m in maps}
    assign_perm("view_journeymap", viewer, by_title["omar draft child"])
    assign_perm("view_journeymap", auditors, by_title["olivia archived"])
    assign_perm("change_journeymap", team_member, by_title["omar archived leaf"])
    assign_perm("view_journeymap", other_owner, by_title["olivia draft"])
    return [*maps, team_draft]


@pytest.mark.parametrize(
    "who", ["owner", "team_member", "other_owner", "viewer", "leader", "admin_user"]
)
def test_the_resolved_visibility_selects_the_same_maps_as_the_policy(
    request, who, mixed_repository
):
    from governance import permissions
    from maps.models import PainPoint
    from tests.factories import PainPointFactory

    for journey in mixed_repository:
        PainPointFactory(map=journey)
    user = request.getfixturevalue(who)
    policy = permissions.visible_maps(user)
    resolved = permissions.visible_maps_resolved(user)
    assert set(resolved.values_list("pk", flat=True)) == set(policy.values_list("pk", flat=True))

    # inside a subquery too (home counts content of the visible maps this way)
    def pain_points(maps):
        return set(PainPoint.objects.filter(map__in=maps.values("pk")).values_list("pk", flat=True))

    assert pain_points(resolved) == pain_points(policy)
    assert 0 < resolved.count() <= len(mixed_repository)


def test_the_resolved_visibility_falls_back_to_the_policy_beyond_its_grant_limit(
    viewer, mixed_repository, monkeypatch
):
    from governance import permissions

    monkeypatch.setattr(permissions, "RESOLVED_GRANTS_LIMIT", 0)
    resolved = permissions.visible_maps_resolved(viewer)
    assert set(resolved) == set(permissions.visible_maps(viewer))


def test_a_revoked_grant_hides_its_subtree_from_the_next_tree(client, viewer, other_owner):
    from guardian.shortcuts import assign_perm, remove_perm

    secret = JourneyMapFactory(title="Secret", owner=other_owner, status="draft")
    JourneyMapFactory(title="Secret child", owner=other_owner, status="draft", parent=secret)
    assign_perm("view_journeymap", viewer, secret)
    client.force_login(viewer)
    assert titles(client.get("/maps/").text) == ["Secret", "Secret child"]
    remove_perm("view_journeymap", viewer, secret)
    assert titles(client.get("/maps/").text) == []


@pytest.mark.parametrize("who", ["owner", "viewer", "leader"])
def test_a_lazy_node_counts_only_the_sub_maps_its_reader_may_see(
    request, client, who, monkeypatch, owner, other_owner
):
    monkeypatch.setattr("maps.selectors.TREE_ROW_BUDGET", 2)
    root = JourneyMapFactory(title="Root", owner=other_owner)
    JourneyMapFactory(title="Root 2", owner=other_owner)
    JourneyMapFactory(title="Open", owner=other_owner, parent=root)
    JourneyMapFactory(title="Draft", owner=other_owner, parent=root, status="draft")
    JourneyMapFactory(title="Mine", owner=owner, parent=root, status="draft")
    client.force_login(request.getfixturevalue(who))
    page = client.get("/maps/").text
    expected = {"owner": 2, "viewer": 1, "leader": 3}[who]
    assert f"Show {expected} sub-map{'' if expected == 1 else 's'}</a>" in page
    assert titles(page) == ["Root", "Root 2"]


def test_a_row_names_its_personas_in_their_order(client, owner):
    from tests.factories import PersonaFactory

    zed, amy = PersonaFactory(name="Zed"), PersonaFactory(name="Amy")
    JourneyMapFactory(title="Both", owner=owner, personas=[zed, amy])
    JourneyMapFactory(title="None", owner=owner)
    client.force_login(owner)
    page = client.get("/maps/").text
    assert '<span title="Persona">Amy, Zed</span>' in page
    assert page.count('title="Persona">') == 1


def test_the_rows_numbers_and_days_read_as_djangos_filters_would():
    import datetime as dt
    import random

    from django.template.defaultfilters import floatformat
    from django.utils import timezone
    from django.utils.dateformat import format as date_format

    from maps.repository_rows import _day, whole_number

    rng = random.Random(16)
    values = [0.0, 0.5, 1.5, 2.5, 49.5, 62.4, 69.5, 99.5, 100.0, 12.4999999, 1 / 3, 200 / 3]
    values += [rng.uniform(0, 100) for _ in range(2000)]
    values += [round(rng.uniform(0, 100), 1) for _ in range(2000)]
    for value in values:
        assert whole_number(value) == floatformat(value, 0), value
    assert whole_number(None) == ""
    moments = [timezone.now() - dt.timedelta(days=n, hours=n % 24) for n in range(0, 800, 7)]
    moments.append(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC))
    for moment in moments:
        assert _day(moment) == date_format(timezone.localtime(moment), "j M Y")
        assert _day(moment.date()) == date_format(moment.date(), "j M Y")


def test_each_row_counts_its_own_steps_and_pain_points(client, owner):
    from tests.factories import PainPointFactory, StepFactory

    busy = JourneyMapFactory(title="Busy", owner=owner)
    JourneyMapFactory(title="Empty", owner=owner, parent=busy)
    first = StepFactory(map=busy)
    StepFactory(map=busy)
    PainPointFactory(map=busy, step=first)
    client.force_login(owner)
    page = client.get("/maps/").text
    rows = page.split('class="tree-title"')[1:]
    assert "2 steps, 1 pain point<" in rows[0] and ">Busy<" in rows[0]
    assert "0 steps, 0 pain points<" in rows[1] and ">Empty<" in rows[1]


def test_the_owner_filter_offers_each_owner_of_a_map_once_in_id_order(
    client, owner, other_owner, viewer
):
    JourneyMapFactory(owner=other_owner)
    JourneyMapFactory(owner=owner)
    JourneyMapFactory(owner=owner, status="draft")
    client.force_login(viewer)
    page = client.get("/maps/").text
    select = page[page.index('name="owner"') : page.index("</select>", page.index('name="owner"'))]
    offered = re.findall(r'<option value="(\d+)"', select)
    assert offered == sorted({str(owner.pk), str(other_owner.pk)}, key=int)


# --- the rows written in Python equal the Jinja2 macros they replaced (#16) ---------------


def reference_macros(context: dict):
    """The macros of tests/fixtures/repository_rows_reference.html (the rows before they
    were written in Python), with the module values the page gave them."""
    from pathlib import Path

    from maps.map_page import environment
    from maps.models.vocabulary import DEFAULT_TERMS
    from maps.repository_rows import _day

    source = (Path(__file__).parent / "fixtures" / "repository_rows_reference.html").read_text()
    vocab = context.get("vocab") or DEFAULT_TERMS
    return environment.from_string(source).make_module(
        {
            "vocab": vocab,
            "terms": {k: vocab.get(k, k.capitalize()) for k in ("owner", "team", "persona")},
            "repository_url": context.get("repository_url", ""),
            "day": _day,
        }
    )


@pytest.fixture
def varied_tree(owner, other_owner, team):
    """Maps with every kind of row: nested and lazy, health or none, due or not, a team
    or none, personas or none, one or several steps and pain points, and characters
    that must be escaped in titles, slugs, team, persona and owner names."""
    import datetime as dt

    from django.utils import timezone

    from tests.factories import (
        GroupFactory,
        PainPointFactory,
        PersonaFactory,
        QualitativeFactorFactory,
        StepFactory,
    )

    odd_team = GroupFactory(name='R&D <"lab">')
    other_owner.first_name = "O'Hara & <Sons>"
    other_owner.save()
    persona = PersonaFactory(name='Ann "the <buyer>"')
    root = JourneyMapFactory(title="Lifecycle <&> 'one'", owner=owner, team=team)
    child = JourneyMapFactory(
        title='Onboard "fast"', owner=other_owner, team=odd_team, parent=root, personas=[persona]
    )
    grandchild = JourneyMapFactory(title="Verify", owner=owner, parent=child, status="draft")
    JourneyMapFactory(title="Deeper", owner=owner, parent=grandchild)
    JourneyMapFactory(title="Archived & due", owner=owner, status="archived")
    due = JourneyMapFactory(title="Due one", owner=other_owner, review_every_days=1)
    due.last_reviewed_at = timezone.now() - dt.timedelta(days=40)
    due.save()
    StepFactory(map=root)
    StepFactory(map=child)
    StepFactory(map=child)
    PainPointFactory(map=root)
    PainPointFactory(map=child)
    PainPointFactory(map=child)
    for perspective in ("business", "customer"):
        QualitativeFactorFactory(map=root, perspective=perspective, rating=4)
    for i in range(4):
        JourneyMapFactory(title=f"Root {i}", owner=other_owner)
    return root


@pytest.mark.parametrize("budget", [150, 4, 2])  # whole levels, lazy nodes, a paged top
@pytest.mark.parametrize("who", ["owner", "team_member", "viewer", "leader", "admin_user"])
def test_the_python_rows_equal_the_jinja_macros_they_replaced(
    request, monkeypatch, varied_tree, who, budget
):
    from governance import permissions
    from maps import repository_rows, selectors, views

    monkeypatch.setattr("maps.selectors.TREE_ROW_BUDGET", budget)
    user = request.getfixturevalue(who)
    visible = permissions.visible_maps_resolved(user)
    vocabularies = [{}, {"owner": "Lead & co", "team": "<Squad>", "persona": "'Who'"}]
    for under in (None, JourneyMap.objects.get(pk=varied_tree.pk)):  # its range as stored
        tree = selectors.repository_tree(visible, under=under)
        lines = views._with_row_bits(tree.lines)
        assert lines
        for vocab in vocabularies:
            context = {"lines": lines, "tree": tree, "repository_url": "/maps/", "vocab": vocab}
            expected = str(reference_macros(context).tree_lines(lines, tree))
            assert str(repository_rows.tree_lines(context)) == expected
    found = views._with_row_bits(selectors.with_paths(selectors.search_results(visible), visible))
    context = {"results": found, "repository_url": "/maps/"}
    expected = str(reference_macros(context).results(found))
    assert str(repository_rows.results(context)) == expected


def test_the_escaping_is_markupsafes():
    from markupsafe import Markup, escape

    from maps.repository_rows import _e

    for value in ["a<b>&\"c'", "plain", 3, None, 2.5, Markup("<b>kept</b>"), "é·‹›"]:
        assert _e(value) == str(escape(value))


def test_the_tree_nodes_equal_the_orms_maps(varied_tree, owner, django_assert_num_queries):
    """selectors._tree_nodes builds the maps from the columns the rows show: the same
    values as the ORM's instances, owners and teams cached as select_related caches
    them, and any other field read from the database when asked for."""
    from django.db.models import OuterRef

    from governance import permissions
    from maps import selectors

    visible = permissions.visible_maps_resolved(owner)
    annotated = selectors._annotated_for_tree(visible).annotate(
        visible_children=selectors._subquery_count(visible.filter(parent=OuterRef("pk")))
    )
    orm = list(annotated.order_by("tree_id", "lft"))
    fast = selectors._tree_nodes(annotated.order_by("tree_id", "lft"))
    assert [m.pk for m in fast] == [m.pk for m in orm]
    names = (*selectors._TREE_FIELDS, *selectors._TREE_COUNTS)
    with django_assert_num_queries(0):
        for a, b in zip(fast, orm, strict=True):
            assert type(a) is type(b)
            assert {n: getattr(a, n) for n in names} == {n: getattr(b, n) for n in names}
            assert (a.owner.pk, a.owner.get_full_name(), a.owner.username) == (
                b.owner.pk,
                b.owner.get_full_name(),
                b.owner.username,
            )
            assert (a.team and (a.team.pk, a.team.name)) == (b.team and (b.team.pk, b.team.name))
            assert a.is_review_due == b.is_review_due
            assert a.reviewed_or_created_at == b.reviewed_or_created_at
    assert fast[0].summary == orm[0].summary  # deferred: read when asked for
    root = next(m for m in fast if m.pk == varied_tree.pk)
    assert root.pain_point_count == varied_tree.pain_points.count() == 1


@pytest.mark.parametrize("who", ["owner", "team_member", "viewer", "leader"])
def test_the_bounded_level_counts_load_the_same_tree_as_counting_every_level(
    request, monkeypatch, mixed_repository, who
):
    """repository_tree counts the levels below the top only up to the row budget
    (selectors._level_counts); for every budget, page and subtree it loads the same maps,
    opened the same way, as the exact count of every level's visible maps would."""
    from django.db.models import Count

    from governance import permissions
    from maps import selectors

    for child in mixed_repository[:6]:  # a fourth level, and more maps on the third
        JourneyMapFactory(title=f"{child.title} deeper", owner=child.owner, parent=child)
    user = request.getfixturevalue(who)

    def exact(scoped, top):
        levels = scoped.order_by().values_list("level").annotate(n=Count("pk"))
        return dict(levels.values_list("level", "n"))

    def shape(tree):
        lines = [(m.pk, m.tree_open, m.more_children) for m in tree.lines]
        return lines, tree.more_after, tree.more_count

    roots = list(JourneyMap.objects.filter(level=0).order_by("tree_id"))
    for budget in range(len(mixed_repository) + 8):
        monkeypatch.setattr(selectors, "TREE_ROW_BUDGET", budget)
        visible = permissions.visible_maps_resolved(user)
        calls = [{}, {"after": roots[2].tree_id}, *({"under": m} for m in roots[:4])]
        for kwargs in calls:
            bounded = shape(selectors.repository_tree(visible, **kwargs))
            with monkeypatch.context() as patched:
                patched.setattr(selectors, "_level_counts", exact)
                assert shape(selectors.repository_tree(visible, **kwargs)) == bounded
