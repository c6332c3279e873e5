"""The REST API under /api/: one router for both apps, schema and docs."""

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter

from governance.api import MapGrantViewSet, MapScorecardView, PortfolioView
from governance.api_comments import CommentViewSet
from governance.api_inventory import ExternalMapViewSet
from governance.api_search import SearchView
from governance.api_share_links import ShareLinkViewSet
from journeyhub.throttling import ScopedThrottle
from maps.api import views
from maps.api.exchange import ExchangeImportView, MapExportView
from maps.api.funnel import MapFunnelView
from maps.api.imports import MapMeasurementsImportView
from maps.api.mermaid import MapMermaidExportView
from maps.api.research import AttachmentViewSet, QuoteViewSet, ResearchSourceViewSet
from maps.api.spreadsheets import SpreadsheetImportView
from maps.api.templates import MapFromTemplateView, TemplateListView
from maps.api.theydo_export import MapTheydoExportView
from maps.api.theydo_import import MapTheydoImportView

app_name = "api"


class ThrottledObtainAuthToken(ObtainAuthToken):
    """DRF's token endpoint with the ``token`` limit per client IP (journeyhub/throttling.py)."""

    throttle_classes = (ScopedThrottle,)  # DRF's own view turns throttling off
    throttle_scope = "token"


router = DefaultRouter()
router.include_format_suffixes = False  # one URL per resource: JSON by content negotiation
router.register("maps", views.JourneyMapViewSet, basename="map")
router.register("stages", views.StageViewSet, basename="stage")
router.register("steps", views.StepViewSet, basename="step")
router.register("step-links", views.StepLinkViewSet, basename="steplink")
router.register("pain-points", views.PainPointViewSet, basename="painpoint")
router.register("lane-items", views.LaneItemViewSet, basename="laneitem")
router.register("kpis", views.KPIViewSet, basename="kpi")
router.register("measurements", views.MeasurementViewSet, basename="measurement")
router.register("qualitative-factors", views.QualitativeFactorViewSet, basename="qualitativefactor")
router.register("projects", views.CXProjectViewSet, basename="project")
router.register("personas", views.PersonaViewSet, basename="persona")
router.register("map-grants", MapGrantViewSet, basename="mapgrant")
router.register("research-sources", ResearchSourceViewSet, basename="researchsource")
router.register("quotes", QuoteViewSet, basename="quote")
router.register("research-attachments", AttachmentViewSet, basename="attachment")
router.register("inventory", ExternalMapViewSet, basename="inventory")
router.register("comments", CommentViewSet, basename="comment")

urlpatterns = [
    # before the router, whose maps/{id}/ routes belong to the maps app
    path("maps/<int:pk>/scorecard/", MapScorecardView.as_view(), name="map-scorecard"),
    path(
        "maps/<int:pk>/measurements/import/",
        MapMeasurementsImportView.as_view(),
        name="map-measurements-import",
    ),
    path("maps/<int:pk>/import/theydo/", MapTheydoImportView.as_view(), name="map-theydo-import"),
    path("maps/<int:pk>/export/theydo/", MapTheydoExportView.as_view(), name="map-theydo-export"),
    path("maps/<int:pk>/export/", MapExportView.as_view(), name="map-export"),
    path("import/", ExchangeImportView.as_view(), name="exchange-import"),
    path(
        "maps/<int:pk>/export/mermaid/", MapMermaidExportView.as_view(), name="map-mermaid-export"
    ),
    path("maps/<int:pk>/funnel/", MapFunnelView.as_view(), name="map-funnel"),
    path("maps/from-template/", MapFromTemplateView.as_view(), name="map-from-template"),
    path("templates/", TemplateListView.as_view(), name="templates"),
    path(
        "maps/<int:pk>/share-links/",
        ShareLinkViewSet.as_view({"get": "list", "post": "create"}),
        name="map-share-links",
    ),
    path(
        "maps/<int:pk>/share-links/<int:link_id>/revoke/",
        ShareLinkViewSet.as_view({"post": "revoke"}),
        name="map-share-link-revoke",
    ),
    path("import/spreadsheet/", SpreadsheetImportView.as_view(), name="import-spreadsheet"),
    path("portfolio/", PortfolioView.as_view(), name="portfolio"),
    path("search/", SearchView.as_view(), name="search"),
    path("", include(router.urls)),
    path("auth/token/", ThrottledObtainAuthToken.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # the docs are a page: anonymous visitors are sent to sign in, not given a 401. The
    # split view loads its start-up script from ?script (no inline script); Swagger UI's
    # page keeps an inline <style> and draws icons as data: images, allowed here only.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:"]})(
            login_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema"))
        ),
        name="docs",
    ),
]
