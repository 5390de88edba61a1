"""The demo's past (issue 16): about 120 days of history consistent with the write-up.

``seed_demo`` calls ``seed_history`` once, on a catalog that has none (a rerun keeps it; ``--reset``
makes it again). Deterministic (``random.Random(seed)``), every timestamp relative to ``now``,
written with bulk inserts, then summed by the real rollups (``catalog.usage_rollup``,
``quality.rollups``) so the metrics read what production would read:

- **queries**: governed queries rising from about 40 a day to about 450 a day, by the demo's
  people (their roles and teams), each read masked or raw exactly as the governor would
  (admins and the owning domain's team raw, with that justification; everyone else masked);
  about 2% refused and 1% failed, latencies well inside most products' targets;
- **quality**: every product's checks on its cadence (realtime every 5 minutes, 1h every 15,
  4h hourly, 24h every 6 hours), with realistic failures: a pass rate around 94% that improves
  over the months. The last ``RAW_DAYS`` days are real check runs with their results (what the
  product pages chart); older days are the daily rollup only, as after the history prune;
- **incidents**: stale-data incidents about 8 in the first month, falling to about 2 a month
  over the last three; a few failing-check incidents; all resolved (the first real check run
  opens today's);
- **contract versions**: each product's earlier versions, one column added per version, the
  first as a draft about two days before its first publication;
- **lineage**: the "Executive / CEO dashboard" registered on the deprecated legacy revenue table
  ``CEO_DASHBOARD_MOVE["registeredDaysAgo"]`` days ago and moved to its three validated
  products ``movedDaysAgo`` days ago (the legacy product shows it lost that consumer).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

from accounts.models import Role, TeamMembership, User
from accounts.permissions import BASIS_ADMIN, BASIS_MEMBER, BASIS_OWNER
from catalog.bulk import insert_rows, next_id
from catalog.contract import ContractError, parse_contract
from catalog.contract.vocabulary import ProductStatus, Severity
from catalog.contract_diff import diff_contracts
from catalog.demo.people import CEO_DASHBOARD, CEO_DASHBOARD_MOVE, LEGACY_REVENUE
from catalog.models import (
    Consumer,
    ConsumerChange,
    ConsumerChangeAction,
    ConsumerKind,
    ContractVersion,
    DataProduct,
)
from catalog.services import first_versions_refresh
from catalog.usage_rollup import usage_rollup
from querying.models import PiiAccess, QueryDecision, QueryLog, QueryProductUse, utc_day

from .models import (
    CheckResult,
    CheckRun,
    Incident,
    IncidentStatus,
    QualityDay,
    QualityRollupDay,
    RunStatus,
    RunTrigger,
)
from .rollups import quality_domains_rebuild, quality_rollup

DAYS = 120
RAW_DAYS = 3
# Checks run every this many minutes, by SLA freshness (README "Quality").
CADENCE_MIN = {"realtime": 5, "1h": 15, "4h": 60, "24h": 360}
FIRST_DAY_QUERIES, LAST_DAY_QUERIES = 40, 470  # weekdays; weekends 80% of that
STALE_PER_MONTH = (8, 5, 2)  # oldest calendar month first; the last value from then on
FAILING_PER_MONTH = (4, 3, 1)
SOURCE = "demo"
# The tables seed_history fills in bulk (their planner statistics are refreshed at the end).
HISTORY_MODELS: tuple[type[Model], ...] = (
    ContractVersion,
    ConsumerChange,
    QueryLog,
    QueryProductUse,
    Incident,
    CheckRun,
    CheckResult,
    QualityDay,
    QualityRollupDay,
)
# The query's PII access is the first of these any of its products has (querying.services).
ACCESS_ORDER = (
    PiiAccess.ADMIN,
    PiiAccess.OWNER,
    PiiAccess.MEMBER,
    PiiAccess.GRANT,
    PiiAccess.MASKED,
)


@dataclass
class HistorySummary:
    """What ``seed_history`` wrote."""

    queries: int = 0
    runs: int = 0
    rolled_days: int = 0
    incidents: int = 0
    versions: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for the seed's output."""
        return (
            f"history: {self.queries:,} governed queries, {self.runs:,} check runs "
            f"(last {RAW_DAYS} days) and {self.rolled_days} days of daily quality rollups, "
            f"{self.incidents} incidents, {self.versions} earlier contract versions"
        )


# The legacy revenue table was deprecated this many days ago (before the CEO dashboard moved).
DEPRECATED_DAYS_AGO = 75
OLDEST_DAYS, NEWEST_DAYS = 100, 4


