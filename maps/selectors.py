"""Reads of the repository: the map tree and a map laid out as a grid.

Selectors take the querysets a caller may see (the permission policy lives in
``governance``), and each runs a fixed number of queries whatever the data size.
Every import of django-mptt stays inside ``maps`` so the tree library can be
replaced in one place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import (
    Exists,
    F,
    Func,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse

from .analytics import MapFunnel, map_funnel
from .lanes import LANES, LaneSpec
from .models import (
    KPI,
    CXProject,
    JourneyMap,
    LaneItem,
    MapPainPointCounts,
    PainPoint,
    Persona,
    Stage,
    Step,
    StepLink,
    Tag,
    TagGroup,
)
from .models.research import Quote, ResearchSource
from .precompiled import Precompiled, light_instance, set_prefetched
from .research import NONE, Evidence
from .sql import Prepared, m2m_link, named_placeholders, prepared, with_names

# Steps read left to right by stage, then by their own position; unstaged steps last.
STEP_ORDER = (F("stage__position").asc(nulls_last=True), "position", "pk")

# Width in pixels of one step column; the emotion curve is drawn on the same grid.
STEP_COLUMN_WIDTH = 220


def _subquery_count(rows: QuerySet) -> Coalesce:
    """``SELECT COUNT(*)`` of ``rows`` (correlated by an ``OuterRef``) as a value: a plain
    aggregate, not Django's ``GROUP BY`` form, which SQLite ran three to five times
    slower (the tree's pain point counts: 6 ms for 150 maps at 10,000 maps)."""
    count = Func(Value(1), function="COUNT", output_field=IntegerField())  # not an aggregate
    return Coalesce(Subquery(rows.order_by().values(n=count), output_field=IntegerField()), 0)


def _count_of(model, *, fk: str = "map") -> Coalesce:
    return _subquery_count(model.objects.filter(**{fk: OuterRef("pk")}))


# The repository tree loads as many whole levels as fit in this many rows (at least
# one level); deeper ones load on demand, and a top level longer than this loads in
# pages of this many maps, so the page renders about this many rows at any size.
TREE_ROW_BUDGET = 150


@dataclass
class RepositoryTree:
    roots: list[JourneyMap]  # top nodes, children cached (``_cached_children``)
    more_after: int | None = None  # tree id after which further top-level maps follow
    more_count: int = 0  # how many top-level maps follow

    @property
    def lines(self) -> list[JourneyMap]:
        return tree_lines(self.roots)


def _annotated_for_tree(maps: QuerySet[JourneyMap]) -> QuerySet[JourneyMap]:
    # personas are not prefetched: the rows show only their names (persona_names_by_map)
    return maps.with_people().annotate(
        step_count=_count_of(Step),
        # the stored count (kept by triggers, maps 0026): one row per map instead of
        # walking each map's pain points (150 maps x 144 at 10,000 maps)
        pain_point_count=Coalesce(
            Subquery(MapPainPointCounts.objects.filter(map=OuterRef("pk")).values("total")), 0
        ),
        parent_step_position=F("parent_step__position"),
    )


# What the tree's rows (templates/jinja2/maps/repository_rows.html, views._with_row_bits)
# and the tree itself read of a map, its owner and its team; the rest stays deferred.
_TREE_FIELDS = (
    *("id", "title", "slug", "status", "parent_id", "level", "tree_id", "lft", "rght"),
    *("review_every_days", "last_reviewed_at", "review_due_at", "created_at"),
    *("owner_id", "team_id"),
)
_TREE_COUNTS = ("step_count", "pain_point_count", "parent_step_position", "visible_children")
_TREE_OWNER = ("id", "username", "first_name", "last_name")
_TREE_TEAM = ("id", "name")


def _tree_nodes(annotated: QuerySet[JourneyMap]) -> list[JourneyMap]:
    """The tree's maps with their owners and teams, built by ``loaded`` from the columns
    the rows show rather than by ``Model.__init__`` over every field of the three
    models (150 rows: ~4 of 13 ms at 10,000 maps)."""
    rows = annotated.values_list(
        *_TREE_FIELDS,
        *_TREE_COUNTS,
        *(f"owner__{name}" for name in _TREE_OWNER),
        *(f"team__{name}" for name in _TREE_TEAM),
    )
    related = (("owner", get_user_model(), _TREE_OWNER), ("team", Group, _TREE_TEAM))
    return loaded(list(rows), JourneyMap, (*_TREE_FIELDS, *_TREE_COUNTS), related=related)


def persona_names_by_map(map_ids: list[int]) -> dict[int, str]:
    """Each map's personas as the repository rows name them ("A, B", in the personas'
    order), in one query of names: a prefetch built a Persona per link, a sixth of the
    tree's time at 150 rows."""
    through = JourneyMap.personas.through
    names: dict[int, list[str]] = defaultdict(list)
    rows = (
        through.objects.filter(journeymap_id__in=map_ids)
        .order_by("persona__name", "persona_id")  # Persona.Meta.ordering
        .values_list("journeymap_id", "persona__name")
    )
    for map_id, name in rows:
        names[map_id].append(name)
    return {map_id: ", ".join(each) for map_id, each in names.items()}


def repository_tree(
    maps: QuerySet[JourneyMap], *, under: JourneyMap | None = None, after: int | None = None
) -> RepositoryTree:
    """Top nodes of the visible tree with children cached (two queries).

    Whole levels (below ``under``, if given) are loaded while they fit in
    ``TREE_ROW_BUDGET`` rows; nodes whose visible children were left out say how many
    (``more_children``). A map whose parent is hidden from the user is shown at the top.
    When the top level alone is longer than the budget, only its first
    ``TREE_ROW_BUDGET`` maps (after tree id ``after``) load, and the rest is counted.
    """
    top = 0 if under is None else under.level + 1
    scoped = maps
    if under is not None:
        scoped = maps.filter(tree_id=under.tree_id, lft__gt=under.lft, rght__lt=under.rght)
    elif after is not None:
        scoped = maps.filter(tree_id__gt=after)
    per_level = _level_counts(scoped, top)
    bottom, rows = top, per_level.get(top, 0)
    paged = under is None and rows > TREE_ROW_BUDGET
    # each node's visible children, counted in the nodes' query (one probe of the parent
    # index per node); shown for the deepest loaded level, whose children are not loaded
    annotated = _annotated_for_tree(scoped).annotate(
        visible_children=_subquery_count(maps.filter(parent=OuterRef("pk")))
    )
    if paged:  # top-level maps are one per tree: page through them by tree id
        nodes = _tree_nodes(annotated.filter(level=top).order_by("tree_id")[:TREE_ROW_BUDGET])
    else:
        while bottom + 1 in per_level and rows + per_level[bottom + 1] <= TREE_ROW_BUDGET:
            bottom += 1
            rows += per_level[bottom]
        nodes = _tree_nodes(annotated.filter(level__lte=bottom).order_by("tree_id", "lft"))
    for node in nodes:
        node.more_children = node.visible_children if node.level == bottom else 0
    roots = _cached_trees(nodes)
    _sort_by_journey_order(roots)
    if paged and nodes:
        return RepositoryTree(
            roots, more_after=nodes[-1].tree_id, more_count=per_level[top] - len(nodes)
        )
    return RepositoryTree(roots)


def _level_counts(scoped: QuerySet[JourneyMap], top: int) -> dict[int, int]:
    """How many of ``scoped`` each level from ``top`` down holds, as far as
    ``repository_tree`` needs to know (one query): the ``top`` level exactly (a paged top
    level says how many maps follow), the levels below from their first
    ``TREE_ROW_BUDGET + 1`` maps in level order. That is exact for every level the tree
    could load whole; a level cut short is the one that no longer fits either way (the
    rows above it and its own counted ones already exceed the budget). Both read the
    (level, tree_id) index and test only those maps' visibility, not every map's
    (grouping all 10,000 maps by level: ~4 ms for an owner)."""
    # one compiled statement of the scope's levels, read twice: its top level counted,
    # the first rows below it (the database folds each use into an index search)
    levels, params = _sql(scoped.filter(level__gte=top).order_by().values_list("level"))
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT COUNT(*), NULL FROM ({levels}) AS a WHERE "level" = %s UNION ALL '
            f'SELECT NULL, "level" FROM (SELECT "level" FROM ({levels}) AS b '
            f'WHERE "level" > %s ORDER BY "level" LIMIT %s) AS c',
            [*params, top, *params, top, TREE_ROW_BUDGET + 1],
        )
        rows = cursor.fetchall()
    per_level: dict[int, int] = {}
    for n, level in rows:
        if level is None:  # the top level's count
            if n:
                per_level[top] = n
        else:
            per_level[level] = per_level.get(level, 0) + 1
    return per_level


