"""The ownership policy: every access decision in JourneyHub, in one place.

Each decision has two forms (wagtail's permission-policy shape): ``can(user, action,
obj)`` for one object, and queryset filters (``visible_maps``, ``editable_maps``,
``visible_projects`` …) for lists, so no list checks rows one by one.

Rules (``docs/architecture.md``, "Ownership policy"):

* Anonymous and inactive users may do nothing.
* Published maps are readable by every signed-in user. Drafts and archived maps are
  readable by their editors, by holders of a view grant, by CX leadership and admins.
* A map's content may be edited by its owner, the members of its team, users (or
  their groups) granted ``change_journeymap`` on it or on any ancestor, and admins.
  The same people, and CX leadership, may create sub-maps beneath it.
* Transfer, delete and sharing (grants): the owner, CX leadership, admins.
* CX projects: visible when they touch a visible map (or no map at all), or the user
  owns them or is in their team; editable by owner, team, leadership and admins;
  created by anyone who edits a map, leadership and admins.
* Scoring weights, personas: CX leadership and admins.

Owner and team rules are read from the ``owner``/``team`` fields, never stored as
grants, so they cannot drift. Explicit grants are django-guardian object
permissions; a grant on a map covers its whole subtree, resolved with the tree's
``lft``/``rght`` ranges in one query rather than by walking parents.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Container, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import BooleanField, Exists, Expression, F, OuterRef, Q, QuerySet
from django.http import Http404

from maps.content import map_of
from maps.models import (
    CXProject,
    JourneyMap,
    JourneyMapGroupObjectPermission,
    JourneyMapUserObjectPermission,
    StepLink,
)
from maps.sql import prepared

EDIT_CODENAME = "change_journeymap"
VIEW_CODENAME = "view_journeymap"


class Action(StrEnum):
    VIEW = "view"
    EDIT = "edit"  # change a map's content (or a project's fields)
    CREATE_SUBMAP = "create_submap"
    TRANSFER = "transfer"
    DELETE = "delete"
    SHARE = "share"  # grant or revoke access to a map
    REVIEW = "review"  # confirm the map is current: its owner (or an admin)


# --- who the user is --------------------------------------------------------


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


@prepared()
def _group_rows(user_id: int) -> QuerySet:
    # ``user.groups.values_list("pk", "name")``, compiled once per process (every page)
    return Group.objects.filter(user=user_id).values_list("pk", "name")


def _read_groups(user) -> None:
    """The user's group ids and whether one of them is CX leadership, read together (one
    query; two before) and cached on the user object for the request."""
    rows = _group_rows.rows(user.pk)
    user._journeyhub_group_ids = frozenset(pk for pk, _ in rows)
    user._journeyhub_is_leadership = any(
        name == settings.JOURNEYHUB_LEADERSHIP_GROUP for _, name in rows
    )


def _group_ids(user) -> frozenset[int]:
    """The user's group ids, cached on the user object for the request."""
    cached = getattr(user, "_journeyhub_group_ids", None)
    if cached is None:
        _read_groups(user)
        cached = user._journeyhub_group_ids
    return cached


def is_admin(user) -> bool:
    return _active(user) and user.is_superuser


def is_leadership(user) -> bool:
    """CX leadership (the configured group) or an admin."""
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_journeyhub_is_leadership", None)
    if cached is None:
        _read_groups(user)
        cached = user._journeyhub_is_leadership
    return cached


# --- maps as querysets --------------------------------------------------------


