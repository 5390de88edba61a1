"""Usage from the audit log (issue 16): the daily rollup and each product's 30-day figures.

The catalog sums querying's audit log (``querying.models``, a lower layer) into querying's
rollup tables and stores the figures on its own products; ``catalog.usage`` reads them.

Days are **UTC days** (00:00 to 24:00 UTC), whatever ``TIME_ZONE`` or the viewer's zone: a
query belongs to the UTC date of its ``created_at``. ``usage_rollup`` (beat, every 10 minutes,
``catalog.tasks.usage_rollup_task``) is idempotent: it recomputes a day whole (its rows are
deleted and written again in one transaction), so running it twice, or after a crash, gives the
same rows. Each run:

1. finds the days to sum: every day since the first audited query (at most ``BACKFILL_DAYS``
   back) that ``UsageRollupDay`` does not list, plus yesterday always (a query that started
   before midnight is written when it finishes);
2. sums each run of consecutive days with one read of ``QueryProductUse`` (answered queries
   only) and writes ``UsageDay`` (product × role) and ``UsageUserDay`` (product × person);
3. stores each product's ``queries_30d`` and ``users_30d`` (the 29 rolled-up days before today
   plus today counted live) on the product, for search (``catalog``'s ``sort=popular``).

Nothing here is read per request by the product page: it counts today live itself
(``catalog.usage``), so a query shows up at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, CharField, Sum, Value, When
from django.utils import timezone

from accounts.models import TeamMembership
from querying.models import (
    PiiAccess,
    QueryDecision,
    QueryLog,
    QueryProductUse,
    UsageDay,
    UsageDomainDay,
    UsageRollupDay,
    UsageUserDay,
    day_start,
    team_label,
    utc_day,
)

from .bulk import insert_rows
from .contract.vocabulary import ProductStatus
from .models import DataProduct

WINDOW_DAYS = 30
# How each kind of PII read (QueryProductUse.pii_access, issue 17) is counted in UsageDay.
RAW_COUNTS: dict[str, str] = {
    PiiAccess.MASKED: "masked",
    PiiAccess.ADMIN: "raw_by_role",
    PiiAccess.OWNER: "raw_by_domain",
    PiiAccess.MEMBER: "raw_by_domain",
    PiiAccess.GRANT: "raw_by_grant",
}
# How far back the first rollup of an existing audit log reaches.
BACKFILL_DAYS = 400


@dataclass(frozen=True)
class RollupResult:
    """What one ``usage_rollup`` did."""

    days: tuple[date, ...]
    products_updated: int


def usage_rollup(
    *, now: datetime | None = None, days: Iterable[date] | None = None
) -> RollupResult:
    """Sum the missing days (and yesterday) into the usage tables, then store each product's
    30-day figures (the module's steps). ``days`` sums exactly those days instead."""
    now = now or timezone.now()
    today = utc_day(now)
    todo = sorted(set(days)) if days is not None else days_to_roll(today)
    todo = [d for d in todo if d < today]  # today is counted live, never stored half-done
    for first, last in _runs(todo):
        roll_days(first, last, now=now)
    usage_domains_rebuild()
    return RollupResult(tuple(todo), product_usage_refresh(now=now))


def usage_domains_rebuild() -> int:
    """Rebuild ``UsageDomainDay`` from ``UsageDay`` with each product's domain and status now
    (one grouped read, one transaction); returns the rows written."""
    rows = (
        UsageDay.objects.order_by()
        .values("day", "product__domain_id", "role")
        .annotate(
            draft=Case(
                When(product__status=DRAFT, then=Value(DRAFT)),
                default=Value(LIVE),
                output_field=CharField(),
            )
        )
        .values("day", "product__domain_id", "role", "draft")
        .annotate(**{name: Sum(name) for name in DOMAIN_SUMS})
    )
    built = [
        UsageDomainDay(
            day=row["day"],
            domain_id=row["product__domain_id"],
            role=row["role"],
            status=row["draft"],
            **{name: row[name] or 0 for name in DOMAIN_SUMS},
        )
        for row in rows
    ]
    with transaction.atomic():
        UsageDomainDay.objects.all().delete()
        UsageDomainDay.objects.bulk_create(built, batch_size=2000)
    return len(built)


# The per-domain rows split drafts (their domain's business) from everything readable.
DRAFT, LIVE = ProductStatus.DRAFT.value, "live"
DOMAIN_SUMS = (
    "queries",
    "attributed",
    "masked",
    "raw_by_role",
    "raw_by_domain",
    "raw_by_grant",
    "answered",
    "within_latency",
)


def days_to_roll(today: date) -> list[date]:
    """Days before ``today`` with audited queries that are not rolled up yet, and yesterday."""
    first = QueryLog.objects.order_by("created_at").values_list("created_at", flat=True).first()
    if first is None:
        return []
    start = max(utc_day(first), today - timedelta(days=BACKFILL_DAYS))
    done = set(
        UsageRollupDay.objects.filter(day__gte=start, day__lt=today).values_list("day", flat=True)
    )
    missing = {start + timedelta(days=i) for i in range((today - start).days)} - done
    yesterday = today - timedelta(days=1)
    if yesterday >= start:
        missing.add(yesterday)
    return sorted(missing)


def _runs(days: list[date]) -> Iterator[tuple[date, date]]:
    """Consecutive stretches ``(first, last)`` of sorted ``days``."""
    start = prev = None
    for day in days:
        if start is None:
            start = prev = day
        elif prev is not None and day == prev + timedelta(days=1):
            prev = day
        else:
            assert prev is not None
            yield start, prev
            start = prev = day
    if start is not None and prev is not None:
        yield start, prev


def roll_days(first: date, last: date, *, now: datetime) -> None:
    """Recompute the usage rows of the days ``first`` to ``last`` (inclusive) from the audit
    log, in one transaction: delete, sum, write, mark the days done."""
    products = {
        product_id: (pk, float(target or 0))
        for product_id, pk, target in DataProduct.objects.values_list(
            "product_id", "pk", "sla_query_latency_p95_ms"
        )
    }
    teams = _teams()
    uses = (
        QueryProductUse.objects.filter(
            decision=QueryDecision.ALLOWED,
            created_at__gte=day_start(first),
            created_at__lt=day_start(last + timedelta(days=1)),
        )
        .order_by()
        .values_list(
            "created_at",
            "product_id",
            "log_id",
            "log__user_id",
            "log__username",
            "log__role",
            "duration_ms",
            "pii_access",
        )
    )
    rows = list(uses.iterator(chunk_size=5000))
    per_log: dict[int, int] = defaultdict(int)
    for row in rows:
        per_log[row[2]] += 1
    by_role: dict[tuple[date, int, str], dict[str, Any]] = {}
    by_user: dict[tuple[date, int, str], list[Any]] = {}
    for created_at, product_id, log_id, user_id, username, role, duration, access in rows:
        found = products.get(product_id)
        if found is None:  # a product deleted since: nothing to show it on
            continue
        pk, target = found
        day = utc_day(created_at)
        cell = by_role.setdefault((day, pk, role), _empty_cell())
        cell["queries"] += 1
        cell["attributed"] += 1.0 / per_log[log_id]
        cell["people"].add(username)
        counted = RAW_COUNTS.get(access)
        if counted is not None:
            cell[counted] += 1
        if duration is not None:
            cell["answered"] += 1
            if target and duration <= target:
                cell["within_latency"] += 1
        person = by_user.setdefault(
            (day, pk, username or f"#{user_id}"), [team_label(teams.get(user_id), role), 0]
        )
        person[1] += 1
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    with transaction.atomic():
        UsageDay.objects.filter(day__gte=first, day__lte=last).delete()
        UsageUserDay.objects.filter(day__gte=first, day__lte=last).delete()
        insert_rows(
            UsageDay,
            (
                {
                    "day": day,
                    "product_id": pk,
                    "role": role,
                    "users": len(cell.pop("people")),
                    **cell,
                }
                for (day, pk, role), cell in by_role.items()
            ),
        )
        insert_rows(
            UsageUserDay,
            (
                {"day": day, "product_id": pk, "username": username, "team": team, "queries": n}
                for (day, pk, username), (team, n) in by_user.items()
            ),
        )
        UsageRollupDay.objects.filter(day__in=days).delete()
        UsageRollupDay.objects.bulk_create(UsageRollupDay(day=d, rolled_at=now) for d in days)


def _empty_cell() -> dict[str, Any]:
    return {
        "queries": 0,
        "attributed": 0.0,
        "people": set(),
        "masked": 0,
        "raw_by_role": 0,
        "raw_by_domain": 0,
        "raw_by_grant": 0,
        "answered": 0,
        "within_latency": 0,
    }


def _teams() -> dict[int, str]:
    """Each user's team for usage: the slug of their first domain team (by slug)."""
    out: dict[int, str] = {}
    rows = TeamMembership.objects.order_by("domain__slug").values_list("user_id", "domain__slug")
    for user_id, slug in rows:
        out.setdefault(user_id, slug)
    return out


def product_usage_refresh(*, now: datetime) -> int:
    """Store every product's ``queries_30d`` and ``users_30d`` (the window's rolled-up days
    before today plus today's answered queries so far), with ``usage_at`` when they changed;
    returns how many products' figures changed. Four reads, and writes only what changed."""
    today = utc_day(now)
    since = today - timedelta(days=WINDOW_DAYS - 1)
    window = UsageUserDay.objects.filter(day__gte=since, day__lt=today)
    queries: dict[int, int] = {
        pk: int(n)
        for pk, n in window.order_by()
        .values_list("product_id")
        .annotate(n=Sum("queries"))
        .values_list("product_id", "n")
    }
    people: dict[int, set[str]] = defaultdict(set)
    for pk, username in window.order_by().values_list("product_id", "username").distinct():
        people[pk].add(username)
    ids = dict(DataProduct.objects.values_list("product_id", "pk"))
    live = QueryProductUse.objects.filter(
        decision=QueryDecision.ALLOWED, created_at__gte=day_start(today)
    ).values_list("product_id", "log__username", "log__user_id")
    for product_id, username, user_id in live.iterator(chunk_size=5000):
        found = ids.get(product_id)
        if found is None:
            continue
        pk = found
        queries[pk] = queries.get(pk, 0) + 1
        people[pk].add(username or f"#{user_id}")
    changed = []
    for product in DataProduct.objects.only("pk", "queries_30d", "users_30d"):
        figures = (queries.get(product.pk, 0), len(people.get(product.pk, ())))
        if figures != (product.queries_30d, product.users_30d):
            product.queries_30d, product.users_30d = figures
            product.usage_at = now
            changed.append(product)
    DataProduct.objects.bulk_update(
        changed, ["queries_30d", "users_30d", "usage_at"], batch_size=500
    )
    return len(changed)
