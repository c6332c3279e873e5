from django.contrib import admin
from django.urls import include, path

from governance.home import home

admin.site.site_header = "JourneyHub administration"
admin.site.site_title = "JourneyHub admin"

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("maps/", include("maps.urls")),
    path("maps/", include("governance.urls")),
    path("api/", include("journeyhub.api_urls")),
    path("admin/", admin.site.urls),
]
