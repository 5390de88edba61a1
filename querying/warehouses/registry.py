"""Map a ``WAREHOUSE_URL`` to an adapter, importing its driver lazily."""

from __future__ import annotations

from urllib.parse import urlparse

from .base import Warehouse, WarehouseUnavailable


def warehouse_from_url(url: str) -> Warehouse:
    """Return the adapter for ``duckdb:///abs/path.duckdb`` or ``postgresql://…``."""
    scheme = urlparse(url).scheme
    if scheme == "duckdb":
        from .duckdb import DuckDBWarehouse

        return DuckDBWarehouse.from_url(url)
    if scheme in ("postgres", "postgresql"):
        from .postgres import PostgresWarehouse

        return PostgresWarehouse(url)
    raise WarehouseUnavailable(
        f"unsupported warehouse URL scheme {scheme!r} (use duckdb:// or postgresql://)"
    )