class _GrantCovers(Expression):
    """``EXISTS`` a grant of one of ``codenames`` to the user (or one of their groups) on
    the map at ``prefix`` or on an ancestor of it (the grant's map's ``lft``/``rght``
    range holds it, in the same tree).

    The same condition as ``Exists(JourneyMapUserObjectPermission.objects.filter(…,
    content_object__tree_id=OuterRef(…)))``, written as SQL over the three map columns
    it is given: Django took longer to build and compile those two subqueries than the
    database took to run a whole API list page."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, prefix: str, user_id: int, group_ids: tuple[int, ...], codenames):
        super().__init__()
        self.prefix, self.user_id, self.group_ids = prefix, user_id, group_ids
        self.codenames = tuple(codenames)
        self.columns = [F(f"{prefix}{name}") for name in ("tree_id", "lft", "rght")]

    def get_source_expressions(self):
        return self.columns

    def set_source_expressions(self, exprs):
        self.columns = list(exprs)

    def as_sql(self, compiler, connection):
        tree, lft, rght = (compiler.compile(column) for column in self.columns)
        return _grant_covers_sql(
            connection.ops.quote_name, tree, lft, rght, self.user_id, self.group_ids, self.codenames
        )


def _grant_covers_sql(
    quote, tree, lft, rght, user_id: int, group_ids: tuple[int, ...], codenames: tuple[str, ...]
) -> tuple[str, list[Any]]:
    """``_GrantCovers``' SQL over the map columns ``tree``, ``lft``, ``rght`` (each an
    ``(sql, params)`` pair)."""
    params: list[Any] = []
    alternatives = []
    for model, who, ids in (
        (JourneyMapUserObjectPermission, "user_id", (user_id,)),
        (JourneyMapGroupObjectPermission, "group_id", group_ids),
    ):
        if not ids:
            continue
        alternatives.append(
            f"EXISTS(SELECT 1 FROM {quote(model._meta.db_table)} jh_grant"
            f" INNER JOIN {quote(JourneyMap._meta.db_table)} jh_granted"
            f" ON (jh_granted.{quote('id')} = jh_grant.{quote('content_object_id')})"
            f" INNER JOIN {quote(Permission._meta.db_table)} jh_perm"
            f" ON (jh_perm.{quote('id')} = jh_grant.{quote('permission_id')})"
            f" WHERE jh_grant.{quote(who)} IN ({', '.join(['%s'] * len(ids))})"
            f" AND jh_perm.{quote('codename')} IN"
            f" ({', '.join(['%s'] * len(codenames))})"
            f" AND jh_granted.{quote('tree_id')} = {tree[0]}"
            f" AND jh_granted.{quote('lft')} <= {lft[0]}"
            f" AND jh_granted.{quote('rght')} >= {rght[0]})"
        )
        params += [*ids, *codenames, *tree[1], *lft[1], *rght[1]]
    return f"({' OR '.join(alternatives)})", params


def _granted_subtree_q(user, codename: str | tuple[str, ...], prefix: str = "") -> Q:
    """Maps inside the subtree of a map on which the user or a group of theirs holds
    ``codename`` (or one of several). ``prefix`` lets content querysets reach their map
    (``"map__"``)."""
    codenames = (codename,) if isinstance(codename, str) else codename
    return Q(_GrantCovers(prefix, user.pk, tuple(sorted(_group_ids(user))), codenames))


def _edit_q(user, prefix: str = "") -> Q:
    q = Q(**{f"{prefix}owner": user}) | _granted_subtree_q(user, EDIT_CODENAME, prefix)
    group_ids = _group_ids(user)
    if group_ids:
        q |= Q(**{f"{prefix}team_id__in": group_ids})
    return q


def _view_q(user, prefix: str = "") -> Q:
    """Published, or editable (owner, team, edit grant), or under a view grant. Grants of
    either kind are one ``EXISTS`` per grant table, and the condition is built once per
    user object and path: building and compiling it was most of an API list's time."""
    cache = user.__dict__.setdefault("_journeyhub_view_q", {})
    if prefix not in cache:
        q = Q(**{f"{prefix}status": JourneyMap.Status.PUBLISHED}) | Q(**{f"{prefix}owner": user})
        group_ids = _group_ids(user)
        if group_ids:
            q |= Q(**{f"{prefix}team_id__in": group_ids})
        cache[prefix] = q | _granted_subtree_q(user, (EDIT_CODENAME, VIEW_CODENAME), prefix)
    return cache[prefix]