def _sql(queryset: QuerySet) -> tuple[str, tuple]:
    return queryset.query.get_compiler(connection=connection).as_sql()


def _cached_trees(nodes: list[JourneyMap]) -> list[JourneyMap]:
    """mptt's ``get_cached_trees`` for nodes in tree order, found by parent id instead of
    its scan of the level above per node (quadratic: 1.4 s at 10,000 maps), and without
    a QuerySet per node: roots are the nodes whose parent is not among them."""
    by_pk = {node.pk: node for node in nodes}
    roots = []
    for node in nodes:
        node._cached_children = []
        parent = by_pk.get(node.parent_id)
        if parent is None:
            roots.append(node)
        else:
            parent._cached_children.append(node)
            node._cached_parent = parent  # what mptt's cache sets: no query for .parent
    return roots


def tree_lines(roots: list[JourneyMap]) -> list[JourneyMap]:
    """The loaded tree in document order, for a template that renders it in one flat
    loop (no include per node): each node says how it opens (``tree_open``: "branch"
    with its sub-maps below, "lazy" with sub-maps still to load, "leaf") and how many
    branches close after it (``tree_closes``, a range to loop over)."""
    lines: list[JourneyMap] = []

    def walk(nodes: list[JourneyMap]) -> None:
        for node in nodes:
            lines.append(node)
            node.tree_closes = 0
            children = getattr(node, "_cached_children", None)
            if children:
                node.tree_open = "branch"
                walk(children)
                lines[-1].tree_closes += 1
            else:
                node.tree_open = "lazy" if getattr(node, "more_children", 0) else "leaf"

    walk(roots)
    for node in lines:
        node.tree_closes = range(node.tree_closes)
    return lines


