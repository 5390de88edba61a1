from django.urls import path

from . import views

app_name = "querying"

urlpatterns = [
    path("", views.query_page, name="query"),
    path("download.csv", views.query_download, name="download"),
]
