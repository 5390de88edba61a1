"""What changed between two versions of a contract, and which changes break consumers.

Pure Python: no Django import.

A change is *breaking* when a consumer that relied on the old contract can be hurt by the new one:
a query stops working (column removed, renamed, retyped; table moved), a guarantee gets weaker
(a column may now be null, a check removed or loosened, the SLA loosened), or personal data gets
less protected (pii flag removed, mask weakened). Breaking changes need a higher version
(``needs_version_bump``). Everything else (additions, tightening, documentation) is non-breaking
but still listed, so a reviewer sees the whole picture.

Decisions (documented here because reviewers will ask):

- Mask strength, strongest first: ``null`` = ``redact`` > ``hash`` > ``email`` > ``last4`` > none
  (the column is not pii). Moving down that order is breaking; a move between ``null`` and
  ``redact`` is noted, not breaking.
- What loosens a check is declared with its type (quality/checks/types.py, ``Param.loosening``):
  a lower bound going down, an upper bound going up (an absent bound is unbounded), accepted
  values added. A changed ``custom_sql`` query is **breaking**: nobody can prove a different
  query is at least as strict, and a version bump is cheap. Whitespace-only edits are not
  changes.
- A freshness check without ``maxStaleHours`` promises the SLA's freshness window.
- A check's ``type`` or ``column`` changing under the same name is a removed guarantee: breaking.
- Columns are matched by name. A removed column next to an added one of the same type at the
  same position is reported as a probable rename (still breaking: consumers' SQL names it).
- Adding a column is not breaking, even when not nullable: readers are unaffected.
- ``version`` and ``publishedAt`` are expected to change and are not reported; ``status`` and
  ``deprecation`` are lifecycle, reported as non-breaking.
- ``access`` becoming ``restricted`` is breaking (consumers' queries stop working until they hold
  a grant); opening a product again is reported, not breaking.
- ``inputs`` added or dropped (issue 16) are reported, never breaking: they change where the
  product comes from, not what its consumers read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from catalog.contract import (
    FRESHNESS_HOURS,
    Access,
    CheckSpec,
    ColumnSpec,
    Contract,
    Mask,
    Severity,
    Sla,
)
from quality.checks.params import Loosening, Param
from quality.checks.types import declaration

# Higher is stronger. None: not pii, values are shown as they are.
MASK_STRENGTH: dict[str | None, int] = {
    None: 0,
    Mask.LAST4: 1,
    Mask.EMAIL: 2,
    Mask.HASH: 3,
    Mask.NULL: 4,
    Mask.REDACT: 4,
}


@dataclass(frozen=True)
class Change:
    """One difference between two contracts."""

    path: str
    kind: str
    message: str
    breaking: bool

    def __str__(self) -> str:
        flag = "BREAKING " if self.breaking else ""
        return f"{flag}{self.path}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        """JSON shape for the API and the CLI."""
        return {
            "path": self.path,
            "kind": self.kind,
            "message": self.message,
            "breaking": self.breaking,
        }


def needs_version_bump(old: Contract, new: Contract, changes: Sequence[Change]) -> bool:
    """True when there are breaking changes but the version did not go up."""
    return any(c.breaking for c in changes) and new.version <= old.version


def breaking_changes(changes: Sequence[Change]) -> list[Change]:
    """Only the breaking ones."""
    return [c for c in changes if c.breaking]


def diff_contracts(old: Contract, new: Contract) -> list[Change]:
    """Every difference from ``old`` to ``new``, in contract order, each marked breaking or not."""
    out: list[Change] = []
    out += _diff_identity(old, new)
    out += _diff_metadata(old, new)
    out += _diff_columns(old, new)
    out += _diff_sla(old.sla, new.sla)
    out += _diff_checks(old, new)
    out += _diff_lifecycle(old, new)
    out += _diff_access(old, new)
    out += _diff_inputs(old, new)
    return out


# ---------------------------------------------------------------------------------------------


def _fmt(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _diff_identity(old: Contract, new: Contract) -> list[Change]:
    out = []
    if old.id != new.id:
        out.append(Change("id", "id_changed", f"product id {old.id} → {new.id}", True))
    if old.table != new.table:
        out.append(
            Change(
                "table",
                "table_changed",
                f"physical table {old.table} → {new.table}; queries naming it will fail",
                True,
            )
        )
    return out


def _diff_metadata(old: Contract, new: Contract) -> list[Change]:
    out = []
    for path, before, after in (
        ("name", old.name, new.name),
        ("description", old.description, new.description),
        ("owner.team", old.owner.team, new.owner.team),
        ("owner.contact", old.owner.contact, new.owner.contact),
        ("owner.slackChannel", old.owner.slack_channel, new.owner.slack_channel),
    ):
        if before != after:
            if path == "description":
                message = "description changed"
            else:
                message = f"{path} {_fmt(before) or '(empty)'} → {_fmt(after) or '(empty)'}"
            out.append(Change(path, "metadata_changed", message, False))
    added = [t for t in new.tags if t not in old.tags]
    removed = [t for t in old.tags if t not in new.tags]
    if added or removed:
        parts = []
        if added:
            parts.append("added " + ", ".join(added))
        if removed:
            parts.append("removed " + ", ".join(removed))
        out.append(Change("tags", "tags_changed", "tags " + "; ".join(parts), False))
    return out


def _diff_columns(old: Contract, new: Contract) -> list[Change]:
    out: list[Change] = []
    old_index = {c.column: i for i, c in enumerate(old.schema)}
    new_index = {c.column: i for i, c in enumerate(new.schema)}
    removed = [c for c in old.schema if c.column not in new_index]
    added = [c for c in new.schema if c.column not in old_index]

    # A removed and an added column of the same type at the same position: probably a rename.
    renamed_to: dict[str, ColumnSpec] = {}
    renamed_from: dict[str, ColumnSpec] = {}
    for col in removed:
        i = old_index[col.column]
        if i < len(new.schema):
            candidate = new.schema[i]
            if (
                candidate in added
                and candidate.type == col.type
                and candidate.column not in renamed_from
            ):
                renamed_to[col.column] = candidate
                renamed_from[candidate.column] = col

    for col in removed:
        i = old_index[col.column]
        if col.column in renamed_to:
            other = renamed_to[col.column]
            message = (
                f"column {col.column} removed (renamed to {other.column}? same type and "
                "position); queries naming it will fail"
            )
        else:
            message = f"column {col.column} removed"
        out.append(Change(f"schema[{i}]", "column_removed", message, True))

    for new_i, col in enumerate(new.schema):
        path = f"schema[{new_i}]"
        if col.column not in old_index:
            if col.column in renamed_from:
                previous = renamed_from[col.column].column
                message = f"column {col.column} added (probably {previous} renamed)"
            else:
                message = f"column {col.column} added ({col.type}, " + (
                    "nullable)" if col.nullable else "not nullable)"
                )
            out.append(Change(path, "column_added", message, False))
            continue
        out += _diff_column(path, old.schema[old_index[col.column]], col)

    # Order matters to SELECT * readers and positional consumers: noted, not breaking.
    kept_old = [c.column for c in old.schema if c.column in new_index]
    kept_new = [c.column for c in new.schema if c.column in old_index]
    if kept_old != kept_new:
        out.append(
            Change("schema", "columns_reordered", "column order changed for kept columns", False)
        )
    return out


def _diff_column(path: str, old: ColumnSpec, new: ColumnSpec) -> list[Change]:
    name = new.column
    out = []
    if old.type != new.type:
        out.append(
            Change(
                f"{path}.type",
                "column_type_changed",
                f"column {name}: type {old.type} → {new.type}",
                True,
            )
        )
    if old.nullable != new.nullable:
        if new.nullable:
            out.append(
                Change(
                    f"{path}.nullable",
                    "column_nullable_changed",
                    f"column {name} may now be null (was not nullable)",
                    True,
                )
            )
        else:
            out.append(
                Change(
                    f"{path}.nullable",
                    "column_nullable_changed",
                    f"column {name} is now not nullable",
                    False,
                )
            )
    if old.pii != new.pii:
        if old.pii:
            out.append(
                Change(
                    f"{path}.pii",
                    "column_pii_removed",
                    f"column {name} is no longer flagged pii: its values will be shown unmasked",
                    True,
                )
            )
        else:
            out.append(
                Change(
                    f"{path}.pii",
                    "column_pii_added",
                    f"column {name} is now flagged pii (masked as {new.effective_mask})",
                    False,
                )
            )
    elif old.effective_mask != new.effective_mask:
        before, after = MASK_STRENGTH[old.effective_mask], MASK_STRENGTH[new.effective_mask]
        weaker = after < before
        qualifier = "weaker" if weaker else ("stronger" if after > before else "as strong")
        out.append(
            Change(
                f"{path}.mask",
                "column_mask_changed",
                f"column {name}: mask {old.effective_mask} → {new.effective_mask} ({qualifier})",
                weaker,
            )
        )
    if old.description != new.description:
        out.append(
            Change(
                f"{path}.description",
                "column_description_changed",
                f"column {name}: description changed",
                False,
            )
        )
    return out


def _diff_sla(old: Sla, new: Sla) -> list[Change]:
    out = []
    if old.freshness != new.freshness:
        slower = FRESHNESS_HOURS[new.freshness] > FRESHNESS_HOURS[old.freshness]
        out.append(
            Change(
                "sla.freshness",
                "sla_loosened" if slower else "sla_tightened",
                f"freshness {old.freshness} → {new.freshness}",
                slower,
            )
        )
    if old.availability != new.availability:
        lower = new.availability < old.availability
        out.append(
            Change(
                "sla.availability",
                "sla_loosened" if lower else "sla_tightened",
                f"availability {_fmt(old.availability)}% → {_fmt(new.availability)}%",
                lower,
            )
        )
    if old.query_latency_p95_ms != new.query_latency_p95_ms:
        higher = new.query_latency_p95_ms > old.query_latency_p95_ms
        out.append(
            Change(
                "sla.queryLatencyP95Ms",
                "sla_loosened" if higher else "sla_tightened",
                f"query latency p95 {_fmt(old.query_latency_p95_ms)} ms → "
                f"{_fmt(new.query_latency_p95_ms)} ms",
                higher,
            )
        )
    return out


def _diff_checks(old: Contract, new: Contract) -> list[Change]:
    out: list[Change] = []
    old_by_name = {c.name: (i, c) for i, c in enumerate(old.quality_checks)}
    new_names = {c.name for c in new.quality_checks}
    for i, check in enumerate(old.quality_checks):
        if check.name not in new_names:
            out.append(
                Change(
                    f"qualityChecks[{i}]",
                    "check_removed",
                    f"check {check.name} ({_describe(check)}) removed",
                    True,
                )
            )
    for i, check in enumerate(new.quality_checks):
        path = f"qualityChecks[{i}]"
        if check.name not in old_by_name:
            out.append(
                Change(path, "check_added", f"check {check.name} ({_describe(check)}) added", False)
            )
            continue
        before = old_by_name[check.name][1]
        out += _diff_check(path, before, check, old.sla, new.sla)
    return out


def _describe(check: CheckSpec) -> str:
    return f"{check.type} on {check.column}" if check.column else check.type


def _diff_check(
    path: str, old: CheckSpec, new: CheckSpec, old_sla: Sla, new_sla: Sla
) -> list[Change]:
    name = new.name
    if old.type != new.type or old.column != new.column:
        return [
            Change(
                path,
                "check_replaced",
                f"check {name}: {_describe(old)} → {_describe(new)}; the old guarantee is gone",
                True,
            )
        ]
    out = []
    if old.severity != new.severity:
        loosened = new.severity == Severity.WARNING
        out.append(
            Change(
                f"{path}.severity",
                "check_loosened" if loosened else "check_tightened",
                f"check {name}: severity {old.severity} → {new.severity}",
                loosened,
            )
        )
    out += _diff_params(path, name, old, new, old_sla, new_sla)
    return out


def _diff_params(
    path: str, name: str, old: CheckSpec, new: CheckSpec, old_sla: Sla, new_sla: Sla
) -> list[Change]:
    """Each param compared the way its declaration says loosening works (types.py)."""
    kind = declaration(new.type)
    if kind is None:
        return []
    out: list[Change] = []
    for param in kind.params:
        before = _param_value(param, old.params, old_sla)
        after = _param_value(param, new.params, new_sla)
        out += _diff_param(f"{path}.params.{param.name}", name, param, before, after)
    return out


def _param_value(param: Param, params: Mapping[str, Any], sla: Sla) -> Any:
    value = params.get(param.name)
    if value is None and param.sla_default:
        return FRESHNESS_HOURS[sla.freshness]
    return value


def _diff_param(path: str, name: str, param: Param, before: Any, after: Any) -> list[Change]:
    if param.loosening in (Loosening.LOWER_BOUND, Loosening.UPPER_BOUND):
        return _diff_bound(path, name, param, before, after)
    if param.loosening == Loosening.MORE_VALUES:
        return _diff_values(path, name, list(before or []), list(after or []))
    # ANY_CHANGE: nobody can prove a different value is at least as strict.
    if " ".join(str(before or "").split()) == " ".join(str(after or "").split()):
        return []
    return [
        Change(
            path,
            f"check_{param.name}_changed",
            f"check {name}: {param.label} changed (it may be less strict; treated as breaking)",
            True,
        )
    ]


def _diff_bound(path: str, name: str, param: Param, before: Any, after: Any) -> list[Change]:
    # An absent bound is unbounded: -inf for lower bounds, +inf for upper bounds.
    upper = param.loosening == Loosening.UPPER_BOUND
    missing = math.inf if upper else -math.inf
    old_bound = missing if before is None else before
    new_bound = missing if after is None else after
    if old_bound == new_bound:
        return []
    loosened = new_bound > old_bound if upper else new_bound < old_bound
    return [
        Change(
            path,
            "check_loosened" if loosened else "check_tightened",
            f"check {name}: {param.label} {_fmt(before)} → {_fmt(after)}",
            loosened,
        )
    ]


def _diff_values(path: str, name: str, before: list[Any], after: list[Any]) -> list[Change]:
    extra = [v for v in after if v not in before]
    dropped = [v for v in before if v not in after]
    out = []
    if extra:
        message = f"check {name}: now also accepts {_fmt(extra)}"
        out.append(Change(path, "check_loosened", message, True))
    if dropped:
        message = f"check {name}: no longer accepts {_fmt(dropped)}"
        out.append(Change(path, "check_tightened", message, False))
    return out


def _diff_lifecycle(old: Contract, new: Contract) -> list[Change]:
    out = []
    if old.status != new.status:
        out.append(Change("status", "status_changed", f"status {old.status} → {new.status}", False))
    if old.deprecation != new.deprecation:
        out.append(
            Change("deprecation", "deprecation_changed", "deprecation notice changed", False)
        )
    return out


def _diff_access(old: Contract, new: Contract) -> list[Change]:
    """Restricting a product breaks every consumer's queries until each holds a grant."""
    if old.access == new.access:
        return []
    restricted = new.access == Access.RESTRICTED
    message = f"access {old.access} → {new.access}"
    if restricted:
        message += "; queries need raw access or an access grant"
    return [Change("access", "access_changed", message, restricted)]


def _diff_inputs(old: Contract, new: Contract) -> list[Change]:
    """Inputs added or dropped (issue 16: lineage): reported, never breaking for consumers."""
    added = [i for i in new.inputs if i not in old.inputs]
    dropped = [i for i in old.inputs if i not in new.inputs]
    out = []
    if added:
        out.append(Change("inputs", "inputs_added", f"built from {_fmt(added)} too", False))
    if dropped:
        message = f"no longer built from {_fmt(dropped)}"
        out.append(Change("inputs", "inputs_removed", message, False))
    return out
