"""The column profile as one reader sees it (issue 15): product page and ``profile`` in the API.

Quality stores one profile per run (``quality.models.RunProfile``, read with the product's
quality history in ``selectors.quality_panel``). A stored profile never holds a raw value of a
column that was PII when it was computed (quality/checks/profile.py). The contract may have
changed since: a column flagged PII later, or given another mask, still has the values of the
older run. For a reader who may not see the column raw (``permissions.can(user, "view_pii")``)
those values are withheld until the next run computes them through the column's mask; a
column the contract no longer declares is left out for everyone (governed queries do not
expose it either).
"""

from __future__ import annotations

from typing import Any

from accounts.permissions import can
from catalog.contract.vocabulary import DEFAULT_MASK
from catalog.models import DataProduct
from quality.models import RunProfile

WITHHELD = "masked"


def profile_for_reader(
    *, user: Any, product: DataProduct, row: RunProfile | None
) -> dict[str, Any] | None:
    """The profile ``row`` as ``user`` may read it, or None when no run computed one yet."""
    if row is None or not isinstance(row.data, dict):
        return None
    sees_raw = can(user, "view_pii", product)
    declared = {c.name: c for c in product.columns.all()}
    columns = []
    for stored in row.data.get("columns") or []:
        if not isinstance(stored, dict):
            continue
        current = declared.get(str(stored.get("name")))
        if current is None:
            continue
        entry = dict(stored)
        mask_now = (current.mask or DEFAULT_MASK) if current.pii else None
        computed_as = stored.get("mask") if stored.get("pii") else None
        entry["pii"], entry["mask"] = current.pii, mask_now
        entry["valuesMasked"] = bool(current.pii)
        if mask_now != computed_as and not sees_raw:
            # Computed before the column was PII (or under another mask): not for this reader.
            entry.update(min=None, max=None, top=[], withheld=WITHHELD)
        columns.append(entry)
    return {
        "runId": row.run_id,
        "computedAt": row.computed_at.isoformat(),
        "rows": row.data.get("rows"),
        "sampleRows": row.data.get("sampleRows"),
        "sampleMethod": row.data.get("sampleMethod"),
        "columns": columns,
    }
