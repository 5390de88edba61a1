"""Catalog API: the write-up's discovery endpoints, contract publishing (PUT), the JSON Schema.

Paths and bodies follow the write-up exactly (``/v1/catalog/search``, ``/v1/catalog/products/<id>``,
``/v1/catalog/domains``, ``POST /v1/catalog/products/<id>/consumers``); everything beyond it is
additive (pagination, filters, relevance, SLA status, incidents, changelog).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors
from catalog.contract import ContractError, json_schema
from catalog.models import DataProduct, Domain
from catalog.services import (
    ConsumerTaken,
    DomainSettingsDenied,
    DomainSettingsInvalid,
    PublishConflict,
    PublishRefused,
    consumer_register,
    domain_update,
    product_document,
    product_publish,
)
from config.api import error_response

from . import serializers as s


def contract_error_response(issues: list[Any], code: str = "INVALID_CONTRACT") -> Response:
    """400 naming every field: ``fields`` maps each path to its messages."""
    fields: dict[str, list[str]] = {}
    for issue in issues:
        fields.setdefault(issue.path or "contract", []).append(issue.message)
    message = str(issues[0]) if issues else "invalid contract"
    return error_response(code, message, status.HTTP_400_BAD_REQUEST, fields)


def publish_refused_response(exc: PublishRefused) -> Response:
    """A refused publish: 409 when it conflicts with the latest version, else 400."""
    response = contract_error_response(exc.issues, code=exc.code)
    if isinstance(exc, PublishConflict):
        response.status_code = status.HTTP_409_CONFLICT
    return response


def not_found() -> Response:
    """The write-up's 404 body, kept for ``GET /v1/catalog/products/<id>`` alone (issue 12)."""
    return Response({"error": "Not found"}, status=status.HTTP_404_NOT_FOUND)


def product_not_found(product_id: str) -> Response:
    """404 in the one error shape: no product with this id that the caller may see."""
    return error_response(
        "NOT_FOUND", f"no data product {product_id!r} that you can see", status.HTTP_404_NOT_FOUND
    )


