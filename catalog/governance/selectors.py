"""Governance reads: the rules in force, what the gates look up, and compliance scorecards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from accounts.permissions import restrict
from catalog.access import masking_figure
from catalog.contract.vocabulary import ProductStatus, Severity
from catalog.documents import product_contract
from catalog.models import DataProduct, Domain, GovernancePolicy, TableAssignment
from quality.health import HEALTH_STATES, Health, SlaStatus

from .namespace import default_prefix
from .policies import (
    DEFAULT_POLICIES,
    POLICIES,
    SEVERITY_LEVELS,
    PolicyRule,
    evaluate_policies,
    merge_rules,
    parse_rules,
    pii_category_for_name,
)

# ---------------------------------------------------------------------------------------------
# The rules in force
# ---------------------------------------------------------------------------------------------


def global_rules() -> list[PolicyRule]:
    """The platform's rules: GovernancePolicy rows, created from the defaults when missing.

    The one read that writes: a missing row is seeded from ``DEFAULT_POLICIES`` (idempotent),
    so the admin and the API always list every rule the engine knows.
    """
    rows = {p.key: p for p in GovernancePolicy.objects.all()}
    missing = [r for r in DEFAULT_POLICIES if r.key not in rows]
    if missing:
        # One INSERT ... ON CONFLICT DO NOTHING: concurrent first publishes both seed safely
        # (a read-then-write transaction deadlocks on SQLite's database lock).
        GovernancePolicy.objects.bulk_create(
            [
                GovernancePolicy(key=r.key, severity=r.severity, params=dict(r.params))
                for r in missing
            ],
            ignore_conflicts=True,
        )
        rows = {p.key: p for p in GovernancePolicy.objects.all()}
    # Rows for policies the engine no longer knows are ignored, never guessed at.
    return [
        PolicyRule(row.key, row.severity, dict(row.params or {}))
        for row in (rows[r.key] for r in DEFAULT_POLICIES)
        if row.severity in SEVERITY_LEVELS
    ]


def domain_overrides(domain: Domain | None) -> list[PolicyRule]:
    """The domain's stricter rules (``Domain.policy_overrides``); ValueError when malformed."""
    if domain is None or not domain.policy_overrides:
        return []
    return parse_rules(domain.policy_overrides)


def rules_for(domain: Domain | None) -> list[PolicyRule]:
    """The rules a domain's products must meet: global ones, tightened by the domain."""
    return merge_rules(global_rules(), domain_overrides(domain))


