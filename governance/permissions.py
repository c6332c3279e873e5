"""The ownership policy: every access decision about journey maps, in one place.

Each decision has two forms (wagtail's permission-policy shape): ``can_*`` for one
object, and a queryset filter for lists, so no list checks rows one by one.

Rules (``docs/architecture.md``, "Ownership"):

* Published maps are readable by every signed-in user. Drafts and archived maps are
  readable by those who may edit them, by CX leadership and by superusers.
* A map's content may be edited by its owner, the members of its team, users (or
  their groups) granted ``change_journeymap`` on it or on any ancestor, and superusers.
* Owner and team rules are read from the ``owner``/``team`` fields, never stored as
  grants, so they cannot drift. Explicit grants are django-guardian object
  permissions; a grant on a map covers its whole subtree, resolved with the tree's
  ``lft``/``rght`` ranges in one query rather than by walking parents.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from maps.models import (
    JourneyMap,
    JourneyMapGroupObjectPermission,
    JourneyMapUserObjectPermission,
)

User = AbstractBaseUser | AnonymousUser

EDIT_CODENAME = "change_journeymap"
VIEW_CODENAME = "view_journeymap"


def _group_ids(user) -> set[int]:
    """The user's group ids, cached on the user object for the request."""
    cached = getattr(user, "_journeyhub_group_ids", None)
    if cached is None:
        cached = set(user.groups.values_list("pk", flat=True))
        user._journeyhub_group_ids = cached
    return cached


def is_leadership(user) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_journeyhub_is_leadership", None)
    if cached is None:
        cached = user.groups.filter(name=settings.JOURNEYHUB_LEADERSHIP_GROUP).exists()
        user._journeyhub_is_leadership = cached
    return cached


def _granted_subtree_q(user, codename: str) -> Q:
    """Maps lying inside the subtree of a map on which the user (or a group) holds ``codename``."""

    def covering(model, **who):
        return Exists(
            model.objects.filter(
                permission__codename=codename,
                content_object__tree_id=OuterRef("tree_id"),
                content_object__lft__lte=OuterRef("lft"),
                content_object__rght__gte=OuterRef("rght"),
                **who,
            )
        )

    q = Q(covering(JourneyMapUserObjectPermission, user=user))
    group_ids = _group_ids(user)
    if group_ids:
        q |= Q(covering(JourneyMapGroupObjectPermission, group_id__in=group_ids))
    return q


def _edit_q(user) -> Q:
    q = Q(owner=user) | _granted_subtree_q(user, EDIT_CODENAME)
    group_ids = _group_ids(user)
    if group_ids:
        q |= Q(team_id__in=group_ids)
    return q


def editable_maps(user, queryset: QuerySet[JourneyMap] | None = None) -> QuerySet[JourneyMap]:
    qs = JourneyMap.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(_edit_q(user))


def visible_maps(user, queryset: QuerySet[JourneyMap] | None = None) -> QuerySet[JourneyMap]:
    qs = JourneyMap.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if is_leadership(user):
        return qs
    return qs.filter(
        Q(status=JourneyMap.Status.PUBLISHED)
        | _edit_q(user)
        | _granted_subtree_q(user, VIEW_CODENAME)
    )


def can_edit_map(user, journey_map: JourneyMap) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or journey_map.owner_id == user.pk:
        return True
    if journey_map.team_id and journey_map.team_id in _group_ids(user):
        return True
    return (
        JourneyMap.objects.filter(pk=journey_map.pk)
        .filter(_granted_subtree_q(user, EDIT_CODENAME))
        .exists()
    )


def can_view_map(user, journey_map: JourneyMap) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if journey_map.status == JourneyMap.Status.PUBLISHED or is_leadership(user):
        return True
    return can_edit_map(user, journey_map) or (
        JourneyMap.objects.filter(pk=journey_map.pk)
        .filter(_granted_subtree_q(user, VIEW_CODENAME))
        .exists()
    )


def get_map_for_user(user, slug: str, *, action: str = "view", queryset=None) -> JourneyMap:
    """The one gate views use to load a map: 404 if the user may not see it, 403 if they
    may see it but not perform ``action``."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    base = JourneyMap.objects.all() if queryset is None else queryset
    journey_map = visible_maps(user, base).filter(slug=slug).first()
    if journey_map is None:
        raise Http404("No such journey map.")
    if action == "edit" and not can_edit_map(user, journey_map):
        raise PermissionDenied("Only the owner, the team and editors may change this map.")
    return journey_map
