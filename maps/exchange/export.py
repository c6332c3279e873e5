"""Writing a journeyhub/1 document: a map (or its subtree) with everything in it, as much
of it as the user may see, keyed by slugs and keys, in a canonical order.

Fixed queries whatever the subtree's size (``tests/test_exchange_export.py``): one per
part of the document; one for the tags of the maps' content and of their projects and
the projects' links (``_ByMap``); one for the users, teams and personas referenced;
the research's quotes, attachments and links (only when the maps have research); none
per map or per row. Whether a map has projects, tags, personas or a team changes no
count (``tests/test_api_expand.py``).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Q
from django.utils import timezone

from governance import permissions
from governance.permissions import visible_maps, visible_projects_sql
from maps.api.pages import stand_in_user

from ..models import JourneyMap, Persona, VocabularyTerm
from ..sql import m2m_link
from .spec import (
    ATTACHMENT_PART,
    CONTENT_PARTS,
    FORMAT,
    IN_MAP,
    MAP_PART,
    MEASUREMENT_PART,
    OBSERVATION_PART,
    PERSONA_PART,
    PROJECT_PART,
    QUOTE_PART,
    REF_FIELD,
    SOURCE_PART,
    Part,
    dump_value,
    json_name,
    utc_text,
)


def tag_ref(kind: str, group: str | None, name: str) -> dict[str, Any]:
    return {"kind": kind, "group": group, "name": name}


def _tag_sort(tag: dict) -> tuple:
    return (tag["kind"], tag["group"] or "", tag["name"].lower(), tag["name"])


class _Refs:
    """Keys of the rows the document points at, by model and primary key: the content
    read for the export itself, and users, teams and personas read once at the end."""

    def __init__(self) -> None:
        self.keys: dict[type, dict[int, str]] = defaultdict(dict)
        self.wanted: dict[type, set[int]] = defaultdict(set)

    def want(self, part: Part, rows: Iterable[dict]) -> None:
        for attname in part.fields:
            target = part.model_field(attname).related_model
            if target is not None and target not in IN_MAP and target is not JourneyMap:
                self.wanted[target].update(r[attname] for r in rows if r[attname] is not None)

    def resolve(self) -> None:
        """The keys of every wanted row, all models in one query (``UNION ALL`` of one
        select per model): a map owned by someone, with no team and no persona, costs
        what one with both costs."""
        wanted = [(model, sorted(pks)) for model, pks in self.wanted.items() if pks]
        if not wanted:
            return
        q = connection.ops.quote_name
        selects, params = [], []
        for n, (model, pks) in enumerate(wanted):
            selects.append(
                f"SELECT {n}, {q(model._meta.pk.column)}, "
                f"{q(model._meta.get_field(REF_FIELD[model]).column)} "
                f"FROM {q(model._meta.db_table)} "
                f"WHERE {q(model._meta.pk.column)} IN ({', '.join(['%s'] * len(pks))})"
            )
            params += pks
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(selects), params)
            for n, pk, key in cursor.fetchall():
                self.keys[wanted[n][0]][pk] = key

    def key(self, model: type, pk: int | None) -> str | None:
        return None if pk is None else self.keys[model].get(pk)


#: how ``_dump`` writes each field of a part: (attname, json name, the target model of a
#: reference or None, whether ``dump_value`` changes the value's type)
_Plan = tuple[tuple[str, str, type | None, models.Field | None], ...]
_PLANS: dict[str, _Plan] = {}


def _plan(part: Part) -> _Plan:
    """Decided once per part (the models do not change at run time): asking every field of
    every row for its json name and its kind was most of an export's Python time."""
    found = _PLANS.get(part.name)
    if found is None:
        steps = []
        for attname in part.fields:
            model_field = part.model_field(attname)
            converts = isinstance(model_field, (models.DateField, models.DecimalField))
            steps.append(
                (
                    attname,
                    json_name(attname),
                    model_field.related_model,
                    model_field if converts else None,
                )
            )
        found = _PLANS[part.name] = tuple(steps)
    return found


