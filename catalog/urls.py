from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("domains/<slug:slug>/", views.domain_detail, name="domain-detail"),
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
