"""Warehouse adapters behind one protocol (see base.py). Pure Python, no Django."""

from .base import QueryTimeout, Result, Warehouse, WarehouseColumn, WarehouseError
from .registry import warehouse_from_url

__all__ = [
    "QueryTimeout",
    "Result",
    "Warehouse",
    "WarehouseColumn",
    "WarehouseError",
    "warehouse_from_url",
]
