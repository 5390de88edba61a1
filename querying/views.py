"""The query page: browse readable products, run governed SQL, chart and download the result,
open, save and share saved queries, search the history."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import is_admin

from .api.exports import csv_response
from .forms import QueryForm
from .models import SavedQuery
from .saved.pointer import error_pointer
from .saved.selectors import query_history, saved_query_get, saved_query_list
from .selectors import QueryableProduct, own_query, queryable_products
from .services import QueryOutcome, query_submit

# The page shows this many rows; the CSV download carries all of them (up to QUERY_MAX_ROWS).
PAGE_ROWS = 1000
# History entries per page (the whole history is kept and searchable; issue 19).
HISTORY_PAGE = 20
SAVED_LISTED = 50


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
    saved: SavedQuery | None = None,
) -> HttpResponse:
    if products is None:
        products = queryable_products(request.user, now=timezone.now())
    search = request.GET.get("history", "").strip()[:200]
    history = Paginator(query_history(request.user, search=search), HISTORY_PAGE).get_page(
        request.GET.get("history_page")
    )
    pointer = None
    if outcome is not None and outcome.code == "PARSE_ERROR" and form.is_bound:
        pointer = error_pointer(form.data.get("sql", ""), outcome.message)
    context: dict[str, Any] = {
        "form": form,
        "products": products,
        "selected": selected,
        "is_admin": is_admin(request.user),
        "history": history,
        "history_search": search,
        "outcome": outcome,
        "pointer": pointer,
        "saved": saved,
        "my_saved": saved_query_list(request.user, scope="mine")[:SAVED_LISTED],
        "shared_saved": saved_query_list(request.user, scope="shared")[:SAVED_LISTED],
        "page_rows": PAGE_ROWS,
        "shown_rows": outcome.rows[:PAGE_ROWS] if outcome is not None else [],
    }
    return render(request, "querying/query.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def query_page(request: HttpRequest) -> HttpResponse:
    """GET: the editor (``?product=<id>`` fills a sample, ``?log=<id>`` reloads a past query,
    ``?saved=<id>`` opens a saved query you may see, with its name and chart).

    POST: run the query and render its results server-side (the page works without JS).
    """
    saved = saved_query_get(request.user, request.GET.get("saved", ""))
    if request.method == "POST":
        form = QueryForm(request.POST)
        if not form.is_valid():
            return _render(request, form, status=400, saved=saved)
        outcome = query_submit(user=request.user, sql=form.cleaned_data["sql"])
        return _render(request, form, outcome=outcome, status=outcome.http_status, saved=saved)
    products = queryable_products(request.user, now=timezone.now())
    selected = request.GET.get("product", "").strip()
    if selected not in {p.product_id for p in products}:
        selected = ""
    initial = _sample_sql(selected) if selected else ""
    past = own_query(request.user, request.GET.get("log", ""))
    if past is not None:
        initial = past.submitted_sql
    if saved is not None:
        initial = saved.sql
    form = QueryForm(initial={"sql": initial})
    return _render(request, form, selected=selected, products=products, saved=saved)


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
