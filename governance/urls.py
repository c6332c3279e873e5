from django.urls import path

from . import views, views_portfolio, views_scorecard, views_share_links

app_name = "governance"

urlpatterns = [
    path("<slug:slug>/transfer/", views.transfer, name="transfer"),
    path("<slug:slug>/share/", views.share, name="share"),
    path("<slug:slug>/share/<int:grant_id>/remove/", views.unshare, name="unshare"),
    path(
        "<slug:slug>/share/links/",
        views_share_links.share_link_create,
        name="share-link-create",
    ),
    path(
        "<slug:slug>/share/links/<int:link_id>/revoke/",
        views_share_links.share_link_revoke,
        name="share-link-revoke",
    ),
    path("<slug:slug>/review/", views.mark_reviewed, name="review"),
    path("<slug:slug>/history/", views.map_history, name="history"),
    path("<slug:slug>/snapshots/", views.snapshots, name="snapshots"),
    path("<slug:slug>/snapshots/<int:snapshot_id>/", views.snapshot_compare, name="snapshot"),
    path(
        "<slug:slug>/snapshots/<int:snapshot_id>/restore/",
        views.snapshot_restore,
        name="snapshot-restore",
    ),
    path("<slug:slug>/scorecard/", views_scorecard.scorecard, name="scorecard"),
    path("scorecard/weights/", views_scorecard.scorecard_weights, name="scorecard_weights"),
    # the portfolio's map picker (two segments: "/maps/<slug>/" is a map page)
    path(
        "portfolio/choices/",
        views_portfolio.portfolio_map_choices,
        name="portfolio-map-choices",
    ),
]
