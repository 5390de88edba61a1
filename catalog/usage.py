"""A product's usage as its page and API show it (issue 16), read from querying's rollups.

The last 30 UTC days, today included: the 29 days before today from ``UsageUserDay`` (summed
by the usage rollup, ``catalog/usage_rollup.py``), today counted live from the audit log,
so a query shows up at once. Two queries (three when someone queried today). Only answered
governed queries count; refused and failed ones are not usage.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import TeamMembership
from querying.models import (
    QueryDecision,
    QueryProductUse,
    UsageUserDay,
    day_start,
    team_label,
    utc_day,
)

from .models import DataProduct

WINDOW_DAYS = 30
TOP_TEAMS = 5


@dataclass
class ProductUsage:
    """Queries per UTC day (oldest first, zeros included), distinct users and top teams."""

    per_day: list[tuple[date, int]]
    users: int
    teams: list[tuple[str, int, int]] = field(default_factory=list)  # team, queries, users

    @property
    def queries(self) -> int:
        """Answered queries in the window."""
        return sum(n for _, n in self.per_day)

    def to_dict(self) -> dict[str, Any]:
        """The product API's ``usage``."""
        return {
            "queries30d": self.queries,
            "users30d": self.users,
            "queriesPerDay": [{"date": d.isoformat(), "count": n} for d, n in self.per_day],
            "topTeams": [
                {"team": team, "queries": queries, "users": users}
                for team, queries, users in self.teams
            ],
        }


def product_usage(*, product: DataProduct, now: datetime | None = None) -> ProductUsage:
    """The product's usage over the last ``WINDOW_DAYS`` UTC days, today counted live."""
    now = now or timezone.now()
    today = utc_day(now)
    since = today - timedelta(days=WINDOW_DAYS - 1)
    per_day: dict[date, int] = defaultdict(int)
    team_queries: Counter[str] = Counter()
    team_people: dict[str, set[str]] = defaultdict(set)
    people: set[str] = set()
    rolled = UsageUserDay.objects.filter(product=product, day__gte=since, day__lt=today).order_by()
    for day, username, team, queries in rolled.values_list("day", "username", "team", "queries"):
        per_day[day] += queries
        people.add(username)
        team_queries[team] += queries
        team_people[team].add(username)
    live = list(
        QueryProductUse.objects.filter(
            product_id=product.product_id,
            decision=QueryDecision.ALLOWED,
            created_at__gte=day_start(today),
        )
        .order_by()
        .values_list("log__user_id", "log__username", "log__role")
    )
    if live:
        teams = _teams_of({user_id for user_id, _, _ in live if user_id is not None})
        for user_id, username, role in live:
            who = username or f"#{user_id}"
            team = team_label(teams.get(user_id), role)
            per_day[today] += 1
            people.add(who)
            team_queries[team] += 1
            team_people[team].add(who)
    days = [since + timedelta(days=i) for i in range(WINDOW_DAYS)]
    top = sorted(team_queries.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TEAMS]
    return ProductUsage(
        per_day=[(d, per_day.get(d, 0)) for d in days],
        users=len(people),
        teams=[(team, n, len(team_people[team])) for team, n in top],
    )


def _teams_of(user_ids: set[int]) -> dict[int | None, str]:
    """Each user's team as the rollup names it: their first domain team by slug."""
    out: dict[int | None, str] = {}
    rows = (
        TeamMembership.objects.filter(user_id__in=user_ids)
        .order_by("domain__slug")
        .values_list("user_id", "domain__slug")
    )
    for user_id, slug in rows:
        out.setdefault(user_id, slug)
    return out


def sparkline_points(per_day: list[tuple[date, int]], *, width: int, height: int) -> str:
    """SVG polyline points for a usage sparkline (``"0,20 4,18 ..."``), scaled to the peak."""
    if not per_day:
        return ""
    peak = max(n for _, n in per_day) or 1
    step = width / max(1, len(per_day) - 1)
    return " ".join(
        f"{i * step:.1f},{height - (n / peak) * (height - 2) - 1:.1f}"
        for i, (_, n) in enumerate(per_day)
    )
