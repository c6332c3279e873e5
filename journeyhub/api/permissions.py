"""The one DRF permission class: the API asks the ownership policy, as the pages do."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from governance import permissions
from governance.permissions import Action


class PolicyPermission(BasePermission):
    """Writes to an object need one of the view's policy actions on it
    (``view.object_actions[view.action]``, EDIT when not listed). Checked in
    ``get_object()``, before the payload is validated, so someone who may not act learns
    nothing from validation errors. Lists are filtered by the policy's querysets."""

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        wanted = getattr(view, "object_actions", {}).get(view.action, Action.EDIT)
        actions = wanted if isinstance(wanted, tuple) else (wanted,)
        if any(permissions.can(request.user, action, obj) for action in actions):
            return True
        self.message = permissions.denied_message(actions[0], obj)
        return False
