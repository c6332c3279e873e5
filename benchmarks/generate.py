"""Build a synthetic JourneyHub repository of a chosen size, fast.

Everything is written with ``bulk_create`` in large batches inside one transaction:
users, teams (auth groups), personas, journey map trees (roots, their children and
grandchildren, with the MPTT ``lft``/``rght``/``tree_id``/``level`` computed here),
stages, steps, step links, pain points, lane items, KPIs with measurements,
qualitative factors, reviews, CX projects with their many-to-many links, and a few
guardian grants. ``bulk_create`` bypasses ``save()`` and signals, so simple-history
records nothing for these rows; that is fine for benchmarks.

Importable (Django must already be set up)::

    from benchmarks.generate import generate
    result = generate(maps=1000, steps_per_map=48, items_per_map=240, projects=500,
                      measurements_per_kpi=12, seed=42, stages_per_map=8,
                      pain_point_share=0.6)

or as a script, on ``var/bench.sqlite3`` unless ``DATABASE_URL`` is set::

    .venv/bin/python benchmarks/generate.py --fresh --maps 1000 --projects 500

The values vary per map around the requested means (``steps_per_map`` ± 50 %, …),
and one map, the first root, is ``big_map_factor`` times larger: the "biggest map"
the page benchmarks open. Every row of ours has a ``bench`` prefix in its slug or
user name; the generator refuses to run twice on the same database.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

PREFIX = "bench"
PASSWORD = "journeyhub"
BATCH_SIZE = 2000  # rows per INSERT (Django lowers it to the backend's parameter limit)
MAPS_PER_CHUNK = 500  # maps whose content is built in memory at once
# The shape of issue #16: 8 stages, ~48 steps and ~240 lane items per map, 60 % of them
# pain points; the biggest map three times that (144 steps, 720 items).
PAIN_POINT_SHARE = 0.6  # of the lane content per map; the rest are other lane items
STAGES_PER_MAP = 8
STATUS_WEIGHTS = (("published", 70), ("draft", 20), ("archived", 10))

LIFECYCLES = ("Customer lifecycle", "Business lifecycle", "Partner lifecycle")
JOURNEYS = (
    "Open an account",
    "Get a card",
    "Apply for a loan",
    "Move house",
    "Report fraud",
    "Close an account",
    "Change address",
    "Make a complaint",
)
TASKS = ("Verify identity", "Sign contract", "Upload documents", "Call support", "Pay fee")
STAGES = ("Discover", "Compare", "Apply", "Onboard", "Use", "Get help", "Renew", "Leave")
STEP_VERBS = ("Search", "Compare", "Fill in", "Wait for", "Confirm", "Receive", "Call", "Visit")
STEP_NOUNS = ("offer", "form", "ID check", "letter", "app", "card", "agent", "branch")
CHANNELS = ("web", "app", "branch", "phone", "chat", "email", "mail", "partner", "other")
EVIDENCE = ("assumption", "anecdotal", "researched", "measured")
LANE_KINDS = ("insight", "opportunity", "research", "idea")
KPI_NAMES = ("NPS", "CSAT", "Effort score", "Completion rate", "Drop-off", "Time to yes")
KPI_UNITS = ("points", "%", "", "%", "%", "days")
FACTORS = ("Ease of use", "Trust")
PROJECT_STATUSES = ("idea", "planned", "ongoing", "done", "cancelled")


@dataclass(eq=False)
class _Node:
    """One planned map; ``pk`` and the content keys are filled in as rows are written."""

    title: str
    slug: str
    level: int
    tree_id: int
    position: int = 0
    parent: _Node | None = None
    children: list[_Node] = field(default_factory=list)
    lft: int = 0
    rght: int = 0
    pk: int | None = None
    owner_id: int | None = None
    n_steps: int = 0
    n_items: int = 0
    n_kpis: int = 0
    step_pks: list[int] = field(default_factory=list)
    pain_point_pks: list[int] = field(default_factory=list)
    last_reviewed_at: Any = None
    persona_ids: list[int] = field(default_factory=list)


def _number(node: _Node, left: int) -> int:
    """Nested-set numbering, children in title order (``order_insertion_by``)."""
    node.lft = left
    right = left + 1
    for child in node.children:
        right = _number(child, right)
    node.rght = right
    return right + 1


def plan_forest(
    maps: int, children_per_root: int, grandchildren_per_child: int
) -> list[list[_Node]]:
    """The maps by depth: trees of a root, its children and their children.

    Titles start with zero-padded numbers so that title order, which django-mptt keeps
    among siblings and roots, is creation order.
    """
    levels: list[list[_Node]] = [[], [], []]
    made = 0
    tree_id = 0
    while made < maps:
        tree_id += 1
        root = _Node(
            title=f"Lifecycle {tree_id:05d} {LIFECYCLES[tree_id % len(LIFECYCLES)]}",
            slug=f"{PREFIX}-{tree_id:05d}",
            level=0,
            tree_id=tree_id,
        )
        levels[0].append(root)
        made += 1
        for c in range(children_per_root):
            if made >= maps:
                break
            child = _Node(
                title=(
                    f"Journey {tree_id:05d}.{c + 1:03d} {JOURNEYS[(tree_id + c) % len(JOURNEYS)]}"
                ),
                slug=f"{root.slug}-{c + 1:03d}",
                level=1,
                tree_id=tree_id,
                position=c,
                parent=root,
            )
            root.children.append(child)
            levels[1].append(child)
            made += 1
            for g in range(grandchildren_per_child):
                if made >= maps:
                    break
                grandchild = _Node(
                    title=(
                        f"Task {tree_id:05d}.{c + 1:03d}.{g + 1:03d} "
                        f"{TASKS[(tree_id + c + g) % len(TASKS)]}"
                    ),
                    slug=f"{child.slug}-{g + 1:03d}",
                    level=2,
                    tree_id=tree_id,
                    position=g,
                    parent=child,
                )
                child.children.append(grandchild)
                levels[2].append(grandchild)
                made += 1
        _number(root, 1)
    return [level for level in levels if level]


def _vary(rng: random.Random, mean: int) -> int:
    """An integer spread uniformly over mean ± 50 %, so totals average out to ``mean``."""
    return rng.randint(mean - mean // 2, mean + mean // 2) if mean > 0 else 0


def _month_start(today: date, months_back: int) -> date:
    year, month = divmod(today.year * 12 + today.month - 1 - months_back, 12)
    return date(year, month + 1, 1)


def _chunks(seq: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


class _Phases:
    """Wall and CPU seconds per phase (CPU: this process, robust on a busy machine)."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self.log = log

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start, cpu = time.perf_counter(), time.process_time()
        yield
        self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)
        self.cpu_seconds[name] = round(
            self.cpu_seconds.get(name, 0.0) + time.process_time() - cpu, 3
        )

    def report(self) -> None:
        for name, seconds in self.seconds.items():
            self.log(f"  {name:<25} {seconds:7.2f} s  (CPU {self.cpu_seconds[name]:7.2f} s)")