def _dump(part: Part, row: dict, refs: _Refs) -> dict[str, Any]:
    """``row`` as the document writes it: references by key, values by ``dump_value``
    (only for the field types it changes; every other value is written as stored)."""
    out: dict[str, Any] = {}
    keys = refs.keys
    for attname, name, target, converted in _plan(part):
        value = row[attname]
        if target is not None:
            out[name] = None if value is None else keys[target].get(value)
        elif converted is not None:
            out[name] = dump_value(converted, value)
        else:
            out[name] = value
    return out


def _sorted(part: Part, rows: list[dict]) -> list[dict]:
    """Rows by position then key (kinds without a position: by their identity)."""

    def order(row: dict) -> tuple:
        ident = tuple(str(row.get(name)) for name in part.identity)
        return ((row["position"],) if part.has_position else ()) + ident

    return sorted(rows, key=order)


def _tree_order(root: JourneyMap, maps: dict[int, JourneyMap]) -> list[JourneyMap]:
    """The maps depth first, siblings by title then slug; a map whose parent is not
    exported (hidden from the user) is left out with everything beneath it."""
    children: dict[int, list[JourneyMap]] = defaultdict(list)
    for journey_map in maps.values():
        if journey_map.pk != root.pk and journey_map.parent_id in maps:
            children[journey_map.parent_id].append(journey_map)
    ordered, stack = [], [root]
    while stack:
        journey_map = stack.pop()
        ordered.append(journey_map)
        stack.extend(
            sorted(children[journey_map.pk], key=lambda m: (m.title, m.slug), reverse=True)
        )
    return ordered


# Rows are selected by their map (``owners``: a filter on the row, e.g. ``{"map_id__in":
# ids}``), never by long lists of their own ids: SQLite takes at most 32,766 parameters.


def _owned(source: str, owners: dict[str, Any]) -> dict[str, Any]:
    return {f"{source}__{key}": value for key, value in owners.items()}


def _m2m(model, name: str, owners: dict[str, Any]) -> list[tuple[int, int]]:
    through = model._meta.get_field(name).remote_field.through
    source = model._meta.get_field(name).m2m_field_name()
    target = model._meta.get_field(name).m2m_reverse_field_name()
    return list(
        through.objects.filter(**_owned(source, owners)).values_list(f"{source}_id", f"{target}_id")
    )


def _tags(model, owners: dict[str, Any]) -> dict[int, list[dict]]:
    through = model.tags.through
    source = model._meta.get_field("tags").m2m_field_name()
    found: dict[int, list[dict]] = defaultdict(list)
    rows = through.objects.filter(**_owned(source, owners)).values_list(
        f"{source}_id", "tag__kind", "tag__group__name", "tag__name"
    )
    for owner, kind, group, name in rows:
        found[owner].append(tag_ref(kind, group, name))
    return {owner: sorted(tags, key=_tag_sort) for owner, tags in found.items()}


