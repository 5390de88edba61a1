"""Lineage and platform metrics over the API (issue 16).

``GET /v1/catalog/products/<id>/lineage?depth=N``: upstream and downstream nodes and edges
(``catalog.lineage``); ``GET /v1/metrics?domain=&since=&until=``: the platform's outcomes over
the products the caller may read (``catalog.metrics``).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.lineage import DEFAULT_DEPTH, MAX_DEPTH, product_lineage
from catalog.metrics import MetricsInvalid, metrics_filter, platform_metrics
from config.api import ErrorMap, Invalid

from .base import ERRORS, CatalogApi, ProductApi


class ProductLineageApi(ProductApi):
    """``GET /v1/catalog/products/<id>/lineage``: what the product is built from and what uses
    it, ``depth`` levels each way."""

    actions = {"GET": "view"}

    class ParamsSerializer(serializers.Serializer):
        depth = serializers.IntegerField(min_value=1, max_value=MAX_DEPTH, default=DEFAULT_DEPTH)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "depth", int, description=f"Levels each way, 1-{MAX_DEPTH} (default 3)"
            )
        ],
        responses={
            200: OpenApiResponse(
                description="product, depth, root, nodes [{id, kind, name, productId?, "
                "domain?, status?, health?, team?, url?, level}], edges [{from, to}] (from what "
                "is used to what uses it), upstream, downstream (node ids, nearest first), "
                "hidden (products you may not see), truncated, formerConsumers"
            ),
            400: OpenApiResponse(description="depth out of range"),
            404: OpenApiResponse(description="No such product that you can see"),
        },
        summary="Lineage of a data product: upstream products, downstream products and consumers",
    )
    def get(self, request: Request, product_id: str) -> Response:
        product = self.get_object()
        depth = self.validated(self.ParamsSerializer, request.query_params)["depth"]
        return Response(product_lineage(user=request.user, product=product, depth=depth).to_dict())


def _metrics_invalid(exc: MetricsInvalid) -> Invalid:
    return Invalid(str(exc), fields=exc.errors)


class MetricsApi(CatalogApi):
    """``GET /v1/metrics``: the write-up's outcomes, live, over what the caller may read."""

    errors: ClassVar[ErrorMap] = MappingProxyType({**ERRORS, MetricsInvalid: _metrics_invalid})

    @extend_schema(
        parameters=[
            OpenApiParameter("domain", str, description="Domain slug (default: every domain)"),
            OpenApiParameter("since", str, description="First UTC day, YYYY-MM-DD"),
            OpenApiParameter(
                "until", str, description="Last UTC day, YYYY-MM-DD (default yesterday)"
            ),
        ],
        responses={
            200: OpenApiResponse(
                description="range, domain, publishedByDomain, queriesPerDay {dates, byRole, "
                "total, last7Average}, pii {masked, maskedShare, rawReads, rawReadsBy, ...}, "
                "qualityScorePerDay {dates, scores, average}, incidentsPerMonth [{month, stale, "
                "failing}], slaByDomain [...], timeToPublish {products, medianDays}"
            ),
            400: OpenApiResponse(description="error.fields names the bad parameter"),
        },
        summary="Platform metrics: usage, masking, quality, incidents, SLAs, time to publish",
    )
    def get(self, request: Request) -> Response:
        flt = metrics_filter(user=request.user, params=request.query_params)
        return Response(platform_metrics(user=request.user, flt=flt))