_SIMPLE = (int, float, str, type(None))  # sqlite3 stores these as they are (bool is an int)


def insert(model: Any, objs: list[Any]) -> None:
    """``bulk_create(objs)``, several times faster on SQLite for the big tables.

    Django prepares every value of every row on its own (~25 µs per value); here a
    column whose values are plain ints, floats and strings goes to ``executemany`` as
    is, and other values (dates, JSON defaults) are prepared once per distinct value.
    ``auto_now``/``auto_now_add`` columns get one timestamp, as ``bulk_create`` would
    give them nearly the same. Primary keys are set on ``objs`` as ``bulk_create``
    does. Other databases use ``bulk_create``.
    """
    from django.db import connection

    if not objs:
        return
    if connection.vendor != "sqlite":
        model.objects.bulk_create(objs, batch_size=BATCH_SIZE)
        return
    fields = _insert_fields(model)
    columns = [
        [getattr(obj, f.attname) for obj in objs] if not _auto_now(f) else None for f in fields
    ]
    first = _execute_insert(model, fields, columns, len(objs))
    for i, obj in enumerate(objs, start=first):
        obj.pk = i
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_rows(model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Like ``insert`` for rows given as ``{attname: value}`` (no model instance is
    built: ~50 µs a row saved); missing fields take their default, a callable default
    (e.g. a random exchange key) called per row. Returns the new primary keys."""
    from django.db import connection

    if not rows:
        return []
    if connection.vendor != "sqlite":
        objs = model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH_SIZE)
        return [obj.pk for obj in objs]
    fields = _insert_fields(model)
    columns: list[list[Any] | None] = []
    for f in fields:
        if _auto_now(f):
            columns.append(None)
        elif f.attname in rows[0]:
            columns.append([row[f.attname] for row in rows])
        elif f.has_default() and callable(f.default):
            columns.append([f.get_default() for _ in rows])
        else:
            columns.append([f.get_default()] * len(rows))
    first = _execute_insert(model, fields, columns, len(rows))
    return list(range(first, first + len(rows)))


def _insert_fields(model: Any) -> list[Any]:
    return [f for f in model._meta.concrete_fields if f is not model._meta.pk]


def _auto_now(field: Any) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def _execute_insert(model: Any, fields: list[Any], columns: list[list[Any] | None], n: int) -> int:
    """``executemany`` the rows (``None`` column: now); returns the first new key.

    SQLite numbers the new rows of one transaction consecutively after the largest key
    ever used (``AUTOINCREMENT``); that is checked after the insert.
    """
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    prepared_columns = []
    for f, values in zip(fields, columns, strict=True):
        if values is None:
            values = [f.get_db_prep_save(now, connection)] * n
        elif not all(type(v) in _SIMPLE or isinstance(v, bool) for v in values):
            memo: dict[tuple[type, str], Any] = {}
            prepared = []
            for v in values:
                key = (type(v), repr(v))
                if key not in memo:
                    memo[key] = f.get_db_prep_save(v, connection)
                prepared.append(memo[key])
            values = prepared
        prepared_columns.append(values)
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join("?" for _ in fields)
    connection.ensure_connection()
    raw = connection.connection.cursor()  # in Django's transaction: the same connection
    pk_column = connection.ops.quote_name(meta.pk.column)
    last = max(
        raw.execute(f"SELECT COALESCE(MAX({pk_column}), 0) FROM {table}").fetchone()[0],
        (
            raw.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = ?", (meta.db_table,)
            ).fetchone()
            or (0,)
        )[0],
    )
    raw.executemany(
        f"INSERT INTO {table} ({names}) VALUES ({marks})", zip(*prepared_columns, strict=True)
    )
    top, count = raw.execute(
        f"SELECT MAX({pk_column}), COUNT(*) FROM {table} WHERE {pk_column} > ?", (last,)
    ).fetchone()
    if count != n or top != last + n:
        raise AssertionError(f"{meta.label}: new keys are not {last + 1}..{last + n}")
    return last + 1


def _weighted_status(rng: random.Random) -> str:
    names, weights = zip(*STATUS_WEIGHTS, strict=True)
    return rng.choices(names, weights)[0]


def generate(
    maps: int = 1000,
    steps_per_map: int = 48,
    items_per_map: int = 240,
    projects: int = 500,
    measurements_per_kpi: int = 12,
    seed: int = 42,
    *,
    kpis_per_map: int = 4,
    stages_per_map: int = STAGES_PER_MAP,
    pain_point_share: float = PAIN_POINT_SHARE,
    children_per_root: int = 3,
    grandchildren_per_child: int = 2,
    owners: int = 8,
    teams: int = 4,
    big_map_factor: int = 3,
    check_rebuild: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write the synthetic repository; returns row counts, timings and who/what to open.

    ``maps`` maps in trees of ``1 + children_per_root * (1 + grandchildren_per_child)``;
    per map ``stages_per_map`` stages (fewer when a map has fewer steps), about
    ``steps_per_map`` steps, ``items_per_map`` pain points and lane items together
    (``pain_point_share`` of them pain points) and ``kpis_per_map`` KPIs of
    ``measurements_per_kpi`` monthly values each; the first root is ``big_map_factor``
    times larger (steps, items, KPIs);
    ``projects`` CX projects linked to 1–3 maps and some of their steps and pain points.
    """
    from django.db import transaction

    log = log or (lambda message: None)
    if maps < 1:
        raise ValueError("maps must be at least 1")
    if not 0.0 <= pain_point_share <= 1.0:
        raise ValueError("pain_point_share must be from 0 to 1")
    if stages_per_map < 0:
        raise ValueError("stages_per_map must not be negative")
    rng = random.Random(seed)
    phases = _Phases(log)
    started, started_cpu = time.perf_counter(), time.process_time()
    with transaction.atomic():
        people = _people(rng, owners=owners, teams=teams, phases=phases)
        with phases("plan"):
            levels = plan_forest(maps, children_per_root, grandchildren_per_child)
            nodes = [node for level in levels for node in level]
            for node in nodes:
                node.n_steps = _vary(rng, steps_per_map)
                node.n_items = _vary(rng, items_per_map)
                node.n_kpis = _vary(rng, kpis_per_map)
            big = levels[0][0]
            big.n_steps = steps_per_map * big_map_factor
            big.n_items = items_per_map * big_map_factor
            big.n_kpis = kpis_per_map * big_map_factor
        _maps_and_structure(rng, levels, people, phases, stages_per_map)
        _lane_content(rng, nodes, phases, pain_point_share)
        _kpis_and_measurements(rng, nodes, measurements_per_kpi, phases)
        _qualitative_and_reviews(rng, nodes, phases)
        _projects(rng, nodes, big, projects, people, phases)
        _grants(rng, levels, people, phases)
        with phases("verify tree"):
            problems = verify_tree()
            if problems:
                raise AssertionError("invalid map tree:\n  " + "\n  ".join(problems[:20]))
            if check_rebuild:
                problems = compare_with_rebuild()
                if problems:
                    raise AssertionError(
                        "computed tree differs from mptt's rebuild():\n  "
                        + "\n  ".join(problems[:20])
                    )
    total = time.perf_counter() - started
    total_cpu = time.process_time() - started_cpu
    with phases("count rows"):
        counts = row_counts()
    phases.report()
    return {
        "params": {
            "maps": maps,
            "steps_per_map": steps_per_map,
            "items_per_map": items_per_map,
            "projects": projects,
            "measurements_per_kpi": measurements_per_kpi,
            "seed": seed,
            "kpis_per_map": kpis_per_map,
            "stages_per_map": stages_per_map,
            "pain_point_share": pain_point_share,
            "children_per_root": children_per_root,
            "grandchildren_per_child": grandchildren_per_child,
            "owners": owners,
            "teams": teams,
            "big_map_factor": big_map_factor,
        },
        "seconds": round(total, 3),
        "cpu_seconds": round(total_cpu, 3),
        "phases": phases.seconds,
        "phases_cpu": phases.cpu_seconds,
        "counts": counts,
        "trees": len(levels[0]),
        "biggest_map": big.slug,
        "users": {
            "superuser": people["superuser"].username,
            "owner": people["owners"][0].username,
            "leader": people["leader"].username,
            "viewer": people["viewer"].username,
        },
    }


# ------------------------------------------------------------------------------ people


def _people(rng: random.Random, *, owners: int, teams: int, phases: _Phases) -> dict[str, Any]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, Permission

    from maps.models import Persona, VocabularyTerm

    User = get_user_model()
    with phases("users and teams"):
        if User.objects.filter(username=f"{PREFIX}-admin").exists():
            raise RuntimeError(
                "benchmark data is already in this database; start from an empty one "
                "(generate.py --fresh, or run.py which always does)"
            )
        hashed = make_password(PASSWORD)  # hashing once: it is slow on purpose

        def user(username: str, first: str, last: str, **flags) -> Any:
            return User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                password=hashed,
                **flags,
            )

        superuser = user(f"{PREFIX}-admin", "Bench", "Admin", is_staff=True, is_superuser=True)
        owner_users = [
            # the first owner is staff with view permissions: admin pages as a non-superuser
            user(f"{PREFIX}-owner-{i}", "Owner", f"{i:02d}", is_staff=i == 0)
            for i in range(max(owners, 1))
        ]
        leader = user(f"{PREFIX}-leader", "Lea", "Leader")
        viewer = user(f"{PREFIX}-viewer", "Vic", "Viewer")
        User.objects.bulk_create([superuser, *owner_users, leader, viewer])

        team_groups = Group.objects.bulk_create(
            [Group(name=f"{PREFIX} team {i + 1}") for i in range(max(teams, 1))]
        )
        leadership, _ = Group.objects.get_or_create(name=settings.JOURNEYHUB_LEADERSHIP_GROUP)
        membership = User.groups.through
        team_of = {}
        rows = []
        for i, owner in enumerate(owner_users):
            team = team_groups[i % len(team_groups)]
            team_of[owner.pk] = team.pk
            rows.append(membership(user_id=owner.pk, group_id=team.pk))
        rows.append(membership(user_id=leader.pk, group_id=leadership.pk))
        membership.objects.bulk_create(rows)

        view_perms = Permission.objects.filter(
            content_type__app_label__in=("maps", "governance"), codename__startswith="view_"
        ).values_list("pk", flat=True)
        User.user_permissions.through.objects.bulk_create(
            [
                User.user_permissions.through(user_id=owner_users[0].pk, permission_id=pk)
                for pk in view_perms
            ]
        )
        personas = Persona.objects.bulk_create(
            [
                Persona(
                    name=f"Bench persona {i + 1}",
                    slug=f"{PREFIX}-persona-{i + 1}",
                    description="A synthetic persona.",
                )
                for i in range(6)
            ]
        )
        VocabularyTerm.objects.get_or_create(key="pain_point", defaults={"label": "Friction"})
    return {
        "superuser": superuser,
        "owners": owner_users,
        "leader": leader,
        "viewer": viewer,
        "teams": team_groups,
        "team_of": team_of,
        "personas": [p.pk for p in personas],
    }