def visible_maps(user, queryset: QuerySet[JourneyMap] | None = None) -> QuerySet[JourneyMap]:
    qs = JourneyMap.objects.all() if queryset is None else queryset
    if not _active(user):
        return qs.none()
    if is_leadership(user):
        return qs
    return qs.filter(_view_q(user))


class _VisibleWithGrants(Expression):
    """``_view_q`` with the user's grants already read: published, or the user's, or
    their teams', or inside one of ``ranges`` (``(tree_id, lft, rght)`` of the maps
    granted to them or their groups), as plain comparisons of the map's columns."""

    conditional = True
    output_field = BooleanField()
    _NAMES = ("status", "owner_id", "team_id", "tree_id", "lft", "rght")

    def __init__(self, user_id: int, group_ids: tuple[int, ...], ranges, *, plus: str = ""):
        super().__init__()
        self.user_id, self.group_ids, self.ranges = user_id, group_ids, list(ranges)
        self.columns = [F(name) for name in self._NAMES]
        self.plus = plus

    def get_source_expressions(self):
        return self.columns

    def set_source_expressions(self, exprs):
        self.columns = list(exprs)

    def as_sql(self, compiler, connection):
        # compiled, not named: inside a subquery Django renames the table
        status, owner, team, tree, lft, rght = (
            self.plus + compiler.compile(column)[0] for column in self.columns
        )
        alternatives = [f"{status} = %s", f"{owner} = %s"]
        params: list[Any] = [JourneyMap.Status.PUBLISHED.value, self.user_id]
        if self.group_ids:
            alternatives.append(f"{team} IN ({', '.join(['%s'] * len(self.group_ids))})")
            params += self.group_ids
        for granted in self.ranges:
            alternatives.append(f"({tree} = %s AND {lft} >= %s AND {rght} <= %s)")
            params += granted
        return f"({' OR '.join(alternatives)})", params

    def as_sqlite(self, compiler, connection):
        # "+column": SQLite would otherwise read each alternative by its own index and
        # merge them (every visible map, then sorted) instead of walking the index of
        # the wanted order and stopping at the page's last row
        self.plus = "+"
        try:
            return self.as_sql(compiler, connection)
        finally:
            self.plus = ""


# Above this many grants the ranges would make a long statement: keep the EXISTS form.
RESOLVED_GRANTS_LIMIT = 100


def visible_maps_resolved(user) -> QuerySet[JourneyMap]:
    """The maps of ``visible_maps``, with the user's grants (and their groups') read first
    in one small query and written into the filter as the granted maps' tree ranges.

    For lists that filter or count the whole repository (the ``/maps/`` tree, home): the
    ``EXISTS`` per map of ``visible_maps`` is probed for every map that is not published,
    owned or the team's (27 ms per count for an owner at 10,000 maps), comparisons of
    columns are not. The ranges are those at the time of the call: use the queryset
    within the request that built it."""
    qs = JourneyMap.objects.all()
    if not _active(user):
        return qs.none()
    if is_leadership(user):
        return qs
    codenames = (EDIT_CODENAME, VIEW_CODENAME)
    columns = ("content_object__tree_id", "content_object__lft", "content_object__rght")
    granted = JourneyMapUserObjectPermission.objects.filter(
        user_id=user.pk, permission__codename__in=codenames
    ).values_list(*columns)
    group_ids = tuple(sorted(_group_ids(user)))
    if group_ids:
        granted = granted.union(
            JourneyMapGroupObjectPermission.objects.filter(
                group_id__in=group_ids, permission__codename__in=codenames
            ).values_list(*columns)
        )
    ranges = sorted(granted[: RESOLVED_GRANTS_LIMIT + 1])
    if len(ranges) > RESOLVED_GRANTS_LIMIT:
        return qs.filter(_view_q(user))
    return qs.filter(_VisibleWithGrants(user.pk, group_ids, ranges))


