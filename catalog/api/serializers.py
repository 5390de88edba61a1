"""Catalog API shapes: the write-up's search, product, domain and consumer bodies (camelCase)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.contract.vocabulary import ProductStatus
from catalog.models import DataProduct
from catalog.services.consumers import REGISTERED_KINDS
from quality.health import Health


class ProductOwnerSerializer(serializers.Serializer):
    team = serializers.CharField(source="owner_team")
    contact = serializers.EmailField(source="owner_contact")
    slackChannel = serializers.CharField(source="owner_slack_channel")  # noqa: N815


class ProductSlaSerializer(serializers.Serializer):
    freshness = serializers.ChoiceField(
        source="sla_freshness", choices=["realtime", "1h", "4h", "24h"]
    )
    availability = serializers.FloatField(source="sla_availability")
    queryLatencyP95Ms = serializers.FloatField(source="sla_query_latency_p95_ms")  # noqa: N815


class ProductDeprecationSerializer(serializers.Serializer):
    sunsetAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    replacedBy = serializers.CharField(allow_null=True)  # noqa: N815
    reason = serializers.CharField()


def deprecation_of(product: DataProduct) -> dict[str, Any] | None:
    """The deprecation notice of a deprecated or retired product, else None."""
    if product.status not in (ProductStatus.DEPRECATED, ProductStatus.RETIRED):
        return None
    sunset = product.deprecation_sunset_at
    return {
        "sunsetAt": serializers.DateTimeField().to_representation(sunset) if sunset else None,
        "replacedBy": product.deprecation_replaced_by or None,
        "reason": product.deprecation_reason,
    }


def deprecation_warnings(product: DataProduct) -> list[str]:
    """Human warnings for a deprecated product: replacement and sunset."""
    dep = deprecation_of(product)
    if dep is None:
        return []
    text = f"{product.product_id} is {product.status}"
    if dep["replacedBy"]:
        text += f"; use {dep['replacedBy']} instead"
    if dep["sunsetAt"]:
        text += f"; it stops being served at {dep['sunsetAt']}"
    return [text + "."]


HEALTH_HELP = (
    "ok | warning | failing | stale | unknown: the one verdict every surface shows "
    "(quality/health.py; precedence stale > failing > unknown > warning > ok)"
)


def health_of_product(product: DataProduct) -> Health:
    """The product's verdict: the one ``catalog.selectors.attach_health`` set, else judged now
    from the facts quality stored on the product."""
    health = getattr(product, "verdict", None)
    if health is None:
        health = product.health_now(timezone.now())
        product.verdict = health  # type: ignore[attr-defined]
    return health


class ProductSummarySerializer(serializers.Serializer):
    """One search hit: the write-up's fields, plus relevance, freshness and deprecation."""

    id = serializers.CharField(source="product_id")
    domain = serializers.CharField(source="domain.slug")
    name = serializers.CharField()
    description = serializers.CharField()
    owner = ProductOwnerSerializer(source="*")
    sla = ProductSlaSerializer(source="*")
    tags = serializers.ListField(child=serializers.CharField())
    version = serializers.IntegerField()
    status = serializers.CharField()
    lastValidated = serializers.DateTimeField(source="last_validated_at", allow_null=True)  # noqa: N815
    qualityScore = serializers.FloatField(source="quality_score", allow_null=True)  # noqa: N815
    freshness = serializers.SerializerMethodField(help_text="fresh | stale | unknown")
    health = serializers.SerializerMethodField(help_text=HEALTH_HELP)
    healthReasons = serializers.SerializerMethodField(  # noqa: N815
        help_text="Sentences justifying the verdict, most severe first"
    )
    relevance = serializers.SerializerMethodField(help_text="Search relevance; higher is better")
    deprecation = serializers.SerializerMethodField()
    queries30d = serializers.IntegerField(
        source="queries_30d",
        help_text="Answered governed queries over the last 30 UTC days (as of the last usage "
        "rollup, every 10 minutes)",
    )

    def get_freshness(self, product: DataProduct) -> str:
        return str(getattr(product, "freshness_state", "unknown"))

    def get_health(self, product: DataProduct) -> str:
        return health_of_product(product).state

    def get_healthReasons(self, product: DataProduct) -> list[str]:  # noqa: N802
        return list(health_of_product(product).reasons)

    def get_relevance(self, product: DataProduct) -> float:
        return round(float(getattr(product, "relevance", 0.0) or 0.0), 4)

    @extend_schema_field(ProductDeprecationSerializer(allow_null=True))
    def get_deprecation(self, product: DataProduct) -> dict[str, Any] | None:
        return deprecation_of(product)

    def to_representation(self, instance: DataProduct) -> dict[str, Any]:
        """The fields above, built directly: a search page renders up to 200 hits, and DRF's
        per-field machinery cost more than the rest of the request. The same output as the
        declared fields give (tests/catalog/test_request_cost.py compares them)."""
        p = instance
        health = health_of_product(p)
        return {
            "id": str(p.product_id),
            "domain": str(p.domain.slug),
            "name": str(p.name),
            "description": str(p.description),
            "owner": {
                "team": str(p.owner_team),
                "contact": str(p.owner_contact),
                "slackChannel": str(p.owner_slack_channel),
            },
            "sla": {
                "freshness": p.sla_freshness,
                "availability": _float(p.sla_availability),
                "queryLatencyP95Ms": _float(p.sla_query_latency_p95_ms),
            },
            "tags": None
            if p.tags is None
            else [None if tag is None else str(tag) for tag in p.tags],
            "version": int(p.version),
            "status": str(p.status),
            "lastValidated": _DATETIME.to_representation(p.last_validated_at)
            if p.last_validated_at is not None
            else None,
            "qualityScore": _float(p.quality_score),
            "freshness": self.get_freshness(p),
            "health": health.state,
            "healthReasons": list(health.reasons),
            "relevance": self.get_relevance(p),
            "deprecation": deprecation_of(p),
            "queries30d": int(p.queries_30d),
        }


