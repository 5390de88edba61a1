"""Row locks the catalog's writes take, the same way on PostgreSQL and SQLite (issue 13)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import F

from catalog.models import Domain


def rows_lock(model: type[models.Model], **lookup: Any) -> int:
    """Lock the matching rows until the transaction ends; return how many there are.

    An UPDATE that changes nothing rather than SELECT ... FOR UPDATE: PostgreSQL locks the rows
    the same way, and SQLite (which ignores FOR UPDATE) takes its database write lock at the
    start of the transaction, so the transaction never reads a snapshot it cannot write from.
    """
    pk = model._meta.pk.name
    return model._default_manager.filter(**lookup).update(**{pk: F(pk)})


def domain_lock(slug: str, *, name: str | None = None) -> tuple[Domain, bool]:
    """Lock the domain ``slug``, creating it first if need be; returns ``(domain, created)``.

    Every publish of a domain's products and every change of its settings takes this lock, so
    they are written one at a time (two products cannot both take a table that was free when
    each was judged: the table-binding gate runs again under it).
    """
    created = False
    if not rows_lock(Domain, slug=slug):
        default = name or slug.replace("-", " ").title()
        _, created = Domain.objects.get_or_create(slug=slug, defaults={"name": default})
        rows_lock(Domain, slug=slug)
    return Domain.objects.get(slug=slug), created
