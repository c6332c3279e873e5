"""A serving process tunes Python's garbage collector once Django is loaded
(``journeyhub/serving.py``, called by ``wsgi.py`` and ``asgi.py``): the start-up objects
frozen, a higher first threshold, and the site still served and its cycles still
collected. Each case starts its own interpreter, so the suite's own process is left as
Python set it up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, json, sys, weakref
from wsgiref.util import setup_testing_defaults
from {module} import application

threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
views_imported = "governance.views_scorecard" in sys.modules

status = []
if {module!r} == "journeyhub.wsgi":
    environ = {{"PATH_INFO": "/accounts/login/", "HTTP_HOST": "localhost"}}
    setup_testing_defaults(environ)
    body = b"".join(application(environ, lambda s, headers: status.append(s)))
    status.append("Sign in" in body.decode())

class Node:
    pass

# a reference cycle made after start-up: freed by the collector, not by reference counts
node = Node(); node.self = node
alive = weakref.ref(node)
del node
# no gc.collect(): the allocations a request makes start the collector's passes
kept = [[] for _ in range(20_000)]
print(json.dumps({{"threshold": threshold, "frozen": frozen, "views": views_imported,
                  "status": status, "cycle_freed": alive() is None}}))
"""


def probe(tmp_path: Path, module: str = "journeyhub.wsgi", **env: str) -> dict:
    environment = {
        **{name: value for name, value in os.environ.items() if name != "JOURNEYHUB_GC_GEN0"},
        "DJANGO_SETTINGS_MODULE": "journeyhub.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "DEBUG": "true",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_wsgi_process_freezes_its_start_up_objects_and_raises_the_first_threshold(tmp_path):
    answer = probe(tmp_path)
    assert answer["threshold"][0] == 5000
    assert answer["frozen"] > 50_000  # Django, the apps and every view module
    assert answer["views"] is True  # the URLconf imported before the freeze


def test_the_tuned_process_still_serves_pages_and_collects_cycles(tmp_path):
    answer = probe(tmp_path)
    assert answer["status"] == ["200 OK", True]
    assert answer["cycle_freed"] is True


def test_the_asgi_process_is_tuned_the_same_way(tmp_path):
    answer = probe(tmp_path, module="journeyhub.asgi")
    assert answer["threshold"][0] == 5000
    assert answer["frozen"] > 50_000


def test_gen0_zero_leaves_the_collector_as_python_sets_it(tmp_path):
    answer = probe(tmp_path, JOURNEYHUB_GC_GEN0="0")
    assert answer["threshold"][0] == 700
    assert answer["frozen"] == 0
    assert answer["cycle_freed"] is True


def test_another_threshold_can_be_chosen_and_a_wrong_one_stops_the_start(tmp_path):
    assert probe(tmp_path, JOURNEYHUB_GC_GEN0="20000")["threshold"][0] == 20000
    with pytest.raises(AssertionError, match="JOURNEYHUB_GC_GEN0 must be an integer"):
        probe(tmp_path, JOURNEYHUB_GC_GEN0="lots")
