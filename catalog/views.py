"""Catalog pages: home, search, domain, product, consumer registration."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import can, can_change_consumer, signed_in

from . import selectors
from .api.serializers import deprecation_of
from .forms import ConsumerForm
from .models import Consumer, DataProduct, ProductStatus
from .profiles import profile_for_reader
from .search import RELEVANCE, SORT_LABELS
from .usage import product_usage, sparkline_points

PAGE_SIZE = 20
# Messages with this tag are shown where the action happened (templates/base.html skips them).
IN_PAGE = "in-page"


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Search box, domains with product counts, recently updated products, and the products
    that need attention (stale or failing, with their open incidents)."""
    attention, attention_total = selectors.needs_attention(user=request.user)
    return render(
        request,
        "catalog/home.html",
        {
            "domains": selectors.domain_list(user=request.user),
            "recent": selectors.recently_updated(user=request.user),
            "attention": attention,
            "attention_total": attention_total,
            "incidents": selectors.open_incidents(user=request.user),
        },
    )


class SearchPaginator(Paginator):
    """Pages of a ``product_search`` queryset read the way the search API reads them."""

    object_list: QuerySet[DataProduct]  # what product_search returns, never a plain list

    def page(self, number: int | str) -> Page[DataProduct]:
        number = self.validate_number(number)
        offset = (number - 1) * self.per_page
        _, products = selectors.product_search_page(
            self.object_list, offset=offset, limit=self.per_page, total=self.count
        )
        # Django's documented hook for building a page (its stubs leave it out).
        return self._get_page(products, number, self)  # type: ignore[attr-defined]


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Ranked results with facets (domain, tag, status, freshness) and highlighted matches.

    The same search as ``GET /v1/catalog/search`` with the same parameters and defaults
    (published products unless ``status`` says otherwise; issue 12); the status facet counts
    every status, so the deprecated products the default leaves out are one click away.
    """
    params = request.GET.copy()
    query = params.get("q", "")
    try:
        qs = selectors.product_search(user=request.user, params=params)
    except selectors.SearchInvalid as exc:
        return render(
            request,
            "catalog/search.html",
            {"q": query, "errors": exc.errors, "page": None, "facets": None},
            status=400,
        )
    page = SearchPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    facets = selectors.search_facets(qs)
    facets["status"] = selectors.search_status_counts(user=request.user, params=params)
    active = {k: request.GET.get(k, "") for k in ("domain", "tag", "status", "freshness")}
    return render(
        request,
        "catalog/search.html",
        {
            "q": query,
            "sort": request.GET.get("sort") or RELEVANCE,
            "sorts": SORT_LABELS.items(),
            "page": page,
            "facets": facets,
            "active": active,
            # What the default (published only) leaves out: "1 deprecated product also matches".
            "also_matching": []
            if active["status"]
            else [(s, n) for s, n in facets["status"] if s != ProductStatus.PUBLISHED],
            "errors": None,
        },
    )


@login_required
@require_GET
def domain_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A domain: its products, its owners, and a link to its compliance scorecard."""
    domain = selectors.domain_get(user=request.user, slug=slug)
    if domain is None:
        raise Http404("No such domain")
    products = selectors.attach_health(
        list(selectors.domain_products(user=request.user, domain=domain))
    )
    return render(
        request,
        "catalog/domain_detail.html",
        {
            "domain": domain,
            "products": products,
            "owners": selectors.domain_owners(user=request.user, domain=domain),
            "counts": _status_counts(products),
            "can_publish": can(request.user, "create", domain),
        },
    )


def _status_counts(products: list[DataProduct]) -> dict[str, int]:
    """Products per lifecycle status, and live ones per health verdict (``health_<state>``)."""
    counts: dict[str, int] = {}
    for product in products:
        counts[product.status] = counts.get(product.status, 0) + 1
    live = [p for p in products if p.status in (ProductStatus.PUBLISHED, ProductStatus.DEPRECATED)]
    for state, n in selectors.health_counts(live).items():
        counts[f"health_{state}"] = n
    return counts


def _product_context(
    request: HttpRequest, product: DataProduct, form: ConsumerForm | None = None
) -> dict[str, Any]:
    panel = selectors.quality_panel(user=request.user, product=product, now=timezone.now())
    latest = {r.check_name: r for r in panel.latest}
    consumers = selectors.product_consumers(user=request.user, product=product)
    for consumer in consumers:
        consumer.may_withdraw = can_change_consumer(request.user, consumer)  # type: ignore[attr-defined]
    mine = next((c for c in consumers if c.registered_by_id == request.user.pk), None)
    return {
        "product": product,
        "panel": panel,
        "health": panel.health,
        "checks": [(check, latest.get(check.name)) for check in product.checks.all()],
        "columns": list(product.columns.all()),
        "sees_pii": can(request.user, "view_pii", product),
        "consumers": consumers,
        "my_registration": mine,
        "consumer_notes": [
            m for m in messages.get_messages(request) if IN_PAGE in m.extra_tags.split()
        ],
        "owners": selectors.domain_owners(user=request.user, domain=product.domain),
        "versions": selectors.product_versions(user=request.user, product=product),
        "deprecation": deprecation_of(product),
        "form": form or ConsumerForm(initial=_registration_initial(request.user, mine)),
        "can_change": can(request.user, "change", product),
        "can_query": can(request.user, "query", product),
        **_usage_context(product),
        **_profile_context(request.user, product, panel),
    }


