from django.urls import path

from . import views

app_name = "catalog-api"

urlpatterns = [
    path(
        "catalog/products/<str:product_id>", views.ProductDetailApi.as_view(), name="product-detail"
    ),
]