def editable_maps(user, queryset: QuerySet[JourneyMap] | None = None) -> QuerySet[JourneyMap]:
    qs = JourneyMap.objects.all() if queryset is None else queryset
    if not _active(user):
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(_edit_q(user))


def manageable_maps(user, queryset: QuerySet[JourneyMap] | None = None) -> QuerySet[JourneyMap]:
    """Maps the user may transfer, delete and share: their own, or all for leadership."""
    qs = JourneyMap.objects.all() if queryset is None else queryset
    if not _active(user):
        return qs.none()
    if is_leadership(user):
        return qs
    return qs.filter(owner=user)


def visible_content(user, queryset: QuerySet, *, map_path: str = "map") -> QuerySet:
    """Content rows (steps, pain points, KPIs …) whose map the user may see."""
    if not _active(user):
        return queryset.none()
    if is_leadership(user):
        return queryset
    return queryset.filter(_view_q(user, prefix=f"{map_path}__"))


# --- projects as querysets ---------------------------------------------------


def visible_projects(user, queryset: QuerySet[CXProject] | None = None) -> QuerySet[CXProject]:
    qs = CXProject.objects.all() if queryset is None else queryset
    if not _active(user):
        return qs.none()
    if is_leadership(user):
        return qs
    through = CXProject.maps.through
    # the visibility of each linked map, probed per project through its link rows (the
    # map by primary key): "map IN (every visible map)" listed the whole repository
    # for each project tested (44 ms for a page of 50 at 10,000 maps; now 1 ms)
    touches_visible = Exists(
        through.objects.filter(cxproject_id=OuterRef("pk")).filter(
            _view_q(user, prefix="journeymap__")
        )
    )
    touches_any = Exists(through.objects.filter(cxproject_id=OuterRef("pk")))
    q = Q(owner=user) | Q(touches_visible) | ~Q(touches_any)
    if _group_ids(user):
        q |= Q(team_id__in=_group_ids(user))
    return qs.filter(q)


def visible_map_sql(user, alias: str, connection) -> tuple[str, list[Any]] | None:
    """``visible_maps``' rule as a hand-written SQL condition on the map table aliased
    ``alias`` (``None``: every map, for leadership; ``1 = 0`` for nobody), for raw SQL
    of the hot paths that would otherwise ask ``visible_maps`` in a query of its own."""
    if not _active(user):
        return "1 = 0", []
    if is_leadership(user):
        return None
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return f"{alias}.{quote(name)}"

    group_ids = tuple(sorted(_group_ids(user)))
    alternatives = [f"{column('status')} = %s", f"{column('owner_id')} = %s"]
    params: list[Any] = [JourneyMap.Status.PUBLISHED.value, user.pk]
    if group_ids:
        alternatives.append(f"{column('team_id')} IN ({', '.join(['%s'] * len(group_ids))})")
        params += group_ids
    grants, grant_params = _grant_covers_sql(
        quote,
        *((column(name), []) for name in ("tree_id", "lft", "rght")),
        user.pk,
        group_ids,
        (EDIT_CODENAME, VIEW_CODENAME),
    )
    return f"({' OR '.join([*alternatives, grants])})", params + grant_params


