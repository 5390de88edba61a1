"""Writes for saved queries: create, change, delete, and run with the runner's permissions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import permissions
from catalog.models import DataProduct
from querying.governor import MAX_SQL_CHARS, QueryRefused
from querying.models import QueryDecision, SavedQuery
from querying.routing import route
from querying.selectors import query_policy
from querying.services import QueryOutcome, query_submit
from querying.warehouses import WarehouseError

from .charts import ChartInvalid, chart_clean

MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 2000


class SavedQueryInvalid(Exception):
    """A saved query that cannot be stored as sent: ``field`` names the part at fault, ``code``
    and ``http_status`` are the governor's when it refused the SQL for its author."""

    def __init__(self, field: str, message: str, *, code: str = "INVALID", http_status: int = 400):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code
        self.http_status = http_status


class SavedQueryNameTaken(Exception):
    """The author already has a saved query of that name."""


def _name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise SavedQueryInvalid("name", "must not be blank")
    if len(name) > MAX_NAME_CHARS:
        raise SavedQueryInvalid("name", f"must be at most {MAX_NAME_CHARS} characters")
    return name


def _description(value: str) -> str:
    text = value.strip()
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise SavedQueryInvalid(
            "description", f"must be at most {MAX_DESCRIPTION_CHARS} characters"
        )
    return text


def _chart(spec: Any) -> dict[str, Any] | None:
    try:
        return chart_clean(spec)
    except ChartInvalid as exc:
        raise SavedQueryInvalid(exc.field, exc.message) from None


def _products_read(author: Any, sql: str, *, now: datetime) -> list[DataProduct]:
    """The products ``sql`` reads, as the governor resolves it for ``author`` (nothing runs).

    Saving SQL the governor refuses for its own author is refused with the governor's code
    (a shared query over a product its author may not read would otherwise be listed on it).
    """
    if not sql.strip():
        raise SavedQueryInvalid("sql", "must not be blank")
    if len(sql) > MAX_SQL_CHARS:
        raise SavedQueryInvalid("sql", f"must be at most {MAX_SQL_CHARS} characters")
    policy, pii_columns, forbidden = query_policy(author, now=now)
    try:
        _, governed = route(sql, policy, pii_columns=pii_columns, forbidden_names=forbidden)
    except QueryRefused as exc:
        raise SavedQueryInvalid(
            "sql", exc.message, code=exc.code, http_status=exc.http_status
        ) from None
    except WarehouseError as exc:
        raise SavedQueryInvalid("sql", str(exc), code="WAREHOUSE_UNAVAILABLE") from None
    found = {p.product_id: p for p in DataProduct.objects.filter(product_id__in=governed.products)}
    return [found[pid] for pid in governed.products if pid in found]


def _store(saved: SavedQuery, products: list[DataProduct] | None) -> SavedQuery:
    try:
        with transaction.atomic():
            saved.save()
            if products is not None:
                saved.products.set(products)
    except IntegrityError:
        raise SavedQueryNameTaken(
            f"you already have a saved query named {saved.name!r}; pick another name"
        ) from None
    return saved


def saved_query_create(
    *,
    author: Any,
    name: str,
    sql: str,
    description: str = "",
    chart: Any = None,
    is_shared: bool = False,
    now: datetime | None = None,
) -> SavedQuery:
    """Save a query for ``author``: name, SQL (governed for the author to find the products it
    reads), description, chart spec and whether it is shared."""
    if not (getattr(author, "is_authenticated", False) and author.is_active):
        raise PermissionDenied("log in to save queries")
    saved = SavedQuery(
        author=author,
        name=_name(name),
        description=_description(description),
        chart=_chart(chart),
        is_shared=bool(is_shared),
        sql=sql,
    )
    products = _products_read(author, sql, now=now or timezone.now())
    return _store(saved, products)


_UNSET: Any = object()


def saved_query_update(
    *,
    actor: Any,
    saved: SavedQuery,
    name: str = _UNSET,
    sql: str = _UNSET,
    description: str = _UNSET,
    chart: Any = _UNSET,
    is_shared: bool = _UNSET,
    now: datetime | None = None,
) -> SavedQuery:
    """Change what is given (rename, new SQL, chart, share or unshare); the author's only."""
    if not permissions.can(actor, "change", saved):
        raise PermissionDenied("only the author of a saved query may change it")
    products = None
    if name is not _UNSET:
        saved.name = _name(name)
    if description is not _UNSET:
        saved.description = _description(description)
    if chart is not _UNSET:
        saved.chart = _chart(chart)
    if is_shared is not _UNSET:
        saved.is_shared = bool(is_shared)
    if sql is not _UNSET:
        # Governed for the author, not the actor (an admin fixing a query keeps it the author's).
        products = _products_read(saved.author, sql, now=now or timezone.now())
        saved.sql = sql
    return _store(saved, products)


def saved_query_delete(*, actor: Any, saved: SavedQuery) -> None:
    """Delete a saved query (its author, or a platform admin)."""
    if not permissions.can(actor, "change", saved):
        raise PermissionDenied("only the author of a saved query may delete it")
    saved.delete()


def saved_query_run(*, runner: Any, saved: SavedQuery, now: datetime | None = None) -> QueryOutcome:
    """Run ``saved`` as ``runner``: the runner's policy masks, refuses, caps and audits it
    (``query_submit``), never the author's; an answered run is recorded as its last run."""
    if not permissions.can(runner, "view", saved):
        raise PermissionDenied("you may not run this saved query")
    outcome = query_submit(user=runner, sql=saved.sql, now=now)
    if outcome.decision == QueryDecision.ALLOWED:
        ran_at = now or timezone.now()
        # One conditional UPDATE: a slower concurrent run never moves last_run_at backwards.
        SavedQuery.objects.filter(pk=saved.pk).exclude(last_run_at__gte=ran_at).update(
            last_run_at=ran_at
        )
        saved.last_run_at = ran_at
    return outcome
