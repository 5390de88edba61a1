from django.urls import path

from . import draft_views, insights_views, views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("domains/<slug:slug>/", views.domain_detail, name="domain-detail"),
    path("metrics/", insights_views.metrics_page, name="metrics"),
    path(
        "products/<str:product_id>/lineage/",
        insights_views.product_lineage_page,
        name="product-lineage",
    ),
    # Before products/<id>/: "new" is not a product id (ids have a dot), but it would match.
    path("products/new/", draft_views.product_new, name="product-new"),
    path("products/new/check/", draft_views.product_new_check, name="product-new-check"),
    path("products/<str:product_id>/", views.product_detail, name="product-detail"),
    path(
        "products/<str:product_id>/consumers/",
        views.product_consumer_register,
        name="product-consumer-register",
    ),
    path(
        "products/<str:product_id>/consumers/<int:consumer_id>/withdraw/",
        views.product_consumer_withdraw,
        name="product-consumer-withdraw",
    ),
]
