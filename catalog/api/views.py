"""Catalog API: contract publishing (PUT) and the contract JSON Schema."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import restrict
from catalog.contract import ContractError, json_schema
from catalog.models import DataProduct
from catalog.services import PublishRefused, product_document, product_publish
from config.api import error_response


def contract_error_response(issues: list[Any], code: str = "INVALID_CONTRACT") -> Response:
    """400 naming every field: ``fields`` maps each path to its messages."""
    fields: dict[str, list[str]] = {}
    for issue in issues:
        fields.setdefault(issue.path or "contract", []).append(issue.message)
    message = str(issues[0]) if issues else "invalid contract"
    return error_response(code, message, status.HTTP_400_BAD_REQUEST, fields)


def not_found() -> Response:
    """The seed's 404 body."""
    return Response({"error": "Not found"}, status=status.HTTP_404_NOT_FOUND)


class ProductPublishMixin:
    """PUT a contract to create (201) or update (200) a product."""

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={
            200: OpenApiResponse(description="Updated (or unchanged) product contract"),
            201: OpenApiResponse(description="Created product contract"),
            400: OpenApiResponse(description="Invalid contract; error.fields names each path"),
            403: OpenApiResponse(description="Not an owner of this domain"),
        },
        summary="Create or update a data product from its contract",
    )
    def put(self, request: Request, product_id: str) -> Response:
        try:
            outcome = product_publish(
                actor=request.user, document=request.data, source="api", expected_id=product_id
            )
        except ContractError as exc:
            return contract_error_response(exc.issues)
        except PublishRefused as exc:
            return contract_error_response(exc.issues, code=exc.code)
        except PermissionDenied as exc:
            return error_response("FORBIDDEN", str(exc), status.HTTP_403_FORBIDDEN)
        body = {
            "product": product_document(outcome.product),
            "created": outcome.created,
            "changed": outcome.changed,
            "changes": outcome.changes,
            "warnings": outcome.warnings,
        }
        return Response(
            body, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        )


class ProductDetailApi(ProductPublishMixin, APIView):
    """``/v1/catalog/products/<id>``: read the product (GET) or publish its contract (PUT)."""

    def get(self, request: Request, product_id: str) -> Response:
        product = (
            restrict(DataProduct.objects.select_related("domain"), request.user, "view")
            .prefetch_related("columns", "checks")
            .filter(product_id=product_id)
            .first()
        )
        if product is None:
            return not_found()
        return Response(product_document(product))


class ContractSchemaApi(APIView):
    """The contract's JSON Schema, for editors and CI to validate YAML files."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(responses={200: {"type": "object"}}, summary="JSON Schema of a data contract")
    def get(self, request: Request) -> Response:
        return Response(json_schema(), content_type="application/schema+json")
