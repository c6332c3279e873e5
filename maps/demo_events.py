"""A deterministic demo event log for the demo map "Open an account" (``maps.demo``):
customers starting an application, looping back from a failed identity check, waiting
for the card, dropping off along the way. Imported by ``manage.py seed_demo_events``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

DEMO_MAP = "open-an-account"

#: (step key, channel, chance to go on to the next step, hours to the next step: low, high)
STEPS = (
    ("start-application", "app", 0.86, 0.02, 0.3),
    ("enter-details", "app", 0.90, 0.1, 6.0),
    ("verify-identity", "app", 0.93, 0.05, 20.0),
    ("credit-check", "other", 0.95, 0.5, 30.0),
    ("sign-contract", "app", 0.97, 1.0, 48.0),
    ("receive-card", "mail", 0.94, 48.0, 120.0),
    ("activate-card", "app", 0.96, 0.5, 72.0),
    ("first-login", "app", 1.0, 0.0, 0.0),
)
RETRY_CHANCE = 0.18  # a failed identity check: back to correcting the details
EXISTING_CUSTOMER = 0.15  # details prefilled: straight from the start to the identity check


def demo_event_log(
    *, start: dt.datetime, days: int = 30, cases: int = 700, seed: int = 1, lift: float = 0.0
) -> str:
    """The CSV text of ``cases`` journeys starting within ``days`` days after ``start``
    (UTC), sorted by case id. The same arguments give the same file. ``lift`` raises
    every chance to go on (e.g. 0.02 for a month after a fix)."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["case_id", "step_key", "timestamp", "channel", "outcome"])
    for number in range(cases):
        case = f"C{seed:02d}-{number:05d}"
        moment = start + dt.timedelta(seconds=rng.uniform(0, days * 86400 - 14 * 86400))
        events: list[tuple[str, dt.datetime, str]] = []
        index, retries = 0, 0
        while True:
            key, channel, go_on, low, high = STEPS[index]
            if key == "verify-identity" and rng.random() < 0.1:
                channel = "branch"  # the fallback when the app check cannot be done
            events.append((key, moment, channel))
            if index == len(STEPS) - 1 or rng.random() > min(go_on + lift, 1.0):
                break
            moment += dt.timedelta(hours=rng.uniform(low, high))
            if key == "verify-identity" and retries < 2 and rng.random() < RETRY_CHANCE:
                retries += 1
                index = 1  # the loop on the map: correct the details, verify again
            elif key == "start-application" and rng.random() < EXISTING_CUSTOMER:
                index = 2  # the skip on the map
            else:
                index += 1
        completed = events[-1][0] == STEPS[-1][0]
        for position, (key, when, channel) in enumerate(events):
            outcome = ""
            if position == len(events) - 1:
                outcome = "completed" if completed else "abandoned"
            writer.writerow([case, key, when.isoformat(timespec="seconds"), channel, outcome])
    return out.getvalue()
