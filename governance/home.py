"""The home page: what needs the signed-in person's attention.

Journey owners see their own maps; CX leadership sees the whole organisation, with
each owner's share of overdue maps. Lists that reach beyond the person's own maps (health
for everyone, every list for leadership) mark the maps they own as "Yours".
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from maps.models import JourneyMap, MapPainPointCounts

from . import comments, permissions, reviews

LIST_LIMIT = 10


def _own_maps(user, visible: QuerySet[JourneyMap]) -> QuerySet[JourneyMap]:
    """The maps ``user`` owns among ``visible``: every one of them, as the visibility rule
    lets owners see their own maps (``permissions._view_q``: "or the owner"); said as the
    owner alone, each list's map ids come from the owner index instead of each map's row
    tested against the visibility condition (1,300 maps for an owner at 10,000)."""
    if visible.query.is_empty():  # an inactive user sees nothing
        return visible
    return JourneyMap.objects.filter(owner=user)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    leadership = permissions.is_leadership(user)
    visible = permissions.visible_maps(user)
    scope = visible if leadership else _own_maps(user, visible)
    context: dict = {
        "leadership": leadership,
        "owns_maps": leadership or scope.exists(),
        # Underperformers: leadership across the organisation, everyone else across what
        # they may see (the maps they work with are often other people's).
        "health": reviews.underperformers(visible),
        "owner_shares": reviews.overdue_share_by_owner(visible) if leadership else [],
    }
    if context["owns_maps"]:  # the lists of one's own maps (none: the page says so)
        due = list(reviews.maps_due(scope, within_days=reviews.DUE_SOON_DAYS)[: LIST_LIMIT * 2])
        unaddressed = reviews.worst_first(
            reviews.pain_points_without_project(scope), limit=LIST_LIMIT
        )
        missing, missing_count = reviews.kpis_missing(scope, limit=LIST_LIMIT)
        context |= {
            "due": due,
            "overdue_count": sum(1 for m in due if m.is_review_due),
            "unaddressed": unaddressed,
            # summed from each map's stored counts (kept by triggers), not counted from
            # every pain point of the scope
            "unaddressed_count": MapPainPointCounts.objects.unaddressed_in(scope),
            # "Start a project" from a pain point: only for those who may create projects
            "may_start_project": bool(unaddressed) and permissions.can_create_project(user),
            "missing": missing,
            "missing_count": missing_count,
            "handed_over": list(reviews.maps_handed_to(user)[:LIST_LIMIT]),
        }
    context |= {
        "due_soon_days": reviews.DUE_SOON_DAYS,
        "kpi_period_days": reviews.KPI_PERIOD_DAYS,
        **comments.home_context(user),  # "Mentions": one query
    }
    return render(request, "governance/home.html", context)