class _ByMap:
    """What the maps' tagged content and the projects touching them link to, read in one
    ``UNION ALL`` (#16): the tags of each kind of content, and of every project touching
    the maps, and the projects' links to the maps, their steps and their pain points.
    Six small queries were a third of an expanded map's database time, mostly Django
    building them. The maps' ids are written once (a ``WITH`` list) whatever the number
    of branches: SQLite takes at most 32,766 parameters."""

    def __init__(self, map_ids: list[int]) -> None:
        #: content part name or "projects" -> owner id -> tags (sorted)
        self.tags: dict[str, dict[int, list[dict]]] = {}
        #: "maps" / "steps" / "pain_points" -> (project id, map slug, key or None)
        self.project_links: dict[str, list[tuple[int, str, str | None]]] = {
            name: [] for name in ("maps", "steps", "pain_points")
        }
        q = connection.ops.quote_name
        table = {name: q(model._meta.db_table) for name, model in self._models().items()}
        maps, tag, group = table["maps"], table["tag"], table["group"]
        in_maps = "IN (SELECT jh_map FROM jh_maps)"

        project = PROJECT_PART.model
        links = {name: m2m_link(project, name) for name in self.project_links}
        step_model = project._meta.get_field("steps").related_model
        pain_model = project._meta.get_field("pain_points").related_model
        link_rows = {  # (table, column of the row's map, column of its key)
            "steps": (q(step_model._meta.db_table), q("map_id"), q(REF_FIELD[step_model])),
            "pain_points": (q(pain_model._meta.db_table), q("map_id"), q(REF_FIELD[pain_model])),
        }
        maps_link, maps_own, maps_other = links["maps"]
        touching = [f"SELECT {maps_own} FROM {maps_link} WHERE {maps_other} {in_maps}"]
        for name, (row_table, row_map, _) in link_rows.items():
            link, own, other = links[name]
            touching.append(
                f"SELECT l.{own} FROM {link} l INNER JOIN {row_table} r "
                f"ON r.{q('id')} = l.{other} WHERE r.{row_map} {in_maps}"
            )

        def tag_branch(label: str, model, where: str) -> str:
            link, own, other = m2m_link(model, "tags")
            return (
                f"SELECT '{label}', l.{own}, t.{q('kind')}, g.{q('name')}, t.{q('name')} "
                f"FROM {link} l INNER JOIN {tag} t ON t.{q('id')} = l.{other} "
                f"LEFT OUTER JOIN {group} g ON g.{q('id')} = t.{q('group_id')} WHERE {where}"
            )

        branches = []
        for part in CONTENT_PARTS:
            if "tags" in part.m2m:
                link, own, _ = m2m_link(part.model, "tags")
                owners = (
                    f"SELECT {q('id')} FROM {q(part.model._meta.db_table)} "
                    f"WHERE {q('map_id')} {in_maps}"
                )
                branches.append(tag_branch(part.name, part.model, f"l.{own} IN ({owners})"))
                self.tags[part.name] = {}
        own = m2m_link(project, "tags")[1]
        branches.append(tag_branch("projects", project, f"l.{own} IN ({' UNION '.join(touching)})"))
        self.tags["projects"] = {}
        # the projects' links: (label, project, the map's slug, the row's key, NULL)
        branches.append(
            f"SELECT 'maps', l.{maps_own}, m.{q('slug')}, NULL, NULL FROM {maps_link} l "
            f"INNER JOIN {maps} m ON m.{q('id')} = l.{maps_other} WHERE m.{q('id')} {in_maps}"
        )
        for name, (row_table, row_map, row_key) in link_rows.items():
            link, own, other = links[name]
            branches.append(
                f"SELECT '{name}', l.{own}, m.{q('slug')}, r.{row_key}, NULL FROM {link} l "
                f"INNER JOIN {row_table} r ON r.{q('id')} = l.{other} "
                f"INNER JOIN {maps} m ON m.{q('id')} = r.{row_map} WHERE r.{row_map} {in_maps}"
            )
        values = ", ".join(["(%s)"] * len(map_ids))
        sql = f"WITH jh_maps (jh_map) AS (VALUES {values}) " + " UNION ALL ".join(branches)
        found: dict[str, dict[int, list[dict]]] = {name: defaultdict(list) for name in self.tags}
        with connection.cursor() as cursor:
            cursor.execute(sql, list(map_ids))
            for label, owner, first, second, third in cursor.fetchall():
                if label in self.project_links:
                    self.project_links[label].append((owner, first, second))
                else:
                    found[label][owner].append(tag_ref(first, second, third))
        for name, by_owner in found.items():
            self.tags[name] = {
                owner: sorted(tags, key=_tag_sort) for owner, tags in by_owner.items()
            }

    @staticmethod
    def _models() -> dict[str, type]:
        from ..models import Tag, TagGroup

        return {"maps": JourneyMap, "tag": Tag, "group": TagGroup}


def _values(part: Part, queryset, *extra: str) -> list[dict]:
    return list(queryset.values("pk", *extra, *part.fields))


#: the SQL of ``_by_map``'s queries as the ORM compiled them, by connection and shape
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: ids stand-ins while the ORM compiles (no row has a negative id)
_SENTINEL = -7_362_100_101
#: exports of more maps than this compile their queries each time (shapes vary)
_COMPILED_UP_TO = 8