def search_results(maps: QuerySet[JourneyMap]) -> QuerySet[JourneyMap]:
    """Matching maps as a flat list, with what the tree would show of each."""
    return _annotated_for_tree(maps).order_by("title", "pk")


def with_paths(page, visible: QuerySet[JourneyMap]) -> list[JourneyMap]:
    """Set ``path`` (the visible ancestors, top first) on each map, in one query."""
    page = list(page)
    if not page:
        return page
    trees = {m.tree_id for m in page}
    deepest = max(m.level for m in page)
    candidates = list(
        visible.filter(tree_id__in=trees, level__lt=deepest)
        .only("title", "slug", "tree_id", "lft", "rght", "level")
        .order_by("level")
    )
    for m in page:
        m.path = [
            a for a in candidates if a.tree_id == m.tree_id and a.lft < m.lft and a.rght > m.rght
        ]
    return page


@dataclass(frozen=True)
class Crumb:
    """One ancestor in a breadcrumb trail. A hidden ancestor is a neutral gap: no
    title, no slug, no link (``title`` and ``url`` are None)."""

    title: str | None = None
    url: str | None = None

    @property
    def hidden(self) -> bool:
        return self.title is None


def map_crumbs(
    journey_map: JourneyMap,
    *,
    visible: QuerySet[JourneyMap] | None = None,
    ancestors: list[JourneyMap] | None = None,
) -> list[Crumb]:
    """The ancestors of a map, top first, for breadcrumbs (one query, none for a
    top-level map): those in ``visible`` by title and link, the others as one gap per
    run of hidden ancestors, so a draft the reader cannot open never shows its title.
    ``ancestors``: the caller's instead, top first, each marked ``shown`` (no query)."""
    if ancestors is not None:
        rows: Iterable[tuple[str, str, bool]] = [(a.title, a.slug, a.shown) for a in ancestors]
    elif journey_map.parent_id is None:
        return []
    else:
        rows = (
            journey_map.get_ancestors()
            .annotate(shown=Exists(visible.filter(pk=OuterRef("pk"))))
            .values_list("title", "slug", "shown")
        )
    crumbs: list[Crumb] = []
    detail = reverse("maps:detail", kwargs={"slug": "-"})  # one reversal, not one per crumb
    for title, slug, shown in rows:
        if shown:
            crumbs.append(Crumb(title=title, url=detail.replace("/-/", f"/{slug}/")))
        elif not crumbs or not crumbs[-1].hidden:
            crumbs.append(Crumb())
    return crumbs


