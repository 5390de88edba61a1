"""Governed SQL over the API: ``POST /v1/query`` (JSON), ``POST /v1/query.csv`` (CSV), and the
audit log ``GET /v1/query/log``."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseBase
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import Invalid, PortalAPIView, PortalError
from querying.governor import MAX_SQL_CHARS
from querying.models import QueryLog
from querying.selectors import query_log_visible, without_hash_key
from querying.services import QueryOutcome, query_refuse_input, query_submit

from .exports import csv_response
from .filters import QUERY_LOG_PARAMETERS, QueryLogFilterSet

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
        # Never reached: results stream, errors render as JSON (config.api.exception_handler).
        return b""


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


def outcome_body(outcome: QueryOutcome) -> dict[str, Any]:
    """The 200 body: the seed's rows/rowCount/queryTimeMs plus column types and what governance
    did."""
    return {
        "columns": outcome.columns,
        # The warehouse's column types ("BIGINT", "DATE", "numeric(12,2)"): charts pick axes.
        "types": outcome.types,
        "rows": outcome.rows,
        "rowCount": outcome.row_count,
        "truncated": outcome.truncated,
        "queryTimeMs": outcome.query_time_ms,
        "maskedColumns": outcome.masked_columns,
        # PII columns read unmasked, each with why (role, domain or grant; issue 17).
        "rawColumns": outcome.raw_columns,
        "products": outcome.products,
        "warnings": outcome.warnings,
    }


class QueryRunApi(PortalAPIView):
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
                    "types": serializers.ListField(child=serializers.CharField()),
                    "rows": serializers.ListField(child=serializers.ListField()),
                    "rowCount": serializers.IntegerField(),
                    "truncated": serializers.BooleanField(),
                    "queryTimeMs": serializers.FloatField(),
                    "maskedColumns": serializers.ListField(child=serializers.CharField()),
                    "rawColumns": serializers.DictField(child=serializers.CharField()),
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
            raise PortalError(
                f"the request body is larger than {MAX_BODY_BYTES} bytes",
                code="BODY_TOO_LARGE",
                http_status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
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
        if not outcome.is_allowed:  # refused, timed out, warehouse down: the outcome says how
            raise PortalError(outcome.message, code=outcome.code, http_status=outcome.http_status)
        if request.accepted_renderer.format == "csv":
            return csv_response(outcome)
        return Response(outcome_body(outcome))


def log_entry_body(entry: QueryLog) -> dict[str, Any]:
    """One audit row as the API shows it (the PII hash key never appears)."""
    return {
        "id": entry.pk,
        "createdAt": serializers.DateTimeField().to_representation(entry.created_at),
        "user": entry.username,
        "role": entry.role,
        "decision": entry.decision,
        "code": entry.code,
        "message": entry.message,
        "sql": without_hash_key(entry.submitted_sql),
        "executedSql": without_hash_key(entry.executed_sql) or None,
        "products": entry.products,
        "piiColumns": entry.pii_columns,
        "maskedColumns": entry.masked_columns,
        # Every PII column read raw and its justification: role, domain or grant (issue 17).
        "rawColumns": entry.raw_columns,
        "piiAccess": entry.pii_access,
        "rowCount": entry.row_count,
        "truncated": entry.truncated,
        "durationMs": entry.duration_ms,
    }


class QueryLogListApi(PortalAPIView):
    """``GET /v1/query/log``: the audit rows the caller may read, filtered, newest first.

    Admins read every row, owners the queries that used their domain's products, everyone
    their own (``querying.selectors.query_log_visible``).
    """

    class PageSerializer(serializers.Serializer):
        page = serializers.IntegerField(min_value=1, max_value=100_000, default=1)
        pageSize = serializers.IntegerField(min_value=1, max_value=200, default=50)  # noqa: N815

    @extend_schema(
        parameters=[
            OpenApiParameter("user", str, description="Username of who ran the query"),
            OpenApiParameter("product", str, description="Product id the query used"),
            OpenApiParameter("decision", str, enum=["allowed", "refused", "error", "timeout"]),
            OpenApiParameter("code", str, description="Refusal or error code, e.g. FORBIDDEN"),
            OpenApiParameter("since", str, description="ISO 8601; rows at or after it"),
            OpenApiParameter("until", str, description="ISO 8601; rows before it"),
            OpenApiParameter("page", int, description="1-based page (default 1)"),
            OpenApiParameter("pageSize", int, description="Rows per page (default 50, max 200)"),
        ],
        responses={
            200: inline_serializer(
                "QueryLogPage",
                {
                    "count": serializers.IntegerField(),
                    "page": serializers.IntegerField(),
                    "pageSize": serializers.IntegerField(),
                    "next": serializers.CharField(allow_null=True),
                    "previous": serializers.CharField(allow_null=True),
                    "queries": serializers.ListField(child=serializers.DictField()),
                },
            ),
            400: OpenApiResponse(description="A bad filter; error.fields names it"),
            401: OpenApiResponse(description="Not logged in"),
        },
        summary="The governed-query audit log (admins: all; owners: their products; yours)",
    )
    def get(self, request: Request) -> Response:
        unknown = sorted(set(request.query_params) - QUERY_LOG_PARAMETERS)
        if unknown:
            known = ", ".join(sorted(QUERY_LOG_PARAMETERS - {"format"}))
            message = f"unknown filter; use {known}"
            raise Invalid(f"{unknown[0]}: {message}", fields={name: [message] for name in unknown})
        paging = self.validated(self.PageSerializer, request.query_params)
        page, size = paging["page"], paging["pageSize"]
        filters = QueryLogFilterSet(request.query_params, queryset=query_log_visible(request.user))
        if not filters.is_valid():
            raise serializers.ValidationError(filters.errors)
        rows = filters.qs
        count = rows.count()
        offset = (page - 1) * size
        return Response(
            {
                **self.page(count=count, page=page, size=size),
                "queries": [log_entry_body(e) for e in rows[offset : offset + size]],
            }
        )