class _ProjectVisible(Expression):
    """``visible_projects``' condition written by hand over the project's id, owner and
    team: the user's, their team's, touching no map, or touching a map ``visible_map_sql``
    lets through. Django spent longer building and compiling the ORM form (two
    ``Exists`` over the link table, ``_view_q`` inside) than SQLite spent running a page
    of ``/api/projects/`` with it (#16)."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, user):
        super().__init__()
        self.user = user
        self.columns = [F("pk"), F("owner_id"), F("team_id")]

    def get_source_expressions(self):
        return self.columns

    def set_source_expressions(self, exprs):
        self.columns = list(exprs)

    def as_sql(self, compiler, connection):
        quote = connection.ops.quote_name
        pk, owner, team = (compiler.compile(column) for column in self.columns)
        through = CXProject.maps.through._meta
        link, own = quote(through.db_table), quote("cxproject_id")
        other = quote(CXProject._meta.get_field("maps").m2m_reverse_name())
        maps_sql, maps_params = visible_map_sql(self.user, "jh_map", connection) or ("1 = 1", [])
        group_ids = tuple(sorted(_group_ids(self.user)))
        alternatives = [f"{owner[0]} = %s"]
        params: list[Any] = [*owner[1], self.user.pk]
        if group_ids:
            alternatives.append(f"{team[0]} IN ({', '.join(['%s'] * len(group_ids))})")
            params += [*team[1], *group_ids]
        alternatives.append(
            f"NOT EXISTS(SELECT 1 FROM {link} jh_link WHERE jh_link.{own} = {pk[0]})"
        )
        alternatives.append(
            f"EXISTS(SELECT 1 FROM {link} jh_link INNER JOIN "
            f"{quote(JourneyMap._meta.db_table)} jh_map ON jh_map.{quote('id')} = "
            f"jh_link.{other} WHERE jh_link.{own} = {pk[0]} AND {maps_sql})"
        )
        params += [*pk[1], *pk[1], *maps_params]
        return f"({' OR '.join(alternatives)})", params


def visible_projects_sql(user, queryset: QuerySet[CXProject] | None = None) -> QuerySet[CXProject]:
    """The projects of ``visible_projects`` (the same rows: ``tests/test_api_projects_
    visibility_sql.py``) through ``_ProjectVisible``'s hand-written condition."""
    qs = CXProject.objects.all() if queryset is None else queryset
    if not _active(user):
        return qs.none()
    if is_leadership(user):
        return qs
    return qs.filter(_ProjectVisible(user))


def project_visibility(
    user, visible_map_ids: Container[int] | None = None
) -> Callable[[int, int | None, Collection[int]], bool]:
    """``visible_projects`` as a test of projects already read, for lists that rank
    thousands of them (the portfolio): ``sees(owner_id, team_id, map_ids)``, with
    ``map_ids`` every map the project touches, visible or not. ``visible_map_ids``: the
    pks of ``visible_maps(user)`` when the caller has read them (else read here, one
    query; leadership needs none). As a filter of the query, the rule probed the visible
    maps once per project: 4.5 s for a plain owner's portfolio at 10,000 maps (#16)."""
    if not _active(user):
        return lambda owner_id, team_id, map_ids: False
    if is_leadership(user):
        return lambda owner_id, team_id, map_ids: True
    if visible_map_ids is None:
        visible_map_ids = set(visible_maps_resolved(user).values_list("pk", flat=True))
    visible_ids, group_ids, user_pk = visible_map_ids, _group_ids(user), user.pk
    is_set = isinstance(visible_ids, (set, frozenset))

    def sees(owner_id: int, team_id: int | None, map_ids: Collection[int]) -> bool:
        # the user's, their team's, touching no map at all, or touching a visible map
        # (a set's own test when the ids are one: called per project, thousands)
        if owner_id == user_pk or team_id in group_ids or not map_ids:
            return True
        if is_set:
            return not visible_ids.isdisjoint(map_ids)
        return any(pk in visible_ids for pk in map_ids)

    return sees


def editable_projects(user, queryset: QuerySet[CXProject] | None = None) -> QuerySet[CXProject]:
    qs = CXProject.objects.all() if queryset is None else queryset
    if not _active(user):
        return qs.none()
    if is_leadership(user):
        return qs
    q = Q(owner=user)
    if _group_ids(user):
        q |= Q(team_id__in=_group_ids(user))
    return qs.filter(q)


# --- single decisions ------------------------------------------------------


