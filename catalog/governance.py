"""Federated governance at publish time: the publish gates and the rules they apply (issue 6).

Six gates run, in this order, inside ``catalog.services.product_publish`` (registered by
``CatalogConfig.ready``); the first one that finds a blocking problem refuses the publish and
nothing is written:

1. ``lifecycle_gate`` (``LIFECYCLE``): draft → published → deprecated → retired; no way back
   from retired; a deprecation needs a sunset date and a reason, and names an existing product.
2. ``breaking_change_gate`` (``BREAKING_CHANGE``): diff against the last version; a breaking
   change needs a higher ``version``. Every change (breaking or not) is recorded on the new
   ContractVersion as ``{"path", "kind", "message", "breaking"}``.
3. ``table_binding_gate`` (``TABLE_BINDING``): the table belongs to the product's domain (its
   prefix namespace or an admin's assignment, ``catalog.namespace``) and no other live product
   binds it (issue 11). Runs before anything reads the warehouse, and again under the
   publish's lock (``PUBLISH_RECHECKS``).
4. ``policies_gate`` (``POLICY``): the global rules (``GovernancePolicy`` rows, seeded from
   ``catalog.policies.DEFAULT_POLICIES``) made stricter by the domain's ``policy_overrides``.
   String columns are sampled from the warehouse so personal-looking *values* are caught too.
5. ``custom_sql_gate`` (``CUSTOM_SQL``): every ``custom_sql`` check passes the same gate that
   runs it (``quality.checks.gate_custom_sql``), so refused SQL is refused at publish.
6. ``conformance_gate`` (``CONFORMANCE``): the table exists and each declared column exists with
   a type of the declared family.

Decisions (issue 11: every path into ``published`` runs every gate in full):

- The only leniency is for a change that only moves the lifecycle *away from published*
  (deprecate, retire, a new sunset date): a rule tightened after publication, or a table that
  vanished, must not stop an owner from deprecating or retiring. Those errors are warnings
  then. Any contract whose resulting status is ``published`` (a status-only draft → published,
  deprecated → published, any edit) is held to every gate, whatever changed.
- Drafts may be created before their table exists: for a draft, conformance problems are
  warnings (policies, table binding and custom SQL still refuse). Retired products are not
  checked against the warehouse (the table may be gone) and release their table.
- ``settings.PUBLISH_REQUIRE_WAREHOUSE = False`` turns conformance problems (and values that
  could not be sampled) into warnings (test suites without a warehouse); it defaults to True.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings

from accounts.models import User

from .contract import Contract, ContractIssue
from .contract_diff import diff_contracts, needs_version_bump
from .models import DataProduct, Domain, GovernancePolicy, TableAssignment
from .namespace import default_prefix, same_table, table_owner
from .policies import (
    DEFAULT_POLICIES,
    POLICIES,
    SEVERITY_LEVELS,
    PolicyRule,
    Violation,
    evaluate_policies,
    merge_rules,
    parse_rules,
)
from .services import PUBLISH_GATES, PUBLISH_RECHECKS, GateResult, PublishGate

LIFECYCLE_KINDS = frozenset({"status_changed", "deprecation_changed"})

# Allowed status moves; staying in the same status is always allowed (except out of retired
# nothing but retired). A published product is deprecated before it is retired, so consumers
# get a sunset date first; a draft nobody consumed may be retired straight away.
TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"draft", "published"}),
    "draft": frozenset({"draft", "published", "retired"}),
    "published": frozenset({"published", "deprecated"}),
    "deprecated": frozenset({"deprecated", "published", "retired"}),
    "retired": frozenset({"retired"}),
}


# ---------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------


def global_rules() -> list[PolicyRule]:
    """The platform's rules: GovernancePolicy rows, created from the defaults when missing."""
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


def policy_update(*, actor: User, key: str, severity: str, params: dict[str, Any]) -> PolicyRule:
    """Change one global rule (admins); ValueError names what is wrong."""
    rule = parse_rules([{"key": key, "severity": severity, "params": params}])[0]
    global_rules()
    GovernancePolicy.objects.filter(key=key).update(
        severity=rule.severity, params=dict(rule.params), updated_by=actor
    )
    return rule


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
# The gates
# ---------------------------------------------------------------------------------------------


def _warehouse() -> Any:
    from querying.warehouses import warehouse_from_url

    return warehouse_from_url(settings.WAREHOUSE_URL)


def _is_lifecycle_only(contract: Contract, previous: Contract | None) -> bool:
    if previous is None:
        return False
    changes = diff_contracts(previous, contract)
    return bool(changes) and all(c.kind in LIFECYCLE_KINDS for c in changes)


