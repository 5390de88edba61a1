"""The governance API: policies, compliance scorecards, deprecate and retire (issue 6)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import signed_in
from catalog.api.base import ProductApi
from catalog.documents import product_document
from catalog.governance import lifecycle, selectors, services
from catalog.models import DataProduct, Domain
from catalog.services import PublishOutcome
from config.api import Invalid, PortalAPIView


def _outcome_body(outcome: PublishOutcome) -> dict[str, Any]:
    product = outcome.product
    product.refresh_from_db()
    return {
        "product": product_document(product),
        "changed": outcome.changed,
        "changes": outcome.changes,
        "warnings": outcome.warnings,
        "lifecycleWarnings": lifecycle.product_warnings(product, now=timezone.now()),
        "queryable": lifecycle.is_queryable(product, now=timezone.now()),
    }


class ProductLifecycleApi(ProductApi):
    """A lifecycle step on one product: owners of its domain and admins (a new version)."""

    queryset = DataProduct.objects.select_related("domain").prefetch_related("columns", "checks")
    actions = {"POST": "deprecate"}


class ProductDeprecateApi(ProductLifecycleApi):
    """``POST /v1/governance/products/<id>/deprecate``: announce a sunset (owners, admins)."""

    class InputSerializer(serializers.Serializer):
        sunsetAt = serializers.DateTimeField()  # noqa: N815 - the contract's camelCase
        replacedBy = serializers.CharField(required=False, allow_blank=True, max_length=200)  # noqa: N815
        reason = serializers.CharField(max_length=2000)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OpenApiResponse(description="Deprecated; consumers are e-mailed"),
            400: OpenApiResponse(description="error.fields names each problem"),
            401: OpenApiResponse(description="Not logged in"),
            403: OpenApiResponse(description="Not an owner of the product's domain"),
            404: OpenApiResponse(description="No such product"),
        },
        summary="Deprecate a data product",
    )
    def post(self, request: Request, product_id: str) -> Response:
        product = self.get_object()
        values = self.validated(self.InputSerializer, request.data)
        outcome = services.product_deprecate(
            actor=signed_in(request.user),
            product=product,
            sunset_at=values["sunsetAt"],
            replaced_by=values.get("replacedBy") or None,
            reason=values["reason"],
        )
        return Response(_outcome_body(outcome))


class ProductRetireApi(ProductLifecycleApi):
    """``POST /v1/governance/products/<id>/retire``: stop serving a deprecated product."""

    @extend_schema(
        request=None,
        responses={200: OpenApiResponse(description="Retired"), 400: OpenApiResponse()},
        summary="Retire a deprecated data product",
    )
    def post(self, request: Request, product_id: str) -> Response:
        outcome = services.product_retire(actor=signed_in(request.user), product=self.get_object())
        return Response(_outcome_body(outcome))


class ScorecardListApi(PortalAPIView):
    """``GET /v1/governance/scorecard``: every domain's compliance and the global policies."""

    @extend_schema(responses={200: {"type": "object"}}, summary="Compliance scorecards")
    def get(self, request: Request) -> Response:
        return Response(
            {
                "domains": selectors.scorecards(user=request.user, now=timezone.now()),
                "policies": selectors.policy_catalog(),
            }
        )


class DomainScorecardApi(PortalAPIView):
    """``GET /v1/governance/domains/<slug>/scorecard``: one domain, product by product."""

    queryset = Domain.objects.all()
    lookup_field = "slug"
    noun = "domain"

    @extend_schema(responses={200: {"type": "object"}}, summary="A domain's compliance scorecard")
    def get(self, request: Request, slug: str) -> Response:
        domain = self.get_object()
        return Response(selectors.domain_scorecard(domain, user=request.user, now=timezone.now()))


class PolicyListApi(PortalAPIView):
    """``GET /v1/governance/policies``: the global rules with titles and severities."""

    @extend_schema(responses={200: {"type": "object"}}, summary="Global governance policies")
    def get(self, request: Request) -> Response:
        return Response({"policies": selectors.policy_catalog()})


class PolicyDetailApi(PortalAPIView):
    """``PUT /v1/governance/policies/<key>``: change a global rule (platform admins)."""

    admin_only = {"PUT": "change global policies"}

    class InputSerializer(serializers.Serializer):
        severity = serializers.ChoiceField(choices=["error", "warning", "off"])
        params = serializers.DictField(required=False, default=dict)

    @extend_schema(
        request=InputSerializer, responses={200: {"type": "object"}}, summary="Set a rule"
    )
    def put(self, request: Request, key: str) -> Response:
        values = self.validated(self.InputSerializer, request.data)
        try:
            services.policy_update(
                actor=signed_in(request.user),
                key=key,
                severity=values["severity"],
                params=dict(values["params"]),
            )
        except ValueError as exc:  # the rule as sent cannot be parsed (governance.policies)
            raise Invalid(str(exc), fields={"key": [str(exc)]}) from exc
        policy = next(p for p in selectors.policy_catalog() if p["key"] == key)
        return Response(policy)