_DATETIME = serializers.DateTimeField()


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


class SearchResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="All matching products, not just this page")
    page = serializers.IntegerField()
    pageSize = serializers.IntegerField()  # noqa: N815
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    products = ProductSummarySerializer(many=True)


class PageParamsSerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=100_000, default=1)
    pageSize = serializers.IntegerField(min_value=1, max_value=200, default=50)  # noqa: N815


class DomainCountSerializer(serializers.Serializer):
    domain = serializers.CharField()
    productCount = serializers.IntegerField()  # noqa: N815


class ContractColumnSerializer(serializers.Serializer):
    column = serializers.CharField()
    type = serializers.CharField()
    description = serializers.CharField()
    pii = serializers.BooleanField()
    nullable = serializers.BooleanField()
    mask = serializers.CharField(required=False)


class ContractCheckSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    column = serializers.CharField(required=False)
    params = serializers.DictField(required=False)
    severity = serializers.CharField()


class ProductQualityResultSerializer(serializers.Serializer):
    checkName = serializers.CharField(source="check_name")  # noqa: N815
    type = serializers.CharField(source="check_type")
    status = serializers.CharField(help_text="passed | failed | error")
    passed = serializers.BooleanField()
    severity = serializers.CharField()
    message = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    checkedAt = serializers.DateTimeField(source="created_at")  # noqa: N815


class ProductConsumerSerializer(serializers.Serializer):
    team = serializers.CharField()
    useCase = serializers.CharField(source="use_case")  # noqa: N815
    # Issue 16: what consumes the product (a dashboard, application, notebook, team, or a
    # product built from it) and where to find it.
    kind = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField()


class ProductIncidentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    message = serializers.CharField()
    openedAt = serializers.DateTimeField(source="opened_at")  # noqa: N815
    resolvedAt = serializers.DateTimeField(source="resolved_at", allow_null=True)  # noqa: N815


class ChangelogEntrySerializer(serializers.Serializer):
    version = serializers.IntegerField()
    # When the version was published (its contract's publishedAt, what the product shows),
    # and when the portal stored it.
    publishedAt = serializers.DateTimeField(source="published_at")  # noqa: N815
    recordedAt = serializers.DateTimeField(source="created_at")  # noqa: N815
    changes = serializers.ListField(child=serializers.DictField())
    isBreaking = serializers.BooleanField(source="is_breaking")  # noqa: N815
    # A declared field (DRF's metaclass takes it out of the class), not Field.source.
    source = serializers.CharField()  # type: ignore[assignment]