def _has_grant(user, journey_map: JourneyMap, codename: str | tuple[str, ...]) -> bool:
    memo = getattr(user, "_journeyhub_grant_memo", None)
    if memo is not None:
        key = (journey_map.pk, frozenset((codename,) if isinstance(codename, str) else codename))
        if key not in memo.answers and journey_map.pk in memo.chain:
            memo.read_chain(user)
        if key in memo.answers:
            return memo.answers[key]
    found = (
        JourneyMap.objects.filter(pk=journey_map.pk)
        .filter(_granted_subtree_q(user, codename))
        .exists()
    )
    if memo is not None:
        memo.answers[key] = found
    return found


class _GrantMemo:
    """``_has_grant``'s answers for one user object within ``grants_memoised``, and the
    map chain whose grants are read together when the first of them is asked."""

    def __init__(self) -> None:
        self.answers: dict[tuple[int, frozenset[str]], bool] = {}
        self.chain: dict[int, None] = {}  # map pks, top first

    def read_chain(self, user) -> None:
        """The grants (view or edit, the user's or their groups') on the chain's maps,
        in one query, as ``_has_grant``'s answers for every map of it: a grant on a map
        covers its subtree, so those covering a map of the chain are on it or above."""
        ids, self.chain = list(self.chain), {}
        group_ids = tuple(sorted(_group_ids(user)))
        quote = connection.ops.quote_name
        parts, params = [], []
        for model, who, who_ids in (
            (JourneyMapUserObjectPermission, "user_id", (user.pk,)),
            (JourneyMapGroupObjectPermission, "group_id", group_ids),
        ):
            if not who_ids:
                continue
            parts.append(
                f"SELECT jh_grant.{quote('content_object_id')}, jh_perm.{quote('codename')}"
                f" FROM {quote(model._meta.db_table)} jh_grant"
                f" INNER JOIN {quote(Permission._meta.db_table)} jh_perm"
                f" ON (jh_perm.{quote('id')} = jh_grant.{quote('permission_id')})"
                f" WHERE jh_grant.{quote(who)} IN ({', '.join(['%s'] * len(who_ids))})"
                f" AND jh_grant.{quote('content_object_id')} IN ({', '.join(['%s'] * len(ids))})"
                f" AND jh_perm.{quote('codename')} IN (%s, %s)"
            )
            params += [*who_ids, *ids, EDIT_CODENAME, VIEW_CODENAME]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            granted: dict[int, set[str]] = {}
            for map_id, codename in cursor.fetchall():
                granted.setdefault(map_id, set()).add(codename)
        covering: set[str] = set()
        for map_id in ids:
            covering |= granted.get(map_id, set())
            for asked in ((EDIT_CODENAME,), (VIEW_CODENAME,), (EDIT_CODENAME, VIEW_CODENAME)):
                self.answers[(map_id, frozenset(asked))] = not covering.isdisjoint(asked)


@contextmanager
def grants_memoised(user) -> Iterator[None]:
    """Within the block, the grant answers asked about ``user`` (this user object only)
    are read once and remembered: one page asks whether the reader may see, edit and
    draft beside a map and its ancestors from several places. The memo is dropped when
    the block ends, so no answer outlives the page that read it; a block that changes
    grants must not use it."""
    outer = getattr(user, "_journeyhub_grant_memo", None)
    user._journeyhub_grant_memo = _GrantMemo() if outer is None else outer
    try:
        yield
    finally:
        if outer is None:
            del user._journeyhub_grant_memo


def grants_read_together(user, chain: list[JourneyMap]) -> None:
    """Inside ``grants_memoised``: the grants on a map and its ancestors (``chain``) are
    read in one query when the first of them is asked (none when no answer needs one)."""
    memo = getattr(user, "_journeyhub_grant_memo", None)
    if memo is not None:
        edit = frozenset((EDIT_CODENAME,))
        memo.chain.update((m.pk, None) for m in chain if (m.pk, edit) not in memo.answers)


def can_edit_map(user, journey_map: JourneyMap) -> bool:
    if not _active(user):
        return False
    if user.is_superuser or journey_map.owner_id == user.pk:
        return True
    if journey_map.team_id and journey_map.team_id in _group_ids(user):
        return True
    return _has_grant(user, journey_map, EDIT_CODENAME)


