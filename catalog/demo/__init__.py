"""The demo: 23 data products of an e-commerce company, their warehouse data and people.

Pure Python: no Django import. ``manage.py seed_demo`` publishes ``load_demo_contracts()``,
builds the warehouse with ``warehouse.build_demo_warehouse`` and creates ``people.DEMO_USERS``.
"""

from __future__ import annotations

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


def load_demo_contracts() -> list[dict[str, Any]]:
    """Every demo contract as a plain camelCase document (timestamps stay ISO strings)."""
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in contract_paths()]