def _by_map(part: Part, lookup: str, map_ids: list[int], *extra: str) -> list[dict]:
    """``_values(part, part.model.objects.filter(<lookup>=map_ids), *extra)``, the same
    dicts, with the SQL compiled by the ORM once per connection and shape and run again
    with these ids, the rows converted by the ORM's own converters (``results_iter``).
    Building and compiling eight such queries was a third of an expanded map's time,
    ten times the database's (#16)."""
    if len(map_ids) > _COMPILED_UP_TO:
        return _values(part, part.model.objects.filter(**{lookup: map_ids}), *extra)
    wrapper = connections[DEFAULT_DB_ALIAS]
    plans = _COMPILED.setdefault(wrapper, {})
    key = (part.name, lookup, extra, len(map_ids))
    plan = plans.get(key)
    if plan is None:
        stand_ins = [_SENTINEL - n for n in range(len(map_ids))]
        queryset = part.model.objects.filter(**{lookup: stand_ins}).values(
            "pk", *extra, *part.fields
        )
        compiler = queryset.query.get_compiler(connection=wrapper)
        sql, params = compiler.as_sql()
        query = queryset.query  # the names as ``ValuesIterable`` gives them
        names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        if list(params) != stand_ins:  # the ids are not the only parameters: not reused
            return _values(part, part.model.objects.filter(**{lookup: map_ids}), *extra)
        plan = plans[key] = (sql, compiler, names)
    sql, compiler, names = plan
    with wrapper.cursor() as cursor:
        cursor.execute(sql, list(map_ids))
        fetched = cursor.fetchall()
    if compiler.has_extra_select:  # columns added for the ordering: not part of the rows
        fetched = [row[: compiler.col_count] for row in fetched]
    return [dict(zip(names, row, strict=True)) for row in compiler.results_iter([fetched])]