def published_dates(documents: list[dict[str, Any]], *, now: datetime) -> dict[str, datetime]:
    """When each demo product's current version was published, relative to ``now``: in the
    order the documents' own ``publishedAt`` give, spread from ``OLDEST_DAYS`` to
    ``NEWEST_DAYS`` ago, at 09:00 UTC (the contract files keep fixed dates for readers)."""
    ordered = sorted(documents, key=lambda d: (str(d.get("publishedAt") or ""), str(d.get("id"))))
    out: dict[str, datetime] = {}
    span = OLDEST_DAYS - NEWEST_DAYS
    for rank, document in enumerate(ordered):
        age = OLDEST_DAYS - span * rank / max(1, len(ordered) - 1)
        day = (now - timedelta(days=age)).replace(hour=9, minute=0, second=0, microsecond=0)
        out[str(document.get("id"))] = min(day, now)
    return out


def has_history(now: datetime) -> bool:
    """Whether the portal already holds a past (then ``seed_history`` leaves it alone)."""
    return QueryLog.objects.filter(created_at__lt=now - timedelta(days=2)).exists()


def seed_history(
    *, now: datetime, seed: int, created: Sequence[str], days: int = DAYS
) -> HistorySummary:
    """Write the demo's past (the module's list); ``created``: the products this seed created
    (their earlier versions are written), the others keep theirs."""
    rng = random.Random(seed * 7919 + 16)
    summary = HistorySummary()
    products = list(
        DataProduct.objects.select_related("domain")
        .order_by("product_id")
        .prefetch_related("columns", "checks")
    )
    windows = _incident_windows(products, now=now, days=days, rng=random.Random(rng.random()))
    with transaction.atomic():
        summary.versions = _versions(products, created, now=now, rng=rng)
        first_versions_refresh(product_ids=[p.pk for p in products if p.product_id in created])
        _ceo_dashboard_move(now=now)
        summary.queries = _queries(products, now=now, days=days, rng=rng)
        summary.incidents = _incidents(products, windows)
        summary.rolled_days, summary.runs = _quality(products, windows, now=now, days=days, rng=rng)
        _analyze(HISTORY_MODELS)
    usage_rollup(now=now)
    quality_rollup(now=now)
    return summary


