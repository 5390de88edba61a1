"""The query page: browse readable products, run governed SQL, download CSV, reload history."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import is_admin

from .api.exports import csv_response
from .forms import QueryForm
from .selectors import QueryableProduct, own_query, queryable_products, recent_queries
from .services import QueryOutcome, query_submit

# The page shows this many rows; the CSV download carries all of them (up to QUERY_MAX_ROWS).
PAGE_ROWS = 1000


def _sample_sql(product_id: str) -> str:
    return f"SELECT * FROM {product_id} LIMIT 100"


def _render(
    request: HttpRequest,
    form: QueryForm,
    *,
    outcome: QueryOutcome | None = None,
    selected: str = "",
    status: int = 200,
    products: list[QueryableProduct] | None = None,
) -> HttpResponse:
    if products is None:
        products = queryable_products(request.user, now=timezone.now())
    context: dict[str, Any] = {
        "form": form,
        "products": products,
        "selected": selected,
        "is_admin": is_admin(request.user),
        "recent": recent_queries(request.user),
        "outcome": outcome,
        "page_rows": PAGE_ROWS,
        "shown_rows": outcome.rows[:PAGE_ROWS] if outcome is not None else [],
    }
    return render(request, "querying/query.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def query_page(request: HttpRequest) -> HttpResponse:
    """GET: the editor (``?product=<id>`` fills a sample, ``?log=<id>`` reloads a past query).

    POST: run the query and render its results server-side (the page works without JS).
    """
    if request.method == "POST":
        form = QueryForm(request.POST)
        if not form.is_valid():
            return _render(request, form, status=400)
        outcome = query_submit(user=request.user, sql=form.cleaned_data["sql"])
        return _render(request, form, outcome=outcome, status=outcome.http_status)
    products = queryable_products(request.user, now=timezone.now())
    selected = request.GET.get("product", "").strip()
    if selected not in {p.product_id for p in products}:
        selected = ""
    initial = _sample_sql(selected) if selected else ""
    past = own_query(request.user, request.GET.get("log", ""))
    if past is not None:
        initial = past.submitted_sql
    form = QueryForm(initial={"sql": initial})
    return _render(request, form, selected=selected, products=products)


@login_required
@require_POST
def query_download(request: HttpRequest) -> HttpResponseBase:
    """Run the editor's query and stream it as CSV; on refusal, show the page with the error."""
    form = QueryForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    outcome = query_submit(user=request.user, sql=form.cleaned_data["sql"])
    if not outcome.is_allowed:
        return _render(request, form, outcome=outcome, status=outcome.http_status)
    return csv_response(outcome, filename=f"query-{timezone.now():%Y%m%d-%H%M%S}.csv")