class ProductSlaStatusSerializer(serializers.Serializer):
    freshnessState = serializers.CharField()  # noqa: N815
    hoursStale = serializers.FloatField(allow_null=True)  # noqa: N815
    freshnessLimitH = serializers.FloatField()  # noqa: N815
    availabilityPct = serializers.FloatField(allow_null=True)  # noqa: N815
    availabilityTarget = serializers.FloatField()  # noqa: N815
    availabilityMet = serializers.BooleanField(allow_null=True)  # noqa: N815
    latencyP95Ms = serializers.FloatField(allow_null=True)  # noqa: N815
    latencyTargetMs = serializers.FloatField()  # noqa: N815
    latencyMet = serializers.BooleanField(allow_null=True)  # noqa: N815


class ProductDetailSerializer(serializers.Serializer):
    """The whole product: its contract, quality, consumers, incidents and changelog.

    Documents the response of GET /v1/catalog/products/<id>; the body is built by
    ``catalog.api.views.product_detail_body``.
    """

    id = serializers.CharField()
    domain = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    owner = serializers.DictField(help_text="team, contact, slackChannel")
    schema = ContractColumnSerializer(many=True)
    sla = serializers.DictField(help_text="freshness, availability, queryLatencyP95Ms")
    qualityChecks = ContractCheckSerializer(many=True)  # noqa: N815
    tags = serializers.ListField(child=serializers.CharField())
    version = serializers.IntegerField()
    publishedAt = serializers.DateTimeField(required=False)  # noqa: N815
    status = serializers.CharField()
    table = serializers.CharField()
    deprecation = ProductDeprecationSerializer(required=False)
    lastValidated = serializers.DateTimeField(allow_null=True)  # noqa: N815
    qualityScore = serializers.FloatField(allow_null=True)  # noqa: N815
    freshness = serializers.CharField(help_text="fresh | stale | unknown")
    health = serializers.CharField(help_text=HEALTH_HELP)
    healthReasons = serializers.ListField(child=serializers.CharField())  # noqa: N815
    scoreSlaNote = serializers.CharField(  # noqa: N815
        allow_null=True,
        help_text="Set when the quality score and the SLA disagree: which is breached and why",
    )
    slaStatus = ProductSlaStatusSerializer(allow_null=True)  # noqa: N815
    profile = serializers.DictField(
        allow_null=True,
        help_text="The newest run's column profile: rows, and per column nulls, nullShare, "
        "distinct (distinctExact), min, max and top values (PII columns: counted through their "
        "keyed hash, top values through their mask; null before the first run)",
    )
    qualityHistory = ProductQualityResultSerializer(many=True, help_text="Last 30, newest first")  # noqa: N815
    consumers = ProductConsumerSerializer(many=True)
    incidents = ProductIncidentSerializer(many=True)
    changelog = ChangelogEntrySerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())
    usage = serializers.DictField(
        help_text="queries30d, users30d, queriesPerDay [{date, count}] (30 UTC days, today "
        "counted live, zeros included), topTeams [{team, queries, users}]"
    )


class ConsumerRegisterInputSerializer(serializers.Serializer):
    team = serializers.CharField(max_length=200, trim_whitespace=True)
    useCase = serializers.CharField(max_length=5000, trim_whitespace=True)  # noqa: N815
    contact = serializers.EmailField(max_length=254)
    # Optional (issue 16): without them the consumer is the team itself.
    kind = serializers.ChoiceField(choices=list(REGISTERED_KINDS), default="team")
    name = serializers.CharField(max_length=200, trim_whitespace=True, required=False)
    url = serializers.URLField(max_length=500, required=False, allow_blank=True)


class ConsumerRegisterOutputSerializer(serializers.Serializer):
    registered = serializers.BooleanField()
    created = serializers.BooleanField(help_text="False when the team was already registered")


class CatalogErrorSerializer(serializers.Serializer):
    error = serializers.DictField(help_text='{"code", "message", "fields"?}')


class CatalogNotFoundSerializer(serializers.Serializer):
    error = serializers.CharField(default="Not found")
