"""Access request pages (issue 17): the inbox (owners decide, everyone sees their own requests
and grants) and the forms that the product page and the inbox post."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts import permissions
from accounts.access_models import AccessRequest
from catalog.models import DataProduct

from . import selectors, services

FAILURES = (
    services.AccessRequestInvalid,
    services.AccessRequestConflict,
    services.AccessRequestForbidden,
)


@login_required
@require_GET
def access_inbox(request: HttpRequest) -> HttpResponse:
    """Requests waiting for the caller's decision, the ones they decided, and their own."""
    user = request.user
    return render(
        request,
        "access/inbox.html",
        {
            "pending": list(selectors.access_inbox(user=user)),
            "decided": selectors.access_decided(user=user),
            "mine": selectors.access_mine(user=user),
            "decides": permissions.owns_a_domain(user),
            "now": timezone.now(),
        },
    )


def _int_or_none(value: str | None) -> int | str | None:
    """A form's number as an int (the service names anything else as the field at fault)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else text


@login_required
@require_POST
def access_request_page(request: HttpRequest, product_id: str) -> HttpResponse:
    """The product page's "Request raw access" form: store the request, go back to the page."""
    product = (
        permissions.restrict(DataProduct.objects.all(), request.user, "view")
        .select_related("domain")
        .filter(product_id=product_id)
        .first()
    )
    if product is None:
        raise Http404("No such data product")
    try:
        created = services.access_request_create(
            actor=request.user,
            product=product,
            columns=request.POST.getlist("columns") or None,
            purpose=request.POST.get("purpose", ""),
            days=_int_or_none(request.POST.get("days")),
        )
    except FAILURES as exc:
        messages.error(request, f"Access request not sent: {exc}")
    else:
        messages.success(
            request,
            f"Access request {created.pk} sent: the owners of {product.domain.name} decide it.",
        )
    url = reverse("catalog:product-detail", args=[product.product_id])
    return HttpResponseRedirect(f"{url}#access")


DECISIONS: dict[str, Any] = {
    "approve": services.access_request_approve,
    "deny": services.access_request_deny,
    "revoke": services.access_request_revoke,
    "cancel": services.access_request_cancel,
}
DONE = {"approve": "approved", "deny": "denied", "revoke": "revoked", "cancel": "cancelled"}


@login_required
@require_POST
def access_decide_page(request: HttpRequest, request_id: int, decision: str) -> HttpResponse:
    """Approve, deny, revoke or cancel one request from a form; back to where it was posted."""
    found = (
        permissions.restrict(AccessRequest.objects.all(), request.user, "view")
        .select_related("product__domain", "requester")
        .filter(pk=request_id)
        .first()
    )
    if found is None or decision not in DECISIONS:
        raise Http404("No such access request")
    kwargs: dict[str, Any] = {"note": request.POST.get("note", "")}
    if decision == "approve":
        kwargs["days"] = _int_or_none(request.POST.get("days"))
    try:
        DECISIONS[decision](actor=request.user, request=found, **kwargs)
    except FAILURES as exc:
        messages.error(request, f"Access request {found.pk}: {exc}")
    else:
        messages.success(request, f"Access request {found.pk} {DONE[decision]}.")
    target = request.POST.get("next") or reverse("access:inbox")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("access:inbox")
    return HttpResponseRedirect(target)
