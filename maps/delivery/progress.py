"""Where a project's delivery stands: its links, recognised, with the imported status of
each key. One query for any number of projects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from maps.models import DeliveryStatus

from .links import DeliveryLink, recognise


@dataclass(frozen=True)
class TrackedLink:
    link: DeliveryLink
    status: DeliveryStatus | None  # None: a key not imported yet, or no key


@dataclass
class Delivery:
    links: list[TrackedLink] = field(default_factory=list)

    @property
    def tracked(self) -> list[TrackedLink]:
        """The links whose status is known (cancelled items don't count as work)."""
        return [
            t
            for t in self.links
            if t.status is not None and t.status.state != DeliveryStatus.State.CANCELLED
        ]

    @property
    def done(self) -> int:
        return sum(1 for t in self.tracked if t.status.state == DeliveryStatus.State.DONE)

    @property
    def doing(self) -> int:
        return sum(1 for t in self.tracked if t.status.state == DeliveryStatus.State.DOING)

    @property
    def summary(self) -> str:
        """ "2 of 5 done, 1 in progress"; "" when no status is known."""
        if not self.tracked:
            return ""
        text = f"{self.done} of {len(self.tracked)} done"
        return text + (f", {self.doing} in progress" if self.doing else "")


def delivery_of(projects: Iterable) -> dict[int, Delivery]:
    """Each project's delivery, by project id (projects need ``external_links`` loaded)."""
    recognised = {
        p.pk: [recognise(text) for text in (p.external_links or []) if isinstance(text, str)]
        for p in projects
    }
    keys = {link.status_key for links in recognised.values() for link in links} - {""}
    statuses = {s.key: s for s in DeliveryStatus.objects.filter(key__in=keys)} if keys else {}
    return {
        pk: Delivery([TrackedLink(link, statuses.get(link.status_key)) for link in links])
        for pk, links in recognised.items()
    }
