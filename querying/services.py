"""Writes for governed queries: run one query for a user, and audit it whatever happens."""

from __future__ import annotations

import base64
import logging
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from accounts.permissions import BASIS_ADMIN, BASIS_MEMBER, BASIS_OWNER
from querying.governor import (
    GovernedQuery,
    Policy,
    QueryRefused,
    identifiers_in,
    scrub_error,
)
from querying.warehouses import (
    QueryTimeout,
    Result,
    Warehouse,
    WarehouseError,
    WarehouseUnavailable,
)

from .capacity import query_slot
from .models import PiiAccess, QueryDecision, QueryLog, QueryProductUse
from .routing import route
from .selectors import query_policy

log = logging.getLogger(__name__)

# The audit's kind of each role or domain justification, and the query-level precedence.
BASIS_ACCESS = {
    BASIS_ADMIN: PiiAccess.ADMIN,
    BASIS_OWNER: PiiAccess.OWNER,
    BASIS_MEMBER: PiiAccess.MEMBER,
}
ACCESS_ORDER = (
    PiiAccess.ADMIN,
    PiiAccess.OWNER,
    PiiAccess.MEMBER,
    PiiAccess.GRANT,
    PiiAccess.MASKED,
)


@dataclass
class QueryOutcome:
    """What ``query_submit`` did: rows when allowed, a stable code and a safe message otherwise."""

    decision: str
    http_status: int = 200
    code: str = ""
    message: str = ""
    columns: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    truncated: bool = False
    query_time_ms: float = 0.0
    products: list[str] = field(default_factory=list)
    masked_columns: list[str] = field(default_factory=list)
    pii_columns: list[str] = field(default_factory=list)
    # Every PII column read raw -> its justification (issue 17); never one without.
    raw_columns: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    log_id: int | None = None

    @property
    def is_allowed(self) -> bool:
        """Whether rows came back."""
        return self.decision == QueryDecision.ALLOWED

    @property
    def row_count(self) -> int:
        """Rows returned (after the cap)."""
        return len(self.rows)