def is_lenient(contract: Contract, previous: Contract | None) -> bool:
    """Whether refusals become warnings: only a lifecycle-only move away from published.

    Deprecating or retiring is the remedy for a product that breaks a rule tightened later
    or whose table vanished, so it is never blocked. Nothing that results in ``published``
    (or stays a draft, or edits a deprecated product) is lenient (issue 11).
    """
    return contract.status in ("deprecated", "retired") and _is_lifecycle_only(contract, previous)


def _warehouse_enforced(contract: Contract, previous: Contract | None) -> bool:
    """Whether warehouse problems (missing table, unreadable values) refuse this publish."""
    required = bool(getattr(settings, "PUBLISH_REQUIRE_WAREHOUSE", True))
    return (
        required
        and contract.status not in ("draft", "retired")
        and not is_lenient(contract, previous)
    )


def lifecycle_gate(
    contract: Contract, previous: Contract | None, domain: Domain | None
) -> GateResult:
    """Refuse status moves the lifecycle does not allow and incomplete deprecations."""
    result = GateResult(code="LIFECYCLE")
    before = previous.status if previous is not None else None
    allowed = TRANSITIONS.get(before, frozenset())
    if contract.status not in allowed:
        if before is None:
            why = "a new product starts as draft or published"
        elif before == "retired":
            why = "a retired product cannot come back; publish a new product id instead"
        elif before == "published" and contract.status == "retired":
            why = "deprecate it first (with a sunset date) so consumers can move"
        elif before == "published" and contract.status == "draft":
            why = "a published product cannot go back to draft; deprecate it instead"
        else:
            why = f"allowed from {before}: {', '.join(sorted(allowed))}"
        result.errors.append(
            ContractIssue(
                "status", f"cannot move from {before or 'new'} to {contract.status}: {why}"
            )
        )
    if contract.status == "deprecated":
        dep = contract.deprecation
        if dep is None:
            result.errors.append(
                ContractIssue("deprecation", "a deprecated product needs sunsetAt and reason")
            )
        else:
            if dep.sunset_at is None:
                result.errors.append(
                    ContractIssue("deprecation.sunsetAt", "required when deprecating a product")
                )
            if dep.replaced_by:
                target = DataProduct.objects.filter(product_id=dep.replaced_by).first()
                if target is None:
                    result.errors.append(
                        ContractIssue(
                            "deprecation.replacedBy", f"no data product {dep.replaced_by!r}"
                        )
                    )
                elif target.status in ("deprecated", "retired"):
                    result.errors.append(
                        ContractIssue(
                            "deprecation.replacedBy",
                            f"{dep.replaced_by} is {target.status}; name a live product",
                        )
                    )
    return result


def breaking_change_gate(
    contract: Contract, previous: Contract | None, domain: Domain | None
) -> GateResult:
    """Record every change; refuse breaking ones that come without a higher version."""
    result = GateResult(code="BREAKING_CHANGE")
    if previous is None:
        return result
    if contract.version < previous.version:
        result.errors.append(
            ContractIssue(
                "version",
                f"must not go down: the published contract is version {previous.version}",
            )
        )
        return result
    changes = diff_contracts(previous, contract)
    if needs_version_bump(previous, contract, changes):
        for change in changes:
            if change.breaking:
                result.errors.append(
                    ContractIssue(
                        change.path,
                        f"breaking change needs version > {previous.version}: {change.message}",
                    )
                )
        return result
    result.changes = [change.to_dict() for change in changes]
    result.is_breaking = any(change.breaking for change in changes)
    return result


def policies_gate(
    contract: Contract, previous: Contract | None, domain: Domain | None
) -> GateResult:
    """Apply the domain's rules to the contract and to sampled values; errors refuse."""
    result = GateResult(code="POLICY")
    try:
        rules = rules_for(domain)
    except ValueError as exc:
        result.errors.append(
            ContractIssue("domain", f"the domain's policy overrides are invalid: {exc}")
        )
        return result
    samples = _samples(contract)
    violations = evaluate_policies(contract, rules, samples=samples or {})
    lenient = is_lenient(contract, previous)
    for violation in violations:
        if violation.severity == "error" and not lenient:
            result.errors.append(ContractIssue(violation.path, _policy_message(violation)))
        else:
            result.warnings.append(f"{violation.path}: {_policy_message(violation)}")
    sampling = next((r for r in rules if r.key == "pii.sampled_values"), None)
    if samples is None and sampling is not None and sampling.severity != "off":
        if contract.status == "retired":
            return result
        message = (
            "column values could not be sampled from the warehouse, so they were not checked "
            "for personal data"
        )
        # Fail closed when it counts: a published product's values are always checked. A
        # missing table, column or warehouse is the conformance gate's refusal (clearer), so
        # only a conforming table whose values still could not be read is refused here.
        if (
            sampling.severity == "error"
            and _warehouse_enforced(contract, previous)
            and _conforms(contract)
        ):
            result.errors.append(ContractIssue("table", f"{message} (policy pii.sampled_values)"))
        else:
            result.warnings.append(f"pii.sampled_values: {message}; only names were checked")
    return result