def _sort_by_journey_order(nodes: list[JourneyMap]) -> None:
    """Siblings follow the steps of their parent they zoom into, then their titles."""
    for node in nodes:
        children = getattr(node, "_cached_children", None)
        if children:
            children.sort(
                key=lambda c: (c.parent_step_position is None, c.parent_step_position or 0, c.title)
            )
            _sort_by_journey_order(children)


@dataclass
class StageGroup:
    stage: Stage | None
    steps: list[Step]


@dataclass
class Lane:
    spec: LaneSpec
    whole_map: list[Any]
    cells: list[tuple[Step, list[Any]]]  # one per step column, in order

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def term(self) -> str:
        return self.spec.term

    @property
    def is_empty(self) -> bool:
        return not self.whole_map and not any(items for _, items in self.cells)


@dataclass
class MapGrid:
    journey_map: JourneyMap
    stage_groups: list[StageGroup]
    steps: list[Step]
    lanes: list[Lane]
    links_out: dict[int, list[StepLink]]
    emotion_points: list[tuple[int, int, Step]]
    stages: list[Stage]
    show_emotion: bool = True
    has_funnel: bool = False
    funnel: MapFunnel | None = None  # the whole map's figures (completion, duration …)
    has_evidence: bool = False  # some card is backed by research (its toggle uses htmx)
    column_width: int = STEP_COLUMN_WIDTH

    @property
    def curve_width(self) -> int:
        return len(self.steps) * self.column_width

    @property
    def link_arcs(self) -> list[dict]:
        """SVG arcs of the step links, drawn over the step columns: forward links
        (branches, skips) above the middle line, loops back below it."""
        column = {step.pk: i for i, step in enumerate(self.steps)}
        half = self.column_width // 2
        arcs = []
        for links in self.links_out.values():
            for link in links:
                if link.to_step_id not in column:
                    continue
                x1 = column[link.from_step_id] * self.column_width + half
                x2 = column[link.to_step_id] * self.column_width + half
                span = abs(column[link.to_step_id] - column[link.from_step_id])
                bend = min(34, 12 + 6 * span) * (1 if x2 < x1 else -1)
                arcs.append(
                    {
                        "link": link,
                        "path": f"M {x1} 40 C {x1} {40 + bend} {x2} {40 + bend} {x2} 40",
                        "x1": x1,
                        "x2": x2,
                    }
                )
        return arcs

    @property
    def emotion_polyline(self) -> str:
        return " ".join(f"{x},{y}" for x, y, _ in self.emotion_points)


def map_chain(slug: str) -> QuerySet[JourneyMap]:
    """The map ``slug`` names after its ancestors, top first, whoever may see them
    (mptt's ``get_ancestors``: the maps of its tree whose lft..rght encloses its own); one
    query, for ``Precompiled`` (``split_chain`` reads its rows)."""
    target = JourneyMap.objects.filter(slug=slug).order_by()
    return JourneyMap.objects.filter(
        tree_id=Subquery(target.values("tree_id")[:1]),
        lft__lte=Subquery(target.values("lft")[:1]),
        rght__gte=Subquery(target.values("rght")[:1]),
    ).order_by("lft")


def split_chain(chain: list[JourneyMap], slug: str) -> tuple[JourneyMap, list[JourneyMap]] | None:
    """``map_chain``'s rows as (the map, its ancestors); None for no such map."""
    if not chain or chain[-1].slug != slug:
        return None
    *ancestors, journey_map = chain
    return journey_map, ancestors


def _map_and_ancestors(slug: str) -> QuerySet[JourneyMap]:
    return map_chain(slug).with_people().select_related("parent_step")


_MAP_AND_ANCESTORS = Precompiled(_map_and_ancestors, args=(str,))
_PERSONAS = Precompiled(lambda map_id: Persona.objects.filter(maps__id=map_id), args=(int,))
# the inventory entries migrated into the map ("Migrated from"; governance.ExternalMap,
# reached through the relation: maps does not import governance)
_MIGRATED_FROM = Precompiled(
    lambda map_id: JourneyMap._meta.get_field("migrated_from").related_model.objects.filter(
        migrated_to_id=map_id
    ),
    args=(int,),
)


