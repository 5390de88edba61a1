from django.urls import path

from . import samples, views

app_name = "querying"

urlpatterns = [
    path("", views.query_page, name="query"),
    path("download.csv", views.query_download, name="download"),
    path("products/<str:product_id>/sample/", samples.product_sample, name="product-sample"),
]