def _policy_message(violation: Violation) -> str:
    return f"{violation.message} (policy {violation.policy})"


def _samples(contract: Contract) -> dict[str, list[str]] | None:
    """Sampled string values, or None when the warehouse or table is unavailable."""
    from querying.warehouses import WarehouseError

    from .conformance import sample_values

    if contract.status == "retired":
        return None
    try:
        return sample_values(_warehouse(), contract)
    except WarehouseError:
        return None


def _conforms(contract: Contract) -> bool:
    """Whether the warehouse answers and holds the table with every declared column."""
    from querying.warehouses import WarehouseError

    from .conformance import check_conformance

    try:
        found = check_conformance(_warehouse(), contract)
    except WarehouseError:
        return False
    return found.reachable and found.table_exists and not found.issues


def conformance_gate(
    contract: Contract, previous: Contract | None, domain: Domain | None
) -> GateResult:
    """The warehouse holds the table with the declared columns and types."""
    from querying.warehouses import WarehouseError

    from .conformance import Conformance, check_conformance

    result = GateResult(code="CONFORMANCE")
    if contract.status == "retired":
        return result
    try:
        found = check_conformance(_warehouse(), contract)
    except WarehouseError as exc:  # bad WAREHOUSE_URL
        found = Conformance(False, False, [ContractIssue("table", f"no warehouse: {exc}")])
    # Only a lifecycle-only move away from published (the remedy for a vanished table) and a
    # draft (created before its table) are not blocked by the warehouse (issue 11).
    blocking = _warehouse_enforced(contract, previous)
    for issue in found.issues:
        if blocking:
            result.errors.append(issue)
        else:
            result.warnings.append(f"{issue.path}: {issue.message} (not enforced for this publish)")
    result.warnings.extend(found.notes)
    return result


def table_binding_gate(
    contract: Contract, previous: Contract | None, domain: Domain | None
) -> GateResult:
    """The table is in the product's domain and no other live product binds it (issue 11)."""
    result = GateResult(code="TABLE_BINDING")
    if contract.status == "retired":  # a retired product reads nothing and releases its table
        return result
    lenient = is_lenient(contract, previous)
    for message in table_binding_problems(contract):
        if lenient:
            result.warnings.append(f"table: {message} (not enforced for this lifecycle change)")
        else:
            result.errors.append(ContractIssue("table", message))
    return result


def table_binding_problems(contract: Contract) -> list[str]:
    """Why the contract may not bind its table: another domain's, or bound by another product."""
    table, slug = contract.table, contract.domain
    prefixes = {d.slug: d.effective_table_prefix for d in Domain.objects.all()}
    prefixes.setdefault(slug, default_prefix(slug))  # a domain this publish will create
    assignments = dict(TableAssignment.objects.values_list("table", "domain__slug"))
    owner = table_owner(table, prefixes=prefixes, assignments=assignments)
    mine = f"{prefixes[slug]}*"
    problems = []
    if owner.domain != slug:
        if owner.via == "assignment":
            why = f"is assigned to domain {owner.domain}, not to domain {slug}"
        elif owner.via == "prefix":
            why = (
                f"is in domain {owner.domain}'s namespace ({owner.prefix}*), "
                f"not in domain {slug}'s ({mine})"
            )
        elif owner.via == "ambiguous":
            why = f"matches the prefix {owner.prefix} of more than one domain"
        elif owner.via == "not_plain":
            why = f"is not a plain ASCII SQL name and is not assigned to domain {slug}"
        else:
            why = f"is outside domain {slug}'s namespace ({mine})"
        problems.append(f"table {table} {why}; ask an admin to assign it to domain {slug}")
    # iexact narrows in the database (SQLite folds ASCII only, PostgreSQL more: never fewer);
    # same_table decides, with the warehouses' rule.
    others = (
        DataProduct.objects.filter(table__iexact=table)
        .exclude(product_id=contract.id)
        .exclude(status="retired")
        .order_by("product_id")
    )
    for other in others:
        if same_table(other.table, table):
            problems.append(
                f"table {table} is already bound by {other.product_id} ({other.status}); "
                "a table backs one live product"
            )
    return problems


