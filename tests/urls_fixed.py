"""A second URL configuration for tests/test_fixed_urls.py: ``home`` elsewhere."""

from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    path("elsewhere/", lambda request: HttpResponse(), name="home"),
    path("m/", include("maps.urls")),
]