def map_for_page(slug: str) -> tuple[JourneyMap, list[JourneyMap]] | None:
    """The map of the map page and its ancestors (top first), whoever may see them: the
    map as ``map_for_display`` gives it (owner, team, parent, parent step, personas) and
    the inventory entries migrated into it, in three queries compiled once per process
    (compiling them was 3 ms a page, #16)."""
    found = split_chain(_MAP_AND_ANCESTORS.objects(slug), slug)
    if found is None:
        return None
    journey_map, ancestors = found
    if ancestors:
        parent = ancestors[-1]
        journey_map.parent = parent
        parent_step = journey_map.parent_step
        if parent_step is not None and parent_step.map_id == parent.pk:
            parent_step.map = parent
    set_prefetched(journey_map, "personas", _PERSONAS.objects(journey_map.pk))
    set_prefetched(journey_map, "migrated_from", _MIGRATED_FROM.objects(journey_map.pk))
    return journey_map, ancestors


def map_for_display(maps: QuerySet[JourneyMap], slug: str) -> JourneyMap | None:
    return (
        maps.with_people()
        .with_personas()
        .select_related("parent", "parent_step", "parent_step__map")
        .filter(slug=slug)
        .first()
    )


def _spread(items, steps_index: dict[int, int], n_steps: int) -> tuple[list, list[list]]:
    whole: list = []
    by_step: list[list] = [[] for _ in range(n_steps)]
    for item, step_ids in items:
        placed = False
        for step_id in step_ids:
            if step_id in steps_index:
                by_step[steps_index[step_id]].append(item)
                placed = True
        if not placed:
            whole.append(item)
    return whole, by_step


# Kinds of rows of ``_map_links`` (the first column).
_PROJECT_STEP, _PROJECT_MAP, _TAG = 1, 2, 3
_QUOTE = {"steps": 4, "pain_points": 5, "lane_items": 6}  # (kind, item, quote, source)
_SOURCE = {"steps": 7, "pain_points": 8, "lane_items": 9}  # (kind, item, source, NULL)
_EVIDENCE_MODELS = {"steps": Step, "pain_points": PainPoint, "lane_items": LaneItem}


@lru_cache(maxsize=1)
def _map_links_sql() -> str:
    """Every link row of one map's content in one UNION ALL of index searches: the
    projects of its steps and of the map, its lane items' tags, the quotes (with their
    source) and sources backing its steps, pain points and lane items. It replaces a
    projects query that scanned every project (``… OR steps__map …`` + DISTINCT: 18 ms
    at 10,000 maps) and the evidence counts' correlated subqueries (a third of the
    grid's query building). Plain SQL: the same on SQLite and PostgreSQL."""
    qn = connection.ops.quote_name
    none = "CAST(NULL AS BIGINT)"  # typed: PostgreSQL types a UNION column by its first row
    step_t = qn(Step._meta.db_table)
    parts = []
    table, project, step = m2m_link(CXProject, "steps")
    parts.append(
        f"SELECT {_PROJECT_STEP}, l.{project}, l.{step}, {none} FROM {table} l"
        f" INNER JOIN {step_t} s ON s.id = l.{step} WHERE s.map_id = %s"
    )
    table, project, journey = m2m_link(CXProject, "maps")
    parts.append(
        f"SELECT {_PROJECT_MAP}, l.{project}, {none}, {none} FROM {table} l WHERE l.{journey} = %s"
    )
    table, item, tag = m2m_link(LaneItem, "tags")
    parts.append(
        f"SELECT {_TAG}, l.{item}, l.{tag}, {none} FROM {table} l"
        f" INNER JOIN {qn(LaneItem._meta.db_table)} i ON i.id = l.{item}"
        " WHERE i.map_id = %s"
    )
    quote_t = qn(Quote._meta.db_table)
    for field, model in _EVIDENCE_MODELS.items():
        item_t = qn(model._meta.db_table)
        table, quote, item = m2m_link(Quote, field)
        parts.append(
            f"SELECT {_QUOTE[field]}, l.{item}, l.{quote}, q.source_id"
            f" FROM {table} l INNER JOIN {quote_t} q ON q.id = l.{quote}"
            f" INNER JOIN {item_t} i ON i.id = l.{item} WHERE i.map_id = %s"
        )
        table, source, item = m2m_link(ResearchSource, field)
        parts.append(
            f"SELECT {_SOURCE[field]}, l.{item}, l.{source}, {none} FROM {table} l"
            f" INNER JOIN {item_t} i ON i.id = l.{item} WHERE i.map_id = %s"
        )
    return " UNION ALL ".join(parts)


