from django.urls import path

from . import views

app_name = "catalog-api"

urlpatterns = [
    path("catalog/search", views.ProductSearchApi.as_view(), name="search"),
    path("catalog/domains", views.DomainListApi.as_view(), name="domains"),
    path("catalog/domains/<slug:slug>", views.DomainSettingsApi.as_view(), name="domain-settings"),
    path(
        "catalog/products/<str:product_id>", views.ProductDetailApi.as_view(), name="product-detail"
    ),
    path(
        "catalog/products/<str:product_id>/consumers",
        views.ProductConsumerRegisterApi.as_view(),
        name="product-consumers",
    ),
]
