from django.urls import path

from . import drafts, insights, views

app_name = "catalog-api"

urlpatterns = [
    path("catalog/search", views.ProductSearchApi.as_view(), name="search"),
    path("catalog/domains", views.DomainListApi.as_view(), name="domains"),
    path("catalog/drafts", drafts.DraftCreateApi.as_view(), name="drafts"),
    path("catalog/domains/<slug:slug>", views.DomainSettingsApi.as_view(), name="domain-settings"),
    path(
        "catalog/products/<str:product_id>", views.ProductDetailApi.as_view(), name="product-detail"
    ),
    path(
        "catalog/products/<str:product_id>/lineage",
        insights.ProductLineageApi.as_view(),
        name="product-lineage",
    ),
    path("metrics", insights.MetricsApi.as_view(), name="metrics"),
    path(
        "catalog/products/<str:product_id>/consumers",
        views.ProductConsumerRegisterApi.as_view(),
        name="product-consumers",
    ),
]
