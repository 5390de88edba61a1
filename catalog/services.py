"""Writes to the catalog: publishing contracts, consumers, deprecation.

Every entry point (``manage.py publish``, ``PUT /v1/catalog/products/<id>``, the admin form,
``seed_demo``) publishes through ``product_publish`` so a contract is validated, authorised,
gated and stored the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.models import User

from .contract import Contract, ContractError, ContractIssue, parse_contract
from .models import Column, Consumer, ContractVersion, DataProduct, Domain, QualityCheck


class PublishRefused(Exception):
    """A valid contract that may not be published as it stands (policy, breaking change, table)."""

    def __init__(self, code: str, issues: list[ContractIssue]) -> None:
        self.code = code
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass
class PublishOutcome:
    """What ``product_publish`` did."""

    product: DataProduct
    created: bool
    changed: bool
    version: ContractVersion | None
    changes: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class GateResult:
    """What one publish gate found: blocking issues, warnings and (for the diff) changes."""

    errors: list[ContractIssue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    is_breaking: bool = False
    code: str = "POLICY"


# A gate looks at the new contract and the last published one (None for a new product) and
# reports what it found. Governance, breaking-change and warehouse-conformance gates register
# here (see catalog/governance.py); they run in order and the first blocking one refuses.
PublishGate = Callable[[Contract, Contract | None, Domain | None], GateResult]
PUBLISH_GATES: list[PublishGate] = []


def contract_input(data: object) -> object:
    """Accept our contract document or an ODCS v3 one (converted to ours)."""
    from . import odcs

    if isinstance(data, dict) and odcs.is_odcs(data):
        return odcs.from_odcs(data)
    return data


def product_document(product: DataProduct) -> dict[str, Any]:
    """The product's current contract as the canonical camelCase document."""
    return product_contract(product).to_dict()


def product_contract(product: DataProduct) -> Contract:
    """Rebuild the ``Contract`` from the product's rows."""
    doc: dict[str, Any] = {
        "id": product.product_id,
        "domain": product.domain.slug,
        "name": product.name,
        "description": product.description,
        "owner": {
            "team": product.owner_team,
            "contact": product.owner_contact,
            "slackChannel": product.owner_slack_channel,
        },
        "schema": [
            {
                "column": c.name,
                "type": c.type,
                "description": c.description,
                "pii": c.pii,
                "nullable": c.nullable,
                **({"mask": c.mask} if c.mask else {}),
            }
            for c in product.columns.all()
        ],
        "sla": {
            "freshness": product.sla_freshness,
            "availability": product.sla_availability,
            "queryLatencyP95Ms": product.sla_query_latency_p95_ms,
        },
        "qualityChecks": [
            {
                "name": q.name,
                "type": q.type,
                **({"column": q.column} if q.column else {}),
                **({"params": q.params} if q.params else {}),
                "severity": q.severity,
            }
            for q in product.checks.all()
        ],
        "tags": list(product.tags),
        "version": product.version,
        "status": product.status,
        "table": product.table,
    }
    if product.published_at is not None:
        doc["publishedAt"] = product.published_at.isoformat().replace("+00:00", "Z")
    if product.status in ("deprecated", "retired") and (
        product.deprecation_sunset_at
        or product.deprecation_replaced_by
        or product.deprecation_reason
    ):
        dep: dict[str, Any] = {"reason": product.deprecation_reason}
        if product.deprecation_sunset_at:
            dep["sunsetAt"] = product.deprecation_sunset_at.isoformat().replace("+00:00", "Z")
        if product.deprecation_replaced_by:
            dep["replacedBy"] = product.deprecation_replaced_by
        doc["deprecation"] = dep
    return parse_contract(doc)


def last_published_contract(product: DataProduct) -> Contract | None:
    """The contract of the product's newest ContractVersion, if any."""
    version = product.versions.order_by("-id").first()
    if version is None:
        return None
    try:
        return parse_contract(version.document)
    except ContractError:  # an older document that today's rules refuse: compare with rows
        return product_contract(product)


def _authorize(actor: User | None, contract: Contract, product: DataProduct | None) -> None:
    if actor is None:  # trusted system caller: manage.py publish without --as, seed_demo
        return
    if product is not None:
        if not permissions.can(actor, "change", product):
            raise PermissionDenied(
                f"you may not change {product.product_id} (domain {product.domain.slug})"
            )
    elif not permissions.can_create_in(actor, contract.domain):
        raise PermissionDenied(f"you may not publish products in domain {contract.domain!r}")