def export_document(
    root: JourneyMap,
    *,
    user,
    measurements: bool = True,
    subtree: bool = True,
    ids: bool = False,
    fresh: bool = False,
    lists: bool = True,
) -> dict[str, Any]:
    """The journeyhub/1 document of ``root`` (and its subtree, unless ``subtree`` is
    False) as ``user`` sees it. The caller has checked that ``user`` may see ``root``.

    ``ids`` adds each row's database ``id`` (maps, content, research sources, quotes,
    projects): not part of journeyhub/1, for the API's ``?expand=content``, whose
    clients edit rows by id. ``fresh``: ``root`` was just read with all its fields (not
    read again). ``lists=False`` leaves out the document's ``vocabulary`` and
    ``personas``, for callers that use only the maps and projects."""
    if not fresh:
        root = JourneyMap.objects.get(pk=root.pk)  # the tree numbers as they are now
    if subtree:
        scope = JourneyMap.objects.filter(
            tree_id=root.tree_id, lft__gte=root.lft, rght__lte=root.rght
        )
        maps = {m.pk: m for m in visible_maps(user, scope)}
        maps[root.pk] = maps.get(root.pk, root)
    else:  # the root alone, which the caller may see: nothing to ask the database
        maps = {root.pk: root}
    ordered = _tree_order(root, maps)
    map_ids = [m.pk for m in ordered]
    refs = _Refs()
    refs.keys[JourneyMap] = {m.pk: m.slug for m in ordered}
    # a future state's current-state map outside the document: named by slug when the
    # user may see it (a re-import here links it again), else null (one query, if any)
    outside = {m.state_of_id for m in ordered} - set(refs.keys[JourneyMap]) - {None}
    state_of_slugs: dict[int, str] = {}
    if outside:
        named = visible_maps(user, JourneyMap.objects.filter(pk__in=outside))
        state_of_slugs = dict(named.values_list("pk", "slug"))
    map_rows = [_map_row(m) for m in ordered]
    refs.want(MAP_PART, map_rows)
    prefetched = getattr(root, "_prefetched_objects_cache", {}).get("personas")
    if not subtree and fresh and prefetched is not None:  # the caller read them already
        map_personas = [(root.pk, persona.pk) for persona in prefetched]
    else:
        map_personas = _m2m(JourneyMap, "personas", {"pk__in": map_ids})
    refs.wanted[Persona].update(persona for _, persona in map_personas)

    # content of every kind, by map
    content: dict[str, list[dict]] = {}
    for part in CONTENT_PARTS:
        if part.parent == "map_id":
            rows = _by_map(part, "map_id__in", map_ids, "map_id")
        else:  # links reach their map through their first step
            rows = _by_map(part, "from_step__map_id__in", map_ids, "from_step__map_id")
            for row in rows:
                row["map_id"] = row["from_step__map_id"]
        content[part.name] = rows
        refs.keys[part.model].update(
            (r["pk"], r["exchange_key"] if "exchange_key" in r else r.get("key")) for r in rows
        )
        refs.want(part, rows)
    by_map = _ByMap(map_ids)  # asked even when nothing is tagged or linked (#16)
    tags = by_map.tags

    per_kpi: dict[str, dict[int, list[dict]]] = {}
    if measurements:
        for part in (MEASUREMENT_PART, OBSERVATION_PART):
            rows = []
            if content["kpis"]:
                query = part.model.objects.filter(kpi__map_id__in=map_ids)
                rows = _values(part, query, "kpi_id")
            refs.want(part, rows)
            grouped: dict[int, list[dict]] = defaultdict(list)
            for row in rows:
                grouped[row["kpi_id"]].append(row)
            per_kpi[part.name] = grouped

    sources = _by_map(SOURCE_PART, "map_id__in", map_ids, "map_id")
    refs.want(SOURCE_PART, sources)
    quotes: list[dict] = []
    attachments: list[dict] = []
    source_links: dict[str, list] = {name: [] for name in SOURCE_PART.m2m}
    quote_links: dict[str, list] = {name: [] for name in QUOTE_PART.m2m if name != "tags"}
    quote_tags: dict[int, list[dict]] = {}
    if sources:
        quote_maps = {"source__map_id__in": map_ids}
        quotes = _values(QUOTE_PART, QUOTE_PART.model.objects.filter(**quote_maps), "source_id")
        attachments = _values(
            ATTACHMENT_PART, ATTACHMENT_PART.model.objects.filter(**quote_maps), "source_id"
        )
        source_links = {
            name: _m2m(SOURCE_PART.model, name, {"map_id__in": map_ids}) for name in SOURCE_PART.m2m
        }
        if quotes:
            quote_links = {name: _m2m(QUOTE_PART.model, name, quote_maps) for name in quote_links}
            quote_tags = _tags(QUOTE_PART.model, quote_maps)
    refs.want(QUOTE_PART, quotes)
    refs.want(ATTACHMENT_PART, attachments)

    projects = _project_rows(user, map_ids, refs, by_map)

    refs.resolve()
    persona_ids = set(refs.keys[Persona])

    # --- writing ----------------------------------------------------------------------
    def by_owner(links: list[tuple[int, int]]) -> dict[int, list[int]]:
        grouped: dict[int, list[int]] = defaultdict(list)
        for owner, other in links:
            grouped[owner].append(other)
        return grouped

    personas_of = by_owner(map_personas)
    quote_links = {name: by_owner(links) for name, links in quote_links.items()}
    source_links = {name: by_owner(links) for name, links in source_links.items()}

    def linked(links: dict[int, list[int]], owner: int, target) -> list[str]:
        return sorted(refs.key(target, other) or "" for other in links.get(owner, ()))

    by_map: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for part in CONTENT_PARTS:
        for row in content[part.name]:
            out = _with_id(row, _dump(part, row, refs), ids)
            if "tags" in part.m2m:
                out["tags"] = tags[part.name].get(row["pk"], [])
            if part.name == "kpis" and measurements:
                for sub in (MEASUREMENT_PART, OBSERVATION_PART):
                    out[sub.name] = _sorted_sub(sub, per_kpi[sub.name].get(row["pk"], []), refs)
            by_map[row["map_id"]][part.name].append(out)

    quotes_of: dict[int, list[dict]] = defaultdict(list)
    for row in quotes:
        out = _with_id(row, _dump(QUOTE_PART, row, refs), ids)
        out["tags"] = quote_tags.get(row["pk"], [])
        for name in ("steps", "pain_points", "lane_items"):
            target = QUOTE_PART.model._meta.get_field(name).related_model
            out[name] = linked(quote_links[name], row["pk"], target)
        quotes_of[row["source_id"]].append(out)
    attachments_of: dict[int, list[dict]] = defaultdict(list)
    for row in attachments:
        attachments_of[row["source_id"]].append(_dump(ATTACHMENT_PART, row, refs))
    for row in sources:
        out = _with_id(row, _dump(SOURCE_PART, row, refs), ids)
        for name in SOURCE_PART.m2m:
            target = SOURCE_PART.model._meta.get_field(name).related_model
            out[name] = linked(source_links[name], row["pk"], target)
        out["quotes"] = _sorted(QUOTE_PART, quotes_of[row["pk"]])
        out["attachments"] = sorted(attachments_of[row["pk"]], key=lambda a: (a["name"], a["size"]))
        by_map[row["map_id"]]["research"].append(out)

    map_entries = []
    for journey_map, row in zip(ordered, map_rows, strict=True):
        entry = _dump(MAP_PART, row, refs)
        if ids:
            entry = {"id": journey_map.pk, **entry}
        if journey_map.pk == root.pk:  # the document's root: placed by whoever imports it
            entry["parent"] = entry["parent_step"] = None
        if journey_map.state_of_id in state_of_slugs:
            entry["state_of"] = state_of_slugs[journey_map.state_of_id]
        entry["personas"] = linked(personas_of, journey_map.pk, Persona)
        for part in CONTENT_PARTS:
            entry[part.name] = _sorted(part, by_map[journey_map.pk][part.name])
        entry["research"] = _sorted(SOURCE_PART, by_map[journey_map.pk]["research"])
        map_entries.append(entry)

    project_entries = []
    for row, links, project_tags in projects:
        out = _with_id(row, _dump(PROJECT_PART, row, refs), ids)
        out.update(links)
        out["tags"] = project_tags
        project_entries.append(out)

    document: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": utc_text(timezone.now().replace(microsecond=0)),
        "exported_by": user.get_username() if getattr(user, "pk", None) else None,
        "root": root.slug,
        "measurements": measurements,
    }
    if lists:
        document["vocabulary"] = dict(
            VocabularyTerm.objects.order_by("key").values_list("key", "label")
        )
        document["personas"] = [
            {json_name(f): getattr(p, f) for f in PERSONA_PART.fields}
            for p in Persona.objects.filter(pk__in=persona_ids).order_by("slug")
        ]
    document["maps"] = map_entries
    document["projects"] = sorted(project_entries, key=lambda p: p["key"])
    return document


