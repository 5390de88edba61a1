"""The platform's outcomes as numbers (issue 16): what ``GET /v1/metrics`` and the metrics page
show, over the products the caller may read.

Everything is read from the daily rollups (``querying.models.UsageDomainDay``,
``quality.models.QualityDomainDay``, rebuilt every 10 minutes by the beat rollups) and small
tables (domains, products, incidents), never from the raw audit log, check runs or contract
versions, so the figures cost the same eight queries with a million audited queries
(``tests/catalog/test_request_cost.py`` counts them). Days are UTC days; the rolled-up
figures run through yesterday (today is not over; the product pages count it live).
Permissions: the rows pass through ``accounts.permissions.restrict`` like products, so another
domain's drafts add nothing to anyone's numbers but their team's.

Definitions (the page says them next to each chart):

- **self-serve queries per day**: answered governed queries, by the caller's role, each query
  counted once however many products it read (shared among them: ``UsageDay.attributed``);
- **masked share**: of the queries by people without raw access (not admins, not the owning
  domain's team) that touched PII, those that read it masked; the others read it raw under an
  access grant. **Raw reads**: queries that read PII raw, by justification (role, domain,
  grant); a raw read without one is refused before it runs;
- **average quality score**: per day, the mean over products of the day's weighted pass rate;
- **incidents per month**: stale-data and quality incidents by the month they opened;
- **SLA attainment per domain**: freshness, the share of check runs that found the data within
  the SLA; latency, the share of answered queries that came back within the product's p95
  target (the SLA holds while that share is at least 95%);
- **time to publish**: per product, from its first draft version to its first published one
  (dates each product keeps: ``catalog.services.history``); the median over products first
  published in the range.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import restrict
from quality.models import Incident, QualityDomainDay
from querying.models import UsageDomainDay, day_start, utc_day

from .models import DataProduct, Domain, ProductStatus

DEFAULT_DAYS = 120
MAX_DAYS = 731
ROLES = (Role.ANALYST, Role.MANAGER, Role.ADMIN)
LATENCY_TARGET_SHARE = 95.0


class MetricsInvalid(ValueError):
    """Bad metrics parameters; ``errors`` maps each parameter to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        name, messages = next(iter(errors.items()))
        super().__init__(f"{name}: {messages[0]}")


@dataclass(frozen=True)
class MetricsFilter:
    """The range (UTC days, both ends included) and the domain the metrics cover."""

    since: date
    until: date
    domain: Domain | None = None

    @property
    def days(self) -> list[date]:
        """Every day of the range, oldest first."""
        return [self.since + timedelta(days=i) for i in range((self.until - self.since).days + 1)]

    def as_params(self) -> dict[str, str]:
        """The query parameters that give this filter."""
        out = {"since": self.since.isoformat(), "until": self.until.isoformat()}
        if self.domain is not None:
            out["domain"] = self.domain.slug
        return out