def _analyze(models: Sequence[type[Model]]) -> None:
    """Refresh PostgreSQL's planner statistics of the tables just bulk-filled.

    Autovacuum would, a minute or more later; until then the planner plans the rollups and the
    first check run's SLA queries (percentiles over ``QueryProductUse``) for the tables as they
    were before, often empty, and a 4 ms statement took 1-5 s (measured: 23 check runs on a
    seeded demo went from 10 s to 100-200 s). Inside the transaction, ANALYZE counts its rows.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# ---------------------------------------------------------------------------------------------
# Contract versions
# ---------------------------------------------------------------------------------------------


def _versions(
    products: list[DataProduct], created: Sequence[str], *, now: datetime, rng: random.Random
) -> int:
    """Earlier versions of the products this seed created: version k has the first columns
    of the current schema (one column added per version; the description changes when there
    are no columns left to add), the first a draft a couple of days before it was published.

    The pipeline wrote the current version(s); they are written again after the earlier ones,
    so versions keep ascending with their ids (``-id`` is "latest" everywhere).
    """
    written = 0
    for product in products:
        if product.product_id not in created:
            continue
        rows = list(product.versions.order_by("id"))
        if not rows or rows[0].version <= 1:
            continue
        first = rows[0]
        stated = first.published_at
        gap = timedelta(days=rng.uniform(9, 24))
        earlier: list[dict[str, Any]] = []
        for k in range(1, first.version):
            doc = _earlier_document(first.document, k, first.version)
            when = stated - gap * (first.version - k)
            if k == 1:  # a draft about two days before its first publication (version 2)
                doc["status"] = ProductStatus.DRAFT.value
                when = stated - gap * (first.version - 2) - timedelta(hours=rng.uniform(20, 80))
            doc["publishedAt"] = when.isoformat().replace("+00:00", "Z")
            earlier.append(doc)
        documents = [*earlier, *(row.document for row in rows)]
        new_rows = []
        for index, doc in enumerate(documents):
            changes, breaking = _changes(documents[index - 1], doc) if index else ([], False)
            existing = rows[index - len(earlier)] if index >= len(earlier) else None
            new_rows.append(
                ContractVersion(
                    product=product,
                    version=doc["version"],
                    document=doc,
                    changes=existing.changes
                    if existing is not None and existing.changes
                    else changes,
                    is_breaking=existing.is_breaking if existing is not None else breaking,
                    source=existing.source if existing is not None else SOURCE,
                    published_by=existing.published_by if existing is not None else None,
                )
            )
        ContractVersion.objects.filter(pk__in=[row.pk for row in rows]).delete()
        made = ContractVersion.objects.bulk_create(new_rows)
        for row, doc in zip(made, documents, strict=True):
            at = datetime.fromisoformat(str(doc.get("publishedAt", "")).replace("Z", "+00:00"))
            ContractVersion.objects.filter(pk=row.pk).update(created_at=min(at, now))
        written += len(earlier)
    return written


def _earlier_document(current: dict[str, Any], k: int, n: int) -> dict[str, Any]:
    """Version ``k`` of ``n``: the current document with the last ``n - k`` columns (and the
    checks on them) left out, at least one column kept."""
    doc = {key: value for key, value in current.items() if key != "deprecation"}
    doc["version"] = k
    doc["status"] = ProductStatus.PUBLISHED.value
    schema = list(current.get("schema") or [])
    keep = max(1, len(schema) - (n - k))
    dropped = {c.get("column") for c in schema[keep:]}
    doc["schema"] = schema[:keep]
    doc["qualityChecks"] = [
        c for c in current.get("qualityChecks") or [] if c.get("column") not in dropped
    ]
    doc.pop("inputs", None)  # earlier versions declared no inputs
    if len(schema) - (n - k) < 1:
        doc["description"] = f"{current.get('description', '')} (draft wording, v{k})".strip()
    return doc


def _changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    try:
        changes = diff_contracts(parse_contract(old), parse_contract(new))
    except ContractError:
        return [], False
    return [c.to_dict() for c in changes], any(c.breaking for c in changes)


# ---------------------------------------------------------------------------------------------
# The CEO dashboard's move
# ---------------------------------------------------------------------------------------------


def _ceo_dashboard_move(*, now: datetime) -> None:
    """The dashboard's registration on the legacy table, its withdrawal, and its three new
    registrations backdated to the move."""
    legacy = DataProduct.objects.filter(product_id=LEGACY_REVENUE).first()
    moved_to = list(
        Consumer.objects.filter(kind=ConsumerKind.DASHBOARD, name=CEO_DASHBOARD).select_related(
            "product"
        )
    )
    if legacy is None or not moved_to:
        return
    registered = now - timedelta(days=CEO_DASHBOARD_MOVE["registeredDaysAgo"])
    moved = now - timedelta(days=CEO_DASHBOARD_MOVE["movedDaysAgo"])
    targets = ", ".join(sorted(c.product.product_id for c in moved_to))
    team = moved_to[0].team
    ConsumerChange.objects.bulk_create(
        [
            ConsumerChange(
                product=legacy,
                kind=ConsumerKind.DASHBOARD,
                name=CEO_DASHBOARD,
                team=team,
                action=ConsumerChangeAction.REGISTERED,
                at=registered,
            ),
            ConsumerChange(
                product=legacy,
                kind=ConsumerKind.DASHBOARD,
                name=CEO_DASHBOARD,
                team=team,
                action=ConsumerChangeAction.WITHDRAWN,
                note=f"moved to {targets}",
                at=moved,
            ),
        ]
    )
    Consumer.objects.filter(pk__in=[c.pk for c in moved_to]).update(registered_at=moved)
    ConsumerChange.objects.filter(
        kind=ConsumerKind.DASHBOARD, name=CEO_DASHBOARD, product__in=[c.product for c in moved_to]
    ).update(at=moved, note=f"moved off {LEGACY_REVENUE}")


# ---------------------------------------------------------------------------------------------
# Governed queries
# ---------------------------------------------------------------------------------------------


def _queries(products: list[DataProduct], *, now: datetime, days: int, rng: random.Random) -> int:
    """About ``FIRST_DAY_QUERIES`` rising to ``LAST_DAY_QUERIES`` governed queries a day."""
    people = list(User.objects.filter(is_active=True).order_by("username"))
    if not people or not products:
        return 0
    teams: dict[int, set[int]] = {}
    owners: dict[int, set[int]] = {}
    rows = TeamMembership.objects.values_list("user_id", "domain_id", "is_owner")
    for user_id, domain_id, is_owner in rows:
        teams.setdefault(user_id, set()).add(domain_id)
        if is_owner:
            owners.setdefault(user_id, set()).add(domain_id)
    live = [p for p in products if p.status in (ProductStatus.PUBLISHED, ProductStatus.DEPRECATED)]
    weights = [_popularity(p, rng) for p in live]
    person_weights = [
        0.4 if u.role == Role.ADMIN else (2.0 if not teams.get(u.pk) else 1.0) for u in people
    ]
    pii = {p.pk: [c.name for c in p.columns.all() if c.pii] for p in live}
    logs: list[dict[str, Any]] = []
    uses: list[dict[str, Any]] = []
    first_id = next_id(QueryLog)
    today = utc_day(now)
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        progress = 1 - (back - 1) / max(1, days - 1)
        target = FIRST_DAY_QUERIES + (LAST_DAY_QUERIES - FIRST_DAY_QUERIES) * progress**1.3
        if day.weekday() >= 5:
            target *= 0.8
        count = max(0, round(target * rng.uniform(0.92, 1.08)))
        start = datetime(day.year, day.month, day.day, tzinfo=now.tzinfo)
        for _ in range(count):
            user = rng.choices(people, person_weights)[0]
            read = _pick_products(live, weights, rng)
            at = start + timedelta(seconds=_working_second(rng))
            decision, code = _decision(rng)
            log, per_product = _query_row(
                user,
                read,
                (teams.get(user.pk, set()), owners.get(user.pk, set())),
                pii,
                at,
                decision,
                code,
                rng,
            )
            log["id"] = first_id + len(logs)
            logs.append(log)
            uses.extend(
                {
                    "log_id": log["id"],
                    "product_id": product.product_id,
                    "decision": decision,
                    "duration_ms": log["duration_ms"],
                    "created_at": at,
                    "pii_access": access,
                }
                for product, access in per_product
            )
    insert_rows(QueryLog, logs, with_ids=True)
    insert_rows(QueryProductUse, uses)
    return len(logs)


def _popularity(product: DataProduct, rng: random.Random) -> float:
    base = {"finance": 3.0, "marketing": 2.5, "product": 2.0, "ops": 1.5, "engineering": 1.0}
    weight = base.get(product.domain.slug, 1.0) * rng.uniform(0.5, 1.5)
    return weight * (0.3 if product.status == ProductStatus.DEPRECATED else 1.0)


def _pick_products(
    live: list[DataProduct], weights: list[float], rng: random.Random
) -> list[DataProduct]:
    first = rng.choices(live, weights)[0]
    if rng.random() < 0.2:  # a join
        second = rng.choices(live, weights)[0]
        if second.pk != first.pk:
            return [first, second]
    return [first]


def _working_second(rng: random.Random) -> float:
    """A second of the day, mostly in working hours (UTC)."""
    hour = min(23.99, max(0.0, rng.gauss(13.5, 3.0)))
    return hour * 3600


def _decision(rng: random.Random) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.02:
        return QueryDecision.REFUSED, "UNKNOWN_TABLE"
    if roll < 0.03:
        return QueryDecision.ERROR, "ENGINE_ERROR"
    return QueryDecision.ALLOWED, ""


def _query_row(
    user: User,
    read: list[DataProduct],
    memberships: tuple[set[int], set[int]],
    pii: dict[int, list[str]],
    at: datetime,
    decision: str,
    code: str,
    rng: random.Random,
) -> tuple[dict[str, Any], list[tuple[DataProduct, str]]]:
    """One audited query as the governor would have recorded it."""
    admin = user.role == Role.ADMIN or user.is_superuser
    domains, owned = memberships  # the domains whose team the user is on, and owns
    touched: list[str] = []
    masked: list[str] = []
    raw: dict[str, str] = {}
    per_product: list[tuple[DataProduct, str]] = []
    answered = decision == QueryDecision.ALLOWED
    for product in read:
        columns = [f"{product.product_id}.{c}" for c in pii.get(product.pk, [])]
        touched += columns
        if not columns or not answered:
            per_product.append((product, PiiAccess.NONE))
        elif admin or product.domain_id in domains:
            owner = product.domain_id in owned
            basis = BASIS_ADMIN if admin else (BASIS_OWNER if owner else BASIS_MEMBER)
            raw.update(dict.fromkeys(columns, basis))
            access = PiiAccess.ADMIN if admin else (PiiAccess.OWNER if owner else PiiAccess.MEMBER)
            per_product.append((product, access))
        else:
            masked += columns
            per_product.append((product, PiiAccess.MASKED))
    sql = f"SELECT * FROM {read[0].product_id} LIMIT 100"
    if len(read) > 1:
        sql = f"SELECT count(*) FROM {read[0].product_id} a, {read[1].product_id} b LIMIT 100"
    kinds = {access for _, access in per_product}
    level = next((a for a in ACCESS_ORDER if a in kinds), PiiAccess.NONE)
    duration = round(math.exp(rng.gauss(math.log(140), 0.6)), 1) if answered else None
    log = {
        "user_id": user.pk,
        "username": user.username,
        "role": "admin" if admin else user.role,
        "submitted_sql": sql,
        "executed_sql": sql if answered else "",
        "decision": decision,
        "code": code,
        "message": "" if answered else "see the demo",
        "products": [p.product_id for p in read],
        "pii_columns": touched,
        "masked_columns": masked if answered else [],
        "raw_columns": raw,
        "pii_access": level if answered else PiiAccess.NONE,
        "row_count": rng.randint(1, 100) if answered else None,
        "duration_ms": duration,
        "created_at": at,
    }
    return log, per_product


# ---------------------------------------------------------------------------------------------
# Incidents and quality
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    product_pk: int
    kind: str
    start: datetime
    end: datetime


def _incident_windows(
    products: list[DataProduct], *, now: datetime, days: int, rng: random.Random
) -> list[_Window]:
    """When each past incident was open, by calendar month (as the metrics count them): about
    ``STALE_PER_MONTH`` and ``FAILING_PER_MONTH``, fewer as the mesh matured; a month the
    history covers only in part gets its share. All end before the raw runs begin."""
    live = [p for p in products if p.status == ProductStatus.PUBLISHED]
    first, last = now - timedelta(days=days), now - timedelta(days=RAW_DAYS, hours=1)
    windows: list[_Window] = []
    month = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    index = 0
    while month < last and live:
        following = (month + timedelta(days=32)).replace(day=1)
        start, end = max(month, first), min(following, last)
        coverage = (end - start) / (following - month)
        for kind, per_month in (("stale_data", STALE_PER_MONTH), ("quality", FAILING_PER_MONTH)):
            wanted = per_month[min(index, len(per_month) - 1)]
            count = wanted if index == 0 else round(wanted * coverage)
            for _ in range(count):
                product = rng.choice(live)
                opened = start + (end - start) * rng.uniform(0.02, 0.95)
                hours = rng.uniform(2, 20) if kind == "stale_data" else rng.uniform(1, 8)
                closed = min(opened + timedelta(hours=hours), last)
                if closed > opened:
                    windows.append(_Window(product.pk, kind, opened, closed))
        month, index = following, index + 1
    return windows


def _incidents(products: list[DataProduct], windows: list[_Window]) -> int:
    """The past incidents, all resolved."""
    names = {p.pk: p.product_id for p in products}
    Incident.objects.bulk_create(
        Incident(
            product_id=w.product_pk,
            kind=w.kind,
            status=IncidentStatus.RESOLVED,
            opened_at=w.start,
            resolved_at=w.end,
            message=(
                f"{names[w.product_pk]}: newest data was older than the freshness SLA"
                if w.kind == "stale_data"
                else f"{names[w.product_pk]}: an error-severity check failed"
            ),
            resolution="fresh data again" if w.kind == "stale_data" else "checks passed again",
            notified_open_at=w.start,
            notified_resolved_at=w.end,
        )
        for w in windows
    )
    return len(windows)


def _fail_share(product: DataProduct, progress: float) -> float:
    """The share of a product's checks failing on an ordinary run, improving over time."""
    base = 0.075 - 0.05 * progress
    if product.product_id == "marketing.email_engagement":
        base += 0.12  # its null violations (catalog.demo.DELIBERATE_PROBLEMS)
    if product.status == ProductStatus.DEPRECATED:
        base += 0.08
    return max(0.0, base)


