from django.urls import path

from . import views

app_name = "maps"

urlpatterns = [
    path("", views.repository, name="repository"),
    path("<slug:slug>/", views.map_detail, name="detail"),
]