def json_safe(value: Any) -> Any:
    """A warehouse value as JSON: ISO timestamps, decimals as strings, bytes as base64.

    Decimals stay strings so no precision is lost; NaN and infinities become the strings
    "NaN", "Infinity" and "-Infinity" (strict JSON has no spelling for them).
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, (datetime, date, dtime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    return str(value)


def _is_unavailable(exc: WarehouseError) -> bool:
    """The warehouse could not be reached or was lost mid-statement (503, not the query's fault)."""
    return isinstance(exc, WarehouseUnavailable)


def _role(user: Any) -> str:
    if getattr(user, "is_superuser", False):
        return "admin"
    return str(getattr(user, "role", "") or "")


def pii_access(
    *, products: list[str], pii_columns: list[str], raw_columns: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """How a query read PII (``PiiAccess``): for the whole query and per product.

    Per product: the role or domain basis its PII was read raw by, else ``grant`` when a column
    was read raw under a grant, else ``masked`` when it has PII, else none. The query takes the
    first of admin, owner, member, grant, masked that any of its products has.
    """
    per_product: dict[str, str] = {}
    for product_id in products:
        prefix = f"{product_id}."
        bases = {basis for column, basis in raw_columns.items() if column.startswith(prefix)}
        kind = next((BASIS_ACCESS[b] for b in sorted(bases) if b in BASIS_ACCESS), None)
        if kind is not None:
            per_product[product_id] = kind
        elif bases:
            per_product[product_id] = PiiAccess.GRANT
        elif any(column.startswith(prefix) for column in pii_columns):
            per_product[product_id] = PiiAccess.MASKED
        else:
            per_product[product_id] = PiiAccess.NONE
    for level in ACCESS_ORDER:
        if level in per_product.values():
            return level, per_product
    return PiiAccess.NONE, per_product


def unjustified_raw_reads(governed: GovernedQuery) -> list[str]:
    """The PII columns ``governed`` would read raw without a justification (issue 17)."""
    return sorted(column for column, basis in governed.raw_columns.items() if not basis)


@transaction.atomic
def _audit(
    *,
    user: Any,
    sql: str,
    outcome: QueryOutcome,
    executed_sql: str,
    duration_ms: float | None,
    now: datetime,
) -> QueryLog:
    """Append the QueryLog row (and one use row per product) for one request."""
    executed = bool(executed_sql)
    level, per_product = pii_access(
        products=outcome.products, pii_columns=outcome.pii_columns, raw_columns=outcome.raw_columns
    )
    entry = QueryLog.objects.create(
        user=user if getattr(user, "pk", None) else None,
        username=str(getattr(user, "username", "") or ""),
        role=_role(user),
        # PostgreSQL text cannot hold NUL; the governor refuses such SQL, the audit keeps it.
        submitted_sql=sql.replace("\x00", "\ufffd"),
        executed_sql=executed_sql,
        decision=outcome.decision,
        code=outcome.code,
        message=outcome.message,
        products=outcome.products,
        pii_columns=outcome.pii_columns,
        masked_columns=outcome.masked_columns,
        raw_columns=outcome.raw_columns if executed else {},
        pii_access=level if executed else PiiAccess.NONE,
        row_count=outcome.row_count if outcome.is_allowed else None,
        truncated=outcome.truncated,
        duration_ms=duration_ms,
        created_at=now,
    )
    QueryProductUse.objects.bulk_create(
        QueryProductUse(
            log=entry,
            product_id=product_id,
            decision=outcome.decision,
            duration_ms=duration_ms,
            created_at=now,
            pii_access=per_product[product_id] if executed else PiiAccess.NONE,
        )
        for product_id in outcome.products
    )
    return entry


def query_submit(
    *, user: Any, sql: str, now: datetime | None = None, preview: str | None = None
) -> QueryOutcome:
    """Run ``sql`` for ``user`` through the governor and the warehouse, and audit it.

    Steps: resolve the user's policy (selectors.query_policy); govern the SQL (mask, cap,
    refuse); execute it read-only with QUERY_TIMEOUT_S; convert values to JSON-safe ones;
    append a QueryLog row whatever the decision. Never raises for bad SQL or a failing
    warehouse: the outcome carries the code, HTTP status and a message safe to show.
    ``preview`` (querying.samples only, with SQL the portal wrote): that product's
    ``access: restricted`` is not applied, its PII still masked as for any query.
    """
    now = now or timezone.now()
    started = time.perf_counter()
    policy, pii_columns, forbidden = query_policy(user, now=now, preview=preview)
    executed_sql = ""
    outcome: QueryOutcome
    try:
        # The warehouse of the products the query reads (issue 18): one connection, or one
        # engine; products of different warehouses are refused (CROSS_WAREHOUSE).
        warehouse, governed = route(sql, policy, pii_columns=pii_columns, forbidden_names=forbidden)
    except QueryRefused as exc:
        outcome = QueryOutcome(
            decision=QueryDecision.REFUSED,
            http_status=exc.http_status,
            code=exc.code,
            message=exc.message,
        )
        return _finish(user, sql, outcome, executed_sql, started, now, executed=False)
    except WarehouseError as exc:
        log.warning("warehouse unavailable: %s", exc)
        outcome = QueryOutcome(
            decision=QueryDecision.ERROR,
            http_status=503,
            code="WAREHOUSE_UNAVAILABLE",
            message="The warehouse is not available right now; try again later.",
        )
        return _finish(user, sql, outcome, executed_sql, started, now, executed=False)
    except Exception:
        # A governor bug must fail closed and audited, never as a 500 or a pass-through.
        log.exception("the governor failed on a query")
        outcome = QueryOutcome(
            decision=QueryDecision.REFUSED,
            http_status=400,
            code="REWRITE_FAILED",
            message="the query could not be governed",
        )
        return _finish(user, sql, outcome, executed_sql, started, now, executed=False)

    unjustified = unjustified_raw_reads(governed)
    if unjustified:
        # Impossible by construction (every raw column the policy hands over carries its basis,
        # accounts.permissions); checked here, before any value is read, so that a bug anywhere
        # upstream withholds the answer instead of reading raw values nobody can account for.
        log.error("raw PII without a justification in a governed query: %s", unjustified)
        outcome = QueryOutcome(
            decision=QueryDecision.REFUSED,
            http_status=403,
            code="RAW_READ_UNJUSTIFIED",
            message="The portal could not name why you may read "
            f"{', '.join(unjustified)} unmasked, so the query was not run.",
        )
        outcome.products = list(governed.products)
        return _finish(user, sql, outcome, executed_sql, started, now, executed=False)
    executed_sql = governed.display_sql()
    with query_slot(user) as busy:
        if busy is None:
            outcome = _run(warehouse, governed, policy, sql)
    if busy is not None:
        outcome = QueryOutcome(
            decision=QueryDecision.REFUSED, http_status=429, code="QUERY_BUSY", message=busy
        )
        outcome.products = list(governed.products)
        return _finish(user, sql, outcome, executed_sql, started, now, executed=False)
    return _finish(user, sql, outcome, executed_sql, started, now, executed=True)


def _run(warehouse: Warehouse, governed: GovernedQuery, policy: Policy, sql: str) -> QueryOutcome:
    """Execute governed SQL within its caps and turn what happened into an outcome."""
    result: Result | None = None
    try:
        result = warehouse.execute(
            governed.sql,
            timeout_s=settings.QUERY_TIMEOUT_S,
            max_rows=governed.max_rows,
            session=governed.session,
            max_bytes=settings.QUERY_MAX_BYTES,
        )
    except QueryTimeout:
        outcome = QueryOutcome(
            decision=QueryDecision.TIMEOUT,
            http_status=408,
            code="TIMEOUT",
            message=f"The query ran longer than {settings.QUERY_TIMEOUT_S:g} s and was cancelled; "
            "narrow it with a WHERE clause or aggregate first.",
        )
    except WarehouseError as exc:
        if _is_unavailable(exc):
            log.warning("warehouse unavailable: %s", exc)
            outcome = QueryOutcome(
                decision=QueryDecision.ERROR,
                http_status=503,
                code="WAREHOUSE_UNAVAILABLE",
                message="The warehouse is not available right now; try again later.",
            )
        else:
            keep = [c.name for p in policy.products for c in p.columns]
            keep += [p.product_id for p in policy.products]
            keep += identifiers_in(sql)  # aliases and misspelled names the user wrote
            outcome = QueryOutcome(
                decision=QueryDecision.ERROR,
                http_status=400,
                code="ENGINE_ERROR",
                message=scrub_error(str(exc), keep=keep),
            )
    except Exception:
        # A driver failing outside its own error class (e.g. converting an exotic value).
        log.exception("the warehouse adapter failed")
        outcome = QueryOutcome(
            decision=QueryDecision.ERROR,
            http_status=400,
            code="ENGINE_ERROR",
            message="the warehouse could not return this result",
        )
    else:
        outcome = QueryOutcome(
            decision=QueryDecision.ALLOWED,
            columns=list(result.columns),
            types=list(result.types),
            rows=[[json_safe(v) for v in row] for row in result.rows],
            truncated=result.truncated,
            query_time_ms=round(result.elapsed_ms, 1),
        )
    outcome.products = list(governed.products)
    outcome.masked_columns = list(governed.masked_columns)
    outcome.pii_columns = list(governed.pii_columns)
    outcome.raw_columns = dict(governed.raw_columns)
    outcome.warnings = list(governed.warnings)
    if outcome.is_allowed and result is not None and result.truncated_by == "bytes":
        outcome.warnings.append(
            f"The result was cut after {outcome.row_count:,} rows: it reached the "
            f"{_megabytes(settings.QUERY_MAX_BYTES)} limit of one answer (QUERY_MAX_BYTES). "
            "Select fewer columns or aggregate."
        )
    return outcome


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"


def _finish(
    user: Any,
    sql: str,
    outcome: QueryOutcome,
    executed_sql: str,
    started: float,
    now: datetime,
    *,
    executed: bool,
) -> QueryOutcome:
    # The audited duration is what the caller waited for (policy, governor and warehouse), so
    # the latency SLA is measured as consumers experience it.
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    try:
        entry = _audit(
            user=user,
            sql=sql,
            outcome=outcome,
            executed_sql=executed_sql,
            duration_ms=duration_ms if executed else None,
            now=now,
        )
    except DatabaseError:
        # The audit row and the answer are one unit: an answer nobody could record is withheld.
        log.exception("the audit log could not be written; the answer is withheld")
        return QueryOutcome(
            decision=QueryDecision.ERROR,
            http_status=503,
            code="AUDIT_UNAVAILABLE",
            message="The portal could not record this query in its audit log, so the answer "
            "is withheld; try again in a moment.",
        )
    outcome.log_id = entry.pk
    return outcome


def query_refuse_input(*, user: Any, submitted: str, code: str, message: str) -> QueryLog:
    """Audit a request whose input was rejected before any SQL could be governed."""
    outcome = QueryOutcome(
        decision=QueryDecision.REFUSED, http_status=400, code=code, message=message
    )
    return _audit(
        user=user,
        sql=submitted,
        outcome=outcome,
        executed_sql="",
        duration_ms=None,
        now=timezone.now(),
    )
