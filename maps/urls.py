from django.urls import path

from . import editor, events_views, measurements_views, views

app_name = "maps"

urlpatterns = [
    path("", views.repository, name="repository"),
    path("new/", editor.map_new, name="new"),
    path("<slug:slug>/", views.map_detail, name="detail"),
    path("<slug:slug>/settings/", editor.map_settings, name="settings"),
    path("<slug:slug>/edit/<str:kind>/new/", editor.item_form, name="item-new"),
    path("<slug:slug>/edit/<str:kind>/<int:pk>/", editor.item_form, name="item-edit"),
    path("<slug:slug>/edit/<str:kind>/<int:pk>/delete/", editor.item_delete, name="item-delete"),
    path("<slug:slug>/edit/<str:kind>/reorder/", editor.reorder, name="reorder"),
    path(
        "<slug:slug>/kpis/<int:kpi_id>/measurements/",
        measurements_views.kpi_measurements,
        name="kpi-measurements",
    ),
    path(
        "<slug:slug>/measurements/import/",
        measurements_views.import_measurements,
        name="measurements-import",
    ),
    path("<slug:slug>/events/", events_views.events, name="events"),
    path(
        "<slug:slug>/events/<int:import_id>/",
        events_views.event_import,
        name="event-import",
    ),
]
