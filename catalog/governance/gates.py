"""The publish gates (issue 6): what each one refuses, and when a refusal is only a warning.

``catalog/services/publish.py`` calls them in order, each with the same ``Candidate`` (the
contract, the version it follows, its domain, the diff between the two computed once, and
``now``); the first one that returns errors refuses the publish and nothing is written:

1. ``lifecycle_gate`` (``LIFECYCLE``): draft → published → deprecated → retired; no way back
   from retired; a deprecation needs a sunset date and a reason, names an existing live
   product, and a sunset that is new or moved lies in the future (issue 12).
2. ``breaking_change_gate`` (``BREAKING_CHANGE``): a breaking change needs a higher
   ``version``. Every change (breaking or not) is recorded on the new ContractVersion as
   ``{"path", "kind", "message", "breaking"}``. A breaking change carries its impact (issue
   16): every consumer and downstream product it reaches, transitively (``catalog.lineage``).
2b. ``lineage_gate`` (``LINEAGE``): the contract's ``inputs`` exist, are not retired and close
   no cycle; deprecating or retiring a product that is still used warns who depends on it.
3. ``table_binding_gate`` (``TABLE_BINDING``): the table belongs to the product's domain (its
   prefix namespace or an admin's assignment, ``namespace``) and no other live product binds
   it (issue 11). Runs before anything reads the warehouse, and again under the publish's lock.
4. ``policies_gate`` (``POLICY``): the global rules (``GovernancePolicy`` rows, seeded from
   ``policies.DEFAULT_POLICIES``) made stricter by the domain's ``policy_overrides``. String
   columns are sampled from the warehouse so personal-looking *values* are caught too.
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

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from django.conf import settings

from catalog.contract import Contract, ContractIssue, format_datetime
from catalog.contract.vocabulary import ProductStatus, Severity
from catalog.contract_diff import Change, needs_version_bump
from catalog.lineage import input_problems, product_impact_by_id
from catalog.lineage_graph import Impact
from catalog.models import Domain
from quality.checks import CheckSpec, ColumnSpec, ProductSpec, gate_custom_sql
from querying.warehouses import WarehouseError

from . import conformance, selectors
from .lifecycle import (
    AWAY_FROM_PUBLISHED,
    LIFECYCLE_KINDS,
    SUNSET_IN_PAST,
    sunset_in_past,
    transition_problem,
)
from .namespace import same_table, table_owner
from .policies import Violation, evaluate_policies


@dataclass(frozen=True)
class Candidate:
    """What every gate judges: the contract, the one it follows (None: a new product), its
    domain (None: new), every change between the two (diffed once, by the pipeline), and now."""

    contract: Contract
    previous: Contract | None
    domain: Domain | None
    changes: tuple[Change, ...]
    now: datetime

    @cached_property
    def is_lenient(self) -> bool:
        """Whether refusals become warnings: only a lifecycle-only move away from published.

        Deprecating or retiring is the remedy for a product that breaks a rule tightened later
        or whose table vanished, so it is never blocked. Nothing that results in ``published``
        (or stays a draft, or edits a deprecated product) is lenient (issue 11).
        """
        return (
            self.contract.status in AWAY_FROM_PUBLISHED
            and self.previous is not None
            and bool(self.changes)
            and all(c.kind in LIFECYCLE_KINDS for c in self.changes)
        )

    @cached_property
    def warehouse_enforced(self) -> bool:
        """Whether warehouse problems (missing table, unreadable values) refuse this publish."""
        required = bool(getattr(settings, "PUBLISH_REQUIRE_WAREHOUSE", True))
        return (
            required
            and self.contract.status not in (ProductStatus.DRAFT, ProductStatus.RETIRED)
            and not self.is_lenient
        )


@dataclass
class GateResult:
    """What one publish gate found: blocking issues, warnings and (for the diff) changes."""

    code: str
    errors: list[ContractIssue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    is_breaking: bool = False
    # What a breaking change reaches downstream (catalog.lineage_graph.Impact.to_dict()).
    impact: dict[str, Any] | None = None

    def problem(self, issue: ContractIssue, *, lenient: bool, why: str) -> None:
        """``issue`` refuses the publish; when ``lenient`` it is a warning saying ``why``."""
        if lenient:
            self.warnings.append(f"{issue.path}: {issue.message} ({why})")
        else:
            self.errors.append(issue)


def _warehouse(contract: Contract) -> Any:
    """The adapter of the contract's connection (``warehouse:``, else its domain's; issue 18)."""
    from catalog.warehouses import contract_connection

    return contract_connection(contract.domain, contract.warehouse).open()


# ---------------------------------------------------------------------------------------------
# 1. Lifecycle
# ---------------------------------------------------------------------------------------------


def lifecycle_gate(candidate: Candidate) -> GateResult:
    """Refuse status moves the lifecycle does not allow, incomplete deprecations, past sunsets."""
    contract, previous = candidate.contract, candidate.previous
    result = GateResult("LIFECYCLE")
    moved = transition_problem(previous.status if previous else None, contract.status)
    if moved:
        result.errors.append(ContractIssue("status", moved))
    dep = contract.deprecation
    if contract.status == ProductStatus.DEPRECATED and dep is None:
        result.errors.append(
            ContractIssue("deprecation", "a deprecated product needs sunsetAt and reason")
        )
    if contract.status == ProductStatus.DEPRECATED and dep is not None:
        if dep.sunset_at is None:
            result.errors.append(
                ContractIssue("deprecation.sunsetAt", "required when deprecating a product")
            )
        if dep.replaced_by:
            status = selectors.product_status(dep.replaced_by)
            if status is None:
                result.errors.append(
                    ContractIssue("deprecation.replacedBy", f"no data product {dep.replaced_by!r}")
                )
            elif status in AWAY_FROM_PUBLISHED:
                result.errors.append(
                    ContractIssue(
                        "deprecation.replacedBy",
                        f"{dep.replaced_by} is {status}; name a live product",
                    )
                )
    sunset = dep.sunset_at if dep is not None else None
    before = previous.deprecation.sunset_at if previous and previous.deprecation else None
    if sunset is not None and sunset_in_past(sunset, before, now=candidate.now):
        result.errors.append(
            ContractIssue("deprecation.sunsetAt", f"{format_datetime(sunset)} {SUNSET_IN_PAST}")
        )
    return result


# ---------------------------------------------------------------------------------------------
# 2. Breaking changes
# ---------------------------------------------------------------------------------------------


def breaking_change_gate(candidate: Candidate) -> GateResult:
    """Record every change; refuse breaking ones that come without a higher version."""
    contract, previous = candidate.contract, candidate.previous
    result = GateResult("BREAKING_CHANGE")
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
    breaking = any(change.breaking for change in candidate.changes)
    impact = product_impact_by_id(contract.id) if breaking else None
    if impact is not None and not impact.is_empty:
        result.impact = impact.to_dict()
    if needs_version_bump(previous, contract, candidate.changes):
        affects = f"; it affects {impact_text(impact)}" if impact and not impact.is_empty else ""
        result.errors.extend(
            ContractIssue(
                change.path,
                f"breaking change needs version > {previous.version}: {change.message}{affects}",
            )
            for change in candidate.changes
            if change.breaking
        )
        return result
    result.changes = [change.to_dict() for change in candidate.changes]
    result.is_breaking = breaking
    if impact is not None and not impact.is_empty:
        result.warnings.append(f"breaking change reaches {impact_text(impact)}")
    return result


IMPACT_LINES = 20


def impact_text(impact: Impact) -> str:
    """``2 consumers and 1 downstream product: a (dashboard) uses x; …`` (the first
    ``IMPACT_LINES``; the API body's ``impact`` lists them all)."""
    lines = impact.lines()
    more = f"; and {len(lines) - IMPACT_LINES} more" if len(lines) > IMPACT_LINES else ""
    return f"{impact.summary()}: " + "; ".join(lines[:IMPACT_LINES]) + more


# ---------------------------------------------------------------------------------------------
# 2b. Lineage (issue 16)
# ---------------------------------------------------------------------------------------------


def lineage_gate(candidate: Candidate) -> GateResult:
    """Inputs exist, are not retired and close no cycle; deprecating or retiring a product
    that is still used says who depends on it (a warning: the notice goes to them)."""
    contract, previous = candidate.contract, candidate.previous
    result = GateResult("LINEAGE")
    if contract.status != ProductStatus.RETIRED:
        for index, message in input_problems(contract.id, contract.inputs):
            result.problem(
                ContractIssue(f"inputs[{index}]", message),
                lenient=candidate.is_lenient,
                why="not enforced for this lifecycle change",
            )
    leaving = contract.status in AWAY_FROM_PUBLISHED and (
        previous is None or previous.status != contract.status
    )
    if leaving:
        impact = product_impact_by_id(contract.id)
        if impact is not None and not impact.is_empty:
            result.warnings.append(f"{contract.id} is still used by {impact_text(impact)}")
    return result


# ---------------------------------------------------------------------------------------------
# 3. Table binding
# ---------------------------------------------------------------------------------------------


def table_binding_gate(candidate: Candidate) -> GateResult:
    """The table is in the product's domain and no other live product binds it (issue 11)."""
    result = GateResult("TABLE_BINDING")
    if candidate.contract.status == ProductStatus.RETIRED:  # reads nothing, releases its table
        return result
    for message in table_binding_problems(candidate.contract):
        result.problem(
            ContractIssue("table", message),
            lenient=candidate.is_lenient,
            why="not enforced for this lifecycle change",
        )
    return result


def table_binding_problems(contract: Contract) -> list[str]:
    """Why the contract may not bind its table: another domain's, or bound by another product."""
    table, slug = contract.table, contract.domain
    prefixes, assignments = selectors.table_namespaces(creating=slug)
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
    problems.extend(
        f"table {table} is already bound by {product_id} ({status}); a table backs one live product"
        for product_id, status, theirs in selectors.live_products_on(table, excluding=contract.id)
        if same_table(theirs, table)
    )
    return problems


# ---------------------------------------------------------------------------------------------
# 4. Policies
# ---------------------------------------------------------------------------------------------


def policies_gate(candidate: Candidate) -> GateResult:
    """Apply the domain's rules to the contract and to sampled values; errors refuse."""
    contract = candidate.contract
    result = GateResult("POLICY")
    try:
        rules = selectors.rules_for(candidate.domain)
    except ValueError as exc:
        result.errors.append(
            ContractIssue("domain", f"the domain's policy overrides are invalid: {exc}")
        )
        return result
    samples = _samples(contract)
    for violation in evaluate_policies(contract, rules, samples=samples or {}):
        if violation.severity == Severity.ERROR and not candidate.is_lenient:
            result.errors.append(ContractIssue(violation.path, _policy_message(violation)))
        else:
            result.warnings.append(f"{violation.path}: {_policy_message(violation)}")
    sampling = next((r for r in rules if r.key == "pii.sampled_values"), None)
    if samples is not None or sampling is None or sampling.severity == "off":
        return result
    if contract.status == ProductStatus.RETIRED:
        return result
    message = (
        "column values could not be sampled from the warehouse, so they were not checked "
        "for personal data"
    )
    # Fail closed when it counts: a published product's values are always checked. A missing
    # table, column or warehouse is the conformance gate's refusal (clearer), so only a
    # conforming table whose values still could not be read is refused here.
    if sampling.severity == Severity.ERROR and candidate.warehouse_enforced and _conforms(contract):
        result.errors.append(ContractIssue("table", f"{message} (policy pii.sampled_values)"))
    else:
        result.warnings.append(f"pii.sampled_values: {message}; only names were checked")
    return result


def _policy_message(violation: Violation) -> str:
    return f"{violation.message} (policy {violation.policy})"


def _samples(contract: Contract) -> dict[str, list[str]] | None:
    """Sampled string values, or None when the warehouse or table is unavailable."""
    if contract.status == ProductStatus.RETIRED:
        return None
    try:
        return conformance.sample_values(_warehouse(contract), contract)
    except WarehouseError:
        return None


def _conforms(contract: Contract) -> bool:
    """Whether the warehouse answers and holds the table with every declared column."""
    try:
        found = conformance.check_conformance(_warehouse(contract), contract)
    except WarehouseError:
        return False
    return found.reachable and found.table_exists and not found.issues


# ---------------------------------------------------------------------------------------------
# 5. Custom SQL
# ---------------------------------------------------------------------------------------------


def _product_spec(contract: Contract) -> ProductSpec:
    """The check engine's view of the contract (what ``gate_custom_sql`` judges against)."""
    return ProductSpec(
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


def custom_sql_gate(candidate: Candidate) -> GateResult:
    """Each ``custom_sql`` check passes the gate that runs it, with the contract's PII flags."""
    contract = candidate.contract
    result = GateResult("CUSTOM_SQL")
    checks = [(i, c) for i, c in enumerate(contract.quality_checks) if c.type == "custom_sql"]
    if not checks or contract.status == ProductStatus.RETIRED:
        return result
    spec = _product_spec(contract)
    try:
        dialect = _warehouse(contract).dialect  # builds the adapter; does not connect
    except WarehouseError as exc:
        dialect, unknown = None, f"the warehouse's SQL dialect is unknown: {exc}"
    for i, check in checks:
        if dialect is None:
            problem = unknown
        else:
            try:
                gate_custom_sql(str(check.params.get("sql", "")), spec=spec, dialect=dialect)
                continue
            except Exception as exc:  # CustomSqlRefused, or a gate bug: fail closed either way
                problem = " ".join(str(exc).split()) or type(exc).__name__
        result.problem(
            ContractIssue(f"qualityChecks[{i}].params.sql", f"check {check.name}: {problem}"),
            lenient=candidate.is_lenient,
            why="not enforced for this lifecycle change",
        )
    return result


# ---------------------------------------------------------------------------------------------
# 6. Conformance
# ---------------------------------------------------------------------------------------------


def _connection_exists(name: str) -> bool:
    from catalog.models import WarehouseConnection
    from querying.warehouses.connections import DEFAULT_NAME

    return name == DEFAULT_NAME or WarehouseConnection.objects.filter(name=name).exists()


def conformance_gate(candidate: Candidate) -> GateResult:
    """The warehouse holds the table with the declared columns and types."""
    contract = candidate.contract
    result = GateResult("CONFORMANCE")
    if contract.warehouse and not _connection_exists(contract.warehouse):
        # Whatever the lifecycle: the product's rows would name a connection that is not there.
        result.errors.append(
            ContractIssue("warehouse", f"no warehouse connection is called {contract.warehouse!r}")
        )
        return result
    if contract.status == ProductStatus.RETIRED:
        return result
    try:
        found = conformance.check_conformance(_warehouse(contract), contract)
    except WarehouseError as exc:  # bad WAREHOUSE_URL
        found = conformance.Conformance(
            False, False, [ContractIssue("table", f"no warehouse: {exc}")]
        )
    # Only a lifecycle-only move away from published (the remedy for a vanished table) and a
    # draft (created before its table) are not blocked by the warehouse (issue 11).
    why = "not enforced for this publish"
    if contract.status == ProductStatus.DRAFT:  # issue 15: a column the table will have
        why = "fine for a draft: it is checked once the table has it; publishing needs it"
    for issue in found.issues:
        result.problem(issue, lenient=not candidate.warehouse_enforced, why=why)
    result.warnings.extend(found.notes)
    return result
