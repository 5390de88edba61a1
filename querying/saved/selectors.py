"""Reads for saved queries: always what the acting user may see (accounts.permissions)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts import permissions
from querying.models import QueryLog, SavedQuery

SCOPES = ("all", "mine", "shared")


def saved_query_list(
    user: Any, *, scope: str = "all", product_id: str = "", search: str = ""
) -> QuerySet[SavedQuery]:
    """Saved queries ``user`` may see, newest change first.

    ``scope``: ``mine`` (theirs, shared or not), ``shared`` (others' shared queries), ``all``
    (both); ``product_id``: only those reading that product; ``search``: in name, description
    and SQL.
    """
    visible = permissions.restrict(SavedQuery.objects.all(), user, "view")
    if scope == "mine":
        visible = visible.filter(author=user)
    elif scope == "shared":
        visible = visible.filter(is_shared=True).exclude(author=user)
    if product_id:
        visible = visible.filter(products__product_id=product_id)
    if search:
        visible = visible.filter(
            Q(name__icontains=search) | Q(description__icontains=search) | Q(sql__icontains=search)
        )
    return (
        visible.select_related("author")
        .prefetch_related("products")
        .order_by("-updated_at", "-id")
        .distinct()
    )


def saved_query_get(user: Any, pk: object) -> SavedQuery | None:
    """One saved query ``user`` may see, by its id (any text: a non-number is None)."""
    text = str(pk)
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        return None
    visible = permissions.restrict(SavedQuery.objects.all(), user, "view")
    return visible.select_related("author").filter(pk=int(text)).first()


def query_history(user: Any, *, search: str = "") -> QuerySet[QueryLog]:
    """The user's own governed queries, newest first, all of them (the page paginates);
    ``search`` narrows to those whose SQL contains it (any case)."""
    if not getattr(user, "is_authenticated", False):
        return QueryLog.objects.none()
    rows = QueryLog.objects.filter(user=user)
    if search:
        rows = rows.filter(submitted_sql__icontains=search)
    return rows.order_by("-created_at", "-id")
