"""The demo: 23 data products of an e-commerce company, their warehouse data and people.

Pure Python: no Django import. ``manage.py seed_demo`` publishes ``load_demo_contracts()``,
builds the warehouse with ``warehouse.build_demo_warehouse`` and creates ``people.DEMO_USERS``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"

# What the demo breaks on purpose, so the portal has incidents and warnings to show. Every other
# check of every product passes on the generated data.
DELIBERATE_PROBLEMS: dict[str, str] = {
    "ops.inventory_levels": "stale: newest snapshot ~30 h old against a 4 h freshness SLA",
    "marketing.email_engagement": "null violations: ~2.5% of campaign_id values are NULL",
    "finance.revenue_daily_legacy": (
        "deprecated, newest data ~90 days old, still used by the Executive / CEO dashboard"
    ),
}


def contract_paths() -> list[Path]:
    """The demo contract files, sorted by product id."""
    return sorted(CONTRACTS_DIR.glob("*.yaml"))


# Parsed files by path, with the (mtime, size) they were read at: a seed reads all 23 twice
# (the products, then the warehouse built for them).
_parsed: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}


def load_demo_contracts() -> list[dict[str, Any]]:
    """Every demo contract as a plain camelCase document (timestamps stay ISO strings).

    Each call returns fresh documents (callers may change them); a file is parsed again only
    when it changed on disk.
    """
    documents = []
    for path in contract_paths():
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        kept = _parsed.get(path)
        if kept is None or kept[0] != stamp:
            # Our own files: libyaml's parser (same safe constructor, ~10x faster) where built.
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            kept = (stamp, yaml.load(path.read_text(encoding="utf-8"), Loader=loader))  # noqa: S506
            _parsed[path] = kept
        documents.append(copy.deepcopy(kept[1]))
    return documents
