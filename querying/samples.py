"""A product's sample rows (issue 15): ten rows through the governor, masked exactly as a query.

The product page asks for ``/query/products/<id>/sample/`` (static/js/product.js puts the
fragment into the page; without JavaScript the page links to it). The rows come from
``query_submit`` with the reader's own policy, so each PII column reads raw or masked as the
same reader's query would read it, and the read is audited like every governed query.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from sqlglot import exp

from catalog.selectors import product_get
from catalog.warehouses import product_warehouse
from querying.warehouses import WarehouseError

from .services import query_submit

SAMPLE_ROWS = 10


def sample_sql(table: str, dialect: str) -> str:
    """``SELECT * FROM "<table>" LIMIT 10``, built as an AST (the table name is quoted)."""
    query = exp.select(exp.Star()).from_(exp.Table(this=exp.to_identifier(table, quoted=True)))
    return query.limit(SAMPLE_ROWS).sql(dialect=dialect)


@login_required
@require_GET
def product_sample(request: HttpRequest, product_id: str) -> HttpResponse:
    """Ten rows of a product the user may see, as a fragment (``X-Requested-With``) or a page.

    A refusal or an unavailable warehouse is said in the fragment (answered 200: the product
    page around it is fine); a product the user may not see is 404.
    """
    product = product_get(user=request.user, product_id=product_id)
    if product is None:
        raise Http404("No such data product")
    try:
        dialect = product_warehouse(product).dialect  # the product's connection (issue 18)
    except WarehouseError:
        dialect = "duckdb"  # query_submit reports the warehouse as unavailable
    # A restricted product is previewable masked (issue 17): its restriction is lifted for this
    # one statement, which the portal writes; its PII reads as the reader's queries read it.
    outcome = query_submit(
        user=request.user, sql=sample_sql(product.table, dialect), preview=product.product_id
    )
    fragment = request.headers.get("X-Requested-With") == "fetch"
    masked = [name.rsplit(".", 1)[-1] for name in outcome.masked_columns]
    context = {"product": product, "outcome": outcome, "masked": masked, "fragment": fragment}
    template = "querying/_sample.html" if fragment else "querying/sample.html"
    return render(request, template, context)
