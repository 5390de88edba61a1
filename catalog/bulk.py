"""Fast bulk inserts for the rollups and the demo's past (issue 16).

``bulk_create`` builds model instances and compiles each batch's SQL, which costs more than the
database's own work when tens of thousands of narrow rows are written (the demo's history must
be written in seconds, a rollup of a million audited queries in a beat task). ``insert_rows``
writes plain mappings with one ``executemany`` per few thousand rows: every concrete field is
written (a field a row leaves out gets its default, ``auto_now`` fields the current time) and
the values pass through the backend's own adapters (dates, JSON), so what lands is what
``bulk_create`` would have written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.utils import timezone

CHUNK = 5000


def next_id(model: type[models.Model]) -> int:
    """The first id after the table's largest (for rows that name their own ids)."""
    last = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
    return int(last or 0) + 1


def _adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: ops.adapt_json_value(value, encoder)
    return None


def insert_rows(
    model: type[models.Model], rows: Iterable[Mapping[str, Any]], *, with_ids: bool = False
) -> int:
    """Insert ``rows`` (field attribute names to values: ``product_id`` for a foreign key) into
    ``model``'s table; returns how many. ``with_ids``: each row names its ``id``, and the
    table's id sequence is moved past them afterwards (PostgreSQL)."""
    meta = model._meta
    fields = [f for f in meta.concrete_fields if with_ids or not f.primary_key]
    now = timezone.now()
    defaults: list[Any] = []
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults.append(now)
        else:  # the default, or what Django writes without one ("" for text, else NULL)
            defaults.append(field.get_default())
    plan = [(f.attname, default, _adapter(f)) for f, default in zip(fields, defaults, strict=True)]
    ops = connection.ops
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {ops.quote_name(meta.db_table)} ({columns}) VALUES ({marks})"
    count = 0
    batch: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for row in rows:
            values = []
            for name, default, adapt in plan:
                value = row.get(name, default)
                values.append(value if adapt is None or value is None else adapt(value))
            batch.append(tuple(values))
            if len(batch) == CHUNK:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
        if with_ids:
            for statement in ops.sequence_reset_sql(no_style(), [model]):
                cursor.execute(statement)
    return count