def custom_sql_gate(
    contract: Contract, previous: Contract | None, domain: Domain | None
) -> GateResult:
    """Each ``custom_sql`` check passes the gate that runs it, with the contract's PII flags."""
    result = GateResult(code="CUSTOM_SQL")
    checks = [(i, c) for i, c in enumerate(contract.quality_checks) if c.type == "custom_sql"]
    if not checks or contract.status == "retired":
        return result
    from quality.checks import CheckSpec, ColumnSpec, ProductSpec, gate_custom_sql
    from querying.warehouses import WarehouseError

    spec = ProductSpec(
        product_id=contract.id,
        table=contract.table,
        columns=tuple(
            ColumnSpec(name=c.column, type=c.type, nullable=c.nullable, pii=c.pii)
            for c in contract.schema
        ),
        checks=tuple(
            CheckSpec(
                name=c.name,
                type=c.type,
                severity=c.severity,
                column=c.column,
                params=dict(c.params),
            )
            for c in contract.quality_checks
        ),
        freshness_sla=contract.sla.freshness,
    )
    lenient = is_lenient(contract, previous)
    try:
        dialect = _warehouse().dialect  # builds the adapter; does not connect
    except WarehouseError as exc:
        dialect, unknown = None, f"the warehouse's SQL dialect is unknown: {exc}"
    for i, check in checks:
        path = f"qualityChecks[{i}].params.sql"
        if dialect is None:
            problem = unknown
        else:
            try:
                gate_custom_sql(str(check.params.get("sql", "")), spec=spec, dialect=dialect)
                continue
            except Exception as exc:  # CustomSqlRefused, or a gate bug: fail closed either way
                problem = " ".join(str(exc).split()) or type(exc).__name__
        message = f"check {check.name}: {problem}"
        if lenient:
            result.warnings.append(f"{path}: {message} (not enforced for this lifecycle change)")
        else:
            result.errors.append(ContractIssue(path, message))
    return result


GATES: Sequence[PublishGate] = (
    lifecycle_gate,
    breaking_change_gate,
    table_binding_gate,
    policies_gate,
    custom_sql_gate,
    conformance_gate,
)
# Gates that read other catalog rows (which a concurrent publish may change): run again under
# the publish's lock, right before the write.
RECHECKS: Sequence[PublishGate] = (table_binding_gate,)


def register_gates() -> None:
    """Append the governance gates to ``PUBLISH_GATES`` (and rechecks) once (idempotent)."""
    for gate in GATES:
        if gate not in PUBLISH_GATES:
            PUBLISH_GATES.append(gate)
    for gate in RECHECKS:
        if gate not in PUBLISH_RECHECKS:
            PUBLISH_RECHECKS.append(gate)


# ---------------------------------------------------------------------------------------------
# Compliance scorecard
# ---------------------------------------------------------------------------------------------

SCORED_STATUSES = ("published", "deprecated")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _sla_met(product: DataProduct, now: datetime, status: Any = None) -> bool | None:
    """Whether the product met its SLA over the last 30 days (None: not measured yet), from
    the figures quality stored on the product."""
    return (status if status is not None else product.sla_now(now)).met


def product_compliance(
    product: DataProduct,
    rules: Sequence[PolicyRule],
    *,
    now: datetime,
    health: Any = None,
    sla: Any = None,
) -> dict[str, Any]:
    """One product's standing: policy violations, PII coverage, SLA, open incidents, health."""
    from .policies import pii_category_for_name
    from .services import product_contract

    violations = evaluate_policies(product_contract(product), rules)
    columns = list(product.columns.all())
    personal = [c for c in columns if pii_category_for_name(c.name)]
    return {
        "id": product.product_id,
        "name": product.name,
        "status": product.status,
        "compliant": not violations,
        "errors": sum(v.severity == "error" for v in violations),
        "warnings": sum(v.severity == "warning" for v in violations),
        "violations": [v.to_dict() for v in violations],
        "personalLookingColumns": len(personal),
        "personalColumnsFlagged": sum(c.pii for c in personal),
        "unflaggedPersonalColumns": [c.name for c in personal if not c.pii],
        "slaMet": _sla_met(product, now, sla),
        "openIncidents": product.open_incident_count,
        **_health_fields(product, now, health),
    }


def _health_fields(product: DataProduct, now: datetime, health: Any) -> dict[str, Any]:
    """``health`` and ``healthReasons``: the verdict every surface shows (quality/health.py)."""
    if health is None:
        health = product.health_now(now)
    return {"health": health.state, "healthReasons": list(health.reasons)}


def domain_scorecard(domain: Domain, *, user: Any, now: datetime) -> dict[str, Any]:
    """A domain's compliance: share of products passing every policy, PII coverage, SLA, incidents.

    Counts the domain's live (published or deprecated) products ``user`` may read. PII coverage
    is the share of columns whose *name* looks personal that are flagged pii (values are only
    sampled at publish time, not on every page view).
    """
    from accounts.permissions import restrict

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
    from quality.health import HEALTH_STATES

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