def metrics_filter(
    *, user: Any, params: Mapping[str, Any], now: datetime | None = None
) -> MetricsFilter:
    """The filter ``params`` asks for: ``domain`` (a slug the user may see), ``since`` and
    ``until`` (YYYY-MM-DD; default the last ``DEFAULT_DAYS`` days through yesterday).

    Raises MetricsInvalid naming the bad parameter.
    """
    yesterday = utc_day(now or timezone.now()) - timedelta(days=1)
    errors: dict[str, list[str]] = {}

    def day_of(name: str, default: date) -> date:
        raw = str(params.get(name) or "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = [f"must be a date as YYYY-MM-DD, not {raw[:40]!r}"]
            return default

    until = day_of("until", yesterday)
    since = day_of("since", until - timedelta(days=DEFAULT_DAYS - 1))
    if not errors and since > until:
        errors["since"] = ["must not be after until"]
    elif not errors and (until - since).days >= MAX_DAYS:
        errors["since"] = [f"the range may span at most {MAX_DAYS} days"]
    domain = None
    slug = str(params.get("domain") or "").strip()
    if slug:
        domain = restrict(Domain.objects.all(), user, "view").filter(slug=slug[:63]).first()
        if domain is None:
            errors["domain"] = [f"no domain {slug[:63]!r}"]
    if errors:
        raise MetricsInvalid(errors)
    return MetricsFilter(since=since, until=until, domain=domain)


def _scoped(qs: Any, user: Any, flt: MetricsFilter, *, day: str = "day") -> Any:
    qs = restrict(qs, user, "view").filter(**{f"{day}__gte": flt.since, f"{day}__lte": flt.until})
    return qs.filter(domain=flt.domain) if flt.domain is not None else qs


def platform_metrics(
    *, user: Any, flt: MetricsFilter, now: datetime | None = None
) -> dict[str, Any]:
    """Every figure of the metrics page, over what ``user`` may read (module docstring).

    Eight queries whatever the history holds: each rollup is read once per grouping it is
    shown by (usage by day and role, and by domain; quality by day, and by domain), by domain
    id (the slugs come from one read of the domains); products published, and their time to
    publish; incidents.
    """
    now = now or timezone.now()
    days = flt.days
    usage = _scoped(UsageDomainDay.objects.all(), user, flt)
    quality = _scoped(QualityDomainDay.objects.all(), user, flt)
    slugs = dict(restrict(Domain.objects.all(), user, "view").order_by().values_list("pk", "slug"))
    usage_days = _usage_by_day_and_role(usage)
    return {
        "range": {"since": flt.since.isoformat(), "until": flt.until.isoformat()},
        "domain": flt.domain.slug if flt.domain is not None else None,
        "publishedByDomain": _published_by_domain(user, flt, slugs),
        "queriesPerDay": _queries_per_day(usage_days, days),
        "pii": _pii(usage_days),
        "qualityScorePerDay": _quality_per_day(quality, days),
        "incidentsPerMonth": _incidents_per_month(user, flt),
        "slaByDomain": _sla_by_domain(usage, quality, slugs),
        "timeToPublish": _time_to_publish(user, flt),
        "generatedAt": now.isoformat().replace("+00:00", "Z"),
    }


def _published_by_domain(
    user: Any, flt: MetricsFilter, slugs: dict[int, str]
) -> list[dict[str, Any]]:
    qs = restrict(DataProduct.objects.filter(status=ProductStatus.PUBLISHED), user, "view")
    if flt.domain is not None:
        qs = qs.filter(domain=flt.domain)
    rows = qs.order_by().values_list("domain_id").annotate(n=Count("pk"))
    counts = sorted((slugs[domain_id], n) for domain_id, n in rows)
    return [{"domain": slug, "count": n} for slug, n in counts]


# What a day and role of usage sums: the queries (shared among the products each read) and
# the PII reads, by how they read it (``_pii``).
USAGE_SUMS = ("attributed", "masked", "raw_by_grant", "raw_by_role", "raw_by_domain")


def _usage_by_day_and_role(usage: Any) -> list[dict[str, Any]]:
    """The usage rows summed per day and role: ``day``, ``role`` and ``USAGE_SUMS`` (each
    prefixed ``sum_``)."""
    sums = {f"sum_{name}": Sum(name) for name in USAGE_SUMS}
    return list(usage.order_by().values("day", "role").annotate(**sums))


def _queries_per_day(rows: list[dict[str, Any]], days: list[date]) -> dict[str, Any]:
    per: dict[str, dict[date, float]] = defaultdict(dict)
    for row in rows:
        per[row["role"] or "unknown"][row["day"]] = float(row["sum_attributed"] or 0)
    roles = [r for r in ROLES if r in per] + sorted(r for r in per if r not in ROLES)
    counts = {role: [round(per[role].get(d, 0.0)) for d in days] for role in roles}
    series = [{"role": role, "counts": counts[role]} for role in roles]
    totals = [sum(counts[role][i] for role in roles) for i in range(len(days))]
    return {
        "dates": [d.isoformat() for d in days],
        "byRole": series,
        "total": totals,
        "last7Average": round(sum(totals[-7:]) / min(7, len(totals)), 1) if totals else 0,
    }


def _share(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _pii(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def total(name: str) -> int:
        return sum(row[f"sum_{name}"] or 0 for row in rows)

    masked, grant = total("masked"), total("raw_by_grant")
    by_role, by_domain = total("raw_by_role"), total("raw_by_domain")
    raw = by_role + by_domain + grant
    return {
        "nonPrivilegedPiiQueries": masked + grant,
        "masked": masked,
        "maskedShare": _share(masked, masked + grant),
        "rawReads": raw,
        # Every raw read the audit holds names its justification (the governor refuses one
        # without): the share is of raw reads with a role, domain or grant basis recorded.
        "rawReadsJustifiedShare": _share(by_role + by_domain + grant, raw),
        "rawReadsBy": {"role": by_role, "domain": by_domain, "grant": grant},
    }


def _quality_per_day(quality: Any, days: list[date]) -> dict[str, Any]:
    rows = quality.order_by().values("day").annotate(s=Sum("score_sum"), n=Sum("scored"))
    per: dict[date, float] = {r["day"]: r["s"] / r["n"] for r in rows if r["n"]}
    scores = [round(per[d], 1) if d in per else None for d in days]
    known = [s for s in scores if s is not None]
    return {
        "dates": [d.isoformat() for d in days],
        "scores": scores,
        "average": round(sum(known) / len(known), 1) if known else None,
    }


def _incidents_per_month(user: Any, flt: MetricsFilter) -> list[dict[str, Any]]:
    # UTC days and months, whatever TIME_ZONE (as every rollup counts them).
    qs = restrict(Incident.objects.all(), user, "view").filter(
        opened_at__gte=day_start(flt.since), opened_at__lt=day_start(flt.until + timedelta(days=1))
    )
    if flt.domain is not None:
        qs = qs.filter(product__domain=flt.domain)
    rows = (
        qs.order_by()
        .annotate(month=TruncMonth("opened_at", tzinfo=UTC))
        .values("month", "kind")
        .annotate(n=Count("pk"))
    )
    months: dict[str, dict[str, int]] = {}
    cursor = flt.since.replace(day=1)
    while cursor <= flt.until:
        months[cursor.strftime("%Y-%m")] = {}
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    for row in rows:
        key = row["month"].strftime("%Y-%m")
        months.setdefault(key, {})[row["kind"]] = row["n"]
    return [
        {
            "month": key,
            "stale": kinds.get("stale_data", 0),
            "failing": sum(n for kind, n in kinds.items() if kind != "stale_data"),
        }
        for key, kinds in sorted(months.items())
    ]


def _sla_by_domain(usage: Any, quality: Any, slugs: dict[int, str]) -> list[dict[str, Any]]:
    fresh = {
        slugs[domain_id]: (ok or 0, runs or 0)
        for domain_id, ok, runs in quality.order_by()
        .values_list("domain_id")
        .annotate(fresh=Sum("fresh_runs"), runs=Sum("freshness_runs"))
    }
    latency = {
        slugs[domain_id]: (within or 0, answered or 0)
        for domain_id, within, answered in usage.order_by()
        .values_list("domain_id")
        .annotate(within=Sum("within_latency"), answered=Sum("answered"))
    }
    out = []
    for slug in sorted(set(fresh) | set(latency)):
        f_ok, f_all = fresh.get(slug, (0, 0))
        l_ok, l_all = latency.get(slug, (0, 0))
        within = _share(l_ok, l_all)
        out.append(
            {
                "domain": slug,
                "freshnessAttainment": _share(f_ok, f_all),
                "freshnessRuns": f_all,
                "latencyWithinTarget": within,
                "latencyMet": None if within is None else within >= LATENCY_TARGET_SHARE,
                "answeredQueries": l_all,
            }
        )
    return out


def _time_to_publish(user: Any, flt: MetricsFilter) -> dict[str, Any]:
    """Median days from each product's first draft version to its first published one, over
    products first published in the range (the product keeps both dates:
    ``catalog.services.history``)."""
    qs = restrict(
        DataProduct.objects.filter(
            first_draft_at__isnull=False,
            first_published_at__gte=day_start(flt.since),
            first_published_at__lt=day_start(flt.until + timedelta(days=1)),
        ),
        user,
        "view",
    )
    if flt.domain is not None:
        qs = qs.filter(domain=flt.domain)
    took = ExpressionWrapper(F("first_published_at") - F("first_draft_at"), DurationField())
    spans = [
        span.total_seconds() / 86400
        for span in qs.order_by().annotate(took=took).values_list("took", flat=True)
    ]
    return {
        "products": len(spans),
        "medianDays": round(statistics.median(spans), 1) if spans else None,
    }
