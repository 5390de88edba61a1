"""Map a warehouse URL to an adapter by its scheme, importing the driver lazily.

Adding an engine is one module beside this one (its adapter class, the only importer of its
driver) plus one function and one line in ``ADAPTERS``: for Trino, ``trino.py`` with a
``TrinoWarehouse`` (dialect ``trino``), ``_trino()`` here and ``"trino": _trino``, and the
dialect in the governor (``querying/governor/core.py`` ``DIALECTS``, its hash-key reader in
``masks.py``, its identifier rule in ``names.py``). No Trino adapter exists: none could be
tested here.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import Warehouse, WarehouseUnavailable


def _duckdb(url: str) -> Warehouse:
    from .duckdb import DuckDBWarehouse

    return DuckDBWarehouse.from_url(url)


def _postgres(url: str) -> Warehouse:
    from .postgres import PostgresWarehouse

    return PostgresWarehouse(url)


def _spark(url: str) -> Warehouse:
    from .spark import SparkWarehouse

    return SparkWarehouse(url)


# URL scheme -> adapter factory. "sc" is Spark Connect (Databricks speaks it too).
ADAPTERS: dict[str, Callable[[str], Warehouse]] = {
    "duckdb": _duckdb,
    "postgres": _postgres,
    "postgresql": _postgres,
    "sc": _spark,
    "spark": _spark,
}


def url_scheme(url: str) -> str:
    """The scheme of ``url`` (``spark://local[2]`` is not a valid RFC 3986 host; no urlparse)."""
    scheme, sep, _ = str(url).partition("://")
    return scheme.lower() if sep else ""


def warehouse_from_url(url: str) -> Warehouse:
    """The adapter for ``duckdb:///abs/path.duckdb``, ``postgresql://…``, ``sc://host:port``
    or ``spark://local[N]``."""
    scheme = url_scheme(url)
    factory = ADAPTERS.get(scheme)
    if factory is None:
        raise WarehouseUnavailable(
            f"unsupported warehouse URL scheme {scheme!r} "
            "(use duckdb://, postgresql://, sc:// or spark://)"
        )
    return factory(url)
