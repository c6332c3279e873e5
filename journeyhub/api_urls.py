"""The REST API under /api/: one router for both apps, schema and docs."""

from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from governance.api import MapGrantViewSet, MapScorecardView, PortfolioView
from maps.api import views
from maps.api.imports import MapMeasurementsImportView

app_name = "api"

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

urlpatterns = [
    # before the router, whose maps/{id}/ routes belong to the maps app
    path("maps/<int:pk>/scorecard/", MapScorecardView.as_view(), name="map-scorecard"),
    path(
        "maps/<int:pk>/measurements/import/",
        MapMeasurementsImportView.as_view(),
        name="map-measurements-import",
    ),
    path("portfolio/", PortfolioView.as_view(), name="portfolio"),
    path("", include(router.urls)),
    path("auth/token/", obtain_auth_token, name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # the docs are a page: anonymous visitors are sent to sign in, not given a 401
    path(
        "docs/",
        login_required(SpectacularSwaggerView.as_view(url_name="api:schema")),
        name="docs",
    ),
]