def _quality(
    products: list[DataProduct],
    windows: list[_Window],
    *,
    now: datetime,
    days: int,
    rng: random.Random,
) -> tuple[int, int]:
    """Daily quality rollups for the days before the last ``RAW_DAYS``, real runs after."""
    today = utc_day(now)
    raw_from = today - timedelta(days=RAW_DAYS)
    rolled: list[QualityDay] = []
    runs: list[dict[str, Any]] = []
    results: list[list[dict[str, Any]]] = []
    live = [p for p in products if p.status in (ProductStatus.PUBLISHED, ProductStatus.DEPRECATED)]
    for product in live:
        every = timedelta(minutes=CADENCE_MIN.get(product.sla_freshness, 60))
        checks = list(product.checks.all())
        weight = sum(0.5 if c.severity == Severity.WARNING else 1.0 for c in checks) or 1.0
        mine = [w for w in windows if w.product_pk == product.pk]
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            progress = 1 - back / days
            start = datetime(day.year, day.month, day.day, tzinfo=now.tzinfo)
            cell = QualityDay(day=day, product=product)
            moment = start + every * rng.random()
            while moment < start + timedelta(days=1) and moment < now:
                stale = any(w.kind == "stale_data" and w.start <= moment < w.end for w in mine)
                stale = stale or _stale_on_purpose(product, moment, now)
                failing = any(w.kind == "quality" and w.start <= moment < w.end for w in mine)
                failed = _failed_checks(checks, _fail_share(product, progress), failing, rng)
                if day >= raw_from:
                    run, rows = _run_rows(product, checks, failed, stale, moment)
                    runs.append(run)
                    results.append(rows)
                else:
                    lost = sum(0.5 if c.severity == Severity.WARNING else 1.0 for c in failed)
                    cell.runs += 1
                    cell.failed_runs += 1 if (failed or stale) else 0
                    cell.w_total += weight
                    cell.w_passed += weight - lost - (1.0 if stale else 0.0)
                    cell.freshness_runs += 1
                    cell.fresh_runs += 0 if stale else 1
                moment += every
            if day < raw_from and cell.runs:
                cell.w_passed = max(0.0, cell.w_passed)
                rolled.append(cell)
    QualityDay.objects.bulk_create(rolled, batch_size=2000)
    rolled_days = sorted({cell.day for cell in rolled})
    QualityRollupDay.objects.bulk_create(
        [QualityRollupDay(day=d, rolled_at=now) for d in rolled_days], ignore_conflicts=True
    )
    # insert_rows writes created_at as given: a past run was created when it ran.
    first_id = next_id(CheckRun)
    for offset, run in enumerate(runs):
        run["id"] = first_id + offset
    insert_rows(CheckRun, runs, with_ids=True)
    insert_rows(
        CheckResult,
        (
            {**row, "run_id": run["id"]}
            for run, rows in zip(runs, results, strict=True)
            for row in rows
        ),
    )
    quality_domains_rebuild()
    return len(rolled_days), len(runs)