def product_publish(
    *,
    actor: User | None,
    document: object,
    source: str = "api",
    expected_id: str | None = None,
    dry_run: bool = False,
) -> PublishOutcome:
    """Validate a contract document and create or update its product.

    Steps: parse and validate the contract; check the URL id; authorise the actor (owner of
    the domain, or admin; ``None`` is a trusted system caller); run the publish gates
    (policies, breaking changes, warehouse conformance); then, in one transaction, upsert
    the domain, product, columns and checks and append a ContractVersion when the document
    differs from the last one. Publishing the same document again changes nothing.
    ``dry_run`` stops after the gates: everything is checked, nothing is written.
    Raises ContractError, PermissionDenied or PublishRefused; nothing is written then.
    """
    contract = parse_contract(contract_input(document))
    if expected_id is not None and contract.id != expected_id:
        raise ContractError(
            [ContractIssue("id", f"must match the product in the URL ({expected_id})")]
        )
    product = DataProduct.objects.select_related("domain").filter(product_id=contract.id).first()
    _authorize(actor, contract, product)
    previous = last_published_contract(product) if product is not None else None
    if contract.published_at is None:
        published_at = product.published_at if product and product.published_at else timezone.now()
        contract = parse_contract({**contract.to_dict(), "publishedAt": published_at.isoformat()})

    domain = Domain.objects.filter(slug=contract.domain).first()
    warnings: list[str] = []
    changes: list[dict[str, Any]] = []
    is_breaking = False
    for gate in PUBLISH_GATES:
        result = gate(contract, previous, domain)
        if result.errors:
            raise PublishRefused(result.code, result.errors)
        warnings.extend(result.warnings)
        changes.extend(result.changes)
        is_breaking = is_breaking or result.is_breaking

    new_doc = contract.to_dict()
    if dry_run:
        return PublishOutcome(
            product or DataProduct(product_id=contract.id),
            product is None,
            True,
            None,
            changes,
            warnings,
        )
    with transaction.atomic():
        if domain is None:
            domain = Domain.objects.create(slug=contract.domain, name=contract.domain.title())
        permissions.grant_domain(domain)
        created = product is None
        if product is None:
            product = DataProduct(product_id=contract.id, domain=domain)
        else:
            product = DataProduct.objects.select_for_update().get(pk=product.pk)
        last = product.versions.order_by("-id").first() if not created else None
        if last is not None and last.document == new_doc:
            return PublishOutcome(product, False, False, None, [], warnings)
        _apply(product, contract)
        version = ContractVersion.objects.create(
            product=product,
            version=contract.version,
            document=new_doc,
            changes=changes,
            is_breaking=is_breaking,
            source=source,
            published_by=actor,
        )
        from . import lifecycle_hooks

        transaction.on_commit(lambda: lifecycle_hooks.after_publish(version.pk))
    return PublishOutcome(product, created, True, version, changes, warnings)


def _apply(product: DataProduct, contract: Contract) -> None:
    """Copy the contract onto the product's rows (product, columns, checks)."""
    product.name = contract.name
    product.description = contract.description
    product.owner_team = contract.owner.team
    product.owner_contact = contract.owner.contact
    product.owner_slack_channel = contract.owner.slack_channel
    product.sla_freshness = contract.sla.freshness
    product.sla_availability = contract.sla.availability
    product.sla_query_latency_p95_ms = contract.sla.query_latency_p95_ms
    product.tags = list(contract.tags)
    product.version = contract.version
    product.published_at = contract.published_at
    product.status = contract.status
    product.table = contract.table
    dep = contract.deprecation
    product.deprecation_sunset_at = dep.sunset_at if dep else None
    product.deprecation_replaced_by = (dep.replaced_by or "") if dep else ""
    product.deprecation_reason = dep.reason if dep else ""
    product.has_pii = any(c.pii for c in contract.schema)
    if product.next_check_at is None:
        product.next_check_at = timezone.now()
    product.save()
    product.columns.all().delete()
    Column.objects.bulk_create(
        Column(
            product=product,
            position=i,
            name=c.column,
            type=c.type,
            description=c.description,
            pii=c.pii,
            nullable=c.nullable,
            mask=c.mask or "",
        )
        for i, c in enumerate(contract.schema)
    )
    product.checks.all().delete()
    QualityCheck.objects.bulk_create(
        QualityCheck(
            product=product,
            position=i,
            name=q.name,
            type=q.type,
            column=q.column or "",
            params=dict(q.params),
            severity=q.severity,
        )
        for i, q in enumerate(contract.quality_checks)
    )
    from .search import search_index_refresh

    search_index_refresh([product.pk])


def consumer_register(
    *, product: DataProduct, team: str, use_case: str, contact: str
) -> tuple[Consumer, bool]:
    """Register (or update, for the same team) a consumer of ``product``."""
    consumer, created = Consumer.objects.update_or_create(
        product=product,
        team=team.strip(),
        defaults={"use_case": use_case.strip(), "contact": contact},
    )
    return consumer, created
