"""Quality API: run history and on-demand runs, quality status with SLA, incidents."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.api.base import ProductApi
from config.api import Invalid, PortalAPIView, Unavailable
from quality import selectors, services
from quality.models import RunTrigger

from .serializers import CheckResultSerializer, CheckRunSerializer, IncidentSerializer

SCORE_FORMULA = selectors.SCORE_FORMULA


class Pagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100


class ProductRunsApi(ProductApi):
    """``/v1/quality/products/<id>/runs``: run history (GET) and a new run (POST, owners)."""

    actions = {"POST": "run_checks"}

    @extend_schema(
        parameters=[
            OpenApiParameter("page", int, description="1-based page"),
            OpenApiParameter("pageSize", int, description="runs per page (max 100)"),
        ],
        responses={
            200: CheckRunSerializer(many=True),
            404: OpenApiResponse(description="Not found"),
        },
        summary="Check-run history of a product, newest first",
    )
    def get(self, request: Request, product_id: str) -> Response:
        product = self.get_object()
        paginator = Pagination()
        runs: QuerySet = selectors.product_runs(product)
        page = paginator.paginate_queryset(runs, request, view=self)
        return paginator.get_paginated_response(CheckRunSerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={
            202: CheckRunSerializer,
            403: OpenApiResponse(description="Not an owner of the product's domain"),
            404: OpenApiResponse(description="Not found"),
        },
        summary="Run a product's checks now (queued; returns the run)",
    )
    def post(self, request: Request, product_id: str) -> Response:
        product = self.get_object()
        run, created = services.check_request(
            product=product, trigger=RunTrigger.API, actor=request.user, enqueue=False
        )
        body = dict(CheckRunSerializer(run).data)  # as queued, before a worker takes it
        body["created"] = created
        if created and not services.run_enqueue(run.pk):
            services.run_withdraw(run=run)  # no orphan row: the caller is told to retry
            raise Unavailable(
                "the task queue is not available right now, so the checks could not be "
                "started; try again in a minute",
                code="QUEUE_UNAVAILABLE",
            )
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ProductQualityApi(ProductApi):
    """``/v1/quality/products/<id>``: score, last validation, SLA status, latest results."""

    @extend_schema(
        responses={200: {"type": "object"}}, summary="Quality and SLA status of a product"
    )
    def get(self, request: Request, product_id: str) -> Response:
        product = self.get_object()
        now = timezone.now()
        return Response(
            {
                "product": product.product_id,
                # health, healthReasons, scoreSlaNote: the verdict every surface shows
                **selectors.product_health(product, now=now).as_dict(),
                "qualityScore": selectors.quality_score(product),
                "scoreFormula": SCORE_FORMULA,
                "lastValidated": product.last_validated_at,
                "nextCheckAt": product.next_check_at,
                "checkEveryMinutes": services.check_cadence(product.sla_freshness).total_seconds()
                / 60,
                "sla": selectors.sla_status(product, now=now).as_dict(),
                "latestResults": CheckResultSerializer(
                    selectors.latest_results(product), many=True
                ).data,
                "incidents": IncidentSerializer(
                    selectors.product_incidents(product).select_related("product")[:20], many=True
                ).data,
            }
        )


class IncidentListApi(PortalAPIView):
    """``/v1/quality/incidents``: incidents on products the caller may read."""

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=["open", "resolved"])],
        responses={200: IncidentSerializer(many=True)},
        summary="Incidents, newest first",
    )
    def get(self, request: Request) -> Response:
        wanted = request.query_params.get("status")
        if wanted not in (None, "", "open", "resolved"):
            raise Invalid(
                "status: must be open or resolved", fields={"status": ["must be open or resolved"]}
            )
        qs = selectors.incidents_visible(request.user)
        if wanted:
            qs = qs.filter(status=wanted)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(IncidentSerializer(page, many=True).data)


class IncidentsPerMonthApi(PortalAPIView):
    """``/v1/quality/incidents/per-month``: incident counts per month for the caller's products."""

    @extend_schema(responses={200: {"type": "array"}}, summary="Incidents opened per month")
    def get(self, request: Request) -> Response:
        return Response(selectors.incidents_per_month(request.user))
