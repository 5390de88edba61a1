"""Governance pages and API: policies, compliance scorecards, deprecate and retire (issue 6)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from catalog.api.views import (
    contract_error_response,
    product_not_found,
    publish_refused_response,
)
from catalog.contract import ContractError
from catalog.models import DataProduct, Domain
from catalog.services import PublishOutcome, PublishRefused, product_document
from config.api import error_response

from . import governance, lifecycle

# ---------------------------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------------------------


def _visible_product(request: Request, product_id: str) -> DataProduct | None:
    return (
        permissions.restrict(DataProduct.objects.select_related("domain"), request.user, "view")
        .prefetch_related("columns", "checks")
        .filter(product_id=product_id)
        .first()
    )


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


class ProductLifecycleApi(APIView):
    """Shared handling: find the product, check the owner's right, map refusals to 400."""

    def _run(self, request: Request, product_id: str, action: Any) -> Response:
        product = _visible_product(request, product_id)
        if product is None:
            return product_not_found(product_id)
        if not permissions.can(request.user, "deprecate", product):
            return error_response(
                "FORBIDDEN",
                f"only owners of domain {product.domain.slug} or admins may do this",
                status.HTTP_403_FORBIDDEN,
            )
        try:
            outcome = action(product)
        except ContractError as exc:
            return contract_error_response(exc.issues)
        except PublishRefused as exc:
            return publish_refused_response(exc)
        except PermissionDenied as exc:
            return error_response("FORBIDDEN", str(exc), status.HTTP_403_FORBIDDEN)
        return Response(_outcome_body(outcome))


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
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return self._run(
            request,
            product_id,
            lambda product: lifecycle.product_deprecate(
                actor=request.user,
                product=product,
                sunset_at=values["sunsetAt"],
                replaced_by=values.get("replacedBy") or None,
                reason=values["reason"],
            ),
        )


class ProductRetireApi(ProductLifecycleApi):
    """``POST /v1/governance/products/<id>/retire``: stop serving a deprecated product."""

    @extend_schema(
        request=None,
        responses={200: OpenApiResponse(description="Retired"), 400: OpenApiResponse()},
        summary="Retire a deprecated data product",
    )
    def post(self, request: Request, product_id: str) -> Response:
        return self._run(
            request,
            product_id,
            lambda product: lifecycle.product_retire(actor=request.user, product=product),
        )


class ScorecardListApi(APIView):
    """``GET /v1/governance/scorecard``: every domain's compliance and the global policies."""

    @extend_schema(responses={200: {"type": "object"}}, summary="Compliance scorecards")
    def get(self, request: Request) -> Response:
        return Response(
            {
                "domains": governance.scorecards(user=request.user, now=timezone.now()),
                "policies": governance.policy_catalog(),
            }
        )


class DomainScorecardApi(APIView):
    """``GET /v1/governance/domains/<slug>/scorecard``: one domain, product by product."""

    @extend_schema(responses={200: {"type": "object"}}, summary="A domain's compliance scorecard")
    def get(self, request: Request, slug: str) -> Response:
        domain = permissions.restrict(Domain.objects.all(), request.user, "view").filter(slug=slug)
        found = domain.first()
        if found is None:
            return error_response(
                "NOT_FOUND", f"no domain {slug!r} that you can see", status.HTTP_404_NOT_FOUND
            )
        return Response(governance.domain_scorecard(found, user=request.user, now=timezone.now()))


class PolicyListApi(APIView):
    """``GET /v1/governance/policies``: the global rules with titles and severities."""

    @extend_schema(responses={200: {"type": "object"}}, summary="Global governance policies")
    def get(self, request: Request) -> Response:
        return Response({"policies": governance.policy_catalog()})


class PolicyDetailApi(APIView):
    """``PUT /v1/governance/policies/<key>``: change a global rule (platform admins)."""

    class InputSerializer(serializers.Serializer):
        severity = serializers.ChoiceField(choices=["error", "warning", "off"])
        params = serializers.DictField(required=False, default=dict)

    @extend_schema(
        request=InputSerializer, responses={200: {"type": "object"}}, summary="Set a rule"
    )
    def put(self, request: Request, key: str) -> Response:
        if not permissions.is_admin(request.user):
            return error_response(
                "FORBIDDEN", "only platform admins may change global policies", 403
            )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            governance.policy_update(
                actor=request.user,
                key=key,
                severity=data.validated_data["severity"],
                params=dict(data.validated_data["params"]),
            )
        except ValueError as exc:
            return error_response("INVALID", str(exc), 400, {"key": [str(exc)]})
        policy = next(p for p in governance.policy_catalog() if p["key"] == key)
        return Response(policy)


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------


@login_required
def governance_home(request: HttpRequest) -> HttpResponse:
    """Every domain's scorecard and the global policies (admins get an edit link)."""
    return render(
        request,
        "catalog/governance.html",
        {
            "scorecards": governance.scorecards(user=request.user, now=timezone.now()),
            "policies": governance.policy_catalog(),
            "is_admin": permissions.is_admin(request.user),
        },
    )


@login_required
def governance_domain(request: HttpRequest, slug: str) -> HttpResponse:
    """One domain's scorecard, product by product, with each violation."""
    domain = permissions.restrict(Domain.objects.all(), request.user, "view").filter(slug=slug)
    found = domain.first()
    if found is None:
        raise Http404("no such domain")
    card = governance.domain_scorecard(found, user=request.user, now=timezone.now())
    return render(
        request,
        "catalog/governance_domain.html",
        {
            "card": card,
            "domain": found,
            "can_edit_overrides": permissions.is_admin(request.user),
        },
    )