class ProductPublishMixin:
    """PUT a contract to create (201) or update (200) a product."""

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={
            200: OpenApiResponse(description="Updated (or unchanged) product contract"),
            201: OpenApiResponse(description="Created product contract"),
            400: OpenApiResponse(description="Invalid contract; error.fields names each path"),
            403: OpenApiResponse(description="Not an owner of this domain"),
            409: OpenApiResponse(
                description="VERSION_CONFLICT: this version already exists with another "
                "document, or is lower than the latest; CONCURRENT_PUBLISH: retry"
            ),
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
            return publish_refused_response(exc)
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


def product_detail_body(user: Any, product: DataProduct) -> dict[str, Any]:
    """The GET body: the contract document plus quality, consumers, incidents and changelog."""
    panel = selectors.quality_panel(user=user, product=product)
    body = product_document(product)
    body["lastValidated"] = _iso(product.last_validated_at)
    body["qualityScore"] = product.quality_score
    body["freshness"] = getattr(product, "freshness_state", "unknown")
    health = panel.health if panel.health is not None else s.health_of_product(product)
    body.update(health.as_dict())  # health, healthReasons, scoreSlaNote (issue 12)
    body["slaStatus"] = panel.sla.as_dict() if panel.sla is not None else None
    body["qualityHistory"] = s.ProductQualityResultSerializer(panel.history, many=True).data
    body["consumers"] = s.ProductConsumerSerializer(
        selectors.product_consumers(user=user, product=product), many=True
    ).data
    body["incidents"] = s.ProductIncidentSerializer(panel.incidents, many=True).data
    body["changelog"] = s.ChangelogEntrySerializer(
        selectors.product_versions(user=user, product=product), many=True
    ).data
    body["warnings"] = s.deprecation_warnings(product)
    return body


def _iso(value: Any) -> str | None:
    return s.serializers.DateTimeField().to_representation(value) if value else None


SEARCH_PARAMETERS = [
    OpenApiParameter("q", str, description="Search text; every word must match"),
    OpenApiParameter("domain", str, description="Domain slug"),
    OpenApiParameter("tag", str, description="Exact tag"),
    OpenApiParameter("owner", str, description="Owner team (case-insensitive)"),
    OpenApiParameter(
        "status",
        str,
        description="Comma-separated statuses (default published), or all (any)",
    ),
    OpenApiParameter("freshness", str, enum=["fresh", "stale", "unknown"]),
    OpenApiParameter("minQualityScore", float, description="0-100"),
    OpenApiParameter("hasPii", str, enum=["true", "false"]),
    OpenApiParameter("page", int, description="1-based page number (default 1)"),
    OpenApiParameter("pageSize", int, description="Products per page (default 50, max 200)"),
]


class ProductSearchApi(APIView):
    """``GET /v1/catalog/search``: ranked, filtered, paginated product search."""

    @extend_schema(
        parameters=SEARCH_PARAMETERS,
        responses={200: s.SearchResponseSerializer, 400: s.CatalogErrorSerializer},
        summary="Search data products",
        description="Published products by default. Name matches rank above tags, then column "
        "names, then descriptions; deprecated products come after current ones.",
    )
    def get(self, request: Request) -> Response:
        paging = s.PageParamsSerializer(data=request.query_params)
        paging.is_valid(raise_exception=True)
        page, size = paging.validated_data["page"], paging.validated_data["pageSize"]
        try:
            qs = selectors.product_search(user=request.user, params=request.query_params)
        except selectors.SearchInvalid as exc:
            return error_response("INVALID", str(exc), status.HTTP_400_BAD_REQUEST, exc.errors)
        offset = (page - 1) * size
        count, products = selectors.product_search_page(qs, offset=offset, limit=size)
        return Response(
            {
                "count": count,
                "page": page,
                "pageSize": size,
                "next": _page_url(request, page + 1) if offset + size < count else None,
                "previous": _page_url(request, page - 1) if page > 1 else None,
                "products": s.ProductSummarySerializer(products, many=True).data,
            }
        )


def _page_url(request: Request, page: int) -> str:
    params = request.query_params.copy()
    params["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


class ProductDetailApi(ProductPublishMixin, APIView):
    """``/v1/catalog/products/<id>``: read the product (GET) or publish its contract (PUT)."""

    @extend_schema(
        responses={200: s.ProductDetailSerializer, 404: s.CatalogNotFoundSerializer},
        summary="Get a data product with its quality history, consumers and changelog",
    )
    def get(self, request: Request, product_id: str) -> Response:
        product = selectors.product_get(user=request.user, product_id=product_id)
        if product is None:
            return not_found()
        return Response(product_detail_body(request.user, product))


class DomainListApi(APIView):
    """``GET /v1/catalog/domains``: domains with their number of published products."""

    @extend_schema(
        responses={200: s.DomainCountSerializer(many=True)},
        summary="List domains with their published product counts",
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.domain_counts(user=request.user))


class ProductConsumerRegisterApi(APIView):
    """``POST /v1/catalog/products/<id>/consumers``: register (or update) a consuming team."""

    @extend_schema(
        request=s.ConsumerRegisterInputSerializer,
        responses={
            200: s.ConsumerRegisterOutputSerializer,
            400: s.CatalogErrorSerializer,
            404: s.CatalogErrorSerializer,
            409: OpenApiResponse(
                description="CONSUMER_TAKEN: the team was registered by another user; only "
                "they, the product's owners or an admin may change it"
            ),
        },
        summary="Register as a consumer of a data product",
    )
    def post(self, request: Request, product_id: str) -> Response:
        product = selectors.product_get(user=request.user, product_id=product_id)
        if product is None:
            return product_not_found(product_id)
        data = s.ConsumerRegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            _, created = consumer_register(
                actor=request.user,
                product=product,
                team=data.validated_data["team"],
                use_case=data.validated_data["useCase"],
                contact=data.validated_data["contact"],
            )
        except ConsumerTaken as exc:
            return error_response(
                "CONSUMER_TAKEN", str(exc), status.HTTP_409_CONFLICT, {"team": [str(exc)]}
            )
        # 200 either way, as in the write-up: scripts check for {"registered": true}.
        return Response({"registered": True, "created": created})


class DomainSettingsApi(APIView):
    """``PATCH /v1/catalog/domains/<slug>``: Slack webhook (owners) and table prefix (admins)."""

    class InputSerializer(serializers.Serializer):
        slackWebhookUrl = serializers.URLField(  # noqa: N815 - the API's camelCase
            required=False, allow_blank=True, max_length=200
        )
        tablePrefix = serializers.CharField(  # noqa: N815
            required=False, allow_blank=True, max_length=62, trim_whitespace=False
        )

    FIELDS = {"slackWebhookUrl": "slack_webhook_url", "tablePrefix": "table_prefix"}

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OpenApiResponse(description="The domain's settings after the change"),
            400: OpenApiResponse(description="error.fields names the refused setting"),
            403: OpenApiResponse(description="Not an owner (webhook) or not an admin (prefix)"),
            404: OpenApiResponse(description="No such domain"),
        },
        summary="Change a domain's Slack webhook (owners) or table prefix (admins)",
    )
    def patch(self, request: Request, slug: str) -> Response:
        domain = Domain.objects.filter(slug=slug).first()
        if domain is None:
            return error_response("NOT_FOUND", f"no domain {slug!r}", status.HTTP_404_NOT_FOUND)
        if not isinstance(request.data, dict):
            return error_response("INVALID", "the body must be a JSON object", 400)
        unknown = sorted(set(request.data) - set(self.FIELDS))
        if unknown:
            return error_response(
                "INVALID",
                f"unknown field(s): {', '.join(unknown)}",
                status.HTTP_400_BAD_REQUEST,
                {name: ["unknown field"] for name in unknown},
            )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {self.FIELDS[k]: v for k, v in data.validated_data.items()}
        try:
            domain = domain_update(actor=request.user, domain=domain, **values)
        except DomainSettingsDenied as exc:
            names = {v: k for k, v in self.FIELDS.items()}
            return error_response(
                "FORBIDDEN",
                str(exc),
                status.HTTP_403_FORBIDDEN,
                {names[f]: [str(exc)] for f in exc.fields},
            )
        except DomainSettingsInvalid as exc:
            field = next(k for k, v in self.FIELDS.items() if v == exc.field)
            return error_response(
                "INVALID", f"{field}: {exc}", status.HTTP_400_BAD_REQUEST, {field: [str(exc)]}
            )
        return Response(
            {
                "domain": domain.slug,
                "name": domain.name,
                "slackWebhookUrl": domain.slack_webhook_url,
                "tablePrefix": domain.effective_table_prefix,
            }
        )


class ContractSchemaApi(APIView):
    """The contract's JSON Schema, for editors and CI to validate YAML files."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(responses={200: {"type": "object"}}, summary="JSON Schema of a data contract")
    def get(self, request: Request) -> Response:
        return Response(json_schema(), content_type="application/schema+json")