# -------------------------------------------------------------------------------- maps


def _maps_and_structure(
    rng: random.Random,
    levels: list[list[_Node]],
    people: dict[str, Any],
    phases: _Phases,
    stages_per_map: int,
) -> None:
    """Maps level by level, each level's steps before the next, for ``parent_step``."""
    from django.utils import timezone

    from maps.models import JourneyMap

    now = timezone.now()
    owner_ids = [u.pk for u in people["owners"]]
    team_of = people["team_of"]
    # save() derives review_due_at (when the model has it); bulk_create skips save()
    derive_due = any(f.name == "review_due_at" for f in JourneyMap._meta.concrete_fields)
    for depth, nodes in enumerate(levels):
        with phases("maps"):
            objs = []
            for node in nodes:
                if node.parent is None:
                    # tree 1 (the biggest map) goes to bench-owner-1, a plain owner
                    # (bench-owner-0 is staff, for the admin pages)
                    node.owner_id = owner_ids[node.tree_id % len(owner_ids)]
                elif rng.random() < 0.7:
                    node.owner_id = node.parent.owner_id
                else:
                    node.owner_id = rng.choice(owner_ids)
                parent_step_id = None
                if node.parent is not None and node.parent.step_pks and rng.random() < 0.8:
                    steps = node.parent.step_pks
                    parent_step_id = steps[(node.position * 3 + 1) % len(steps)]
                if rng.random() < 0.6:
                    node.last_reviewed_at = now - timedelta(days=rng.randint(0, 200))
                is_big = depth == 0 and node is nodes[0]
                # a map has personas (#17): 70 % one, and every fourth of those a second
                # one too (chosen without the random stream, so the rest stays the same)
                persona = rng.choice(people["personas"]) if rng.random() < 0.7 else None
                node.persona_ids = [] if persona is None else [persona]
                if persona is not None and node.position % 4 == 0 and len(people["personas"]) > 1:
                    others = people["personas"]
                    node.persona_ids.append(others[(others.index(persona) + 1) % len(others)])
                objs.append(
                    JourneyMap(
                        title=node.title,
                        slug=node.slug,
                        summary=f"Synthetic map {node.slug} for benchmarks.",
                        parent_id=node.parent.pk if node.parent else None,
                        parent_step_id=parent_step_id,
                        status="published" if is_big else _weighted_status(rng),
                        owner_id=node.owner_id,
                        team_id=team_of[node.owner_id] if rng.random() < 0.8 else None,
                        review_every_days=rng.choice((30, 90, 180, 365)),
                        last_reviewed_at=node.last_reviewed_at,
                        created_at=now - timedelta(days=rng.randint(30, 800)),
                        lft=node.lft,
                        rght=node.rght,
                        tree_id=node.tree_id,
                        level=node.level,
                    )
                )
                if derive_due:
                    m = objs[-1]
                    m.review_due_at = (m.last_reviewed_at or m.created_at) + timedelta(
                        days=m.review_every_days
                    )
            JourneyMap.objects.bulk_create(objs, batch_size=BATCH_SIZE)
            for node, obj in zip(nodes, objs, strict=True):
                node.pk = obj.pk
            insert_rows(
                JourneyMap.personas.through,
                [
                    {"journeymap_id": node.pk, "persona_id": persona}
                    for node in nodes
                    for persona in node.persona_ids
                ],
            )
        for chunk in _chunks(nodes, MAPS_PER_CHUNK):
            _structure(rng, chunk, phases, stages_per_map)


