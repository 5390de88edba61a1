"""Governance pages under /governance/ (the API is ``api/urls.py``, under /v1/governance/)."""

from django.urls import path

from . import views

app_name = "governance"

urlpatterns = [
    path("", views.governance_home, name="home"),
    path("domains/<slug:slug>/", views.governance_domain, name="domain"),
]
