"""The map tree stays a tree under concurrent writers, on SQLite and on PostgreSQL.

8 clients × 25 operations against gunicorn: sub-map creations under one parent, moves
between two parents and renames (siblings are ordered by title, so a rename moves a map
too). Afterwards the nested sets agree with the parent links, no two maps share a
``lft`` or ``rght``, a viewer's grant on one draft covers exactly that draft's subtree,
and no answer was a 5xx.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter

import pytest

from tests.servers import Client, gunicorn_server, new_sqlite_url

pytestmark = [pytest.mark.servers, pytest.mark.xdist_group("servers")]

CLIENTS = 8
OPERATIONS = 25
UNTHROTTLED = {"JOURNEYHUB_THROTTLE_WRITES": "100000/minute"}

SETUP = """
import json
from guardian.shortcuts import assign_perm
from django.contrib.auth.models import User
from maps.models import JourneyMap
from maps import services
admin = User.objects.get(username="admin")
root = services.map_create(owner=admin, title="Lifecycle", status="published")
left = services.map_create(owner=admin, title="Left", parent=root, status="draft")
right = services.map_create(owner=admin, title="Right", parent=root, status="draft")
granted = services.map_create(owner=admin, title="Granted draft", parent=left, status="draft")
inner = services.map_create(owner=admin, title="Inside the grant", parent=granted, status="draft")
assign_perm("view_journeymap", User.objects.get(username="vic"), granted)
print(json.dumps({"left": left.pk, "right": right.pk, "granted": granted.pk}))
"""

VALIDATE = """
import json
from collections import defaultdict
from django.contrib.auth.models import User
from governance.permissions import visible_maps
from maps.models import JourneyMap
FIELDS = ("pk", "parent_id", "tree_id", "lft", "rght", "level")
rows = {m["pk"]: m for m in JourneyMap.objects.values(*FIELDS)}
problems = []
children = defaultdict(list)
for row in rows.values():
    children[row["parent_id"]].append(row)
def walk(node, tree_id, level, counter):
    if node["tree_id"] != tree_id or node["level"] != level or node["lft"] != counter:
        found = (node["tree_id"], node["lft"], node["level"])
        problems.append(f"map {node['pk']} at {found}, expected {(tree_id, counter, level)}")
    counter += 1
    for child in sorted(children[node["pk"]], key=lambda c: c["lft"]):
        counter = walk(child, tree_id, level + 1, counter)
    if node["rght"] != counter:
        problems.append(f"map {node['pk']} rght {node['rght']}, expected {counter}")
    return counter + 1
for root in children[None]:
    walk(root, root["tree_id"], 0, 1)
lfts = [(r["tree_id"], r["lft"]) for r in rows.values()]
rghts = [(r["tree_id"], r["rght"]) for r in rows.values()]
granted = int(GRANTED)
def subtree(pk):
    out = {pk}
    for child in children[pk]:
        out |= subtree(child["pk"])
    return out
vic = User.objects.get(username="vic")
seen_drafts = set(visible_maps(vic).filter(status="draft").values_list("pk", flat=True))
print(json.dumps({
    "maps": len(rows),
    "problems": problems[:20],
    "duplicate_lft": len(lfts) - len(set(lfts)),
    "duplicate_rght": len(rghts) - len(set(rghts)),
    "grant_covers": sorted(seen_drafts),
    "subtree": sorted(subtree(granted)),
}))
"""


def storm(server, ids: dict) -> tuple[Counter, int]:
    """Run the writers; returns the answers by status and how many maps were created."""
    token = server.token("admin")
    statuses: Counter = Counter()
    created = Counter()
    lock = threading.Lock()
    errors: list[str] = []

    def writer(n: int) -> None:
        api = Client(server.url, token=token, timeout=120)
        rng = random.Random(n)
        mine: list[int] = []
        for i in range(OPERATIONS):
            roll = rng.random()
            if roll < 0.5 or not mine:
                response = api.post(
                    "/api/maps/",
                    json={
                        "title": f"Sub {n:02d}-{i:02d} {rng.randrange(1000):03d}",
                        "parent": ids["left"],
                        "status": "draft",
                    },
                )
                if response.status == 201:
                    mine.append(response.json()["id"])
                    with lock:
                        created["maps"] += 1
            else:
                pk = rng.choice(mine)
                current = api.get(f"/api/maps/{pk}/")
                if current.status != 200:
                    errors.append(f"GET {pk}: {current.status}")
                    continue
                version = current.json()["version"]
                if roll < 0.75:
                    change = {"parent": rng.choice([ids["left"], ids["right"]])}
                else:
                    change = {"title": f"Renamed {n:02d}-{i:02d} {rng.randrange(1000):03d}"}
                response = api.patch(f"/api/maps/{pk}/", json={**change, "version": version})
            with lock:
                statuses[response.status] += 1
                if response.status >= 500:
                    errors.append(f"{response.status}: {response.text[:300]}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "writers did not finish in 5 minutes"
    assert not errors, (errors[:5], server.log()[-4000:])
    return statuses, created["maps"]


def check_tree(server, ids: dict, created: int) -> None:
    report = json.loads(server.shell(VALIDATE.replace("GRANTED", str(ids["granted"]))))
    assert report["maps"] == 5 + created
    assert report["problems"] == [], report["problems"]
    assert report["duplicate_lft"] == 0 and report["duplicate_rght"] == 0
    # the viewer's grant covers the granted draft and what lies beneath it, nothing else
    assert report["grant_covers"] == report["subtree"]


def run_scenario(database_url: str) -> None:
    with gunicorn_server(
        database_url, superusers=["admin"], users=["vic"], env=UNTHROTTLED
    ) as server:
        ids = json.loads(server.shell(SETUP))
        statuses, created = storm(server, ids)
        assert sum(statuses.values()) == CLIENTS * OPERATIONS
        assert set(statuses) <= {200, 201, 409}, (statuses, server.log()[-2000:])
        assert created >= CLIENTS * OPERATIONS // 3
        check_tree(server, ids, created)


def test_concurrent_sub_map_creations_moves_and_renames_keep_the_tree_on_sqlite(tmp_path):
    run_scenario(new_sqlite_url(tmp_path))


@pytest.mark.postgres
def test_concurrent_sub_map_creations_moves_and_renames_keep_the_tree_on_postgresql(
    fresh_postgres_url,
):
    run_scenario(fresh_postgres_url)
