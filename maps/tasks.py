"""Background work of maps. Tasks take ids and call services."""

from __future__ import annotations

from celery import shared_task

from . import analytics


@shared_task
def expire_event_logs() -> int:
    """Hourly: remove the logs of imports left waiting for a step mapping (records stay)."""
    return analytics.event_logs_expire()


@shared_task
def import_events(import_id: int) -> str | None:
    """Run a queued event-log import (``maps.analytics.event_import_run``)."""
    event_import = analytics.event_import_run(import_id=import_id)
    return event_import.status if event_import else None


@shared_task
def import_theydo(import_id: int) -> str | None:
    """Run a confirmed TheyDo import (``maps.theydo.jobs.theydo_import_run``)."""
    from .theydo.jobs import theydo_import_run

    job = theydo_import_run(import_id=import_id)
    return job.status if job else None


@shared_task
def expire_theydo_previews() -> int:
    """Hourly: delete TheyDo previews not confirmed within a day, with their files."""
    from .theydo.jobs import theydo_previews_expire

    return theydo_previews_expire()


@shared_task
def import_maps(import_id: int) -> str | None:
    """Run a confirmed journeyhub/1 import (``maps.exchange.jobs.run``)."""
    from .exchange.jobs import run

    job = run(import_id=import_id)
    return job.status if job else None


@shared_task
def expire_map_import_previews() -> int:
    """Hourly: delete journeyhub/1 previews not confirmed within a day, with their files."""
    from .exchange.jobs import expire_previews

    return expire_previews()


@shared_task
def expire_discovery_uploads() -> int:
    """Hourly: delete event logs uploaded for discovery and left without a map."""
    from .discovery.store import uploads_expire

    return uploads_expire()