def _with_id(row: dict, out: dict[str, Any], ids: bool) -> dict[str, Any]:
    return {"id": row["pk"], **out} if ids else out


def _map_row(journey_map: JourneyMap) -> dict[str, Any]:
    return {attname: getattr(journey_map, attname) for attname in MAP_PART.fields}


def _sorted_sub(part: Part, rows: list[dict], refs: _Refs) -> list[dict]:
    dumped = [_dump(part, row, refs) for row in rows]
    if part is OBSERVATION_PART:
        return sorted(dumped, key=lambda o: (o["date"], sorted(o["dimensions"].items())))
    return sorted(dumped, key=lambda m: m["date"])


def _touching_q(map_ids: list[int]) -> Q:
    """Projects linked to one of the maps, or to a step or pain point on one, read from
    the three link tables by map (an index each), not by joining every project to its
    links: that scanned all the repository's projects for one map."""
    model = PROJECT_PART.model
    return (
        Q(
            pk__in=model.maps.through.objects.filter(journeymap_id__in=map_ids).values(
                "cxproject_id"
            )
        )
        | Q(
            pk__in=model.steps.through.objects.filter(step__map_id__in=map_ids).values(
                "cxproject_id"
            )
        )
        | Q(
            pk__in=model.pain_points.through.objects.filter(painpoint__map_id__in=map_ids).values(
                "cxproject_id"
            )
        )
    )


#: exports touching more projects than this build their project query each time
_PROJECTS_COMPILED_UP_TO = 16


