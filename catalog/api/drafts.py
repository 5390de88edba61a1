"""``POST /v1/catalog/drafts``: draft a new product's contract from a warehouse table (issue 15).

The same service as ``manage.py draft_contract`` and the "New data product" page
(``catalog.services.drafts``); it writes nothing.
"""

from __future__ import annotations

from types import MappingProxyType

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import signed_in
from catalog.services.drafts import (
    DraftConflict,
    DraftError,
    DraftInvalid,
    DraftNotFound,
    DraftUnavailable,
    contract_draft,
)
from config.api import Conflict, ErrorMap, Invalid, NotFound, PortalError, Unavailable

from .base import ERRORS, CatalogApi


def _draft_error(exc: DraftError) -> PortalError:
    kinds: dict[type[DraftError], type[PortalError]] = {
        DraftNotFound: NotFound,
        DraftConflict: Conflict,
        DraftInvalid: Invalid,
        DraftUnavailable: Unavailable,
    }
    error = kinds.get(type(exc), Invalid)
    codes = {DraftNotFound: "TABLE_NOT_FOUND", DraftConflict: "TABLE_BOUND"}
    code = codes.get(type(exc)) or exc.code
    if isinstance(exc, DraftNotFound) and exc.field == "domain":
        code = "DOMAIN_NOT_FOUND"
    if isinstance(exc, DraftConflict) and exc.field == "id":
        code = "PRODUCT_EXISTS"
    return error(str(exc), code=code, fields={exc.field: [str(exc)]})


DRAFT_ERRORS: ErrorMap = MappingProxyType({**ERRORS, DraftError: _draft_error})


class DraftCreateApi(CatalogApi):
    """``POST /v1/catalog/drafts``: ``{"contract", "profile", "notes"}`` for a table."""

    # Owners of the body's domain and admins (contract_draft decides: 403 for others).
    actions = {"POST": "create"}
    errors = DRAFT_ERRORS

    class InputSerializer(serializers.Serializer):
        table = serializers.CharField(max_length=63)
        domain = serializers.CharField(max_length=63)
        id = serializers.CharField(required=False, max_length=200)
        name = serializers.CharField(required=False, max_length=200, allow_blank=True)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OpenApiResponse(
                description="contract (a complete document, published as is its checks pass on "
                "the table), profile (per column: nulls, distinct, min, max, top values) and "
                "notes (every inference with its evidence)"
            ),
            400: OpenApiResponse(description="error.fields names the field"),
            403: OpenApiResponse(description="Not an owner of the domain"),
            404: OpenApiResponse(
                description="TABLE_NOT_FOUND (the message names the tables you could mean) or "
                "DOMAIN_NOT_FOUND"
            ),
            409: OpenApiResponse(description="TABLE_BOUND or PRODUCT_EXISTS"),
            503: OpenApiResponse(description="The warehouse could not be read"),
        },
        summary="Draft a data product's contract from a warehouse table",
    )
    def post(self, request: Request) -> Response:
        data = self.validated(self.InputSerializer, request.data)
        draft = contract_draft(
            actor=signed_in(request.user),
            table=data["table"],
            domain=data["domain"],
            product_id=data.get("id"),
            name=data.get("name"),
        )
        return Response(draft.as_dict())
