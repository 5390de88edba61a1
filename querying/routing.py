"""Which warehouse a governed query runs on (issue 18), and the refusal of cross-warehouse ones.

Each product lives on a connection (``catalog.warehouses``). A query runs on the connection of
the products it reads; products of different engines cannot be joined by one statement, so such
a query is refused naming them (never split and joined by the portal). Connections that reach
one engine (``Connection.engine``: the same server or file, another database) are one engine:
their products are read schema-qualified in one statement.
"""

from __future__ import annotations

from dataclasses import replace

from catalog.warehouses import Connection, default_connection
from querying.governor import GovernedQuery, Policy, QueryRefused, govern
from querying.warehouses import Warehouse
from querying.warehouses.registry import url_scheme

from .selectors import product_connections

# A connection's SQL dialect from its URL scheme (no adapter opened, no secret read).
SCHEME_DIALECT = {
    "duckdb": "duckdb",
    "postgres": "postgres",
    "postgresql": "postgres",
    "sc": "spark",
    "spark": "spark",
}
CROSS_WAREHOUSE = "CROSS_WAREHOUSE"


def dialect_of(connection: Connection) -> str:
    """The sqlglot dialect of ``connection`` (duckdb when the scheme is unknown: it fails later)."""
    return SCHEME_DIALECT.get(url_scheme(connection.template), "duckdb")


def route(
    sql: str,
    policy: Policy,
    *,
    pii_columns: frozenset[str] = frozenset(),
    forbidden_names: frozenset[str] = frozenset(),
) -> tuple[Warehouse, GovernedQuery]:
    """The warehouse to run ``sql`` on and the governed statement for it.

    Raises QueryRefused (the governor's, or CROSS_WAREHOUSE) and WarehouseError (a connection
    that cannot be opened: a missing environment variable, an unknown scheme).
    """
    ids = [p.product_id for p in policy.products]
    connections = product_connections(ids) if ids else {}
    default = default_connection()
    distinct = {c.name: c for c in connections.values()}
    if len(distinct) <= 1:
        # The usual case: every product the caller may read lives on one connection.
        connection = next(iter(distinct.values()), default)
        warehouse = connection.open()
        return warehouse, _govern(sql, policy, warehouse, pii_columns, forbidden_names)

    # Several connections: parse in each dialect they speak (the default's first) until one
    # understands the query, then see which connections the products it reads live on.
    dialects = list(dict.fromkeys([dialect_of(default), *map(dialect_of, distinct.values())]))
    first_refusal: QueryRefused | None = None
    governed: GovernedQuery | None = None
    for dialect in dialects:
        try:
            governed = govern(
                sql,
                policy,
                dialect=dialect,
                pii_columns=pii_columns,
                forbidden_names=forbidden_names,
            )
            break
        except QueryRefused as exc:
            first_refusal = first_refusal or exc
    if governed is None:
        assert first_refusal is not None
        raise first_refusal
    used = {pid: connections.get(pid, default) for pid in governed.products}
    engines = {c.engine for c in used.values()}
    if len(engines) > 1:
        listed = ", ".join(f"{pid} (warehouse {c.name})" for pid, c in sorted(used.items()))
        raise QueryRefused(
            CROSS_WAREHOUSE,
            f"these data products live in different warehouses and cannot be read by one "
            f"query: {listed}; query each warehouse on its own",
        )
    chosen = next(iter(used.values()), default)
    warehouse = chosen.open()
    local = _qualified(policy, connections, chosen, warehouse)
    return warehouse, _govern(sql, local, warehouse, pii_columns, forbidden_names)


def _govern(
    sql: str,
    policy: Policy,
    warehouse: Warehouse,
    pii_columns: frozenset[str],
    forbidden_names: frozenset[str],
) -> GovernedQuery:
    return govern(
        sql,
        policy,
        dialect=warehouse.dialect,
        pii_columns=pii_columns,
        forbidden_names=forbidden_names,
        schema=warehouse.schema,
    )


def _qualified(
    policy: Policy,
    connections: dict[str, Connection],
    chosen: Connection,
    warehouse: Warehouse,
) -> Policy:
    """``policy`` for a statement on ``chosen``: products of other connections of the same
    engine read schema-qualified (their database), the others left out (not readable here)."""
    products = []
    for product in policy.products:
        connection = connections.get(product.product_id)
        if connection is None or connection.name == chosen.name:
            products.append(product)
        elif connection.engine == chosen.engine and "." not in product.table:
            schema = connection.open().schema
            products.append(replace(product, table=f"{schema}.{product.table}"))
    return replace(policy, products=tuple(products))
