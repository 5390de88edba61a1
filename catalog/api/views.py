"""Catalog API: the write-up's discovery endpoints, contract publishing (PUT), the JSON Schema.

Paths and bodies follow the write-up exactly (``/v1/catalog/search``, ``/v1/catalog/products/<id>``,
``/v1/catalog/domains``, ``POST /v1/catalog/products/<id>/consumers``); everything beyond it is
additive (pagination, filters, relevance, SLA status, incidents, changelog).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import signed_in
from catalog import selectors
from catalog.contract import json_schema
from catalog.models import DataProduct, Domain
from catalog.profiles import profile_for_reader
from catalog.services import consumer_register, domain_update, product_document, product_publish
from catalog.usage import product_usage
from config.api import Invalid, PortalAPIView

from . import serializers as s
from .base import SETTING_NAMES, CatalogApi, ProductApi

# The write-up's 404 body for GET /v1/catalog/products/<unknown id>: the one answer outside the
# error shape (issue 12, README "API"). Scripts written against the write-up match on it.
SEED_NOT_FOUND = {"error": "Not found"}


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
    body["profile"] = profile_for_reader(user=user, product=product, row=panel.profile)  # issue 15
    body["usage"] = product_usage(product=product).to_dict()  # issue 16: today counted live
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
    OpenApiParameter(
        "sort",
        str,
        enum=["relevance", "popular", "recent", "quality"],
        description="relevance (default; usage breaks ties), popular (queries over 30 days), "
        "recent (newest published), quality (highest score); deprecated products last",
    ),
    OpenApiParameter("page", int, description="1-based page number (default 1)"),
    OpenApiParameter("pageSize", int, description="Products per page (default 50, max 200)"),
]


class ProductSearchApi(CatalogApi):
    """``GET /v1/catalog/search``: ranked, filtered, paginated product search."""

    @extend_schema(
        parameters=SEARCH_PARAMETERS,
        responses={200: s.SearchResponseSerializer, 400: s.CatalogErrorSerializer},
        summary="Search data products",
        description="Published products by default. Name matches rank above tags, then column "
        "names, then descriptions; deprecated products come after current ones.",
    )
    def get(self, request: Request) -> Response:
        paging = self.validated(s.PageParamsSerializer, request.query_params)
        page, size = paging["page"], paging["pageSize"]
        qs = selectors.product_search(user=request.user, params=request.query_params)
        count, products = selectors.product_search_page(qs, offset=(page - 1) * size, limit=size)
        return Response(
            {
                **self.page(count=count, page=page, size=size),
                "products": s.ProductSummarySerializer(products, many=True).data,
            }
        )


class ProductDetailApi(CatalogApi):
    """``/v1/catalog/products/<id>``: read the product (GET) or publish its contract (PUT)."""

    # Declared for readers and the permission-matrix test; product_publish decides it (it
    # also creates products, which no lookup could find).
    actions = {"PUT": "change"}

    @extend_schema(
        responses={200: s.ProductDetailSerializer, 404: s.CatalogNotFoundSerializer},
        summary="Get a data product with its quality history, consumers and changelog",
    )
    def get(self, request: Request, product_id: str) -> Response:
        product = selectors.product_get(user=request.user, product_id=product_id)
        if product is None:  # the one body outside the error shape: see SEED_NOT_FOUND
            return Response(SEED_NOT_FOUND, status=status.HTTP_404_NOT_FOUND)
        return Response(product_detail_body(request.user, product))

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={
            200: OpenApiResponse(description="Updated (or unchanged) product contract"),
            201: OpenApiResponse(description="Created product contract"),
            400: OpenApiResponse(
                description="Invalid contract (error.fields names each path), a gate's refusal, "
                "or BREAKING_CHANGE: a breaking change without a higher version (error.impact: "
                "what it would reach downstream)"
            ),
            403: OpenApiResponse(description="Not an owner of this domain"),
            409: OpenApiResponse(
                description="VERSION_CONFLICT: this version already exists with another "
                "(non-breaking) document, or is lower than the latest; CONCURRENT_PUBLISH: retry"
            ),
        },
        summary="Create or update a data product from its contract",
    )
    def put(self, request: Request, product_id: str) -> Response:
        outcome = product_publish(
            actor=signed_in(request.user),
            document=request.data,
            source="api",
            expected_id=product_id,
        )
        body = {
            "product": product_document(outcome.product),
            "created": outcome.created,
            "changed": outcome.changed,
            "changes": outcome.changes,
            "warnings": outcome.warnings,
        }
        if outcome.impact:  # a breaking change published with its version bump (issue 16)
            body["impact"] = outcome.impact
        return Response(
            body, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        )


class DomainListApi(PortalAPIView):
    """``GET /v1/catalog/domains``: domains with their number of published products."""

    @extend_schema(
        responses={200: s.DomainCountSerializer(many=True)},
        summary="List domains with their published product counts",
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.domain_counts(user=request.user))


class ProductConsumerRegisterApi(ProductApi):
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
        product = self.get_object()
        data = self.validated(s.ConsumerRegisterInputSerializer, request.data)
        _, created = consumer_register(
            actor=signed_in(request.user),
            product=product,
            team=data["team"],
            use_case=data["useCase"],
            contact=data["contact"],
            kind=data["kind"],
            name=data.get("name", ""),
            url=data.get("url", ""),
        )
        # 200 either way, as in the write-up: scripts check for {"registered": true}.
        return Response({"registered": True, "created": created})


class DomainSettingsApi(CatalogApi):
    """``PATCH /v1/catalog/domains/<slug>``: Slack webhook (owners) and table prefix (admins)."""

    queryset = Domain.objects.all()
    lookup_field = "slug"
    noun = "domain"
    # Owners of the domain; which setting each may change is domain_update's to say (403).
    actions = {"PATCH": "change"}

    class InputSerializer(serializers.Serializer):
        slackWebhookUrl = serializers.URLField(  # noqa: N815 - the API's camelCase
            required=False, allow_blank=True, max_length=200
        )
        tablePrefix = serializers.CharField(  # noqa: N815
            required=False, allow_blank=True, max_length=62, trim_whitespace=False
        )
        # Issue 17: whether members read PII raw, and the longest access grant in days.
        membersSeeRaw = serializers.BooleanField(required=False)  # noqa: N815
        accessMaxDays = serializers.IntegerField(  # noqa: N815
            required=False, min_value=1, max_value=366
        )

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
        domain = self.get_object()
        if not isinstance(request.data, dict):
            raise Invalid("the body must be a JSON object")
        fields = {name: field for field, name in SETTING_NAMES.items()}
        unknown = sorted(set(request.data) - set(fields))
        if unknown:
            raise Invalid(
                f"unknown field(s): {', '.join(unknown)}",
                fields={name: ["unknown field"] for name in unknown},
            )
        data = self.validated(self.InputSerializer, request.data)
        domain = domain_update(
            actor=signed_in(request.user), domain=domain, **{fields[k]: v for k, v in data.items()}
        )
        return Response(
            {
                "domain": domain.slug,
                "name": domain.name,
                "slackWebhookUrl": domain.slack_webhook_url,
                "tablePrefix": domain.effective_table_prefix,
                "membersSeeRaw": domain.members_see_raw,
                "accessMaxDays": domain.access_max_days,
            }
        )


class ContractSchemaApi(PortalAPIView):
    """The contract's JSON Schema, for editors and CI to validate YAML files."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(responses={200: {"type": "object"}}, summary="JSON Schema of a data contract")
    def get(self, request: Request) -> Response:
        return Response(json_schema(), content_type="application/schema+json")
