"""The home page: what needs the signed-in person's attention.

Journey owners see their own maps; CX leadership sees the whole organisation, with
each owner's share of overdue maps.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import comments, permissions, reviews

LIST_LIMIT = 10


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    leadership = permissions.is_leadership(user)
    visible = permissions.visible_maps(user)
    scope = visible if leadership else visible.filter(owner=user)
    # Underperformers: leadership across the organisation, everyone else across what they
    # may see (the maps they work with are often other people's).
    due = list(reviews.maps_due(scope, within_days=reviews.DUE_SOON_DAYS)[: LIST_LIMIT * 2])
    unaddressed = reviews.pain_points_without_project(scope)
    missing = reviews.kpis_missing_measurements(scope)
    context = {
        "leadership": leadership,
        "owns_maps": leadership or scope.exists(),
        "due": due,
        "overdue_count": sum(1 for m in due if m.is_review_due),
        "unaddressed": reviews.worst_first(unaddressed, limit=LIST_LIMIT),
        "unaddressed_count": reviews.pain_points_without_project_count(scope),
        "missing": list(missing[:LIST_LIMIT]),
        "missing_count": missing.count(),
        "handed_over": list(reviews.maps_handed_to(user)[:LIST_LIMIT]),
        "owner_shares": reviews.overdue_share_by_owner(visible) if leadership else [],
        "health": reviews.underperformers(visible),
        "due_soon_days": reviews.DUE_SOON_DAYS,
        "kpi_period_days": reviews.KPI_PERIOD_DAYS,
        **comments.home_context(user),  # "Mentions": one query
    }
    return render(request, "governance/home.html", context)
