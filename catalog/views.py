"""Catalog pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.permissions import restrict
from catalog.models import DataProduct


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: search and the latest products."""
    products = restrict(DataProduct.objects.select_related("domain"), request.user, "view")
    return render(request, "catalog/home.html", {"products": products.order_by("-updated_at")[:20]})