def open_map_chain(
    user, found: tuple[JourneyMap, list[JourneyMap]] | None
) -> tuple[JourneyMap, list[JourneyMap]]:
    """A page's map and its ancestors (read together by the caller, ``None`` when there is
    no such map) checked as a page shows them: 404 unless ``user`` may see the map; each
    ancestor's ``shown`` says whether they may open it. The grants on the whole chain are
    read in one query: call inside ``grants_memoised(user)``."""
    if found is None:
        raise Http404("No such journey map.")
    journey_map, ancestors = found
    grants_read_together(user, [*ancestors, journey_map])
    if not can_view_map(user, journey_map):
        raise Http404("No such journey map.")
    for ancestor in ancestors:
        ancestor.shown = can_view_map(user, ancestor)
    return journey_map, ancestors


def can_view_map(user, journey_map: JourneyMap) -> bool:
    if not _active(user):
        return False
    if journey_map.status == JourneyMap.Status.PUBLISHED or is_leadership(user):
        return True
    return can_edit_map(user, journey_map) or _has_grant(user, journey_map, VIEW_CODENAME)


def visible_without_grants(user, journey_map: JourneyMap) -> bool:
    """``visible_maps`` holds the map for a reason other than a grant (published, the
    user's, their team's, leadership): no query beyond the user's groups. False only
    means a grant may still show it."""
    if not _active(user):
        return False
    if journey_map.status == JourneyMap.Status.PUBLISHED or journey_map.owner_id == user.pk:
        return True
    if journey_map.team_id is not None and journey_map.team_id in _group_ids(user):
        return True
    return is_leadership(user)


def can_manage_map(user, journey_map: JourneyMap) -> bool:
    """Transfer, delete or share: the owner, CX leadership, admins."""
    return _active(user) and (journey_map.owner_id == user.pk or is_leadership(user))


def can_review_map(user, journey_map: JourneyMap) -> bool:
    """Reviewing is the owner's confirmation; admins may stand in."""
    return _active(user) and (journey_map.owner_id == user.pk or user.is_superuser)


def can_create_top_level_map(user) -> bool:
    return is_leadership(user) or (_active(user) and user.has_perm("maps.add_journeymap"))


def can_create_project(user) -> bool:
    return is_leadership(user) or editable_maps(user).exists()


def can_edit_project(user, project: CXProject) -> bool:
    if not _active(user):
        return False
    if project.owner_id == user.pk or is_leadership(user):
        return True
    return bool(project.team_id and project.team_id in _group_ids(user))


def can_view_project(user, project: CXProject) -> bool:
    return can_edit_project(user, project) or visible_projects(user).filter(pk=project.pk).exists()


def can_change_weights(user) -> bool:
    return is_leadership(user)


def can_edit_personas(user) -> bool:
    """Journey owners curate the personas their maps are drawn for, with CX leadership."""
    if is_leadership(user):
        return True
    if not _active(user):
        return False
    cached = getattr(user, "_journeyhub_owns_maps", None)
    if cached is None:
        cached = JourneyMap.objects.filter(owner=user).exists()
        user._journeyhub_owns_maps = cached
    return cached


def can_delete_personas(user) -> bool:
    """Deleting one leaves every map using it without: CX leadership and admins only."""
    return is_leadership(user)


def can(user, action: Action | str, obj: Any) -> bool:
    """The single-object form of every decision."""
    action = Action(action)
    if isinstance(obj, CXProject):
        if action == Action.VIEW:
            return can_view_project(user, obj)
        if action == Action.EDIT:
            return can_edit_project(user, obj)
        if action == Action.DELETE:
            return _active(user) and (obj.owner_id == user.pk or is_leadership(user))
        return False
    journey_map = map_of(obj)
    if action == Action.VIEW:
        return can_view_map(user, journey_map)
    if action == Action.CREATE_SUBMAP:  # leadership may grow the repository anywhere
        return is_leadership(user) or can_edit_map(user, journey_map)
    if action == Action.EDIT:
        return can_edit_map(user, journey_map)
    if not isinstance(obj, JourneyMap):  # deleting content is editing its map
        return action == Action.DELETE and can_edit_map(user, journey_map)
    if action == Action.REVIEW:
        return can_review_map(user, journey_map)
    return can_manage_map(user, journey_map)


