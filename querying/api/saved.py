"""Saved and shared queries over the API (issue 19).

``GET|POST /v1/queries``, ``GET|PATCH|DELETE /v1/queries/<id>`` (changes: the author's, or a
platform admin's) and ``POST /v1/queries/<id>/run``, which runs the saved SQL with the
permissions of whoever calls it (``querying.saved.services.saved_query_run``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import Forbidden, Invalid, PortalAPIView, PortalError
from querying.governor import MAX_SQL_CHARS
from querying.models import SavedQuery
from querying.saved.selectors import SCOPES, saved_query_list
from querying.saved.services import (
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
    SavedQueryInvalid,
    SavedQueryNameTaken,
    saved_query_create,
    saved_query_delete,
    saved_query_run,
    saved_query_update,
)

from .views import StrictCharField, outcome_body


def _invalid(exc: SavedQueryInvalid) -> PortalError:
    if exc.code == "INVALID":
        return Invalid(
            exc.message if ":" in exc.message else f"{exc.field}: {exc.message}",
            fields={exc.field: [exc.message]},
        )
    # The governor refused the SQL for its author: its own code and status (PARSE_ERROR...).
    return PortalError(exc.message, code=exc.code, http_status=exc.http_status)


SAVED_ERRORS = {
    SavedQueryInvalid: _invalid,
    SavedQueryNameTaken: lambda exc: PortalError(
        str(exc), code="NAME_TAKEN", http_status=status.HTTP_409_CONFLICT
    ),
}


def saved_query_body(saved: SavedQuery, user: Any) -> dict[str, Any]:
    """One saved query as the API shows it."""
    when = serializers.DateTimeField().to_representation
    return {
        "id": saved.pk,
        "name": saved.name,
        "description": saved.description,
        "sql": saved.sql,
        "chart": saved.chart,
        "shared": saved.is_shared,
        "author": saved.author.username,
        "mine": saved.author_id == user.pk,
        "products": sorted(p.product_id for p in saved.products.all()),
        "createdAt": when(saved.created_at),
        "updatedAt": when(saved.updated_at),
        "lastRunAt": when(saved.last_run_at) if saved.last_run_at else None,
    }


class ChartField(serializers.Field):
    """The chart spec as sent (an object or null); ``querying.saved.charts`` checks it."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class StrictBooleanField(serializers.BooleanField):
    """A BooleanField that takes JSON true and false only (not "yes", 1 or "on")."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class SavedQueryInput(serializers.Serializer):
    name = StrictCharField(max_length=MAX_NAME_CHARS, allow_blank=False)
    sql = StrictCharField(max_length=MAX_SQL_CHARS, allow_blank=False, trim_whitespace=False)
    description = StrictCharField(
        max_length=MAX_DESCRIPTION_CHARS, allow_blank=True, required=False, default=""
    )
    chart = ChartField(required=False, allow_null=True, default=None)
    shared = StrictBooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: ["unknown field; use name, sql, description, chart, shared"]
                    for name in unknown
                }
            )
        return attrs


class SavedQueryListApi(PortalAPIView):
    """``GET /v1/queries``: the saved queries you may see; ``POST``: save one."""

    errors = SAVED_ERRORS

    class ListParams(serializers.Serializer):
        scope = serializers.ChoiceField(choices=SCOPES, default="all")
        product = serializers.CharField(max_length=200, required=False, default="")
        q = serializers.CharField(max_length=200, required=False, default="", trim_whitespace=True)
        page = serializers.IntegerField(min_value=1, max_value=100_000, default=1)
        pageSize = serializers.IntegerField(min_value=1, max_value=200, default=50)  # noqa: N815

    @extend_schema(
        parameters=[
            OpenApiParameter("scope", str, enum=list(SCOPES), description="mine, shared or all"),
            OpenApiParameter("product", str, description="Only queries reading this product"),
            OpenApiParameter("q", str, description="Search name, description and SQL"),
            OpenApiParameter("page", int),
            OpenApiParameter("pageSize", int, description="default 50, max 200"),
        ],
        responses={
            200: OpenApiResponse(description="{count, page, pageSize, next, previous, queries}")
        },
        summary="Saved queries: yours and those shared with you",
    )
    def get(self, request: Request) -> Response:
        known = set(self.ListParams().fields) | {"format"}
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            message = f"unknown filter; use {', '.join(sorted(known - {'format'}))}"
            raise Invalid(f"{unknown[0]}: {message}", fields={name: [message] for name in unknown})
        params = self.validated(self.ListParams, request.query_params)
        rows = saved_query_list(
            request.user, scope=params["scope"], product_id=params["product"], search=params["q"]
        )
        count = rows.count()
        page, size = params["page"], params["pageSize"]
        offset = (page - 1) * size
        return Response(
            {
                **self.page(count=count, page=page, size=size),
                "queries": [
                    saved_query_body(s, request.user) for s in rows[offset : offset + size]
                ],
            }
        )

    @extend_schema(
        request=SavedQueryInput,
        responses={
            201: OpenApiResponse(description="The saved query"),
            400: OpenApiResponse(description="A bad field, or SQL the governor refuses for you"),
            409: OpenApiResponse(description="NAME_TAKEN: you have a saved query of that name"),
        },
        summary="Save a query (name, sql, description, chart, shared)",
    )
    def post(self, request: Request) -> Response:
        data = self.validated(SavedQueryInput, request.data)
        saved = saved_query_create(
            author=request.user,
            name=data["name"],
            sql=data["sql"],
            description=data["description"],
            chart=data["chart"],
            is_shared=data["shared"],
        )
        return Response(saved_query_body(saved, request.user), status=status.HTTP_201_CREATED)


SAVED_DENIED = "only the author of a saved query (and platform admins) may change or delete it"


class SavedQueryObjectApi(PortalAPIView):
    """Base of the views on one saved query: found through ``restrict`` (404 when you may not
    see it), changed only by its author (403)."""

    queryset = SavedQuery.objects.select_related("author")
    lookup_field = "pk"
    noun = "saved query"
    errors = SAVED_ERRORS

    def get_object(self) -> Any:
        try:
            return super().get_object()
        except Forbidden:
            raise Forbidden(SAVED_DENIED) from None


class SavedQueryDetailApi(SavedQueryObjectApi):
    """``GET|PATCH|DELETE /v1/queries/<id>``."""

    actions = {"PATCH": "change", "DELETE": "change"}

    class PatchInput(SavedQueryInput):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, partial=True, **kwargs)

    @extend_schema(summary="One saved query")
    def get(self, request: Request, pk: int) -> Response:
        return Response(saved_query_body(self.get_object(), request.user))

    @extend_schema(
        request=SavedQueryInput,
        summary="Rename, change the SQL, chart or description, share or unshare",
    )
    def patch(self, request: Request, pk: int) -> Response:
        saved = self.get_object()
        serializer = self.PatchInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        names = {"name": "name", "sql": "sql", "description": "description", "chart": "chart"}
        changes: dict[str, Any] = {
            names.get(key, "is_shared"): value
            for key, value in serializer.validated_data.items()
            if key in request.data
        }
        saved = saved_query_update(actor=request.user, saved=saved, **changes)
        return Response(saved_query_body(saved, request.user))

    @extend_schema(summary="Delete a saved query (its author)", responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        saved_query_delete(actor=request.user, saved=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedQueryRunApi(SavedQueryObjectApi):
    """``POST /v1/queries/<id>/run``: the saved SQL, run with YOUR permissions (masked,
    refused, capped and audited as if you had written it)."""

    @extend_schema(
        request=None,
        responses={
            200: OpenApiResponse(description="As POST /v1/query, plus savedQuery"),
            400: OpenApiResponse(description="Refused or engine error; error.code says why"),
            403: OpenApiResponse(description="It reads a product you may not query"),
        },
        summary="Run a saved query with your own permissions",
    )
    def post(self, request: Request, pk: int) -> Response:
        saved = self.get_object()
        outcome = saved_query_run(runner=request.user, saved=saved)
        if not outcome.is_allowed:
            raise PortalError(outcome.message, code=outcome.code, http_status=outcome.http_status)
        return Response(
            {**outcome_body(outcome), "savedQuery": saved_query_body(saved, request.user)}
        )
