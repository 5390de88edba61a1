"""Governance URLs: pages under /governance/, API under /v1/governance/ (``api_urlpatterns``)."""

from django.urls import path

from . import governance_views as views

app_name = "governance"

urlpatterns = [
    path("", views.governance_home, name="home"),
    path("domains/<slug:slug>/", views.governance_domain, name="domain"),
]

api_urlpatterns = [
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
