"""Reading a journeyhub/1 document into the repository, all or nothing.

``import_document`` checks everything before writing anything: the JSON Schema (every
problem by JSON path, ``maps.theydo.validation``'s words), then what a schema cannot say
— duplicate slugs and keys, parents that form a cycle, references to steps, stages,
users, teams or personas that do not exist, rows that would collide with others, the
models' own rules (``clean``) — and permissions: you import only under maps you may
edit, only leadership and admins create top-level maps, and changes to owners, teams,
status or parents follow ``governance.field_policy``. Any problem: ``ExchangeInvalid``
listing them all, nothing written.

Rows are matched by slug or key (``maps.exchange.spec``): a matched row is updated with
the fields the document gives (an omitted field is left as it is), a row whose fields
all equal the document's is left untouched (no write, no history, no version bump), and
rows the document does not mention are left alone — never deleted.

Writes are bulk, per kind (``bulk_create`` / ``bulk_update``), with their history rows
(``history_user`` = the importer, change reason "journeyhub/1 import"); new maps are
saved one by one under the tree lock (``maps.tree``), as mptt numbers each insert.
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from jsonschema import Draft202012Validator
from simple_history.models import HistoricalRecords

from governance import permissions as perms
from governance.field_policy import FIELD_RULES, change_denials
from journeyhub.api import safe_json

from ..models import JourneyMap, Persona, VocabularyTerm
from ..models.vocabulary import DEFAULT_TERMS
from ..services import dimension_key
from ..theydo.plan import TagResolver, plural
from ..theydo.validation import FORMAT_CHECKER, _explain, _sort_key, describe, path_text
from ..tree import lock_for_tree_write
from .schema import document_schema
from .spec import (
    BY_NAME,
    CONTENT_PARTS,
    FORMAT,
    MAP_PART,
    MEASUREMENT_PART,
    OBSERVATION_PART,
    PERSONA_PART,
    PROJECT_PART,
    QUOTE_PART,
    SOURCE_PART,
    BadValue,
    Part,
    User,
    json_name,
    load_value,
)

CHANGE_REASON = "journeyhub/1 import"
HISTORY_CHUNK = 2000
MAX_PROBLEMS = 200
Path = tuple[str | int, ...]
PART_OF_MODEL = {part.model: part.name for part in CONTENT_PARTS}
#: fields of a map only the tree or the importer itself sets
MAP_PLACEMENT = ("parent_id", "parent_step_id")
#: a future state's or scenario's current-state map: in the document or already here
MAP_STATE_OF = "state_of_id"


class ExchangeInvalid(Exception):
    """The document cannot be imported; ``problems`` says every reason ("path: message").
    ``forbidden``: every problem is a permission the importer lacks (the API's 403)."""

    def __init__(self, problems: list[str], *, forbidden: bool = False):
        self.problems = problems
        self.forbidden = forbidden
        n = len(problems)
        super().__init__(
            f"The document has {n} problem{'s' if n != 1 else ''}; nothing was imported."
            if n > 1
            else f"{problems[0]}; nothing was imported."
            if problems
            else "Nothing was imported."
        )


@dataclass
class ExchangeSummary:
    """What an import did (or, dry, would do): rows created, updated and left unchanged,
    by kind, overall and per map."""

    dry_run: bool
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    maps: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def count(self, action: str, noun: str, slug: str | None, n: int = 1) -> None:
        if not n:
            return
        getattr(self, action)[noun] += n
        if slug is not None:
            entry = self.maps.setdefault(slug, {"created": {}, "updated": {}, "unchanged": {}})
            entry[action][noun] = entry[action].get(noun, 0) + n

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "dry_run": self.dry_run,
            "created": dict(sorted(self.created.items())),
            "updated": dict(sorted(self.updated.items())),
            "unchanged": dict(sorted(self.unchanged.items())),
            "maps": self.maps,
            "notes": self.notes,
        }

    @property
    def text(self) -> str:
        """One sentence: "Created 2 maps and 14 steps; updated 1 KPI; 30 left as they were"."""
        parts = []
        for verb, counts in (("created", self.created), ("updated", self.updated)):
            if counts:
                parts.append(f"{verb} " + ", ".join(plural(n, k) for k, n in counts.items()))
        same = sum(self.unchanged.values())
        if same:
            parts.append(f"{same} left as {'they were' if same != 1 else 'it was'}")
        text = "; ".join(parts) or "nothing to import"
        if self.dry_run:
            return f"Dry run, nothing written: the import would have {text}."
        return text[0].upper() + text[1:] + "."


@dataclass
class _Row:
    """One row of the document matched to its object (existing or new)."""

    part: Part
    path: Path
    data: dict[str, Any]
    obj: models.Model
    new: bool
    slug: str | None  # the map it belongs to (None: personas, projects)
    changed: list[str] = field(default_factory=list)
    m2m: dict[str, set] = field(default_factory=dict)  # name → wanted objects / tags
    m2m_changed: set[str] = field(default_factory=set)
    owner: models.Model | None = None  # the KPI or research source it is nested in
    stored: models.Model | None = None  # a map's or project's values before the import
    parent: JourneyMap | None = None  # a map's parent after the import
    parent_step: Any = None
    state_of: Any = None  # the current-state map it belongs to (``_KEEP``: not said)
    tag_item: dict | None = None


def _identity_of_data(part: Part, data: dict) -> tuple:
    if part is OBSERVATION_PART:
        dims = data.get("dimensions") or {}
        return (data.get("date"), dimension_key(dims) if isinstance(dims, dict) else "")
    return tuple(data.get(name) for name in part.identity)