def _structure(
    rng: random.Random, nodes: Sequence[_Node], phases: _Phases, stages_per_map: int
) -> None:
    from maps.models import Stage, Step, StepLink

    with phases("stages"):
        stages = []
        stage_slices = []
        for node in nodes:
            n = min(stages_per_map, node.n_steps)
            stage_slices.append((len(stages), n))
            stages.extend(
                Stage(map_id=node.pk, name=STAGES[s % len(STAGES)], position=s) for s in range(n)
            )
        insert(Stage, stages)
    with phases("steps"):
        steps = []
        for node, (start, n_stages) in zip(nodes, stage_slices, strict=True):
            own = stages[start : start + n_stages]
            for i in range(node.n_steps):
                steps.append(
                    {
                        "map_id": node.pk,
                        "stage_id": own[i * n_stages // node.n_steps].pk if own else None,
                        "key": f"s{i + 1:03d}",
                        "name": (
                            f"{STEP_VERBS[(i + node.tree_id) % len(STEP_VERBS)]} "
                            f"{STEP_NOUNS[(i * 3 + node.level) % len(STEP_NOUNS)]} {i + 1}"
                        ),
                        "position": i,
                        "channel": rng.choice(CHANNELS),
                        "emotion": rng.randint(-2, 2),
                        "is_recurring": rng.random() < 0.05,
                        "is_moment_of_truth": rng.random() < 0.1,
                        "evidence": rng.choice(EVIDENCE),
                    }
                )
        step_pks = insert_rows(Step, steps)
        offset = 0
        for node in nodes:
            node.step_pks = step_pks[offset : offset + node.n_steps]
            offset += node.n_steps
    with phases("step links"):
        links = []
        for node in nodes:
            s = node.step_pks
            if len(s) >= 3:
                links.append(StepLink(from_step_id=s[2], to_step_id=s[0], kind="loop"))
            if len(s) >= 5:
                links.append(StepLink(from_step_id=s[1], to_step_id=s[4], kind="skip"))
            if len(s) >= 6 and rng.random() < 0.5:
                links.append(
                    StepLink(from_step_id=s[3], to_step_id=s[5], kind="branch", label="if declined")
                )
        StepLink.objects.bulk_create(links, batch_size=BATCH_SIZE)


# ----------------------------------------------------------------------------- content


def _lane_content(
    rng: random.Random, nodes: list[_Node], phases: _Phases, pain_point_share: float
) -> None:
    from maps.models import LaneItem, PainPoint

    with phases("pain points, lane items"):
        for chunk in _chunks(nodes, MAPS_PER_CHUNK):
            pain_points: list[dict[str, Any]] = []
            owners_of: list[_Node] = []
            lane_items: list[dict[str, Any]] = []
            for node in chunk:
                n_pain = round(node.n_items * pain_point_share)
                for j in range(node.n_items):
                    pinned = node.step_pks and rng.random() < 0.8
                    step_id = rng.choice(node.step_pks) if pinned else None
                    evidence = rng.choice(EVIDENCE)
                    if j < n_pain:
                        customer = rng.random() < 0.7
                        pain_points.append(
                            {
                                "map_id": node.pk,
                                "step_id": step_id,
                                "kind": "customer" if customer else "employee",
                                "title": f"Pain point {j + 1}: "
                                f"{'slow' if customer else 'manual'} "
                                f"{STEP_NOUNS[j % len(STEP_NOUNS)]}",
                                "description": "Synthetic.",
                                "severity": rng.randint(1, 5),
                                "frequency": rng.randint(1, 5),
                                "evidence": evidence,
                                "position": j,
                            }
                        )
                        owners_of.append(node)
                    else:
                        kind = LANE_KINDS[j % len(LANE_KINDS)]
                        lane_items.append(
                            {
                                "map_id": node.pk,
                                "step_id": step_id,
                                "kind": kind,
                                "title": f"{kind.capitalize()} {j + 1}",
                                "description": "Synthetic.",
                                "evidence": evidence,
                                "position": j,
                                "url": (
                                    f"https://example.com/research/{node.slug}/{j}"
                                    if kind == "research"
                                    else ""
                                ),
                            }
                        )
            pain_point_pks = insert_rows(PainPoint, pain_points)
            insert_rows(LaneItem, lane_items)
            for node, pk in zip(owners_of, pain_point_pks, strict=True):
                node.pain_point_pks.append(pk)


def _kpis_and_measurements(
    rng: random.Random, nodes: list[_Node], per_kpi: int, phases: _Phases
) -> None:
    from maps.models import KPI, Measurement

    today = date.today()
    months = [_month_start(today, m) for m in range(per_kpi)]
    for chunk in _chunks(nodes, MAPS_PER_CHUNK):
        with phases("KPIs"):
            kpis = []
            for node in chunk:
                for k in range(node.n_kpis):
                    higher = rng.random() < 0.7
                    baseline = round(rng.uniform(20, 80), 1)
                    kpis.append(
                        KPI(
                            map_id=node.pk,
                            step_id=(
                                rng.choice(node.step_pks)
                                if node.step_pks and rng.random() < 0.5
                                else None
                            ),
                            name=f"{KPI_NAMES[k % len(KPI_NAMES)]} {k + 1}",
                            unit=KPI_UNITS[k % len(KPI_UNITS)],
                            direction="higher" if higher else "lower",
                            baseline=baseline,
                            target=round(baseline * (1.2 if higher else 0.8), 1),
                            perspective="customer" if k % 2 == 0 else "business",
                            source="analytics" if rng.random() < 0.3 else "manual",
                            weight=rng.choice((0.5, 1.0, 1.0, 2.0)),
                        )
                    )
            KPI.objects.bulk_create(kpis, batch_size=BATCH_SIZE)
        with phases("measurements"):
            measurements = []
            for kpi in kpis:
                value = kpi.baseline
                for day in months:
                    value = round(value + rng.uniform(-2.0, 2.5), 2)
                    measurements.append(Measurement(kpi_id=kpi.pk, date=day, value=value))
                if len(measurements) >= 50_000:
                    insert(Measurement, measurements)
                    measurements = []
            insert(Measurement, measurements)


def _qualitative_and_reviews(rng: random.Random, nodes: list[_Node], phases: _Phases) -> None:
    from governance.models import Review
    from maps.models import QualitativeFactor

    with phases("ratings, reviews"):
        factors = []
        reviews = []
        for node in nodes:
            for k, name in enumerate(FACTORS):
                factors.append(
                    QualitativeFactor(
                        map_id=node.pk,
                        name=name,
                        perspective="customer" if k == 0 else "business",
                        rating=rng.randint(1, 5),
                        rated_by_id=node.owner_id,
                    )
                )
            if node.last_reviewed_at is not None:
                reviews.append(
                    Review(
                        map_id=node.pk,
                        reviewed_by_id=node.owner_id,
                        reviewed_at=node.last_reviewed_at,
                        note="Still current.",
                    )
                )
        QualitativeFactor.objects.bulk_create(factors, batch_size=BATCH_SIZE)
        Review.objects.bulk_create(reviews, batch_size=BATCH_SIZE)


def _projects(
    rng: random.Random,
    nodes: list[_Node],
    big: _Node,
    count: int,
    people: dict[str, Any],
    phases: _Phases,
) -> None:
    from maps.models import CXProject

    with phases("projects"):
        today = date.today()
        owner_ids = [u.pk for u in people["owners"]]
        projects = []
        for i in range(count):
            owner_id = rng.choice(owner_ids)
            start = today - timedelta(days=rng.randint(-180, 720))
            projects.append(
                CXProject(
                    title=f"Project {i + 1:05d} fix {STEP_NOUNS[i % len(STEP_NOUNS)]}",
                    summary="Synthetic project.",
                    status=rng.choice(PROJECT_STATUSES),
                    owner_id=owner_id,
                    team_id=people["team_of"][owner_id] if rng.random() < 0.7 else None,
                    start_date=start if rng.random() < 0.8 else None,
                    end_date=start + timedelta(days=rng.randint(14, 365)),
                    reach=rng.randint(0, 100_000),
                    impact=rng.randint(1, 5),
                    confidence=rng.randint(0, 100),
                    effort=rng.choice((0.5, 1.0, 2.0, 4.0, 8.0, 13.0)),
                    cost=Decimal(rng.randint(0, 500_000)) if rng.random() < 0.6 else None,
                )
            )
        CXProject.objects.bulk_create(projects, batch_size=BATCH_SIZE)
    with phases("project links"):
        rows: dict[str, list] = {"maps": [], "steps": [], "pain_points": []}
        for i, project in enumerate(projects):
            linked = rng.sample(nodes, k=min(len(nodes), rng.randint(1, 3)))
            if i < 12 and big not in linked:  # the biggest map gets a full projects lane
                linked[0] = big
            step_pool = [pk for node in linked for pk in node.step_pks]
            pain_pool = [pk for node in linked for pk in node.pain_point_pks]
            rows["maps"].extend((project.pk, node.pk) for node in linked)
            rows["steps"].extend(
                (project.pk, pk)
                for pk in rng.sample(step_pool, k=min(len(step_pool), rng.randint(0, 3)))
            )
            rows["pain_points"].extend(
                (project.pk, pk)
                for pk in rng.sample(pain_pool, k=min(len(pain_pool), rng.randint(0, 3)))
            )
        for name, pairs in rows.items():
            m2m = CXProject._meta.get_field(name)
            through = m2m.remote_field.through
            source, target = m2m.m2m_column_name(), m2m.m2m_reverse_name()
            through.objects.bulk_create(
                [through(**{source: a, target: b}) for a, b in pairs], batch_size=BATCH_SIZE
            )


def _grants(
    rng: random.Random, levels: list[list[_Node]], people: dict[str, Any], phases: _Phases
) -> None:
    """About one guardian grant per hundred maps, to users and to teams, on upper maps."""
    from django.contrib.auth.models import Permission

    from maps.models import JourneyMapGroupObjectPermission, JourneyMapUserObjectPermission

    with phases("grants"):
        perms = {
            p.codename: p.pk
            for p in Permission.objects.filter(
                content_type__app_label="maps",
                codename__in=("change_journeymap", "view_journeymap"),
            )
        }
        upper = [node for level in levels[:2] for node in level]
        n = max(1, len(upper) // 40)
        user_grants = {
            (
                rng.choice(people["owners"]).pk,
                perms[rng.choice(("change_journeymap", "view_journeymap"))],
                rng.choice(upper).pk,
            )
            for _ in range(n)
        }
        group_grants = {
            (rng.choice(people["teams"]).pk, perms["view_journeymap"], rng.choice(upper).pk)
            for _ in range(n)
        }
        JourneyMapUserObjectPermission.objects.bulk_create(
            [
                JourneyMapUserObjectPermission(user_id=u, permission_id=p, content_object_id=m)
                for u, p, m in user_grants
            ]
        )
        JourneyMapGroupObjectPermission.objects.bulk_create(
            [
                JourneyMapGroupObjectPermission(group_id=g, permission_id=p, content_object_id=m)
                for g, p, m in group_grants
            ]
        )


# ------------------------------------------------------------------------------ checks


def verify_tree() -> list[str]:
    """Problems with the stored map tree (empty when valid), in one pass over all maps.

    Checks the nested sets (children tile their parent's ``lft``..``rght`` range
    exactly, in title order), levels, tree ids (one per root, in title order), and
    that every ``parent_step`` is a step of the map's parent.
    """
    from django.db.models import F

    from maps.models import JourneyMap

    rows = list(
        JourneyMap.objects.order_by()
        .values_list("pk", "parent_id", "tree_id", "lft", "rght", "level", "title")
        .iterator(chunk_size=10_000)
    )
    problems: list[str] = []
    by_pk = {row[0]: row for row in rows}
    children: dict[int | None, list[tuple]] = {}
    for row in rows:
        children.setdefault(row[1], []).append(row)

    roots = sorted(children.get(None, []), key=lambda r: r[6])
    if [r[2] for r in roots] != sorted(r[2] for r in roots):
        problems.append("root tree ids are not in title order")
    if len({r[2] for r in roots}) != len(roots):
        problems.append("two roots share a tree id")
    for pk, parent_id, tree_id, lft, rght, level, title in rows:
        if parent_id is None:
            if lft != 1 or level != 0:
                problems.append(f"root {pk} {title!r}: lft={lft} level={level}")
        elif parent_id not in by_pk:
            problems.append(f"map {pk}: parent {parent_id} is missing")
        else:
            parent = by_pk[parent_id]
            if tree_id != parent[2] or level != parent[5] + 1:
                problems.append(f"map {pk}: tree/level differ from its parent {parent_id}")
        kids = sorted(children.get(pk, []), key=lambda r: r[3])
        expected = lft + 1
        for kid in kids:
            if kid[3] != expected:
                problems.append(f"map {kid[0]}: lft={kid[3]}, expected {expected}")
            expected = kid[4] + 1
        if rght != expected:
            problems.append(f"map {pk} {title!r}: rght={rght}, expected {expected}")
        if [k[6] for k in kids] != sorted(k[6] for k in kids):
            problems.append(f"map {pk}: children are not in title order")
    stray = JourneyMap.objects.filter(parent_step__isnull=False).exclude(
        parent_step__map=F("parent")
    )
    problems.extend(
        f"map {pk}: parent_step is not a step of its parent"
        for pk in stray.values_list("pk", flat=True)
    )
    return problems


def compare_with_rebuild() -> list[str]:
    """Run django-mptt's own ``rebuild()`` and list every map whose tree fields changed."""
    from maps.models import JourneyMap

    fields = ("tree_id", "lft", "rght", "level")
    before = {row[0]: row[1:] for row in JourneyMap.objects.values_list("pk", *fields)}
    JourneyMap.objects.rebuild()
    after = {row[0]: row[1:] for row in JourneyMap.objects.values_list("pk", *fields)}
    return [
        f"map {pk}: generated {before[pk]}, rebuild gives {after[pk]}"
        for pk in before
        if before[pk] != after.get(pk)
    ]


def row_counts() -> dict[str, int]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from governance.models import Review
    from maps import models as m

    counted = [
        get_user_model(),
        Group,
        m.Persona,
        m.JourneyMap,
        m.Stage,
        m.Step,
        m.StepLink,
        m.PainPoint,
        m.LaneItem,
        m.KPI,
        m.Measurement,
        m.QualitativeFactor,
        Review,
        m.CXProject,
        m.CXProject.maps.through,
        m.CXProject.steps.through,
        m.CXProject.pain_points.through,
        m.JourneyMapUserObjectPermission,
        m.JourneyMapGroupObjectPermission,
    ]
    return {model._meta.label: model.objects.count() for model in counted}


# --------------------------------------------------------------------------------- CLI


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared with ``run.py``; ``None`` means "the chosen scale's value"."""
    group = parser.add_argument_group("data size")
    group.add_argument("--maps", type=int, help="journey maps (default 1000)")
    group.add_argument("--stages-per-map", type=int, help="stages per map (default 8)")
    group.add_argument("--steps-per-map", type=int, help="mean steps per map (default 48)")
    group.add_argument(
        "--items-per-map", type=int, help="mean pain points + lane items per map (default 240)"
    )
    group.add_argument(
        "--pain-point-share",
        type=float,
        help="share of the lane items per map that are pain points (default 0.6)",
    )
    group.add_argument(
        "--big-map-factor",
        type=int,
        help="how many times larger the biggest map (the first root) is (default 3)",
    )
    group.add_argument("--projects", type=int, help="CX projects (default 500)")
    group.add_argument(
        "--measurements-per-kpi", type=int, help="monthly measurements per KPI (default 12)"
    )
    group.add_argument("--kpis-per-map", type=int, help="mean KPIs per map (default 4)")
    group.add_argument("--seed", type=int, default=42, help="random seed (default 42)")


# issue #16's shape: 1,000 maps -> ~48,000 steps, ~144,000 pain points, ~96,000 other
# lane items; the biggest map 144 steps and 720 items
DEFAULT_SIZE: dict[str, Any] = {
    "maps": 1000,
    "stages_per_map": STAGES_PER_MAP,
    "steps_per_map": 48,
    "items_per_map": 240,
    "pain_point_share": PAIN_POINT_SHARE,
    "big_map_factor": 3,
    "projects": 500,
    "measurements_per_kpi": 12,
    "kpis_per_map": 4,
}


def size_from_args(args: argparse.Namespace, base: dict[str, Any]) -> dict[str, Any]:
    size = dict(base)
    for key in size:
        value = getattr(args, key, None)
        if value is not None:
            size[key] = value
    size["seed"] = args.seed
    return size


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for the script form
    from benchmarks.bootstrap import DEFAULT_DB, migrate, setup_django

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_size_arguments(parser)
    parser.add_argument(
        "--db",
        type=Path,
        default=DEFAULT_DB,
        help=f"SQLite file when DATABASE_URL is not set (default {DEFAULT_DB})",
    )
    parser.add_argument("--fresh", action="store_true", help="delete that SQLite file first")
    parser.add_argument(
        "--check-rebuild",
        action="store_true",
        help="also run mptt's rebuild() and check it changes no tree field",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    url = setup_django(args.db, fresh=args.fresh)
    print(f"database: {url}", file=sys.stderr)
    migrate()
    result = generate(
        **size_from_args(args, DEFAULT_SIZE),
        check_rebuild=args.check_rebuild,
        log=lambda message: print(message, file=sys.stderr),
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"generated in {result['seconds']:.1f} s (CPU {result['cpu_seconds']:.1f} s); "
            f"biggest map: {result['biggest_map']}"
        )
        for label, n in result["counts"].items():
            print(f"  {label:<45} {n:>10,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
