"""Which warehouse a domain or a product reads (issue 18): named connections, resolved.

A product's connection is the one its contract names (``warehouse: <name>``), else its
domain's, else ``default`` (``WAREHOUSE_URL``). Every read path asks here: check runs,
conformance on publish, governed queries and their samples, saved queries, drafts.
``WarehouseConnection`` rows hold URL templates; secrets come from the environment by name
when a connection opens (``querying.warehouses.connections``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from querying.warehouses import Warehouse, WarehouseUnavailable, warehouse_from_url
from querying.warehouses.connections import DEFAULT_NAME, engine_key, resolve_url

from .models import DataProduct, Domain, WarehouseConnection


@dataclass(frozen=True)
class Connection:
    """A warehouse connection by name: ``template`` holds ``${VAR}`` where secrets go."""

    name: str
    template: str

    @property
    def engine(self) -> str:
        """Two connections with the same engine key reach one engine (a join may span them)."""
        return engine_key(self.template)

    def open(self) -> Warehouse:
        """The adapter (resolving the environment's secrets now; the adapter connects lazily)."""
        if self.name == DEFAULT_NAME:
            return warehouse_from_url(settings.WAREHOUSE_URL)
        return warehouse_from_url(resolve_url(self.template))


def default_connection() -> Connection:
    """``WAREHOUSE_URL``, the connection of everything that names none."""
    return Connection(DEFAULT_NAME, str(settings.WAREHOUSE_URL))


def _of(row: WarehouseConnection | None) -> Connection:
    return default_connection() if row is None else Connection(row.name, row.url)


def connection_named(name: str | None) -> Connection:
    """The connection called ``name`` (None or "default": WAREHOUSE_URL).

    An unknown name is WarehouseUnavailable naming it.
    """
    if not name or name == DEFAULT_NAME:
        return default_connection()
    row = WarehouseConnection.objects.filter(name=name).first()
    if row is None:
        raise WarehouseUnavailable(f"no warehouse connection is called {name!r}")
    return _of(row)


def domain_connection(domain: Domain | None) -> Connection:
    """Where ``domain``'s tables live."""
    return _of(domain.warehouse if domain is not None else None)


def product_connection(product: DataProduct) -> Connection:
    """Where ``product``'s table lives: its contract's connection, else its domain's."""
    if product.warehouse_id is not None:
        return _of(product.warehouse)
    return domain_connection(product.domain)


def contract_connection(domain_slug: str, warehouse: str | None) -> Connection:
    """The connection a contract's table is read on (publish gates: the product may be new)."""
    if warehouse:
        return connection_named(warehouse)
    return domain_connection(Domain.objects.filter(slug=domain_slug).first())


def product_warehouse(product: DataProduct) -> Warehouse:
    """The adapter for ``product``'s connection."""
    return product_connection(product).open()
