from django.urls import path

from . import views

app_name = "governance"

urlpatterns = [
    path("<slug:slug>/transfer/", views.transfer, name="transfer"),
    path("<slug:slug>/share/", views.share, name="share"),
    path("<slug:slug>/share/<int:grant_id>/remove/", views.unshare, name="unshare"),
]
