"""The governance API under /v1/governance/ (config/urls.py includes it)."""

from django.urls import path

from . import views

app_name = "governance-api"

urlpatterns = [
    path("scorecard", views.ScorecardListApi.as_view(), name="scorecard-list"),
    path(
        "domains/<slug:slug>/scorecard", views.DomainScorecardApi.as_view(), name="domain-scorecard"
    ),
    path("policies", views.PolicyListApi.as_view(), name="policy-list"),
    path("policies/<str:key>", views.PolicyDetailApi.as_view(), name="policy-detail"),
    path(
        "products/<str:product_id>/deprecate",
        views.ProductDeprecateApi.as_view(),
        name="product-deprecate",
    ),
    path(
        "products/<str:product_id>/retire", views.ProductRetireApi.as_view(), name="product-retire"
    ),
]
