"""The lineage and metrics pages (issue 16): server-rendered, SVG drawn on the server."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from . import selectors
from .charts import bar_chart, column_pairs, line_chart, lineage_svg
from .lineage import DEFAULT_DEPTH, MAX_DEPTH, product_lineage
from .lineage_graph import impact_of
from .metrics import MetricsInvalid, metrics_filter, platform_metrics


def _depth(raw: str | None) -> int:
    try:
        return max(1, min(MAX_DEPTH, int(raw or DEFAULT_DEPTH)))
    except ValueError:
        return DEFAULT_DEPTH


@login_required
@require_GET
def product_lineage_page(request: HttpRequest, product_id: str) -> HttpResponse:
    """The product's lineage graph, what it is built from, what uses it, whom it lost, and
    what a breaking change would reach."""
    product = selectors.product_named(user=request.user, product_id=product_id)
    if product is None:
        raise Http404("No such data product")
    depth = _depth(request.GET.get("depth"))
    lineage = product_lineage(user=request.user, product=product, depth=depth)
    impact = impact_of(lineage.graph)
    # charts.lineage_svg escapes every piece of text it writes (catalog/charts.py).
    graph = mark_safe(  # noqa: S308
        lineage_svg(lineage.graph, title=f"Lineage of {product.product_id}")
    )
    return render(
        request,
        "catalog/lineage.html",
        {
            "product": product,
            "lineage": lineage,
            "graph": graph,
            "impact": impact,
            "depth": depth,
            "depths": range(1, MAX_DEPTH + 1),
        },
    )


@login_required
@require_GET
def metrics_page(request: HttpRequest) -> HttpResponse:
    """The write-up's outcomes, live: charts with their numbers, by domain and date range."""
    domains = selectors.domain_choices(user=request.user)
    try:
        flt = metrics_filter(user=request.user, params=request.GET)
    except MetricsInvalid as exc:
        context = {"errors": exc.errors, "domains": domains, "params": request.GET}
        return render(request, "catalog/metrics.html", context, status=400)
    data = platform_metrics(user=request.user, flt=flt)
    return render(
        request,
        "catalog/metrics.html",
        {"m": data, "charts": _charts(data), "domains": domains, "params": flt.as_params()},
    )


def _charts(data: dict[str, Any]) -> dict[str, Any]:
    """The page's SVG charts (each escapes its own text: catalog/charts.py)."""
    queries = data["queriesPerDay"]
    series = [(s["role"], s["counts"]) for s in queries["byRole"]]
    series.append(("total", queries["total"]))
    quality = data["qualityScorePerDay"]
    incidents = data["incidentsPerMonth"]
    sla = data["slaByDomain"]
    charts = {
        "queries": line_chart(
            queries["dates"], series, title="Self-serve queries per day, by role"
        ),
        "quality": line_chart(
            quality["dates"],
            [("average", quality["scores"])],
            title="Average quality score per day",
            y_max=100,
            unit="%",
        ),
        "incidents": column_pairs(
            [row["month"] for row in incidents],
            [(row["stale"], row["failing"]) for row in incidents],
            ("stale data", "failing checks"),
            title="Incidents opened per month",
        ),
        "published": bar_chart(
            [(row["domain"], row["count"]) for row in data["publishedByDomain"]],
            title="Published products by domain",
        ),
        "freshness": bar_chart(
            [(row["domain"], row["freshnessAttainment"]) for row in sla],
            title="Freshness SLA attainment by domain",
            unit="%",
            x_max=100,
        ),
        "latency": bar_chart(
            [(row["domain"], row["latencyWithinTarget"]) for row in sla],
            title="Queries within the latency target by domain",
            unit="%",
            x_max=100,
        ),
    }
    return {name: mark_safe(svg) for name, svg in charts.items()}  # noqa: S308 - escaped