def _failed_checks(checks: list[Any], share: float, failing: bool, rng: random.Random) -> list[Any]:
    failed = [c for c in checks if rng.random() < share]
    if failing and checks:
        errors = [c for c in checks if c.severity == Severity.ERROR] or checks
        if errors[0] not in failed:
            failed.append(errors[0])
    return failed


def _stale_on_purpose(product: DataProduct, moment: datetime, now: datetime) -> bool:
    """The demo's deliberately stale products (catalog.demo.DELIBERATE_PROBLEMS): the legacy
    table's loader stopped ~90 days ago, inventory snapshots stopped ~30 hours ago."""
    if product.product_id == LEGACY_REVENUE:
        return moment > now - timedelta(days=90)
    if product.product_id == "ops.inventory_levels":
        return moment > now - timedelta(hours=30)
    return False


def _run_rows(
    product: DataProduct, checks: list[Any], failed: list[Any], stale: bool, moment: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A finished scheduled run and its results, as rows."""
    finished = moment + timedelta(seconds=2)
    limit_h = {"realtime": 0.25, "1h": 1, "4h": 4, "24h": 24}.get(product.sla_freshness, 24)
    newest = finished - timedelta(hours=limit_h * (2.5 if stale else 0.3))
    run = {
        "product_id": product.pk,
        "trigger": RunTrigger.SCHEDULE,
        "run_key": f"demo-history:{product.product_id}:{int(moment.timestamp())}",
        "status": RunStatus.FAILED if (failed or stale) else RunStatus.PASSED,
        "contract_version": product.version,
        "created_at": moment,
        "started_at": moment,
        "finished_at": finished,
        "duration_ms": 2000.0,
        "table_reachable": True,
        "statements_sent": 1,
        "newest_data_at": newest,
    }
    rows = []
    for position, check in enumerate(checks):
        bad = check in failed or (stale and check.type == "freshness")
        rows.append(
            {
                "position": position,
                "check_name": check.name,
                "check_type": check.type,
                "status": "failed" if bad else "passed",
                "passed": not bad,
                "severity": check.severity,
                "message": "failed in the demo's history" if bad else "",
                "created_at": finished,
            }
        )
    return run, rows
