from django.urls import path

from . import (
    discovery_views,
    editor,
    events_views,
    exchange_views,
    measurements_views,
    research_views,
    views,
)
from .compare_views import compare_link, map_compare, variant_new
from .print_views import mermaid_download, mermaid_page, print_view
from .spreadsheet_views import map_export_xlsx, spreadsheet_import_page, spreadsheet_template
from .theydo_views import (
    theydo_import,
    theydo_import_confirm,
    theydo_import_discard,
    theydo_imports,
)

app_name = "maps"

urlpatterns = [
    path("", views.repository, name="repository"),
    path("new/", editor.map_new, name="new"),
    path("new/discover/", discovery_views.discover, name="discover"),
    path("new/discover/<str:token>/", discovery_views.proposal, name="discover-proposal"),
    path("new/discover/<str:token>/create/", discovery_views.create, name="discover-create"),
    path("new/discover/<str:token>/discard/", discovery_views.discard, name="discover-discard"),
    path("import/", exchange_views.imports, name="import"),
    path("import/<int:import_id>/", exchange_views.import_job, name="import-job"),
    path("import/<int:import_id>/confirm/", exchange_views.import_confirm, name="import-confirm"),
    path("import/<int:import_id>/discard/", exchange_views.import_discard, name="import-discard"),
    path("import/spreadsheet/", spreadsheet_import_page, name="spreadsheet-import-top"),
    path("import/spreadsheet/template.xlsx", spreadsheet_template, name="spreadsheet-template"),
    path("<slug:slug>/", views.map_detail, name="detail"),
    path("<slug:slug>/settings/", editor.map_settings, name="settings"),
    path("<slug:slug>/compare/", map_compare, name="compare-with"),
    path("<slug:slug>/compare/<slug:other_slug>/", map_compare, name="compare"),
    path("<slug:slug>/compare/<slug:other_slug>/link/", compare_link, name="compare-link"),
    path("<slug:slug>/variants/new/", variant_new, name="variant-new"),
    path("<slug:slug>/export/", exchange_views.map_export, name="export"),
    path("<slug:slug>/import/spreadsheet/", spreadsheet_import_page, name="spreadsheet-import"),
    path("<slug:slug>/export/xlsx/", map_export_xlsx, name="export-xlsx"),
    path("<slug:slug>/print/", print_view, name="print"),
    path("<slug:slug>/export/mermaid/", mermaid_page, name="mermaid"),
    path(
        "<slug:slug>/export/mermaid/download/",
        mermaid_download,
        name="mermaid-download",
    ),
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
    path("<slug:slug>/research/", research_views.research_page, name="research"),
    path("<slug:slug>/research/new/", research_views.source_form, name="research-new"),
    path("<slug:slug>/research/<int:pk>/", research_views.source_page, name="research-source"),
    path(
        "<slug:slug>/research/<int:pk>/edit/",
        research_views.source_form,
        name="research-source-edit",
    ),
    path(
        "<slug:slug>/research/<int:pk>/delete/",
        research_views.source_delete,
        name="research-source-delete",
    ),
    path(
        "<slug:slug>/research/<int:source_pk>/quotes/new/",
        research_views.quote_form,
        name="research-quote-new",
    ),
    path(
        "<slug:slug>/research/<int:source_pk>/quotes/<int:pk>/",
        research_views.quote_form,
        name="research-quote-edit",
    ),
    path(
        "<slug:slug>/research/<int:source_pk>/quotes/<int:pk>/delete/",
        research_views.quote_delete,
        name="research-quote-delete",
    ),
    path(
        "<slug:slug>/research/files/<int:pk>/",
        research_views.attachment_download,
        name="research-file",
    ),
    path(
        "<slug:slug>/research/files/<int:pk>/delete/",
        research_views.attachment_delete,
        name="research-file-delete",
    ),
    path(
        "<slug:slug>/research/evidence/<str:kind>/<int:pk>/",
        research_views.evidence,
        name="evidence",
    ),
    path("<slug:slug>/events/", events_views.events, name="events"),
    path(
        "<slug:slug>/events/<int:import_id>/",
        events_views.event_import,
        name="event-import",
    ),
    path(
        "<slug:slug>/events/<int:import_id>/mapping/",
        events_views.event_import_mapping,
        name="event-import-mapping",
    ),
    path("<slug:slug>/import/theydo/", theydo_imports, name="theydo-imports"),
    path("<slug:slug>/import/theydo/<int:import_id>/", theydo_import, name="theydo-import"),
    path(
        "<slug:slug>/import/theydo/<int:import_id>/confirm/",
        theydo_import_confirm,
        name="theydo-import-confirm",
    ),
    path(
        "<slug:slug>/import/theydo/<int:import_id>/discard/",
        theydo_import_discard,
        name="theydo-import-discard",
    ),
]