def policy_catalog() -> list[dict[str, Any]]:
    """Every global rule with its title, description, severity and params, for pages and API."""
    rows = {p.key: p for p in GovernancePolicy.objects.select_related("updated_by")}
    out = []
    for rule in global_rules():
        definition = POLICIES[rule.key]
        row = rows.get(rule.key)
        out.append(
            {
                "key": rule.key,
                "title": definition.title,
                "description": definition.description,
                "severity": rule.severity,
                "defaultSeverity": definition.default_severity,
                "params": {**definition.default_params, **rule.params},
                "updatedAt": row.updated_at.isoformat() if row else None,
                "updatedBy": row.updated_by.username if row and row.updated_by else None,
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# What the gates look up
# ---------------------------------------------------------------------------------------------


def product_status(product_id: str) -> str | None:
    """The status of the product ``product_id``, or None when there is no such product."""
    return (
        DataProduct.objects.filter(product_id=product_id).values_list("status", flat=True).first()
    )


def table_namespaces(*, creating: str) -> tuple[dict[str, str], dict[str, str]]:
    """Each domain's effective table prefix (with ``creating``'s default when it is new) and
    the admins' table assignments (table → domain slug)."""
    prefixes = {d.slug: d.effective_table_prefix for d in Domain.objects.all()}
    prefixes.setdefault(creating, default_prefix(creating))
    assignments = dict(TableAssignment.objects.values_list("table", "domain__slug"))
    return prefixes, assignments


def live_products_on(table: str, *, excluding: str) -> list[tuple[str, str, str]]:
    """``(product_id, status, table)`` of the live products but ``excluding`` whose table name
    may be ``table``: iexact narrows in the database (SQLite folds ASCII only, PostgreSQL more,
    never fewer); the caller decides with the warehouses' rule (``namespace.same_table``)."""
    return list(
        DataProduct.objects.filter(table__iexact=table)
        .exclude(product_id=excluding)
        .exclude(status=ProductStatus.RETIRED)
        .order_by("product_id")
        .values_list("product_id", "status", "table")
    )


# ---------------------------------------------------------------------------------------------
# Compliance scorecards
# ---------------------------------------------------------------------------------------------

SCORED_STATUSES = (ProductStatus.PUBLISHED, ProductStatus.DEPRECATED)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def product_compliance(
    product: DataProduct,
    rules: Sequence[PolicyRule],
    *,
    now: datetime,
    health: Health | None = None,
    sla: SlaStatus | None = None,
) -> dict[str, Any]:
    """One product's standing: policy violations, PII coverage, SLA, open incidents, health.

    SLA and health are the facts quality stored on the product, judged at ``now``.
    """
    violations = evaluate_policies(product_contract(product), rules)
    columns = list(product.columns.all())
    personal = [c for c in columns if pii_category_for_name(c.name)]
    health = health if health is not None else product.health_now(now)
    return {
        "id": product.product_id,
        "name": product.name,
        "status": product.status,
        "compliant": not violations,
        "errors": sum(v.severity == Severity.ERROR for v in violations),
        "warnings": sum(v.severity == Severity.WARNING for v in violations),
        "violations": [v.to_dict() for v in violations],
        "personalLookingColumns": len(personal),
        "personalColumnsFlagged": sum(c.pii for c in personal),
        "unflaggedPersonalColumns": [c.name for c in personal if not c.pii],
        "slaMet": (sla if sla is not None else product.sla_now(now)).met,
        "openIncidents": product.open_incident_count,
        # The verdict every surface shows (quality/health.py), from the stored facts.
        "health": health.state,
        "healthReasons": list(health.reasons),
    }


def domain_scorecard(domain: Domain, *, user: Any, now: datetime) -> dict[str, Any]:
    """A domain's compliance: share of products passing every policy, PII coverage, SLA, incidents.

    Counts the domain's live (published or deprecated) products ``user`` may read. PII coverage
    is the share of columns whose *name* looks personal that are flagged pii (values are only
    sampled at publish time, not on every page view).
    """
    products = (
        restrict(DataProduct.objects.filter(domain=domain), user, "view")
        .filter(status__in=SCORED_STATUSES)
        .select_related("domain")
        .prefetch_related("columns", "checks")
        .order_by("product_id")
    )
    try:
        rules = rules_for(domain)
        rules_error = None
    except ValueError as exc:
        rules, rules_error = global_rules(), str(exc)
    rows = [
        product_compliance(p, rules, now=now, health=p.health_now(now), sla=p.sla_now(now))
        for p in products
    ]
    health_counts = {s: sum(r["health"] == s for r in rows) for s in HEALTH_STATES}
    personal = sum(r["personalLookingColumns"] for r in rows)
    flagged = sum(r["personalColumnsFlagged"] for r in rows)
    measured = [r for r in rows if r["slaMet"] is not None]
    met = sum(1 for r in measured if r["slaMet"])
    passing = sum(1 for r in rows if r["compliant"])
    return {
        "domain": domain.slug,
        "name": domain.name,
        "products": len(rows),
        "policyCompliance": {
            "passing": passing,
            "total": len(rows),
            "share": _share(passing, len(rows)),
        },
        "piiCoverage": {
            "flagged": flagged,
            "personalLooking": personal,
            "share": _share(flagged, personal),
        },
        "slaMet": {
            "met": met,
            "measured": len(measured),
            "share": _share(met, len(measured)),
            "windowDays": 30,
        },
        "openIncidents": sum(r["openIncidents"] for r in rows),
        # The write-up's masking claim, measured (issue 17; definitions in catalog/access.py).
        "piiMasking": masking_figure([r["id"] for r in rows], now=now).as_dict(),
        # Stale or failing products (issue 12): the home page's "needs attention" counts them too.
        "needsAttention": health_counts["stale"] + health_counts["failing"],
        "health": health_counts,
        "policyOverrides": domain.policy_overrides or [],
        "policyOverridesError": rules_error,
        "productDetails": rows,
    }


def scorecards(*, user: Any, now: datetime) -> list[dict[str, Any]]:
    """Every domain's scorecard (without per-product details), by slug."""
    out = []
    for domain in Domain.objects.order_by("slug"):
        card = domain_scorecard(domain, user=user, now=now)
        card.pop("productDetails")
        out.append(card)
    return out
