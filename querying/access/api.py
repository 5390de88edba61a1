"""Access requests over the API (issue 17).

- ``POST /v1/access-requests`` ``{"product", "columns"?, "purpose", "days"?}`` → 201, pending;
- ``GET /v1/access-requests?status=&product=&page=&pageSize=``: the caller's own requests and,
  for owners, their domains' (admins: all);
- ``GET /v1/access-requests/<id>``: one request with its history;
- ``POST /v1/access-requests/<id>/approve`` ``{"note"?, "days"?}``, ``/deny`` ``{"note"}``,
  ``/revoke`` ``{"note"?}``: owners of the product's domain and admins, never on their own
  request; ``/cancel`` ``{"note"?}``: the requester.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import permissions
from accounts.access_models import AccessRequest, AccessStatus
from catalog.models import DataProduct
from config.api import (
    Conflict,
    ErrorMap,
    Forbidden,
    Invalid,
    NotFound,
    PortalAPIView,
    PortalError,
)

from . import services
from .selectors import access_request_list, request_body


def _invalid(exc: services.AccessRequestInvalid) -> PortalError:
    return Invalid(f"{exc.field}: {exc}", fields={exc.field: [str(exc)]})


ERRORS: ErrorMap = {
    services.AccessRequestInvalid: _invalid,
    services.AccessRequestConflict: lambda exc: Conflict(str(exc), code=exc.code),
    services.AccessRequestForbidden: lambda exc: Forbidden(str(exc)),
}


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    return data


def _known_fields(data: dict[str, Any], known: set[str] | frozenset[str]) -> None:
    unknown = sorted(str(key) for key in set(data) - set(known))
    if unknown:
        fields = {name[:100]: ["unknown field"] for name in unknown}
        raise Invalid(f"unknown field {unknown[0][:100]!r}", fields=fields)


class AccessRequestListApi(PortalAPIView):
    """``GET``: the requests the caller may read; ``POST``: ask for raw access."""

    errors = ERRORS

    class PageSerializer(serializers.Serializer):
        page = serializers.IntegerField(min_value=1, max_value=100_000, default=1)
        pageSize = serializers.IntegerField(min_value=1, max_value=200, default=50)  # noqa: N815
        status = serializers.ChoiceField(choices=AccessStatus.values, required=False)
        product = serializers.CharField(max_length=200, required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=AccessStatus.values),
            OpenApiParameter("product", str, description="a product id"),
            OpenApiParameter("page", int),
            OpenApiParameter("pageSize", int),
        ],
        responses={
            200: OpenApiResponse(description="{count, page, pageSize, next, previous, requests}")
        },
        summary="List your access requests (owners: also their domains')",
    )
    def get(self, request: Request) -> Response:
        params = self.validated(self.PageSerializer, request.query_params)
        rows = access_request_list(
            user=request.user, status=params.get("status"), product_id=params.get("product")
        )
        page, size = params["page"], params["pageSize"]
        count = rows.count()
        chosen = rows[(page - 1) * size : page * size]
        now = timezone.now()
        return Response(
            {
                **self.page(count=count, page=page, size=size),
                "requests": [request_body(r, now=now) for r in chosen],
            }
        )

    @extend_schema(
        request=OpenApiResponse(description="{product, columns?, purpose, days?}"),
        responses={
            201: OpenApiResponse(description="The pending request"),
            400: OpenApiResponse(description="error.fields names the field at fault"),
            409: OpenApiResponse(description="ALREADY_RAW, REQUEST_PENDING, PRODUCT_NOT_QUERYABLE"),
        },
        summary="Ask for raw (unmasked) access to PII columns of a product",
    )
    def post(self, request: Request) -> Response:
        data = _object(request.data)
        _known_fields(data, {"product", "columns", "purpose", "days"})
        product_id = data.get("product")
        if not isinstance(product_id, str) or not product_id:
            raise Invalid("product: required (a product id)", fields={"product": ["required"]})
        visible = permissions.restrict(DataProduct.objects.all(), request.user, "view")
        product = visible.select_related("domain").filter(product_id=product_id).first()
        if product is None:
            message = f"no data product {product_id[:200]!r} that you can see"
            raise Invalid(f"product: {message}", fields={"product": [message]})
        created = services.access_request_create(
            actor=request.user,
            product=product,
            columns=data.get("columns"),
            purpose=data.get("purpose"),
            days=data.get("days"),
        )
        return Response(request_body(created, now=timezone.now()), status=status.HTTP_201_CREATED)


class AccessRequestApi(PortalAPIView):
    """One access request the caller may read (its requester, the domain's owners, admins)."""

    queryset: ClassVar[QuerySet[Any] | None] = AccessRequest.objects.select_related(
        "product__domain", "requester", "decided_by"
    )
    lookup_field = "request_id"
    noun = "access request"
    errors = ERRORS

    def get_object(self) -> Any:
        """By ``pk`` (the URL's ``request_id``), through the policy: 404 when the caller may not
        read it, 403 (saying who may) when they may not do this to it."""
        value = self.kwargs["request_id"]
        assert self.queryset is not None
        visible = permissions.restrict(self.queryset.all(), self.request.user, "view")
        obj = visible.filter(pk=value).first()
        if obj is None:
            raise NotFound(f"no access request {value!r} that you can see")
        action = self.actions.get(self.request.method or "", "view")
        if action != "view":
            services.access_require(self.request.user, action, obj)
        return obj

    @extend_schema(
        responses={200: OpenApiResponse(description="The request with its history (events)")},
        summary="One access request and its history",
    )
    def get(self, request: Request, request_id: int) -> Response:
        return Response(request_body(self.get_object(), now=timezone.now(), events=True))


class _DecisionApi(AccessRequestApi):
    """``POST`` one decision; the body's fields are the decision's."""

    fields: ClassVar[frozenset[str]] = frozenset({"note"})

    def decide(self, obj: AccessRequest, data: dict[str, Any]) -> AccessRequest:
        raise NotImplementedError

    def post(self, request: Request, request_id: int) -> Response:
        # A body that is not a JSON object is a 400 whoever sends it (it says nothing about
        # the request); then who may, then the fields.
        data = _object(request.data)
        obj = self.get_object()
        _known_fields(data, self.fields)
        done = self.decide(obj, data)
        return Response(request_body(done, now=timezone.now(), events=True))


class AccessRequestApproveApi(_DecisionApi):
    """``POST .../approve`` ``{"note"?, "days"?}``: grant it (``days`` may only shorten it)."""

    actions = {"POST": "decide"}
    fields = frozenset({"note", "days"})

    @extend_schema(summary="Approve an access request (owners of the domain, admins)")
    def post(self, request: Request, request_id: int) -> Response:
        return super().post(request, request_id)

    def decide(self, obj: AccessRequest, data: dict[str, Any]) -> AccessRequest:
        return services.access_request_approve(
            actor=self.request.user, request=obj, note=data.get("note", ""), days=data.get("days")
        )


class AccessRequestDenyApi(_DecisionApi):
    """``POST .../deny`` ``{"note"}``: refuse it, saying why."""

    actions = {"POST": "decide"}

    @extend_schema(summary="Deny an access request, with a note (owners of the domain, admins)")
    def post(self, request: Request, request_id: int) -> Response:
        return super().post(request, request_id)

    def decide(self, obj: AccessRequest, data: dict[str, Any]) -> AccessRequest:
        return services.access_request_deny(
            actor=self.request.user, request=obj, note=data.get("note")
        )


class AccessRequestRevokeApi(_DecisionApi):
    """``POST .../revoke`` ``{"note"?}``: end an approved grant now."""

    actions = {"POST": "decide"}

    @extend_schema(summary="Revoke an access grant (owners of the domain, admins)")
    def post(self, request: Request, request_id: int) -> Response:
        return super().post(request, request_id)

    def decide(self, obj: AccessRequest, data: dict[str, Any]) -> AccessRequest:
        return services.access_request_revoke(
            actor=self.request.user, request=obj, note=data.get("note", "")
        )


class AccessRequestCancelApi(_DecisionApi):
    """``POST .../cancel`` ``{"note"?}``: the requester withdraws it (or gives a grant up)."""

    actions = {"POST": "cancel"}

    @extend_schema(summary="Cancel your access request or give up your grant")
    def post(self, request: Request, request_id: int) -> Response:
        return super().post(request, request_id)

    def decide(self, obj: AccessRequest, data: dict[str, Any]) -> AccessRequest:
        return services.access_request_cancel(
            actor=self.request.user, request=obj, note=data.get("note", "")
        )