class _Importer:
    def __init__(self, document: Any, *, by, under: JourneyMap | None, dry_run: bool):
        self.doc = document
        self.by = by
        self.under = under
        self.summary = ExchangeSummary(dry_run=dry_run)
        self.problems: dict[tuple, str] = {}
        self.denied: set[tuple] = set()
        self.rows: dict[str, list[_Row]] = defaultdict(list)
        # (map slug, part name) → identity → object: existing rows and the document's
        self.index: dict[tuple[str, str], dict[tuple, models.Model]] = defaultdict(dict)
        self.maps: dict[str, JourneyMap] = {}
        self.map_rows: dict[str, _Row] = {}
        self.existing_maps: dict[str, JourneyMap] = {}
        self.touched: set[str] = set()  # slugs of existing maps whose content changes

    # --- problems --------------------------------------------------------------------

    def problem(self, path: Path, message: str, *, denied: bool = False) -> None:
        key = (path, message)
        self.problems.setdefault(key, message)
        if denied:
            self.denied.add(key)

    def raise_problems(self) -> None:
        if not self.problems:
            return
        ordered = sorted(self.problems, key=_sort_key)
        listed = [f"{path_text(p) or 'the document'}: {m}" for p, m in ordered]
        more = len(listed) - MAX_PROBLEMS
        if more > 0:
            listed = [*listed[:MAX_PROBLEMS], f"… and {more} more problems"]
        raise ExchangeInvalid(listed, forbidden=set(self.problems) == self.denied)

    # --- 1. the schema ---------------------------------------------------------------

    def check_schema(self) -> None:
        try:
            safe_json.check(self.doc)
        except safe_json.JSONRefused as exc:
            raise ExchangeInvalid([str(exc)]) from exc
        if not isinstance(self.doc, dict) or self.doc.get("format") != FORMAT:
            found = self.doc.get("format") if isinstance(self.doc, dict) else self.doc
            raise ExchangeInvalid(
                [f"format: must be “{FORMAT}”, found {describe(found)} (docs/exchange.md)"]
            )
        root = document_schema()
        validator = Draft202012Validator(root, format_checker=FORMAT_CHECKER)
        for error in validator.iter_errors(self.doc):
            for path, message in _explain(error, root):
                self.problem(path, message)
        self.raise_problems()

    # --- 2. reading what exists ------------------------------------------------------

    def entries(self) -> Iterator[tuple[Part, Path, dict, str | None]]:
        """Every row of the document with its path and map."""
        for i, data in enumerate(self.doc.get("personas", [])):
            yield PERSONA_PART, ("personas", i), data, None
        for i, entry in enumerate(self.doc["maps"]):
            slug = entry["slug"]
            yield MAP_PART, ("maps", i), entry, slug
            for part in CONTENT_PARTS:
                for j, data in enumerate(entry.get(part.name, [])):
                    yield part, ("maps", i, part.name, j), data, slug
                    for sub in (MEASUREMENT_PART, OBSERVATION_PART):
                        for k, row in enumerate(
                            data.get(sub.name, []) if part.name == "kpis" else []
                        ):
                            yield sub, ("maps", i, part.name, j, sub.name, k), row, slug
            for j, data in enumerate(entry.get("research", [])):
                yield SOURCE_PART, ("maps", i, "research", j), data, slug
                for k, quote in enumerate(data.get("quotes", [])):
                    yield QUOTE_PART, ("maps", i, "research", j, "quotes", k), quote, slug
        for i, data in enumerate(self.doc.get("projects", [])):
            yield PROJECT_PART, ("projects", i), data, None

    def check_maps(self) -> None:
        """Slugs unique, parents in the document and without cycles; the order in
        which maps are created (parents first)."""
        entries = self.doc["maps"]
        seen: dict[str, int] = {}
        for i, entry in enumerate(entries):
            slug = entry["slug"]
            if slug in seen:
                self.problem(("maps", i, "slug"), f"“{slug}” is also maps[{seen[slug]}].slug")
            seen.setdefault(slug, i)
        parent_of: dict[str, str] = {}
        for i, entry in enumerate(entries):
            parent = entry.get("parent")
            if parent is not None and parent not in seen:
                self.problem(
                    ("maps", i, "parent"),
                    f"“{parent}” is not the slug of a map of this document",
                )
            elif parent is not None:
                parent_of[entry["slug"]] = parent
        in_cycle: set[str] = set()
        for slug in parent_of:
            chain, current = [slug], parent_of.get(slug)
            while current is not None and current not in chain and current not in in_cycle:
                chain.append(current)
                current = parent_of.get(current)
            if current is not None and current in chain:
                cycle = chain[chain.index(current) :]
                in_cycle.update(cycle)
                self.problem(
                    ("maps", seen[current], "parent"),
                    "the parents form a cycle: " + " → ".join(f"“{s}”" for s in [*cycle, current]),
                )
        order: list[str] = []

        def place(slug: str) -> None:
            if slug in order or slug in in_cycle:
                return
            if slug in parent_of:
                place(parent_of[slug])
            order.append(slug)

        for slug in seen:
            place(slug)
        self.map_order = order

    def load(self) -> None:
        """Everything the document may match or name, a fixed number of queries."""
        doc = self.doc
        slugs = [m["slug"] for m in doc["maps"]]
        self.existing_maps = {m.slug: m for m in JourneyMap.objects.filter(slug__in=slugs)}
        ids = [m.pk for m in self.existing_maps.values()]
        # current-state maps named by state_of outside the document: those the importer sees
        outside = {m.get("state_of") for m in doc["maps"]} - set(slugs) - {None}
        self.outside_maps = (
            {m.slug: m for m in perms.visible_maps(self.by).filter(slug__in=outside)}
            if outside
            else {}
        )
        self.maps_with_variants = (
            set(JourneyMap.objects.filter(state_of__in=ids).values_list("state_of_id", flat=True))
            if ids
            else set()
        )
        existing: dict[str, list] = {}
        for part in CONTENT_PARTS:
            if part.parent == "map_id":
                qs = part.model.objects.filter(map_id__in=ids)
            else:
                qs = part.model.objects.filter(from_step__map_id__in=ids).select_related(
                    "from_step", "to_step"
                )
            existing[part.name] = list(qs)
        # by their map, not by lists of their ids: SQLite takes at most 32,766 parameters
        for sub in (MEASUREMENT_PART, OBSERVATION_PART):
            existing[sub.name] = list(sub.model.objects.filter(kpi__map_id__in=ids))
        existing["research"] = list(SOURCE_PART.model.objects.filter(map_id__in=ids))
        existing["quotes"] = list(QUOTE_PART.model.objects.filter(source__map_id__in=ids))
        keys = [p["key"] for p in doc.get("projects", [])]
        existing["projects"] = list(PROJECT_PART.model.objects.filter(exchange_key__in=keys))
        existing["personas"] = list(
            Persona.objects.filter(slug__in=[p["slug"] for p in doc.get("personas", [])])
        )
        self.existing = existing
        # people, teams and personas named anywhere in the document, one query each
        names: dict[type, set[str]] = defaultdict(set)
        for part, _, data, _ in self.entries():
            for attname in part.fields:
                target = part.model_field(attname).related_model
                value = data.get(json_name(attname))
                if target in (User, Group, Persona) and isinstance(value, str):
                    names[target].add(value)
        for entry in doc["maps"]:  # a map's personas: slugs of the document's or here
            names[Persona].update(s for s in entry.get("personas", ()) if isinstance(s, str))
            if isinstance(entry.get("persona"), str):  # the older single form
                names[Persona].add(entry["persona"])
        self.users = {
            u.get_username(): u
            for u in User.objects.filter(**{f"{User.USERNAME_FIELD}__in": names[User]})
        }
        self.groups = {g.name: g for g in Group.objects.filter(name__in=names[Group])}
        self.personas = {p.slug: p for p in Persona.objects.filter(slug__in=names[Persona])}
        # tags: wanted ones found (or created when writing), current ones of tagged rows
        self.tag_resolver = TagResolver()
        for part, _, data, _ in self.entries():
            if "tags" in part.m2m and "tags" in data:
                self.tag_resolver.want(_theydo_tags(data["tags"]))
        self.tag_resolver.resolve()
        self.current_m2m: dict[tuple[type, str], dict[int, set]] = {}
        project_ids = [p.pk for p in existing["projects"]]
        self.current_m2m[(JourneyMap, "personas")] = (
            _current_links(JourneyMap, "personas", {"pk__in": ids}) if ids else {}
        )
        for name, part, owners in (
            ("lane_items", BY_NAME["lane_items"], {"map_id__in": ids}),
            ("kpis", BY_NAME["kpis"], {"map_id__in": ids}),
            ("quotes", QUOTE_PART, {"source__map_id__in": ids}),
            ("research", SOURCE_PART, {"map_id__in": ids}),
            ("projects", PROJECT_PART, {"pk__in": project_ids}),
        ):
            for m2m in part.m2m:
                self.current_m2m[(part.model, m2m)] = (
                    _current_links(part.model, m2m, owners) if existing[name] else {}
                )

    # --- 3. matching -----------------------------------------------------------------

    @staticmethod
    def _identity_of_obj(part: Part, obj: models.Model) -> tuple:
        if part.name == "links":
            return (obj.from_step.key, obj.to_step.key)
        if part is OBSERVATION_PART:
            return (obj.date.isoformat(), obj.dimension_key)
        if part is MEASUREMENT_PART:
            return (obj.date.isoformat(),)
        return tuple(
            getattr(obj, "exchange_key" if n == "key" and hasattr(obj, "exchange_key") else n)
            for n in part.identity
        )

    def index_existing(self) -> None:
        slug_of = {m.pk: m.slug for m in self.existing_maps.values()}
        for part in CONTENT_PARTS:
            for obj in self.existing[part.name]:
                map_id = obj.from_step.map_id if part.name == "links" else obj.map_id
                scope = (slug_of[map_id], part.name)
                self.index[scope][self._identity_of_obj(part, obj)] = obj
        kpis = {k.pk: k for k in self.existing["kpis"]}
        for sub in (MEASUREMENT_PART, OBSERVATION_PART):
            for obj in self.existing[sub.name]:
                scope = (f"kpi:{id(kpis[obj.kpi_id])}", sub.name)
                self.index[scope][self._identity_of_obj(sub, obj)] = obj
        sources = {s.pk: s for s in self.existing["research"]}
        for obj in self.existing["research"]:
            self.index[(slug_of[obj.map_id], "research")][(obj.exchange_key,)] = obj
        for obj in self.existing["quotes"]:
            scope = (f"source:{id(sources[obj.source_id])}", "quotes")
            self.index[scope][(obj.exchange_key,)] = obj
        for obj in self.existing["projects"]:
            self.index[("", "projects")][(obj.exchange_key,)] = obj
        for obj in self.existing["personas"]:
            self.index[("", "personas")][(obj.slug,)] = obj

    def _match_row(
        self,
        part: Part,
        path: Path,
        data: dict,
        scope: tuple[str, str],
        slug: str | None,
        owner: models.Model | None = None,
    ) -> _Row | None:
        ident = _identity_of_data(part, data)
        where = (scope, ident)
        last = part.identity[-1]
        if where in self.seen:
            self.problem((*path, last), f"{describe(data.get(last))} is also {self.seen[where]}")
            return None
        self.seen[where] = path_text((*path, last))
        index = self.index[scope]
        obj = index.get(ident)
        row = _Row(part, path, data, obj if obj is not None else part.model(), obj is None, slug)
        row.owner = owner
        if obj is None:
            index[ident] = row.obj
        self.rows[scope[1]].append(row)
        return row

    def match(self) -> None:
        self.index_existing()
        self.seen: dict[tuple, str] = {}
        for i, data in enumerate(self.doc.get("personas", [])):
            self._match_row(PERSONA_PART, ("personas", i), data, ("", "personas"), None)
        for i, entry in enumerate(self.doc["maps"]):
            slug = entry["slug"]
            if slug in self.maps:
                continue  # a duplicate slug, already a problem
            existing = self.existing_maps.get(slug)
            row = _Row(
                MAP_PART, ("maps", i), entry, existing or JourneyMap(), existing is None, slug
            )
            self.maps[slug] = row.obj
            self.map_rows[slug] = row
            for part in CONTENT_PARTS:
                for j, data in enumerate(entry.get(part.name, [])):
                    path = ("maps", i, part.name, j)
                    content = self._match_row(part, path, data, (slug, part.name), slug)
                    if content is None or part.name != "kpis":
                        continue
                    for sub in (MEASUREMENT_PART, OBSERVATION_PART):
                        for k, sub_data in enumerate(data.get(sub.name, [])):
                            self._match_row(
                                sub,
                                (*path, sub.name, k),
                                sub_data,
                                (f"kpi:{id(content.obj)}", sub.name),
                                slug,
                                content.obj,
                            )
            for j, data in enumerate(entry.get("research", [])):
                path = ("maps", i, "research", j)
                source = self._match_row(SOURCE_PART, path, data, (slug, "research"), slug)
                if source is None:
                    continue
                for k, quote in enumerate(data.get("quotes", [])):
                    self._match_row(
                        QUOTE_PART,
                        (*path, "quotes", k),
                        quote,
                        (f"source:{id(source.obj)}", "quotes"),
                        slug,
                        source.obj,
                    )
        for i, data in enumerate(self.doc.get("projects", [])):
            self._match_row(PROJECT_PART, ("projects", i), data, ("", "projects"), None)

    # --- 4. values -------------------------------------------------------------------

    def ref(self, target: type, raw: Any, row: _Row, path: Path) -> Any:
        """The object a foreign key names, or ``_BAD`` (with a problem)."""
        if raw is None:
            return None
        found = None
        if target is User:
            found = self.users.get(raw)
            what = "no user has the username"
        elif target is Group:
            found = self.groups.get(raw)
            what = "no team (group) is named"
        elif target is Persona:
            found = self.index[("", "personas")].get((raw,)) or self.personas.get(raw)
            what = "no persona of the document or of this repository has the slug"
        elif target is JourneyMap:
            found = self.maps.get(raw)
            what = "no map of this document has the slug"
        else:
            part = PART_OF_MODEL[target]
            found = self.index[(row.slug, part)].get((raw,))
            what = f"the map “{row.slug}” has no {target._meta.verbose_name} with the key"
        if found is None:
            self.problem(path, f"{what} {describe(raw)}")
            return _BAD
        return found

    def wanted_values(self, row: _Row, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """The document's values of ``row``, by field name (foreign keys as objects);
        omitted fields are not in it."""
        values: dict[str, Any] = {}
        for attname in row.part.fields:
            name = json_name(attname)
            if attname in skip or name not in row.data:
                continue
            model_field = row.part.model_field(attname)
            raw = row.data[name]
            if model_field.related_model is not None:
                value = self.ref(model_field.related_model, raw, row, (*row.path, name))
                if value is _BAD:
                    continue
            else:
                try:
                    value = load_value(model_field, raw)
                except BadValue as exc:
                    self.problem((*row.path, name), str(exc))
                    continue
            values[model_field.name] = value
        if row.part is OBSERVATION_PART and "dimensions" in values:
            values["dimension_key"] = dimension_key(values["dimensions"] or {})
        return values

    @staticmethod
    def differs(obj: models.Model, name: str, value: Any) -> bool:
        model_field = obj._meta.get_field(name)
        if model_field.is_relation:
            current = getattr(obj, model_field.attname)
            return (value is None and current is not None) or (
                value is not None and (value.pk is None or value.pk != current)
            )
        return getattr(obj, model_field.attname) != value

    def apply_values(self, row: _Row, values: dict[str, Any]) -> None:
        """Set the changed values on the row's object and remember which changed."""
        if not row.new and row.part in (MAP_PART, PROJECT_PART):
            row.stored = copy.copy(row.obj)  # what the field policy judges
        for name, value in values.items():
            if row.new or self.differs(row.obj, name, value):
                if not row.new:
                    row.changed.append(name)
                setattr(row.obj, name, value)

    def resolve(self) -> None:
        for row in self.map_rows.values():
            values = self.wanted_values(row, skip=(*MAP_PLACEMENT, MAP_STATE_OF))
            if not row.new:
                values.pop("slug", None)
            self.apply_values(row, values)
            if "persona" in row.data:
                self.older_persona(row)
            if "personas" in row.data:  # the document's personas are matched already
                self.wanted_links(row, "personas")
        for name in (
            "personas",
            *(p.name for p in CONTENT_PARTS),
            "measurements",
            "observations",
            "research",
            "quotes",
            "projects",
        ):
            for row in self.rows[name]:
                self.apply_values(row, self.wanted_values(row))
                if row.new:
                    self.attach(row)
                for m2m in row.part.m2m:
                    if m2m in row.data:
                        self.wanted_links(row, m2m)

    def older_persona(self, row: _Row) -> None:
        """A map of a file written when maps had one persona (``"persona": slug or
        null``): read as ``personas`` with that one, or none."""
        raw, path = row.data["persona"], (*row.path, "persona")
        if "personas" in row.data:
            self.problem(path, "give personas (a list) only: persona is its older single form")
            return
        if raw is not None and self.ref(Persona, raw, row, path) is _BAD:
            return
        row.data = {**row.data, "personas": [] if raw is None else [raw]}

    def attach(self, row: _Row) -> None:
        """A new row's place: its map, KPI or research source."""
        if row.part.parent == "map_id":
            row.obj.map = self.maps[row.slug]
        elif row.part.parent in ("kpi_id", "source_id"):
            setattr(row.obj, row.part.parent.removesuffix("_id"), row.owner)

    def wanted_links(self, row: _Row, m2m: str) -> None:
        """The rows a many-to-many field of ``row`` should link, and whether that
        changes what it links now."""
        raw = row.data[m2m]
        path = (*row.path, m2m)
        target = row.part.model._meta.get_field(m2m).related_model
        if m2m == "tags":
            tags = {_tag_identity(t.get("kind", "tag"), t.get("group"), t["name"]) for t in raw}
            row.tag_item = _theydo_tags(raw)
            current = self.current_m2m.get((row.part.model, m2m), {}).get(row.obj.pk, set())
            if row.new or tags != current:
                self._links_change(row, m2m)
            return
        wanted: dict[int, models.Model] = {}
        for n, item in enumerate(raw):
            if isinstance(item, dict):  # a project's {"map", "key"}
                slug, key, where = item["map"], item["key"], (*path, n, "key")
                if slug not in self.maps:
                    self.problem(
                        (*path, n, "map"), f"no map of this document has the slug {describe(slug)}"
                    )
                    continue
            elif target in (JourneyMap, Persona):
                slug, key, where = item, None, (*path, n)
            else:
                slug, key, where = row.slug, item, (*path, n)
            if target is Persona:  # a part of the document, or a persona here
                obj = self.index[("", "personas")].get((slug,)) or self.personas.get(slug)
                missing = (
                    "no persona of the document or of this repository has the slug "
                    f"{describe(slug)}"
                )
            elif target is JourneyMap:
                obj = self.maps.get(slug)
                missing = f"no map of this document has the slug {describe(slug)}"
            else:
                obj = self.index[(slug, PART_OF_MODEL[target])].get((key,))
                missing = (
                    f"the map “{slug}” has no {target._meta.verbose_name} with the key "
                    f"{describe(key)}"
                )
            if obj is None:
                self.problem(where, missing)
                continue
            wanted[id(obj)] = obj
        row.m2m[m2m] = list(wanted.values())
        current = self.current_m2m.get((row.part.model, m2m), {}).get(row.obj.pk, set())
        if row.part is PROJECT_PART:
            # only links to the document's maps are the document's to say
            in_doc = {m.pk for m in self.maps.values() if m.pk}
            current = {(pk, map_id) for pk, map_id in current if map_id in in_doc}
        same = all(o.pk for o in wanted.values()) and {pk for pk, _ in current} == {
            o.pk for o in wanted.values()
        }
        if row.new or not same:
            self._links_change(row, m2m)

    @staticmethod
    def _links_change(row: _Row, m2m: str) -> None:
        row.m2m_changed.add(m2m)
        if not row.new:
            row.changed.append(m2m)

    # --- 5. permissions and the models' own rules --------------------------------------

    def check_maps_allowed(self) -> None:
        by = self.by
        for slug in self.map_order:
            row = self.map_rows.get(slug)
            if row is None:
                continue
            obj, data = row.obj, row.data
            parent_slug = data.get("parent")
            parent = self.maps.get(parent_slug) if parent_slug else self.under
            row.parent = parent
            if row.new:
                if obj.owner_id is None and "owner" not in obj._state.fields_cache:
                    continue  # an unknown owner: already a problem
                # what decides access (as services.map_create judges a new map): who
                # shares it, who sees it, where it goes; its content is the creator's
                proposed = {name: getattr(obj, name) for name in NEW_MAP_RULED}
                proposed["parent"] = parent
                for name, message in change_denials(
                    by, JourneyMap(owner=obj.owner), proposed
                ).items():
                    where = "parent" if name == "parent" else name
                    self.problem((*row.path, where), message, denied=True)
                continue
            if not perms.can_edit_map(by, row.stored):
                self.problem(
                    (*row.path, "slug"),
                    f"the map “{slug}” exists here and you may not edit it: "
                    + perms.DENIED_MESSAGES[perms.Action.EDIT],
                    denied=True,
                )
                self.not_editable.add(slug)
                continue
            if parent is not None and (parent.pk is None or parent.pk != obj.parent_id):
                self.problem(
                    (*row.path, "parent"),
                    f"the map “{slug}” is under another map here, and an import does not move "
                    "maps: move it first, or import under its current parent",
                )
            changes = {
                n: row.m2m[n] if n in row.m2m else getattr(obj, n)
                for n in row.changed
                if n in MAP_RULED
            }
            for name, message in change_denials(by, row.stored, changes).items():
                self.problem((*row.path, name), message, denied=True)

    def check_parent_steps(self) -> None:
        for row in self.map_rows.values():
            data = row.data
            parent_slug = data.get("parent")
            key = data.get("parent_step")
            row.parent_step = None
            if parent_slug is None:
                if key is not None:
                    self.problem(
                        (*row.path, "parent_step"),
                        "a map without a parent in the document zooms into no step (null)",
                    )
                continue
            if key is not None:
                step = self.index[(parent_slug, "steps")].get((key,))
                if step is None:
                    self.problem(
                        (*row.path, "parent_step"),
                        f"the parent map “{parent_slug}” has no step with the key {describe(key)}",
                    )
                row.parent_step = step

    def check_states(self) -> None:
        """A future state or scenario names its current-state map by slug (a map of the
        document, or one here that the importer may see); only such maps name one, and
        only scenarios carry a label. Set when the maps are written."""
        current = JourneyMap.State.CURRENT
        for slug, row in self.map_rows.items():
            obj, data = row.obj, row.data
            if obj.scenario_label and obj.state != JourneyMap.State.SCENARIO:
                self.problem((*row.path, "scenario_label"), "only a scenario has a scenario label")
            if obj.state != current and obj.pk in self.maps_with_variants:
                self.problem(
                    (*row.path, "state"),
                    f"the map “{slug}” has future states or scenarios here; it stays a "
                    "current-state map while they belong to it",
                )
            if "state_of" not in data:
                row.state_of = _KEEP
                if obj.state == current and obj.state_of_id:
                    self.problem(
                        (*row.path, "state"),
                        "a current-state map belongs to no other map: set state_of to null",
                    )
                continue
            raw, path = data["state_of"], (*row.path, "state_of")
            target = None
            if raw is not None:
                target = self.maps.get(raw) or self.outside_maps.get(raw)
                if target is None:
                    self.problem(
                        path,
                        "no map of this document or of this repository that you may see has "
                        f"the slug {describe(raw)}",
                    )
                    continue
                if obj.state == current:
                    self.problem(
                        path, "a current-state map belongs to no other map (null, or set its state)"
                    )
                elif raw == slug:
                    self.problem(path, "a map is not a future state or scenario of itself")
                elif target.state != current:
                    self.problem(
                        path,
                        f"“{raw}” is a {target.get_state_display().lower()}, not a "
                        "current-state map",
                    )
            row.state_of = target
            if not row.new and (target.pk if target else None) != obj.state_of_id:
                row.changed.append("state_of")

    def check_others_allowed(self) -> None:
        by = self.by
        editing_personas = None
        for row in self.rows["personas"]:
            if row.new or row.changed:
                if editing_personas is None:
                    editing_personas = perms.can_edit_personas(by)
                if not editing_personas:
                    what = "create" if row.new else "change"
                    self.problem(row.path, f"only CX leadership may {what} personas", denied=True)
        creating = None
        for row in self.rows["projects"]:
            if row.new:
                if creating is None:
                    creating = perms.can_create_project(by)
                if not creating:
                    self.problem(
                        row.path,
                        "you may not create CX projects (you edit no map)",
                        denied=True,
                    )
                    continue
                probe = PROJECT_PART.model()
                changes = {n: getattr(row.obj, n, None) for n in ("owner", "team")}
                for name, message in change_denials(by, probe, changes).items():
                    self.problem((*row.path, name), message, denied=True)
            elif row.changed:
                if not perms.can_edit_project(by, row.stored):
                    self.problem(
                        row.path,
                        perms.PROJECT_DENIED_MESSAGES[perms.Action.EDIT],
                        denied=True,
                    )
                    continue
                changes = {n: getattr(row.obj, n) for n in row.changed if n in PROJECT_RULED}
                for name, message in change_denials(by, row.stored, changes).items():
                    self.problem((*row.path, name), message, denied=True)

    def check_rows(self) -> None:
        """The models' own rules (``clean_fields`` and ``clean``) on every new or changed
        row, each message at its field's path."""
        for rows in [list(self.map_rows.values()), *self.rows.values()]:
            for row in rows:
                if not (row.new or row.changed) or row.slug in self.not_editable:
                    continue
                exchanged = {
                    row.part.model_field(a).name
                    for a in row.part.fields
                    if not row.part.model_field(a).is_relation
                }
                exclude = [f.name for f in row.obj._meta.fields if f.name not in exchanged]
                self.check_constraints(row)
                try:
                    row.obj.clean_fields(exclude=exclude)
                    if row.part is not MAP_PART:  # a map's placement is checked above
                        row.obj.clean()
                except ValidationError as exc:
                    for field_name, messages in exc.message_dict.items():
                        where = row.path
                        if field_name != "__all__":
                            where = (*row.path, json_name(field_name))
                        for message in messages:
                            self.problem(where, message)

    def check_constraints(self, row: _Row) -> None:
        """The database's check constraints that no model validator says first."""
        obj = row.obj
        if row.part.name == "links":
            start = obj._state.fields_cache.get("from_step")
            end = obj._state.fields_cache.get("to_step")
            if start is not None and start is end:
                self.problem(
                    (*row.path, "to_step"),
                    "a step cannot link to itself; mark it as recurring instead",
                )
        if row.part is OBSERVATION_PART and obj.denominator is not None and obj.denominator <= 0:
            self.problem((*row.path, "denominator"), "must be greater than 0")

    def check_unique(self) -> None:
        """Rows that would take a name or key another row of the same map keeps (the
        models' other unique constraints), within the document or with existing rows."""
        for part in CONTENT_PARTS:
            constraints = [
                c.fields
                for c in part.model._meta.constraints
                if isinstance(c, models.UniqueConstraint)
                and c.fields
                and c.condition is None
                and "exchange_key" not in c.fields
                and set(c.fields) & {"map"}
                and not any(
                    part.model._meta.get_field(f).is_relation for f in c.fields if f != "map"
                )
            ]
            if not constraints:
                continue
            path_of = {id(row.obj): row.path for row in self.rows[part.name]}
            for (scope, name), objects in list(self.index.items()):
                if name != part.name:
                    continue
                for fields in constraints:
                    others = [f for f in fields if f != "map"]
                    seen: dict[tuple, models.Model] = {}
                    for obj in objects.values():
                        value = tuple(getattr(obj, f) for f in others)
                        if any(v is None for v in value):
                            continue
                        if value in seen:
                            self._collision(part, scope, others, seen[value], obj, path_of)
                        else:
                            seen[value] = obj

    def _collision(self, part: Part, scope: str, others: list[str], first, second, path_of):
        """Two rows of one map with the same name (or key): the problem is told at the
        document's row, naming the other one (in the document, or left out of it)."""
        here, there = (second, first) if id(second) in path_of else (first, second)
        if id(here) not in path_of:
            return  # two existing rows: not the document's doing
        label = ", ".join(f"{f} {describe(getattr(here, f))}" for f in others)
        if id(there) in path_of:
            where = path_text(path_of[id(there)])
        else:
            key = getattr(there, "exchange_key", "")
            where = f"a {part.noun} of “{scope}” that the document leaves out (key “{key}”)"
        self.problem((*path_of[id(here)], others[-1]), f"{label} is also used by {where}")

    def check_vocabulary(self) -> None:
        wanted = self.doc.get("vocabulary")
        self.vocabulary_changes: dict[str, str] = {}
        if wanted is None:
            return
        for key in wanted:
            if key not in DEFAULT_TERMS and not key.startswith("level_"):
                self.problem(
                    ("vocabulary", key), f"unknown term (known: {', '.join(sorted(DEFAULT_TERMS))})"
                )
        current = dict(VocabularyTerm.objects.values_list("key", "label"))
        changes = {k: v for k, v in wanted.items() if current.get(k) != v}
        if changes and not perms.is_admin(self.by):
            self.summary.notes.append(
                "vocabulary: left as it is (only administrators change the vocabulary): "
                + ", ".join(sorted(changes))
            )
            return
        self.vocabulary_changes = changes
        self.vocabulary_current = current

    # --- 6. the summary ------------------------------------------------------------

    def tally(self) -> None:
        for slug, row in self.map_rows.items():
            parent_step_changed = (
                row.parent_step is not None
                and (
                    row.new
                    or row.parent_step.pk is None
                    or row.parent_step.pk != row.obj.parent_step_id
                )
            ) or (
                row.parent_step is None
                and row.data.get("parent") is not None
                and "parent_step" in row.data
                and row.obj.parent_step_id is not None
            )
            if parent_step_changed and not row.new:
                row.changed.append("parent_step")
            action = "created" if row.new else "updated" if row.changed else "unchanged"
            self.summary.count(action, "map", slug)
        for rows in self.rows.values():
            for row in rows:
                action = "created" if row.new else "updated" if row.changed else "unchanged"
                self.summary.count(action, row.part.noun, row.slug)
                if row.slug and action != "unchanged" and row.slug in self.existing_maps:
                    self.touched.add(row.slug)
        for slug, row in self.map_rows.items():
            if not row.new and row.changed:
                self.touched.add(slug)
        if any(s.get("attachments") for m in self.doc["maps"] for s in m.get("research", [])):
            self.summary.notes.append(
                "attachments: not imported (a document carries their names, not their files)"
            )

    # --- 7. writing ------------------------------------------------------------------

    def write(self) -> None:
        new_maps = [self.map_rows[s] for s in self.map_order if self.map_rows[s].new]
        changed_maps = [r for r in self.map_rows.values() if not r.new and r.changed]
        if new_maps or any("title" in r.changed for r in changed_maps):
            top = any(r.parent is None for r in new_maps)
            anchors = {
                r.parent.pk: r.parent for r in new_maps if r.parent is not None and r.parent.pk
            }
            anchors.update({r.obj.pk: r.obj for r in changed_maps})
            lock_for_tree_write(*anchors.values(), root_level=top)
        if self.tag_resolver.missing:
            self.tag_resolver.create_missing()

        self._bulk("personas")
        later = []  # state_of naming a map this import has not saved yet
        for row in [*new_maps, *changed_maps]:
            if row.state_of is _KEEP:
                continue
            if row.state_of is not None and row.state_of.pk is None:
                row.obj.state_of = None
                later.append(row)
            else:
                row.obj.state_of = row.state_of
        # saved without history: theirs is written with the others (``_history``), after
        # their personas, state_of and parent_step are in place
        for row in new_maps:
            row.obj.parent = row.parent
            row.obj.parent_step = None
            self._saved_quietly(row.obj)
        for row in changed_maps:
            self._saved_quietly(row.obj)
        for row in later:
            row.obj.state_of = row.state_of
        if later:
            JourneyMap.objects.bulk_update([r.obj for r in later], ["state_of"])
        for part in CONTENT_PARTS:
            self._bulk(part.name)
        for name in ("measurements", "observations", "research", "quotes", "projects"):
            self._bulk(name)
        self._write_links()

        steps_set = []
        for row in self.map_rows.values():
            if row.data.get("parent") is None:
                continue
            step = row.parent_step
            if (step.pk if step else None) != row.obj.parent_step_id:
                row.obj.parent_step = step
                steps_set.append(row.obj)
        if steps_set:
            JourneyMap.objects.bulk_update(steps_set, ["parent_step"])
        self._history()
        touched = [self.existing_maps[s].pk for s in self.touched]
        if touched:
            JourneyMap.objects.filter(pk__in=touched).update(version=F("version") + 1)
        if self.vocabulary_changes:
            for key, label in self.vocabulary_changes.items():
                VocabularyTerm.objects.update_or_create(key=key, defaults={"label": label})

    @staticmethod
    def _saved_quietly(obj: models.Model) -> None:
        obj.skip_history_when_saving = True
        try:
            obj.save()
        finally:
            del obj.skip_history_when_saving

    def _bulk(self, name: str) -> None:
        rows = self.rows[name]
        model = rows[0].part.model if rows else None
        if model is None:
            return
        created = [r.obj for r in rows if r.new]
        changed = [r for r in rows if not r.new and r.changed]
        fields = sorted({f for r in changed for f in r.changed if f not in r.part.m2m})
        model.objects.bulk_create(created)
        if fields:
            model.objects.bulk_update(
                [r.obj for r in changed if set(r.changed) - set(r.part.m2m)], fields
            )

    def _write_links(self) -> None:
        """Many-to-many links the document replaces, one delete and one insert per kind."""
        by_kind: dict[tuple[type, str], list[_Row]] = defaultdict(list)
        for rows in [list(self.map_rows.values()), *self.rows.values()]:
            for row in rows:
                for m2m in row.m2m_changed:
                    by_kind[(row.part.model, m2m)].append(row)
        for (model, m2m), rows in by_kind.items():
            field_ = model._meta.get_field(m2m)
            through = field_.remote_field.through
            source, target = field_.m2m_field_name(), field_.m2m_reverse_field_name()
            owners = [r.obj.pk for r in rows]
            if m2m == "tags":
                through.objects.filter(**{f"{source}_id__in": owners}).delete()
                links = {
                    (r.obj.pk, t)
                    for r in rows
                    for part in ("tags", "groups", "groupTags")
                    for t in self.tag_resolver.ids(r.tag_item, part)
                }
            else:
                stale = through.objects.filter(**{f"{source}_id__in": owners})
                if model is PROJECT_PART.model:  # links to maps outside the document stay
                    in_doc = [m.pk for m in self.maps.values()]
                    if m2m == "maps":
                        stale = stale.filter(**{f"{target}_id__in": in_doc})
                    else:
                        stale = stale.filter(**{f"{target}__map_id__in": in_doc})
                stale.delete()
                links = {(r.obj.pk, o.pk) for r in rows for o in r.m2m[m2m]}
            through.objects.bulk_create(
                [through(**{f"{source}_id": a, f"{target}_id": b}) for a, b in sorted(links)],
                ignore_conflicts=True,
            )

    def _history(self) -> None:
        """History rows of everything written in bulk, with their m2m links, naming the
        importer and the import."""
        for rows in [list(self.map_rows.values()), *self.rows.values()]:
            if not rows:
                continue
            model = rows[0].part.model
            for update, objs in (
                (False, [r.obj for r in rows if r.new]),
                (True, [r.obj for r in rows if not r.new and r.changed]),
            ):
                history_write(model, objs, by=self.by, update=update)

    # --- the whole ------------------------------------------------------------------

    def run(self) -> ExchangeSummary:
        self.check_schema()
        self.not_editable: set[str] = set()
        self.check_maps()
        self.load()
        self.match()
        self.resolve()
        self.check_parent_steps()
        self.check_states()
        self.check_maps_allowed()
        self.check_others_allowed()
        self.check_rows()
        self.check_unique()
        self.check_vocabulary()
        self.raise_problems()
        self.tally()
        if not self.summary.dry_run:
            self.write()
        return self.summary


class _Bad:
    def __repr__(self) -> str:
        return "BAD"


_BAD: Any = _Bad()
_KEEP: Any = _Bad()
MAP_RULED = tuple(FIELD_RULES["map"])
NEW_MAP_RULED = ("team", "status", "is_template")
PROJECT_RULED = tuple(n for n in FIELD_RULES["project"] if n not in PROJECT_PART.m2m)


def _tag_identity(kind: str, group: str | None, name: str) -> tuple:
    return (kind, (group or "").strip().lower() or None, name.strip().lower())


def _theydo_tags(tags: list[dict]) -> dict[str, list]:
    """Our tags as the TheyDo shape ``TagResolver`` reads (tags, groups, groupTags)."""
    item: dict[str, list] = {"tags": [], "groups": [], "groupTags": []}
    for tag in tags:
        if tag.get("kind", "tag") == "group":
            item["groups"].append(tag["name"])
        elif tag.get("group"):
            item["groupTags"].append({"tagGroup": tag["group"], "tag": tag["name"]})
        else:
            item["tags"].append(tag["name"])
    return item


def _current_links(model: type[models.Model], m2m: str, owners: dict) -> dict[int, set]:
    """Each row's current links: tags as identities, other rows as (pk, their map's pk)."""
    field_ = model._meta.get_field(m2m)
    through = field_.remote_field.through
    source, target = field_.m2m_field_name(), field_.m2m_reverse_field_name()
    found: dict[int, set] = defaultdict(set)
    qs = through.objects.filter(**{f"{source}__{key}": value for key, value in owners.items()})
    if m2m == "tags":
        for owner, kind, group, name in qs.values_list(
            f"{source}_id", "tag__kind", "tag__group__name", "tag__name"
        ):
            found[owner].add(_tag_identity(kind, group, name))
    elif field_.related_model is JourneyMap:
        for owner, other in qs.values_list(f"{source}_id", f"{target}_id"):
            found[owner].add((other, other))
    elif field_.related_model is Persona:  # in no map
        for owner, other in qs.values_list(f"{source}_id", f"{target}_id"):
            found[owner].add((other, None))
    else:
        for owner, other, map_id in qs.values_list(
            f"{source}_id", f"{target}_id", f"{target}__map_id"
        ):
            found[owner].add((other, map_id))
    return found


def history_write(model: type[models.Model], objs: list, *, by, update: bool) -> None:
    """``maps.theydo.plan.history_write`` with this import's change reason, in chunks (a
    chunk's m2m links are read by its ids: SQLite takes at most 32,766 parameters)."""
    if not objs or not hasattr(model, "history"):
        return
    user = by if getattr(by, "pk", None) else None
    for start in range(0, len(objs), HISTORY_CHUNK):
        chunk = objs[start : start + HISTORY_CHUNK]
        rows = model.history.bulk_history_create(
            chunk, update=update, default_user=user, default_change_reason=CHANGE_REASON
        )
        row_of = {row.id: row for row in rows or ()}
        for m2m in getattr(model.history.model, "_history_m2m_fields", ()):
            history_m2m = HistoricalRecords.m2m_models[m2m]
            source, target = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
            links = m2m.remote_field.through.objects.filter(**{f"{source}__in": list(row_of)})
            history_m2m.objects.bulk_create(
                history_m2m(
                    history=row_of[obj], id=pk, **{f"{source}_id": obj, f"{target}_id": other}
                )
                for pk, obj, other in links.values_list("id", f"{source}_id", f"{target}_id")
            )


def import_document(
    document: Any, *, by, under: JourneyMap | None = None, dry_run: bool = False
) -> ExchangeSummary:
    """Import a journeyhub/1 document (already parsed) on behalf of ``by``: everything or
    nothing (``ExchangeInvalid`` lists every problem). ``under``: the map the document's
    top maps go under (None: where they already are, or the top level for new ones)."""
    if under is not None and not perms.can(by, perms.Action.CREATE_SUBMAP, under):
        raise ExchangeInvalid(
            [f"under: {perms.DENIED_MESSAGES[perms.Action.CREATE_SUBMAP]}"], forbidden=True
        )
    importer = _Importer(document, by=by, under=under, dry_run=dry_run)
    if dry_run:
        return importer.run()
    try:
        with transaction.atomic():
            return importer.run()
    except IntegrityError as exc:
        # a rule the checks above do not know yet (or a concurrent write): refused, not a 500
        raise ExchangeInvalid(
            [f"the document conflicts with the data here ({str(exc).splitlines()[0][:200]})"]
        ) from exc
