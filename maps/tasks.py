"""Background work of maps. Tasks take ids and call services."""

from __future__ import annotations

from celery import shared_task

from . import analytics


@shared_task
def expire_event_logs() -> int:
    """Daily: remove stored event logs past their retention (the import records stay)."""
    return analytics.event_logs_expire()


@shared_task
def import_events(import_id: int) -> str | None:
    """Run a queued event-log import (``maps.analytics.event_import_run``)."""
    event_import = analytics.event_import_run(import_id=import_id)
    return event_import.status if event_import else None