# --- the gates views use to load objects ---------------------------------------


def _sees_map(user, journey_map: JourneyMap) -> bool:
    """``visible_maps``' rule (``_view_q``) for one loaded map: published, the user's,
    their team's, leadership, or under a view or edit grant (one query)."""
    return visible_without_grants(user, journey_map) or _has_grant(
        user, journey_map, (EDIT_CODENAME, VIEW_CODENAME)
    )


def get_map_for_user(
    user, slug: str, *, action: Action | str = Action.VIEW, queryset=None
) -> JourneyMap:
    """Load a map: 404 if the user may not see it, 403 if they may see it but not act."""
    base = JourneyMap.objects.all() if queryset is None else queryset
    # the map by its slug, then visible_maps' rule decided on its columns: a published,
    # own or team map needs no further query (building and compiling the visibility
    # filter for one row cost more than the page's whole scorecard query, #16)
    journey_map = base.filter(slug=slug).first() if _active(user) else None
    if journey_map is None or not _sees_map(user, journey_map):
        raise Http404("No such journey map.")
    if Action(action) != Action.VIEW and not can(user, action, journey_map):
        raise PermissionDenied(DENIED_MESSAGES[Action(action)])
    return journey_map


def get_project_for_user(user, pk: int, *, action: Action | str = Action.VIEW) -> CXProject:
    """Load a project: 404 if the user may not see it, 403 if they may see it but not act."""
    project = visible_projects(user).select_related("owner", "team").filter(pk=pk).first()
    if project is None:
        raise Http404("No such project.")
    if Action(action) != Action.VIEW and not can(user, action, project):
        raise PermissionDenied(denied_message(action, project))
    return project


def get_content_for_user(
    user, model, pk, *, journey_map: JourneyMap, action: Action | str = Action.VIEW
):
    """Load a piece of a map's content (a step, pain point, KPI …) through the gate of
    its map: 404 unless it belongs to ``journey_map``, which the caller loaded with
    ``get_map_for_user``; 403 if the user may see it but not act."""
    path = "from_step__map" if model is StepLink else "map"
    obj = (
        model.objects.filter(**{path: journey_map}, pk=pk).first()
        if str(pk).isascii() and str(pk).isdigit()
        else None
    )
    if obj is None:
        raise Http404(f"No such {model._meta.verbose_name} on this map.")
    if Action(action) != Action.VIEW and not can(user, action, obj):
        raise PermissionDenied(denied_message(action, obj))
    return obj


DENIED_MESSAGES = {
    Action.VIEW: "You may not see this.",
    Action.EDIT: "Only the map's owner, its team and people it is shared with may change it.",
    Action.CREATE_SUBMAP: (
        "Only the map's owner, its team, editors and CX leadership may add sub-maps to it."
    ),
    Action.TRANSFER: "Only the owner, CX leadership or an admin may transfer this map.",
    Action.DELETE: "Only the owner, CX leadership or an admin may delete this map.",
    Action.SHARE: "Only the owner, CX leadership or an admin may share this map.",
    Action.REVIEW: "Only the map's owner confirms that it is current.",
}


PROJECT_DENIED_MESSAGES = {
    Action.EDIT: "Only the project's owner, its team and CX leadership may change it.",
    Action.DELETE: "Only the project's owner and CX leadership may delete it.",
}


def denied_message(action: Action | str, obj: Any = None) -> str:
    action = Action(action)
    if isinstance(obj, CXProject):
        return PROJECT_DENIED_MESSAGES.get(action, DENIED_MESSAGES[Action.VIEW])
    return DENIED_MESSAGES[action]
