from django.urls import path

from . import views

app_name = "quality-api"

urlpatterns = [
    path("products/<str:product_id>/runs", views.ProductRunsApi.as_view(), name="product-runs"),
    path("products/<str:product_id>", views.ProductQualityApi.as_view(), name="product-quality"),
    path("incidents", views.IncidentListApi.as_view(), name="incident-list"),
    path("incidents/per-month", views.IncidentsPerMonthApi.as_view(), name="incidents-per-month"),
]
