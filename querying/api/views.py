"""Governed SQL over the API: ``POST /v1/query`` (JSON) and ``POST /v1/query.csv`` (CSV)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseBase
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import error_response
from querying.governor import MAX_SQL_CHARS
from querying.services import QueryOutcome, query_refuse_input, query_submit

from .exports import csv_response

# Bodies larger than this are refused before they are parsed (the SQL cap is far below it).
MAX_BODY_BYTES = 4 * MAX_SQL_CHARS + 4096


class CSVRenderer(BaseRenderer):
    """Lets ``?format=csv``, ``/v1/query.csv`` and ``Accept: text/csv`` select CSV output."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        # Never reached for results (they stream); errors are switched to JSON in the view.
        return b""


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


def outcome_body(outcome: QueryOutcome) -> dict[str, Any]:
    """The 200 body: the seed's rows/rowCount/queryTimeMs plus what governance did."""
    return {
        "columns": outcome.columns,
        "rows": outcome.rows,
        "rowCount": outcome.row_count,
        "truncated": outcome.truncated,
        "queryTimeMs": outcome.query_time_ms,
        "maskedColumns": outcome.masked_columns,
        "products": outcome.products,
        "warnings": outcome.warnings,
    }


class QueryRunApi(APIView):
    """Run one governed SQL query; PII is masked per caller and every request is audited."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema_serializer(component_name="QueryInput")
    class InputSerializer(serializers.Serializer):
        sql = StrictCharField(
            max_length=MAX_SQL_CHARS,
            trim_whitespace=False,
            allow_blank=False,
            help_text="One SELECT over data products (by product id or table name).",
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            200: inline_serializer(
                "QueryResult",
                {
                    "columns": serializers.ListField(child=serializers.CharField()),
                    "rows": serializers.ListField(child=serializers.ListField()),
                    "rowCount": serializers.IntegerField(),
                    "truncated": serializers.BooleanField(),
                    "queryTimeMs": serializers.FloatField(),
                    "maskedColumns": serializers.ListField(child=serializers.CharField()),
                    "products": serializers.ListField(child=serializers.CharField()),
                    "warnings": serializers.ListField(child=serializers.CharField()),
                },
            ),
            400: OpenApiResponse(description="Refused or engine error; error.code says why"),
            401: OpenApiResponse(description="Not logged in"),
            403: OpenApiResponse(description="A referenced data product you may not read"),
            408: OpenApiResponse(description="TIMEOUT: the query ran past QUERY_TIMEOUT_S"),
            413: OpenApiResponse(description="Body too large"),
            503: OpenApiResponse(description="WAREHOUSE_UNAVAILABLE"),
        },
        summary="Run a governed SQL query (add ?format=csv or use /v1/query.csv for CSV)",
    )
    def post(self, request: Request, format: str | None = None) -> HttpResponseBase:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            query_refuse_input(
                user=request.user,
                submitted="",
                code="BODY_TOO_LARGE",
                message=f"request body of {length} bytes",
            )
            return error_response(
                "BODY_TOO_LARGE",
                f"the request body is larger than {MAX_BODY_BYTES} bytes",
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        data = request.data
        serializer = self.InputSerializer(data=data)
        if not serializer.is_valid():
            submitted = data.get("sql") if hasattr(data, "get") else None
            query_refuse_input(
                user=request.user,
                submitted=submitted[:MAX_SQL_CHARS] if isinstance(submitted, str) else "",
                code="INVALID",
                message=str(dict(serializer.errors)),
            )
            raise serializers.ValidationError(serializer.errors)
        outcome = query_submit(user=request.user, sql=serializer.validated_data["sql"])
        if not outcome.is_allowed:
            return error_response(outcome.code, outcome.message, outcome.http_status)
        if request.accepted_renderer.format == "csv":
            return csv_response(outcome)
        return Response(outcome_body(outcome))

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        # Errors are JSON even when CSV was asked for: a client must be able to read why.
        if (
            isinstance(response, Response)
            and getattr(request, "accepted_renderer", None) is not None
        ):
            if request.accepted_renderer.format == "csv":
                request.accepted_renderer = JSONRenderer()
                request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