def _profile_context(
    user: Any, product: DataProduct, panel: selectors.QualityPanel
) -> dict[str, Any]:
    """The column profile as this reader may see it (issue 15, catalog/profiles.py)."""
    profile = profile_for_reader(user=user, product=product, row=panel.profile)
    computed_at = panel.profile.computed_at if panel.profile is not None else None
    return {"profile": profile, "profile_at": computed_at}


def _usage_context(product: DataProduct) -> dict[str, Any]:
    """The usage card's figures and sparkline (issue 16)."""
    usage = product_usage(product=product)
    return {
        "usage": usage,
        "usage_points": sparkline_points(usage.per_day, width=300, height=40),
        "usage_peak": max((n for _, n in usage.per_day), default=0),
        "usage_today": usage.per_day[-1][1] if usage.per_day else 0,
    }


@login_required
@require_GET
def product_detail(request: HttpRequest, product_id: str) -> HttpResponse:
    """Everything about one product, with Query and Register-as-consumer actions."""
    product = selectors.product_get(user=request.user, product_id=product_id)
    if product is None:
        raise Http404("No such data product")
    return render(request, "catalog/product_detail.html", _product_context(request, product))


def _registration_initial(user: Any, mine: Consumer | None) -> dict[str, str]:
    """What the registration form starts with: the user's own registration, else their team
    and e-mail address."""
    if mine is not None:
        return {
            "team": mine.team,
            "use_case": mine.use_case,
            "contact": mine.contact,
            "kind": mine.kind,
            "name": mine.name if mine.name != mine.team else "",
            "url": mine.url,
        }
    membership = user.memberships.select_related("domain").order_by("-is_owner", "pk").first()
    return {"team": membership.domain.name if membership else "", "contact": user.email or ""}


@login_required
@require_POST
def product_consumer_register(request: HttpRequest, product_id: str) -> HttpResponse:
    """Register the posted team as a consumer; re-render with messages when invalid or taken."""
    from .services import ConsumerTaken, consumer_register

    product = selectors.product_get(user=request.user, product_id=product_id)
    if product is None:
        raise Http404("No such data product")
    form = ConsumerForm(request.POST)
    if not form.is_valid():
        context = _product_context(request, product, form)
        return render(request, "catalog/product_detail.html", context, status=400)
    try:
        _, created = consumer_register(
            actor=signed_in(request.user),
            product=product,
            team=form.cleaned_data["team"],
            use_case=form.cleaned_data["use_case"],
            contact=form.cleaned_data["contact"],
            kind=form.cleaned_data.get("kind") or "team",
            name=form.cleaned_data.get("name") or "",
            url=form.cleaned_data.get("url") or "",
        )
    except ConsumerTaken as exc:
        form.add_error("team", str(exc))
        context = _product_context(request, product, form)
        return render(request, "catalog/product_detail.html", context, status=409)
    verb = "registered as a consumer" if created else "updated its consumer registration"
    # Shown in the consumers card, where the redirect lands (not at the top of the page).
    messages.success(
        request, f"{form.cleaned_data['team']} {verb} of {product.product_id}.", IN_PAGE
    )
    url = reverse("catalog:product-detail", args=[product.product_id])
    return HttpResponseRedirect(f"{url}#consumers")


@login_required
@require_POST
def product_consumer_withdraw(
    request: HttpRequest, product_id: str, consumer_id: int
) -> HttpResponse:
    """Withdraw a consumer registration (its registrant, the product's owners or admins)."""
    from .services import consumer_withdraw

    product = selectors.product_get(user=request.user, product_id=product_id)
    if product is None:
        raise Http404("No such data product")
    consumers = selectors.product_consumers(user=request.user, product=product)
    consumer = next((c for c in consumers if c.pk == consumer_id), None)
    if consumer is None:
        raise Http404("No such consumer registration")
    # PermissionDenied: the 403 page.
    consumer_withdraw(actor=signed_in(request.user), consumer=consumer)
    messages.success(
        request,
        f"{consumer.team} is no longer registered as a consumer of {product.product_id}.",
        IN_PAGE,
    )
    url = reverse("catalog:product-detail", args=[product.product_id])
    return HttpResponseRedirect(f"{url}#consumers")
