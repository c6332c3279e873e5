"""Read-only share links: a published map opened by people without an account.

The token is 32 random bytes (``secrets.token_urlsafe``); the database keeps only its
SHA-256 hash and first characters. Why not a signed token (``django.core.signing``):
revoking and counting uses need a row anyway, so a signature would add nothing but a
dependency on ``SECRET_KEY`` (rotating it would kill every link) and a token that can
be re-derived from what the server stores. With a hash, whoever reads the database (a
backup, the admin, a SQL console) cannot open a single map; the price is that the link
is shown once, when it is made — like an API token.

A link answers only while it is not revoked, not past its last day, and its map is
published; otherwise the public page is the same 404 whatever the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import secrets
from dataclasses import replace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from maps.models import JourneyMap
from maps.selectors import MapGrid, map_grid

from .field_policy import check_action
from .models import ShareLink, ShareLinkUse
from .permissions import Action

TOKEN_BYTES = 32  # 256 bits: guessing is hopeless, so a wrong token needs no lockout
PREFIX_CHARS = 6
LABEL_MAX = ShareLink._meta.get_field("label").max_length
USER_AGENT_MAX = ShareLinkUse._meta.get_field("user_agent").max_length
# lanes that lead elsewhere in the repository (projects, sub-maps): never shown publicly
PRIVATE_LANES = frozenset({"projects", "sub_maps"})


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def share_link_path(token: str) -> str:
    return reverse("share-link-public", kwargs={"token": token})


def share_link_url(token: str) -> str:
    """The link to hand out, on the configured public address of the site."""
    return settings.JOURNEYHUB_BASE_URL + share_link_path(token)


# --- reads --------------------------------------------------------------------------


def share_links_of_map(journey_map: JourneyMap) -> QuerySet[ShareLink]:
    """A map's links, newest first, with the people named on the sharing page."""
    return ShareLink.objects.filter(map=journey_map).select_related("created_by", "revoked_by")


def share_link_for_token(token: str, *, today: dt.date | None = None) -> ShareLink | None:
    """The working link behind ``token`` with its map, or None — revoked, expired,
    unknown, malformed and unpublished all look the same to the caller."""
    if not token or len(token) > 100:
        return None
    today = today or timezone.localdate()
    return (
        ShareLink.objects.select_related("map")
        .prefetch_related("map__personas")
        .filter(
            token_hash=token_hash(token),
            revoked_at__isnull=True,
            map__status=JourneyMap.Status.PUBLISHED,
        )
        .exclude(expires_on__lt=today)
        .first()
    )


def public_grid(journey_map: JourneyMap) -> MapGrid:
    """The map's grid as the read-only page lays it out, minus everything that points
    elsewhere: CX projects and sub-maps (their names and ids), the event-log funnel, the
    research behind items (internal quotes and sources), links items carry and who
    owns an item. Only
    objects in memory are changed; nothing is saved."""
    grid = map_grid(journey_map, children=JourneyMap.objects.none())
    lanes = [lane for lane in grid.lanes if lane.spec.key not in PRIVATE_LANES]
    for step in grid.steps:
        step.backing = None
        step.funnel = None
        step.zoom_maps = []
    for lane in lanes:
        for item in [*lane.whole_map, *(obj for _, cell in lane.cells for obj in cell)]:
            item.backing = None
            if getattr(item, "owner_id", None):
                item.owner_id = None  # colleagues' names stay inside the organisation
            if hasattr(item, "url"):
                item.url = ""
            if hasattr(item, "external_links"):
                item.external_links = []
    return replace(grid, lanes=lanes, has_funnel=False, has_evidence=False)


# --- writes -------------------------------------------------------------------------


@transaction.atomic
def share_link_create(
    *,
    journey_map: JourneyMap,
    by,
    label: str = "",
    expires_on: dt.date | None = None,
) -> tuple[ShareLink, str]:
    """Make a link to a published map; returns the link and its token (shown once)."""
    check_action(by, Action.SHARE, journey_map)
    label = (label or "").strip()
    errors: dict[str, str] = {}
    if journey_map.status != JourneyMap.Status.PUBLISHED:
        errors["map"] = (
            f"“{journey_map.title}” is {journey_map.get_status_display().lower()}: only "
            "published maps can be shared by link. Publish it first."
        )
    if len(label) > LABEL_MAX:
        errors["label"] = f"A label has at most {LABEL_MAX} characters ({len(label)} given)."
    if expires_on is not None and expires_on < timezone.localdate():
        errors["expires_on"] = "The last day cannot be in the past."
    if errors:
        raise ValidationError(errors)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink(
        map=journey_map,
        token_hash=token_hash(token),
        token_prefix=token[:PREFIX_CHARS],
        label=label,
        expires_on=expires_on,
        created_by=by,
    )
    link._history_user = by  # the API's token users are unknown to the history middleware
    link._change_reason = "Share link created"
    link.save()
    return link, token


@transaction.atomic
def share_link_revoke(*, link: ShareLink, by) -> ShareLink:
    """Stop a link for good (it stays listed, with who revoked it and when)."""
    check_action(by, Action.SHARE, link.map)
    link = ShareLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at is not None:
        return link  # already revoked: nothing to change, nothing to record
    link.revoked_at = timezone.now()
    link.revoked_by = by
    link._history_user = by
    link._change_reason = "Share link revoked"
    link.save(update_fields=["revoked_at", "revoked_by"])
    return link


def share_link_record_use(*, link: ShareLink, ip: str, user_agent: str) -> ShareLinkUse:
    """Log one opening: the network of the address and a cut user agent, nothing else."""
    now = timezone.now()
    use = ShareLinkUse.objects.create(
        link=link,
        used_at=now,
        network=ip_network_of(ip),
        user_agent=(user_agent or "")[:USER_AGENT_MAX],
    )
    # F(): concurrent openings each count; no history record for a use
    ShareLink.objects.filter(pk=link.pk).update(uses=F("uses") + 1, last_used_at=now)
    return use


def ip_network_of(ip: str) -> str:
    """The address cut to its network — IPv4 /24, IPv6 /48 — so the log tells a
    company's office from a crawler without identifying a person."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
