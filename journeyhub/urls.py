from django.contrib import admin
from django.urls import include, path

from governance import views_delivery, views_portfolio, views_search, views_share_links
from governance.home import home
from journeyhub.favicon import favicon

# friendly error pages that keep the navigation and say why (journeyhub/views.py)
handler403 = "journeyhub.views.permission_denied"
handler404 = "journeyhub.views.page_not_found"

admin.site.site_header = "JourneyHub administration"
admin.site.site_title = "JourneyHub admin"

urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("maps/", include("maps.urls")),
    path("maps/", include("governance.urls")),
    path("maps/", include("governance.views_comments", namespace="comments")),
    path("search/", views_search.search_page, name="search"),
    path("personas/", include("maps.persona_views", namespace="personas")),
    path("inventory/", include("governance.views_inventory", namespace="inventory")),
    path("portfolio/", views_portfolio.portfolio, name="portfolio"),
    path("portfolio/export.csv", views_portfolio.portfolio_export, name="portfolio_export"),
    path(
        "portfolio/export.xlsx", views_portfolio.portfolio_export_xlsx, name="portfolio_export_xlsx"
    ),
    path("portfolio/weights/", views_portfolio.portfolio_weights, name="portfolio_weights"),
    path("projects/new/", views_portfolio.project_new, name="project_new"),
    path(
        "projects/delivery-status/",
        views_delivery.delivery_status_import,
        name="delivery_status_import",
    ),
    path("projects/<int:pk>/", views_portfolio.project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", views_portfolio.project_edit, name="project_edit"),
    path("projects/<int:pk>/delete/", views_portfolio.project_delete, name="project_delete"),
    # read-only share links: no sign-in, the token is the key (governance/share_links.py)
    path("s/<str:token>/", views_share_links.public_map, name="share-link-public"),
    path("api/", include("journeyhub.api_urls")),
    path("admin/", admin.site.urls),
]