@lru_cache(maxsize=2)
def _map_links_statement(vendor: str) -> tuple[str, tuple[str, ...] | None, int]:
    """``_map_links_sql`` as run (``maps.sql.named_placeholders``), its number of
    parameters."""
    sql = _map_links_sql()
    return (*named_placeholders(sql, vendor), sql.count("%s"))


@dataclass
class MapLinks:
    """What ``_map_links`` read, grouped: project ids -> the map's step ids they are
    linked to, the map's own projects, tag ids per lane item, the evidence per item."""

    project_steps: dict[int, list[int]]
    map_projects: set[int]
    tags: dict[int, list[int]]
    evidence: dict[tuple[str, int], Evidence]


def _map_links(map_id: int) -> MapLinks:
    """One query (``_map_links_sql``), grouped in Python. The evidence is what
    ``research.with_evidence`` counts: an item's quotes, and the distinct sources of
    those quotes together with the sources linked to it directly."""
    sql, names, n = _map_links_statement(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, with_names([map_id] * n, names))
        rows = cursor.fetchall()
    project_steps: dict[int, list[int]] = defaultdict(list)
    map_projects: set[int] = set()
    tags: dict[int, list[int]] = defaultdict(list)
    quotes: dict[tuple[str, int], int] = defaultdict(int)
    sources: dict[tuple[str, int], set[int]] = defaultdict(set)
    field_of = {code: field for field, code in (*_QUOTE.items(), *_SOURCE.items())}
    for kind, a, b, c in rows:
        if kind == _PROJECT_STEP:
            project_steps[a].append(b)
        elif kind == _PROJECT_MAP:
            map_projects.add(a)
        elif kind == _TAG:
            tags[a].append(b)
        elif kind in _QUOTE.values():
            key = (field_of[kind], a)
            quotes[key] += 1
            sources[key].add(c)
        else:
            sources[(field_of[kind], a)].add(b)
    evidence = {key: Evidence(quotes.get(key, 0), len(ids)) for key, ids in sources.items()}
    return MapLinks(dict(project_steps), map_projects, dict(tags), evidence)


_OWNER_FIELDS = ("id", "username", "first_name", "last_name")  # what the cards show
# the grid shows no descriptions or timestamps: not read (a third of the rows' cost)
_UNSHOWN = ("description", "created_at", "updated_at")


def _attnames(model: type[Model], unshown: Sequence[str] = _UNSHOWN) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.name not in unshown]


def loaded(
    rows: Sequence[Sequence[Any]], model: type[Model], attnames: Sequence[str], *, related=()
) -> list[Any]:
    """Model instances of ``rows`` (``attnames`` first, the fields not named deferred),
    built without ``Model.__init__``, whose per-field descriptor work was half of the
    grid's reading on the biggest map (900 cards: 13 of 27 ms). Only for models with no
    ``pre_init`` / ``post_init`` receivers (tests/test_map_page.py checks the grid's).
    ``related``: ``(name, model, attnames)`` of foreign keys read in the same row after
    those columns and cached on the instance as ``select_related`` does (one instance
    per id; None when the key is empty)."""
    db = connection.alias
    n = len(attnames)
    if not related:
        return [light_instance(model, attnames, row, db) for row in rows]
    objs = []
    cache: dict[tuple[str, Any], Any] = {}
    for row in rows:
        obj = light_instance(model, attnames, row[:n], db)
        start = n
        for name, other, names in related:
            pk = row[start]
            target = None
            if pk is not None:
                target = cache.get((name, pk))
                if target is None:
                    values = row[start : start + len(names)]
                    target = cache[(name, pk)] = light_instance(other, names, values, db)
            obj._state.fields_cache[name] = target
            start += len(names)
        objs.append(obj)
    return objs


# The grid's reads, compiled once per process (maps.sql.Prepared): the map's id is
# their one argument. Orders: each model's Meta.ordering, or the one named.
@prepared()
def _stage_rows(map_id: int) -> QuerySet:
    return Stage.objects.filter(map=map_id).values_list(*_attnames(Stage))


@prepared()
def _step_rows(map_id: int) -> QuerySet:
    return Step.objects.filter(map=map_id).order_by(*STEP_ORDER).values_list(*_attnames(Step))


