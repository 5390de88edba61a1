"""Governance pages: every domain's scorecard and the global policies; one domain's scorecard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts import permissions
from catalog.models import Domain

from . import selectors


@login_required
def governance_home(request: HttpRequest) -> HttpResponse:
    """Every domain's scorecard and the global policies (admins get an edit link)."""
    return render(
        request,
        "catalog/governance.html",
        {
            "scorecards": selectors.scorecards(user=request.user, now=timezone.now()),
            "policies": selectors.policy_catalog(),
            "is_admin": permissions.is_admin(request.user),
        },
    )


@login_required
def governance_domain(request: HttpRequest, slug: str) -> HttpResponse:
    """One domain's scorecard, product by product, with each violation."""
    domain = permissions.restrict(Domain.objects.all(), request.user, "view").filter(slug=slug)
    found = domain.first()
    if found is None:
        raise Http404("no such domain")
    card = selectors.domain_scorecard(found, user=request.user, now=timezone.now())
    return render(
        request,
        "catalog/governance_domain.html",
        {
            "card": card,
            "domain": found,
            "can_edit_overrides": permissions.is_admin(request.user),
        },
    )