def _visible_project_rows(user, touching: list[int], map_ids: list[int]) -> list[dict]:
    """``_values`` of the projects among ``touching`` that ``user`` may see, by id: the
    same dicts as the ORM's query, whose SQL is compiled once per connection and shape
    (who the user is: everything, or how many groups; how many projects) with stand-ins
    for the user's id, group ids and the projects' ids, like ``_by_map``'s (#16)."""

    def by_orm() -> list[dict]:
        # by their ids, or for a large export by the maps (SQLite's parameter limit)
        among = Q(pk__in=touching) if len(touching) <= 1000 else _touching_q(map_ids)
        return _values(PROJECT_PART, visible_projects_sql(user).filter(among).order_by("pk"))

    if len(touching) > _PROJECTS_COMPILED_UP_TO or not permissions._active(user):
        return by_orm()
    sees_all = permissions.is_leadership(user)
    group_ids = () if sees_all else tuple(sorted(permissions._group_ids(user)))
    args = [*touching] if sees_all else [user.pk, *group_ids, *touching]
    wrapper = connections[DEFAULT_DB_ALIAS]
    plans = _COMPILED.setdefault(wrapper, {})
    key = ("projects", sees_all, len(group_ids), len(touching))
    if key not in plans:
        stand_ins = [_SENTINEL - n for n in range(len(args))]
        people = 0 if sees_all else 1 + len(group_ids)
        reader = stand_in_user(sees_all, tuple(stand_ins[:people]))
        queryset = (
            visible_projects_sql(reader)
            .filter(pk__in=stand_ins[people:])
            .order_by("pk")
            .values("pk", *PROJECT_PART.fields)
        )
        compiler = queryset.query.get_compiler(connection=wrapper)
        sql, params = compiler.as_sql()
        # (position, argument, the adapter's wrapper of it: PostgreSQL's Int4, or None)
        slots = [
            (i, stand_ins.index(p), None if type(p) is int else type(p))
            for i, p in enumerate(params)
            if isinstance(p, int) and p in stand_ins
        ]
        query = queryset.query
        names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        # every stand-in must reach the parameters (else: the ORM's query each time)
        whole = {arg for _, arg, _ in slots} == set(range(len(args)))
        plans[key] = (sql, tuple(params), slots, compiler, names) if whole else None
    plan = plans[key]
    if plan is None:
        return by_orm()
    sql, params, slots, compiler, names = plan
    values = list(params)
    for position, arg, wrap in slots:
        values[position] = args[arg] if wrap is None else wrap(args[arg])
    with wrapper.cursor() as cursor:
        cursor.execute(sql, values)
        fetched = cursor.fetchall()
    if compiler.has_extra_select:
        fetched = [row[: compiler.col_count] for row in fetched]
    return [dict(zip(names, row, strict=True)) for row in compiler.results_iter([fetched])]


def _project_rows(
    user, map_ids: list[int], refs: _Refs, by_map: _ByMap
) -> list[tuple[dict, dict, list]]:
    """The projects ``user`` may see that touch an exported map, step or pain point, with
    their links to exported rows only (a link to anything else would name what the
    document does not hold, or what the user may not see)."""
    # the projects touching the maps are those ``_ByMap`` read links of (to the maps, or
    # to steps and pain points on them); their rows with the reader's visibility in one
    # query, asked only when there are some: the ORM's three "touches" subqueries and
    # ``visible_projects``' took longer to build than the database to run (#16)
    touching = sorted(
        {project for links in by_map.project_links.values() for project, _, _ in links}
    )
    rows = []
    if touching:
        rows = _visible_project_rows(user, touching, map_ids)
    refs.want(PROJECT_PART, rows)
    ids = {row["pk"] for row in rows}
    tags = by_map.tags["projects"]
    links: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for project, slug, _ in by_map.project_links["maps"]:
        if project in ids:
            links[project]["maps"].append(slug)
    for name in ("steps", "pain_points"):
        for project, slug, key in by_map.project_links[name]:
            if project in ids:
                links[project][name].append({"map": slug, "key": key})
    result = []
    for row in rows:
        found = links[row["pk"]]
        result.append(
            (
                row,
                {
                    "maps": sorted(found["maps"]),
                    "steps": sorted(found["steps"], key=lambda s: (s["map"], s["key"])),
                    "pain_points": sorted(found["pain_points"], key=lambda s: (s["map"], s["key"])),
                },
                tags.get(row["pk"], []),
            )
        )
    return result
