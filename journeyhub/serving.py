"""What a serving process (``wsgi.py``, ``asgi.py``) does once Django is set up: import
every view now rather than on the first request, then tune Python's cyclic garbage
collector for request work (#16).

A request allocates thousands of short-lived container objects (querysets, model
instances, template nodes); nearly all are freed by reference counting when the
response is sent. With Python's default first threshold (700 net allocations) the
collector still made ~1.4 passes per request (~4 for the map page), and every few
hundred requests a full pass over every object of the process (~160,000, nearly all
from Django, the apps and their imports): ~85 ms added to one unlucky request.

- ``gc.freeze()`` after start-up moves the objects alive then (~137,000: modules,
  classes, URL patterns, settings; they live as long as the process) out of the
  collector's sight, so a full pass only visits what requests left behind (~4 ms
  instead of ~85 once the main pages have been served). It also keeps the collector
  from writing to those objects' memory pages, which gunicorn's ``--preload`` workers
  share with their parent until written.
- A first threshold of ``GEN0_THRESHOLD`` net allocations lets most requests finish
  before any pass (one pass per ~6 requests instead of ~1.4 per request), each pass
  still short (~2 ms); cycles are collected a little later, never leaked. The
  collector's time over a mix of pages fell from 3-6 % of the CPU to ~2 %.

``JOURNEYHUB_GC_GEN0=0`` leaves the collector as Python sets it (no freeze either).
"""

from __future__ import annotations

import gc

from django.urls import get_resolver

from journeyhub.settings import env_int

GEN0_THRESHOLD = 5000


def prepare_process() -> None:
    """Import the URLconf's views and tune the collector (see the module's docstring)."""
    gen0 = env_int("JOURNEYHUB_GC_GEN0", GEN0_THRESHOLD)
    if gen0 <= 0:
        return
    get_resolver().url_patterns  # noqa: B018 -- imports every view module now
    gc.collect()
    gc.freeze()
    gc.set_threshold(gen0, *gc.get_threshold()[1:])
