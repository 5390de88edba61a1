"""Shared fixtures for the pure catalog tests (no database, no Django settings)."""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

from catalog.contract import load_document

FIXTURES = Path(__file__).parent / "fixtures"
DELETE = object()


@functools.cache
def _loaded(name: str) -> dict[str, Any]:
    # Parsed once per process (PyYAML takes ~10 ms a document); callers get deep copies.
    doc = load_document((FIXTURES / name).read_text())
    assert isinstance(doc, dict)
    return doc


def seed_document() -> dict[str, Any]:
    """A fresh copy of the write-up's marketing.campaign_attribution document."""
    return copy.deepcopy(_loaded("campaign_attribution.yaml"))


def full_document() -> dict[str, Any]:
    """A contract using every field: every mask, every check type, deprecation, custom table."""
    return copy.deepcopy(_loaded("full_contract.yaml"))


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def with_change(doc: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """A deep copy of ``doc`` with ``path`` (``schema[3].type``) set to ``value`` or deleted."""
    out = copy.deepcopy(doc)
    steps: list[str | int] = [name if name else int(index) for name, index in _STEP.findall(path)]
    target: Any = out
    for step in steps[:-1]:
        target = target[step]
    last = steps[-1]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return out
