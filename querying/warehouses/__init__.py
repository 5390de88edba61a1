"""Warehouse adapters behind one protocol (see base.py). Pure Python, no Django."""

from .base import (
    QueryTimeout,
    Result,
    Warehouse,
    WarehouseColumn,
    WarehouseError,
    WarehouseUnavailable,
)
from .registry import warehouse_from_url

__all__ = [
    "QueryTimeout",
    "Result",
    "Warehouse",
    "WarehouseColumn",
    "WarehouseError",
    "WarehouseUnavailable",
    "warehouse_from_url",
]
