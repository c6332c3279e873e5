"""Ownership changes and sharing: who holds a map, and who else may work on it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from maps.models import JourneyMap, JourneyMapUserObjectPermission
from maps.services import map_bump_version

from . import tasks
from .field_policy import check_action, check_changes
from .permissions import Action

User = get_user_model()

ROLE_CODENAMES = {"editor": "change_journeymap", "viewer": "view_journeymap"}


@transaction.atomic
def map_transfer_ownership(
    *, journey_map: JourneyMap, new_owner, by, expected_version: int, note: str = ""
) -> JourneyMap:
    """Hand a map to a new owner; recorded in its history and the new owner is told."""
    if not new_owner.is_active:
        raise ValidationError({"owner": f"{new_owner.get_username()} is not an active user."})
    if new_owner.pk == journey_map.owner_id:
        raise ValidationError({"owner": f"{new_owner.get_username()} already owns this map."})
    check_changes(by, journey_map, {"owner": new_owner})
    previous_owner_id = journey_map.owner_id
    map_bump_version(journey_map=journey_map, expected_version=expected_version)
    journey_map.owner = new_owner
    journey_map._history_user = by
    journey_map._change_reason = (
        f"Ownership transferred to {new_owner.get_username()} by {by.get_username()}"
        + (f": {note}" if note else "")
    )
    journey_map.save()
    transaction.on_commit(
        lambda: tasks.notify_ownership_transferred.delay(
            journey_map.pk, previous_owner_id, new_owner.pk, by.pk, note=note
        )
    )
    return journey_map


@transaction.atomic
def map_share(
    *, journey_map: JourneyMap, user, role: str, by=None
) -> JourneyMapUserObjectPermission:
    """Grant ``user`` the editor or viewer role on the map and everything beneath it."""
    if by is not None:
        check_changes(by, JourneyMapUserObjectPermission(), {"map": journey_map})
    if role not in ROLE_CODENAMES:
        raise ValidationError({"role": f"Role must be one of: {', '.join(ROLE_CODENAMES)}."})
    if user.pk == journey_map.owner_id:
        raise ValidationError({"user": "The owner already has full access to this map."})
    # One role per person and map: switching role replaces the previous grant.
    for other in set(ROLE_CODENAMES.values()) - {ROLE_CODENAMES[role]}:
        remove_perm(other, user, journey_map)
    return assign_perm(ROLE_CODENAMES[role], user, journey_map)


@transaction.atomic
def map_unshare(*, grant: JourneyMapUserObjectPermission, by=None) -> None:
    if by is not None:
        check_action(by, Action.SHARE, grant.content_object)
    grant.delete()


def grant_role(grant: JourneyMapUserObjectPermission) -> str:
    codename = grant.permission.codename
    return next((role for role, c in ROLE_CODENAMES.items() if c == codename), codename)
