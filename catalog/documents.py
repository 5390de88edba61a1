"""A product's rows read back as its contract, and documents in either dialect read as ours.

Reads only: ``catalog/services/publish.py`` writes the rows from a contract; these functions
rebuild the contract from them (exports, the admin form, deprecate and retire, scorecards).
"""

from __future__ import annotations

from typing import Any

from . import odcs
from .contract import Contract, ContractError, parse_contract
from .contract.vocabulary import Access, ProductStatus
from .models import ContractVersion, DataProduct


def contract_input(data: object) -> object:
    """Accept our contract document or an ODCS v3 one (converted to ours)."""
    if isinstance(data, dict) and odcs.is_odcs(data):
        return odcs.from_odcs(data)
    return data


def _iso(value: Any) -> str:
    return str(value.isoformat()).replace("+00:00", "Z")


def optional_keys(product: DataProduct) -> dict[str, Any]:
    """The contract's optional keys as ``product`` has them: ``access`` when not open
    (issue 17), ``inputs`` when it has some (issue 16), ``warehouse`` when its contract names
    a connection (issue 18). The admin's product form edits none of them and keeps these."""
    keys: dict[str, Any] = {}
    if product.access != Access.OPEN:
        keys["access"] = product.access
    if product.inputs:
        keys["inputs"] = list(product.inputs)
    if product.warehouse is not None:
        keys["warehouse"] = product.warehouse.name
    return keys


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
        doc["publishedAt"] = _iso(product.published_at)
    doc.update(optional_keys(product))
    if product.status in (ProductStatus.DEPRECATED, ProductStatus.RETIRED) and (
        product.deprecation_sunset_at
        or product.deprecation_replaced_by
        or product.deprecation_reason
    ):
        dep: dict[str, Any] = {"reason": product.deprecation_reason}
        if product.deprecation_sunset_at:
            dep["sunsetAt"] = _iso(product.deprecation_sunset_at)
        if product.deprecation_replaced_by:
            dep["replacedBy"] = product.deprecation_replaced_by
        doc["deprecation"] = dep
    return parse_contract(doc)


def product_document(product: DataProduct) -> dict[str, Any]:
    """The product's current contract as the canonical camelCase document."""
    return product_contract(product).to_dict()


def version_contract(version: ContractVersion | None, product: DataProduct) -> Contract | None:
    """The contract of ``version`` (the product's newest ContractVersion), if any."""
    if version is None:
        return None
    try:
        return parse_contract(version.document)
    except ContractError:  # an older document that today's rules refuse: compare with rows
        return product_contract(product)