@prepared()
def _link_rows(map_id: int) -> QuerySet:
    # the target's name: a link to a step of another map (refused by StepLink.clean,
    # but not by the database) still names it without a query per link
    fields = _attnames(StepLink, ())
    return StepLink.objects.filter(from_step__map=map_id).values_list(*fields, "to_step__name")


# cell order: PainPoint/LaneItem Meta.ordering within one map, without its map join
@prepared()
def _pain_point_rows(map_id: int) -> QuerySet:
    queryset = PainPoint.objects.filter(map=map_id).order_by("position", "pk")
    return queryset.values_list(*_attnames(PainPoint))


@prepared()
def _lane_item_rows(map_id: int) -> QuerySet:
    owner = [f"owner__{name}" for name in _OWNER_FIELDS]
    queryset = LaneItem.objects.filter(map=map_id).order_by("position", "pk")
    return queryset.values_list(*_attnames(LaneItem), *owner)


@prepared()
def _kpi_rows(map_id: int) -> QuerySet:
    return KPI.objects.filter(map=map_id).values_list(*_attnames(KPI, ()))


_TAG_GROUP_FIELDS = ("id", "name")


@prepared()
def _tag_rows(map_id: int) -> QuerySet:
    """The tags of the map's lane items, in Tag.Meta.ordering, with their group."""
    links = LaneItem.tags.through.objects.filter(laneitem__map=map_id)
    return Tag.objects.filter(pk__in=links.values("tag_id")).values_list(
        *_attnames(Tag), *(f"group__{name}" for name in _TAG_GROUP_FIELDS)
    )


@prepared()
def _project_rows(map_id: int) -> QuerySet:
    """The projects of the map and of its steps, by title: two index searches into the
    link tables, then the projects by their ids (whatever the number of projects)."""
    on_map = CXProject.maps.through.objects.filter(journeymap=map_id)
    on_steps = CXProject.steps.through.objects.filter(step__map=map_id)
    return (
        CXProject.objects.filter(
            Q(pk__in=on_map.values("cxproject_id")) | Q(pk__in=on_steps.values("cxproject_id"))
        )
        .order_by("title", "pk")
        .values_list(*_attnames(CXProject, ()))
    )


def _grid_instances(model: type[Model], statement: Prepared, map_id: int, **kwargs) -> list:
    attnames = _attnames(model, ()) if model in (KPI, CXProject, StepLink) else _attnames(model)
    return loaded(statement.rows(map_id), model, attnames, **kwargs)


# the lanes of pain points and lane items: (editor kind, item kind) -> lane key
_LANE_OF_KIND = {(spec.editor_kind, spec.preset): spec.key for spec in LANES if spec.preset}
_PAIN_POINT_LANES = {
    kind: key for (editor, kind), key in _LANE_OF_KIND.items() if editor == "painpoint"
}
_LANE_ITEM_LANES = {
    kind: key for (editor, kind), key in _LANE_OF_KIND.items() if editor == "laneitem"
}


def map_grid(journey_map: JourneyMap, *, children: QuerySet[JourneyMap]) -> MapGrid:
    """A map laid out with steps as columns and lanes as rows (about ten queries, fixed;
    their SQL compiled once per process)."""
    map_id = journey_map.pk
    stages = _grid_instances(Stage, _stage_rows, map_id)
    steps = _grid_instances(Step, _step_rows, map_id)
    stage_by_id = {stage.pk: stage for stage in stages}
    groups: list[StageGroup] = []
    for step in steps:
        step.stage = stage_by_id.get(step.stage_id)  # avoid a query per step
        if groups and groups[-1].stage is step.stage:
            groups[-1].steps.append(step)
        else:
            groups.append(StageGroup(stage=step.stage, steps=[step]))
    index = {step.pk: i for i, step in enumerate(steps)}
    n = len(steps)

    links_out: dict[int, list[StepLink]] = defaultdict(list)
    step_by_id = {step.pk: step for step in steps}
    link_fields = _attnames(StepLink, ())
    for row in _link_rows.rows(map_id):
        (link,) = loaded([row[:-1]], StepLink, link_fields)
        link.from_step = step_by_id[link.from_step_id]
        to_step = step_by_id.get(link.to_step_id)
        if to_step is None:  # on another map: its id and name (the rest read on access)
            to_step = light_instance(
                Step, ("id", "name"), (link.to_step_id, row[-1]), connection.alias
            )
        link.to_step = to_step
        links_out[link.from_step_id].append(link)

    pain_points = _grid_instances(PainPoint, _pain_point_rows, map_id)
    user_model = LaneItem._meta.get_field("owner").related_model
    lane_items = _grid_instances(
        LaneItem, _lane_item_rows, map_id, related=[("owner", user_model, _OWNER_FIELDS)]
    )
    links = _map_links(map_id)
    evidence = links.evidence
    for field, objs in (("steps", steps), ("pain_points", pain_points), ("lane_items", lane_items)):
        for obj in objs:
            obj.backing = evidence.get((field, obj.id), NONE) if evidence else NONE
    # tags cost one query, and only when some card has tags
    tags = (
        _grid_instances(Tag, _tag_rows, map_id, related=[("group", TagGroup, _TAG_GROUP_FIELDS)])
        if links.tags
        else []
    )
    tag_by_id = {tag.pk: tag for tag in tags}
    tag_rank = {pk: i for i, pk in enumerate(tag_by_id)}  # Tag.Meta.ordering
    for item in lane_items:
        ids = sorted(links.tags.get(item.pk, ()), key=tag_rank.__getitem__)
        item.tag_list = [tag_by_id[pk] for pk in ids]
    kpis = _grid_instances(KPI, _kpi_rows, map_id)
    project_steps = links.project_steps
    # projects cost one query, and only when the map or a step has one
    projects = (
        _grid_instances(CXProject, _project_rows, map_id)
        if links.map_projects or project_steps
        else []
    )
    # a map with no sub-map at all (a leaf of the tree: most maps) asks no more
    sub_maps = (
        []
        if journey_map.is_leaf_node()
        else list(children.select_related("owner").order_by("title"))
    )

    # The latest event-log analytics of the map, if any (one query).
    map_figures = map_funnel(journey_map)
    funnel = map_figures.by_step() if map_figures else {}

    # Template-friendly attributes: what each step column shows in its header.
    for step in steps:
        step.funnel = funnel.get(step.pk)
        step.outgoing = links_out.get(step.pk, [])
        step.zoom_maps = [m for m in sub_maps if m.parent_step_id == step.pk]

    # each pain point and lane item to the lane of its kind, in one pass
    items_of_lane: dict[str, list] = {key: [] for key in _LANE_OF_KIND.values()}
    for lane_of, objs in ((_PAIN_POINT_LANES, pain_points), (_LANE_ITEM_LANES, lane_items)):
        for obj in objs:
            items = items_of_lane.get(lane_of.get(obj.kind, ""))
            if items is not None:
                items.append((obj, [obj.step_id] if obj.step_id else []))
    items_of_lane |= {
        "kpis": [(k, [k.step_id] if k.step_id else []) for k in kpis],
        "projects": [(p, project_steps.get(p.pk, [])) for p in projects],
        "sub_maps": [(m, [m.parent_step_id]) for m in sub_maps],
    }
    hidden = set(journey_map.hidden_lanes or ())
    lanes = []
    for spec in LANES:
        if spec.key in hidden or spec.key not in items_of_lane:
            continue
        whole, by_step = _spread(items_of_lane[spec.key], index, n)
        lanes.append(Lane(spec=spec, whole_map=whole, cells=list(zip(steps, by_step, strict=True))))

    half = STEP_COLUMN_WIDTH // 2
    emotion_points = [
        (i * STEP_COLUMN_WIDTH + half, 50 - step.emotion * 20, step) for i, step in enumerate(steps)
    ]
    return MapGrid(
        journey_map=journey_map,
        stage_groups=groups,
        steps=steps,
        lanes=lanes,
        links_out=dict(links_out),
        emotion_points=emotion_points,
        stages=stages,
        show_emotion="emotion" not in hidden,
        has_funnel=bool(funnel),
        funnel=map_figures,
        has_evidence=any(obj.backing for obj in (*steps, *pain_points, *lane_items)),
    )


def subtree_forest(
    maps: QuerySet[JourneyMap], *, root: JourneyMap | None = None
) -> list[JourneyMap]:
    """The visible maps (optionally only ``root``'s subtree) as trees, children cached."""
    qs = maps.select_related("owner").annotate(parent_step_position=F("parent_step__position"))
    if root is not None:
        qs = qs.filter(tree_id=root.tree_id, lft__gte=root.lft, rght__lte=root.rght)
    roots = qs.order_by("tree_id", "lft").get_cached_trees()
    _sort_by_journey_order(roots)
    return roots
