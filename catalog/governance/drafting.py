"""Draft a contract from a warehouse table: what to infer, and the evidence for it (issue 15).

Pure Python: no Django import. ``draft_table`` reads the table once (``columns()``, one sample of
its first rows, one pass of the check engine) and drafts it;
``catalog/services/drafts.py`` decides who may and which tables, ``bench/draft.py`` times it:

1. ``plan_columns``: every warehouse column with a contract type, or left out with the reason
   (a type no contract type covers, a name a naming policy refuses, beyond the column limit);
   PII by name (``policies.pii_category_for_name``).
2. ``detect_pii``: PII by sampled values (``policies.pii_category_for_value``, the threshold of
   the domain's ``pii.sampled_values`` rule) and, for text, personal data written inside it
   (``policies.pii_in_text``); each PII column gets the mask its kind calls for.
3. ``probe_spec``: the checks whose truth needs the whole table, as the engine's own check
   specs (types.py declarations): ``unique`` on identifier-looking columns the sample saw no
   repeat in, ``accepted_values`` with the sampled values of low-cardinality text. The engine
   runs them in one fused scan with the profile's NULL counts and extremes (plus one statement
   per ``unique`` candidate: the distinct count no scan avoids).
4. ``build_draft``: keep the candidates that passed; ``nullable: false`` and a ``not_null``
   check where the pass counted no NULL; ``range`` (observed extremes with a margin),
   ``freshness`` (the newest timestamp column; the SLA from the freshness observed) and
   ``row_count`` (a band around today's count); each check's params are validated by its
   declaration; owner, tags and description placeholders from the domain. Every inference is
   a note with its evidence.

What is proposed passes on the table it came from: every check is either proven by the pass
(``not_null``, ``unique``, ``accepted_values``) or built around the exact figures it read.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from sqlglot import exp

from catalog.contract import ContractError, parse_contract
from catalog.contract.limits import (
    ACCEPTED_VALUE_MAX_LENGTH,
    CHECKS_MAX,
    COLUMNS_MAX,
    NUMBER_MAX,
    STALE_HOURS_MAX,
)
from catalog.contract.vocabulary import (
    FRESHNESS_HOURS,
    ColumnType,
    Freshness,
    Mask,
    ProductStatus,
    Severity,
)
from quality.checks.nodes import ROWS, count_star, dupes_key, newest_key, outside_key
from quality.checks.nodes import table as table_node
from quality.checks.profile import (
    SAMPLE_ROWS,
    Sample,
    build_profile,
    column_nulls,
    max_key,
    min_key,
    read_sample,
    sample_statement,
)
from quality.checks.readings import Values, as_utc, human_hours, integer, number
from quality.checks.runner import run_product
from quality.checks.schema import TYPE_FAMILIES, base_type
from quality.checks.specs import (
    CheckOutcome,
    CheckSpec,
    CheckStatus,
    ColumnSpec,
    ProductSpec,
    outcome,
)
from quality.checks.sql import UNIQUE_STYLE
from quality.checks.types import (
    Aggregate,
    CheckType,
    Compiling,
    Judging,
    declaration,
    unique_statement,
)
from querying.warehouses.base import Warehouse, WarehouseColumn, WarehouseError

from . import conformance
from .policies import (
    COLLAPSING_MASKS,
    SNAKE_CASE_RE,
    SQL_RESERVED_WORDS,
    PolicyRule,
    evaluate_policies,
    looks_like_identifier,
    pii_category_for_name,
    pii_category_for_value,
    pii_in_text,
)

# The mask each kind of personal data gets (issue 15): e-mail → email, identifiers → hash,
# phone and account numbers → last4, names, addresses, birth dates → redact.
MASK_FOR: Mapping[str, str] = {
    "e-mail address": Mask.EMAIL,
    "phone number": Mask.LAST4,
    "person's name": Mask.REDACT,
    "postal address": Mask.REDACT,
    "birth date": Mask.REDACT,
    "government identifier": Mask.REDACT,
    "person identifier": Mask.HASH,
    "IP address": Mask.HASH,
    "payment or account number": Mask.LAST4,
    "payment card number": Mask.LAST4,
    "IBAN": Mask.LAST4,
    "free text": Mask.REDACT,
}
# Free text is personal when at least this share of its sampled values holds an e-mail
# address or a phone number (and at least one does).
FREE_TEXT_SHARE = 0.01
UNIQUE_CANDIDATES_MAX = 3
# The random sample that looks for a repeat before a `unique` candidate's distinct count: ~200
# expected repeats for a key of 200k values, none needed for a key that is unique.
UNIQUE_SAMPLE_ROWS = 20_000
# The widest integer range a `unique` proof on DuckDB counts with a bitmap (16 MB).
UNIQUE_BITMAP_MAX = 1 << 27
ACCEPTED_VALUES_MAX_CANDIDATE = 12  # distinct sampled values of a low-cardinality column
# Where an accepted_values candidate is proven by a count of its own (the check's condition as
# the WHERE clause) instead of inside the pass. DuckDB 2.0, 10M rows: the condition filters the
# scan in 9-20 ms, but costs 36-68 ms a candidate as a COUNT_IF of the pass, which evaluates it
# row by row; a count(DISTINCT) is no cheaper (7-21 ms) and compares values the way a column's
# collation does, not the way the check's IN does. PostgreSQL reads the rows once in the pass
# either way: a statement of its own would be another full scan there.
ACCEPTED_VALUES_APART = frozenset({"duckdb"})
ACCEPTED_VALUES_MIN_SAMPLE = 20
ROW_BAND = (0.5, 2.0)  # row_count: minRows, maxRows as shares of today's count
RANGE_MARGIN = 0.1  # of the observed span, on each side
FRESHNESS_MARGIN = 2.0  # the SLA window is at least this many times the observed age
FUTURE_SKEW_HOURS = 1.0  # a newest timestamp further ahead than this is a due date, not data
AVAILABILITY_PLACEHOLDER = 99.0
LATENCY_PLACEHOLDER_MS = 2000
TIERS = (Freshness.REALTIME, Freshness.HOUR, Freshness.FOUR_HOURS, Freshness.DAY)


@dataclass
class ColumnPlan:
    """One warehouse column on its way into the draft."""

    name: str
    warehouse_type: str
    warehouse_nullable: bool
    type: str | None  # the contract type; None: left out
    left_out: str = ""  # why it is not in the draft
    pii: str | None = None  # the kind of personal data
    pii_evidence: str = ""
    mask: str | None = None

    def spec(self) -> ColumnSpec:
        """The engine's view: every column nullable (the pass finds out), PII masked."""
        assert self.type is not None
        return ColumnSpec(self.name, self.type, True, self.pii is not None, self.mask)


@dataclass
class Draft:
    """What ``build_draft`` returns: the document, and why each part is what it is."""

    document: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def contract_type(warehouse_type: str) -> str | None:
    """The contract type whose family holds ``warehouse_type`` (schema.py), or None."""
    name = base_type(warehouse_type)
    for column_type, family in TYPE_FAMILIES.items():
        if name in family:
            return str(column_type)  # plain strings: the document is JSON/YAML
    return None


def plan_columns(
    columns: Sequence[WarehouseColumn], *, snake_case: str = SNAKE_CASE_RE
) -> list[ColumnPlan]:
    """Every warehouse column, typed or left out with the reason; PII by name."""
    pattern = re.compile(snake_case)
    plans: list[ColumnPlan] = []
    kept = 0
    for column in columns:
        plan = ColumnPlan(column.name, column.type, column.nullable, contract_type(column.type))
        if plan.type is None:
            plan.left_out = f"its type {column.type} has no contract type"
        elif not pattern.match(column.name):
            plan.left_out = f"its name is not snake_case ({pattern.pattern}), which policy refuses"
        elif column.name.lower() in SQL_RESERVED_WORDS:
            plan.left_out = "its name is an SQL reserved word, which policy refuses"
        elif kept >= COLUMNS_MAX:
            plan.left_out = f"a contract declares at most {COLUMNS_MAX} columns"
        else:
            kept += 1
            category = pii_category_for_name(column.name)
            if category is not None:
                plan.pii = category
                plan.pii_evidence = f"its name reads as personal data ({category})"
        if plan.left_out:
            plan.type = None
        plans.append(plan)
    return plans


def detect_pii(
    plans: Sequence[ColumnPlan],
    samples: Mapping[str, Sequence[object]],
    *,
    threshold: float = 0.5,
    min_samples: int = 1,
) -> None:
    """Flag columns whose sampled values look personal, then give every PII column its mask."""
    for plan in plans:
        if plan.type is None:
            continue
        values = [v for v in samples.get(plan.name, ()) if v is not None]
        if plan.pii is None and plan.type == ColumnType.STRING and values:
            # Each distinct text is judged once, weighed by how often it was sampled: a
            # low-cardinality column's 2,000 values are a handful. (The detectors are pure and
            # find nothing in a value that is not text.)
            seen = Counter(v for v in values if isinstance(v, str))
            found = _weighed(seen, pii_category_for_value)
            hits = sum(found.values())
            if hits and len(values) >= min_samples and hits / len(values) >= threshold:
                category, _ = found.most_common(1)[0]
                plan.pii = category
                plan.pii_evidence = (
                    f"{hits:,} of {len(values):,} sampled values look like {_plural(category)}"
                )
            else:
                inside = _weighed(seen, pii_in_text)
                within = sum(inside.values())
                if within and within / len(values) >= FREE_TEXT_SHARE:
                    kinds = " or ".join(_plural(k) for k, _ in inside.most_common())
                    plan.pii = "free text"
                    plan.pii_evidence = (
                        f"{within:,} of {len(values):,} sampled values contain {kinds}"
                    )
        if plan.pii is not None:
            mask = MASK_FOR.get(plan.pii, Mask.REDACT)
            if mask in COLLAPSING_MASKS and looks_like_identifier(plan.name):
                mask = Mask.HASH  # policy pii.identifier_mask: one reading per id
            plan.mask = str(mask)


def _weighed(seen: Counter[str], detect: Callable[[object], str | None]) -> Counter[str]:
    """How many sampled values ``detect`` finds of each kind, in the order first sampled."""
    found: Counter[str] = Counter()
    for value, times in seen.items():
        category = detect(value)
        if category is not None:
            found[category] += times
    return found


def _plural(category: str) -> str:
    special = {"IBAN": "IBANs", "person's name": "people's names"}
    return special.get(category, category + ("es" if category.endswith("s") else "s"))


# ---------------------------------------------------------------------------------------------
# The probe: what the pass proves
# ---------------------------------------------------------------------------------------------


def probe_spec(
    product_id: str,
    table: str,
    plans: Sequence[ColumnPlan],
    samples: Mapping[str, Sequence[object]],
) -> ProductSpec:
    """The checks the pass runs to prove them (types.py declarations, as the engine runs them)."""
    columns = [p for p in plans if p.type is not None]
    checks: list[CheckSpec] = []  # NULLs come from the profile's counts (``column_nulls``)
    uniques = 0
    for plan in columns:
        values = [v for v in samples.get(plan.name, ()) if v is not None]
        if (
            uniques < UNIQUE_CANDIDATES_MAX
            and plan.type in (ColumnType.STRING, ColumnType.INTEGER)
            and _is_identifier(plan.name)
            and values
            and len(set(map(_key, values))) == len(values)
        ):
            uniques += 1
            checks.append(CheckSpec(f"{plan.name}_unique", CheckType.UNIQUE, column=plan.name))
        accepted = _accepted_candidates(plan, values)
        if accepted is not None:
            params = {"values": accepted}
            checks.append(
                CheckSpec(
                    f"{plan.name}_values", CheckType.ACCEPTED_VALUES, "error", plan.name, params
                )
            )
    return ProductSpec(product_id, table, tuple(p.spec() for p in columns), tuple(checks))


def _is_identifier(name: str) -> bool:
    return looks_like_identifier(name)


def _key(value: object) -> object:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _accepted_candidates(plan: ColumnPlan, values: Sequence[object]) -> list[str] | None:
    """The sampled values of a low-cardinality text column, or None."""
    if plan.type != ColumnType.STRING or plan.pii is not None or _is_identifier(plan.name):
        return None
    if len(values) < ACCEPTED_VALUES_MIN_SAMPLE:
        return None
    distinct = sorted({str(v) for v in values})
    if len(distinct) > ACCEPTED_VALUES_MAX_CANDIDATE or len(distinct) * 4 > len(values):
        return None
    if any(len(v) > ACCEPTED_VALUE_MAX_LENGTH for v in distinct):
        return None
    declared = declaration(CheckType.ACCEPTED_VALUES)
    assert declared is not None
    if declared.param_problems({"values": distinct}, column_type=ColumnType.STRING):
        return None
    return distinct


# ---------------------------------------------------------------------------------------------
# The draft
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who the draft is for: the product's id and name, its domain, the owner placeholders."""

    product_id: str
    name: str
    domain: str
    domain_name: str
    table: str
    contact: str
    slack_channel: str


def default_product_id(domain: str, table: str, prefix: str) -> str:
    """``<domain>.<table without the domain's prefix>`` (the whole table when that is no name)."""
    short = table[len(prefix) :] if table.startswith(prefix) else table
    if not re.fullmatch(r"[a-z][a-z0-9_]*", short):
        short = table if re.fullmatch(r"[a-z][a-z0-9_]*", table) else f"t_{table.strip('_')}"
    return f"{domain}.{short}"


def default_name(product_id: str) -> str:
    """``marketing.newsletter_signups`` → ``Newsletter signups``."""
    words = product_id.split(".", 1)[-1].replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else product_id


def build_draft(
    identity: Identity,
    plans: Sequence[ColumnPlan],
    probe: ProductSpec,
    outcomes: Sequence[CheckOutcome],
    values: Values,
    *,
    now: datetime,
) -> Draft:
    """The contract document and its notes, from the pass's outcomes and figures."""
    notes = [f"{plan.name}: left out: {plan.left_out}" for plan in plans if plan.left_out]
    passed = {o.check_name for o in outcomes if o.passed}
    rows = _int(values, ROWS)
    columns = [p for p in plans if p.type is not None]

    schema: list[dict[str, Any]] = []
    no_nulls: set[str] = set()
    for plan in columns:
        nulls = 0 if not plan.warehouse_nullable else column_nulls(values, plan.name)
        never_null = (not plan.warehouse_nullable) or (nulls == 0 and bool(rows))
        if never_null:
            no_nulls.add(plan.name)
        entry: dict[str, Any] = {
            "column": plan.name,
            "type": plan.type,
            "description": _description(plan),
            "pii": plan.pii is not None,
            "nullable": not never_null,
        }
        if plan.mask is not None:
            entry["mask"] = plan.mask
            notes.append(f"{plan.name}: {plan.pii_evidence} → pii: true, mask: {plan.mask}")
        if never_null:
            why = (
                "NOT NULL in the warehouse"
                if not plan.warehouse_nullable
                else f"no NULL in {rows:,} rows"
            )
            notes.append(f"{plan.name}: {why} → nullable: false")
        elif nulls:
            share = nulls / rows if rows else 0
            notes.append(f"{plan.name}: {nulls:,} NULLs in {rows:,} rows ({share:.1%}) → nullable")
        schema.append(entry)

    checks: list[dict[str, Any]] = []
    sla_freshness, freshness_check = _freshness(columns, values, now, notes)
    # A column seen without NULLs is drafted as required (nullable: false), and a required
    # column gets its not_null check (policy checks.not_null asks for one on each).
    checks.extend(
        _check(f"{plan.name}_not_null", CheckType.NOT_NULL, plan.name)
        for plan in columns
        if plan.name in no_nulls
    )
    for check in probe.checks:
        if check.type == CheckType.UNIQUE:
            dupes = number(values.raw(f"dupes:{check.column}")[0])
            if check.name in passed:
                checks.append(_check(check.name, CheckType.UNIQUE, check.column))
                notes.append(f"{check.column}: 0 duplicates in {rows:,} rows → unique")
            elif dupes:
                notes.append(
                    f"{check.column}: looks like an identifier, but {int(dupes):,} rows repeat "
                    "a value → no unique check"
                )
        elif check.type == CheckType.ACCEPTED_VALUES:
            shown = ", ".join(check.params["values"])
            if check.name in passed:
                checks.append(
                    _check(check.name, CheckType.ACCEPTED_VALUES, check.column, dict(check.params))
                )
                count = len(check.params["values"])
                nulls = column_nulls(values, str(check.column))
                among = (
                    f"every non-NULL one of {rows - nulls:,} rows"
                    if rows is not None and nulls
                    else f"every one of {rows:,} rows"
                )
                notes.append(
                    f"{check.column}: {among} is one of {count} values ({shown}) → accepted_values"
                )
            else:
                outside = _int(values, outside_key(probe.checks.index(check)))
                how_many = f"{outside:,} rows hold" if outside else "rows may hold"
                notes.append(
                    f"{check.column}: the sample shows {shown}, but {how_many} other values → "
                    "no accepted_values check"
                )
    for plan in columns:
        found = _range(plan, values, rows, notes)
        if found is not None:
            checks.append(found)
    if freshness_check is not None:
        checks.append(freshness_check)
    if rows:
        low, high = math.floor(rows * ROW_BAND[0]), math.ceil(rows * ROW_BAND[1])
        checks.append(
            _check("row_count", CheckType.ROW_COUNT, None, {"minRows": low, "maxRows": high})
        )
        notes.append(f"table: {rows:,} rows today → row_count between {low:,} and {high:,}")
    else:
        notes.append("table: it holds no rows yet → no row_count, not_null or range checks")
    if len(checks) > CHECKS_MAX:
        notes.append(f"checks: the first {CHECKS_MAX} of {len(checks)} are kept (the limit)")
        checks = checks[:CHECKS_MAX]
    types = {c["column"]: c["type"] for c in schema}
    for drafted in checks:
        _validate(drafted, types)

    document: dict[str, Any] = {
        "id": identity.product_id,
        "domain": identity.domain,
        "name": identity.name,
        "description": (
            f"{identity.name}: drafted from table {identity.table} "
            f"({rows:,} rows on {now.date().isoformat()}). Say what one row is, where the data "
            "comes from and how often it is loaded."
            if rows is not None
            else f"{identity.name}: drafted from table {identity.table}. Say what one row is."
        ),
        "owner": {
            "team": identity.domain_name,
            "contact": identity.contact,
            "slackChannel": identity.slack_channel,
        },
        "schema": schema,
        "sla": {
            "freshness": sla_freshness,
            "availability": AVAILABILITY_PLACEHOLDER,
            "queryLatencyP95Ms": LATENCY_PLACEHOLDER_MS,
        },
        "qualityChecks": checks,
        "tags": [identity.domain],
        "version": 1,
        "status": ProductStatus.PUBLISHED.value,
        "table": identity.table,
    }
    notes.append(
        f"sla: availability {AVAILABILITY_PLACEHOLDER:g}% and p95 latency "
        f"{LATENCY_PLACEHOLDER_MS} ms are placeholders: set what you promise"
    )
    notes.append(
        f"owner: {identity.domain_name} <{identity.contact}>, {identity.slack_channel}; "
        f"tags: {identity.domain} (placeholders from the domain)"
    )
    return Draft(document, notes)


def _description(plan: ColumnPlan) -> str:
    """What is known about a column without reading its values; empty otherwise."""
    if plan.pii is not None:
        kind = "personal data in free text" if plan.pii == "free text" else plan.pii
        return f"{kind[:1].upper()}{kind[1:]} (personal data, masked as {plan.mask})."
    if _is_identifier(plan.name):
        return "Identifier."
    return ""


def _check(
    name: str, check_type: str, column: str | None, params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "type": str(check_type)}
    if column is not None:
        out["column"] = column
    if params:
        out["params"] = dict(params)
    out["severity"] = Severity.ERROR.value
    return out


def _validate(check: Mapping[str, Any], types: Mapping[str, str]) -> None:
    """A drafted check its declaration refuses is a bug here, never a draft that fails later."""
    declared = declaration(check["type"])
    if declared is None:
        raise ValueError(f"drafted an unknown check type: {check}")
    column = check.get("column")
    column_type = types.get(column) if isinstance(column, str) else None
    problems = declared.param_problems(check.get("params") or {}, column_type=column_type)
    problem = declared.column_problem(has_column=column is not None)
    if problems or problem is not None:
        raise ValueError(f"drafted a check its declaration refuses: {check}: {problems or problem}")


def _int(values: Values, key: str) -> int | None:
    raw, error = values.raw(key)
    if error is not None:
        return None
    found = integer(raw)
    return int(found) if found is not None else None


def _range(
    plan: ColumnPlan, values: Values, rows: int | None, notes: list[str]
) -> dict[str, Any] | None:
    """A range around the observed extremes of a numeric column that is not an identifier."""
    if plan.type not in (ColumnType.INTEGER, ColumnType.FLOAT) or plan.pii is not None:
        return None
    if _is_identifier(plan.name) or not rows:
        return None
    low = number(values.raw(min_key(plan.name))[0])
    high = number(values.raw(max_key(plan.name, plan.type))[0])
    if low is None or high is None:
        return None
    wide_low, wide_high = widened(low, high, integer=plan.type == ColumnType.INTEGER)
    if abs(wide_low) > NUMBER_MAX or abs(wide_high) > NUMBER_MAX:
        return None
    notes.append(
        f"{plan.name}: observed {_num(low)} … {_num(high)} → range {_num(wide_low)} … "
        f"{_num(wide_high)}"
    )
    return _check(
        f"{plan.name}_range", CheckType.RANGE, plan.name, {"min": wide_low, "max": wide_high}
    )


def widened(low: float, high: float, *, integer: bool) -> tuple[float | int, float | int]:
    """``[low, high]`` widened by RANGE_MARGIN of the span on each side, rounded outwards to a
    round figure; never below 0 when ``low`` is not, integers for an integer column."""
    span = high - low
    pad = span * RANGE_MARGIN if span > 0 else max(abs(high) * RANGE_MARGIN, 1.0)
    step = 10 ** math.floor(math.log10(pad)) if pad > 0 else 1.0
    if integer:
        step = max(1.0, step)
    out_low = math.floor((low - pad) / step) * step
    out_high = math.ceil((high + pad) / step) * step
    if low >= 0:
        out_low = max(0.0, out_low)
    out_low, out_high = min(out_low, low), max(out_high, high)
    if integer:
        return int(math.floor(out_low)), int(math.ceil(out_high))
    tidy_low, tidy_high = _tidy(out_low), _tidy(out_high)
    # Rounding to a few decimals must never cut off an observed value.
    return (tidy_low if tidy_low <= low else low), (tidy_high if tidy_high >= high else high)


def _tidy(value: float) -> float | int:
    rounded = round(float(value), 6)
    return int(rounded) if rounded.is_integer() else rounded


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.6g}"


def _freshness(
    columns: Sequence[ColumnPlan], values: Values, now: datetime, notes: list[str]
) -> tuple[str, dict[str, Any] | None]:
    """The SLA freshness and the freshness check, from the newest timestamp column."""
    newest: tuple[datetime, str] | None = None
    for plan in columns:
        if plan.type != ColumnType.TIMESTAMP or plan.pii is not None:
            continue
        value = as_utc(values.raw(newest_key(plan.name))[0])
        if value is None:
            continue
        if (value - now).total_seconds() / 3600 > FUTURE_SKEW_HOURS:
            notes.append(
                f"{plan.name}: its newest value lies in the future → not a freshness column"
            )
            continue
        if newest is None or value > newest[0]:
            newest = (value, plan.name)
    if newest is None:
        notes.append(
            "sla: no timestamp column with values → freshness 24h and no freshness check "
            "(policy checks.freshness will remind you)"
        )
        return str(Freshness.DAY), None
    value, column = newest
    age = max(0.0, (now - value).total_seconds() / 3600)
    for tier in TIERS:
        if FRESHNESS_HOURS[tier] >= FRESHNESS_MARGIN * age:
            notes.append(
                f"{column}: newest value {human_hours(age)} old → freshness check on {column}, "
                f"SLA freshness {tier} (the tightest with room for {FRESHNESS_MARGIN:g}× that age)"
            )
            return str(tier), _check(f"{column}_fresh", CheckType.FRESHNESS, column)
    allowed = min(STALE_HOURS_MAX, math.ceil(FRESHNESS_MARGIN * age))
    notes.append(
        f"{column}: newest value {human_hours(age)} old, older than the loosest SLA (24h) → "
        f"SLA freshness 24h and a freshness check allowing {allowed} h; the product reads stale "
        "until newer data arrives"
    )
    return str(Freshness.DAY), _check(
        f"{column}_fresh", CheckType.FRESHNESS, column, {"maxStaleHours": allowed}
    )


def with_detected(plans: Sequence[ColumnPlan], name: str, category: str, evidence: str) -> None:
    """Flag ``name`` as PII of ``category`` (a policy found it in the publish's own sample)."""
    for plan in plans:
        if plan.name == name and plan.type is not None and plan.pii is None:
            plan.pii, plan.pii_evidence = category, evidence
            mask = MASK_FOR.get(category, Mask.REDACT)
            if mask in COLLAPSING_MASKS and looks_like_identifier(name):
                mask = Mask.HASH
            plan.mask = str(mask)


# ---------------------------------------------------------------------------------------------
# Reading a table and drafting it, end to end (what the service and bench/draft.py run)
# ---------------------------------------------------------------------------------------------

SAMPLE_TIMEOUT_S = 30.0


class TableUnreadable(Exception):
    """The warehouse could not be read, or the table is gone (``missing``)."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass
class TableDraft:
    """A drafted contract document, the table's profile and every inference's note."""

    document: dict[str, Any]
    profile: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _rule(rules: Sequence[PolicyRule], key: str) -> PolicyRule | None:
    return next((r for r in rules if r.key == key), None)


def draft_table(
    warehouse: Warehouse,
    identity: Identity,
    *,
    rules: Sequence[PolicyRule],
    now: datetime,
    timeout_s: float,
    hash_key: str,
    verify_unique: bool = True,
) -> TableDraft:
    """Read ``identity.table`` once and draft its contract (the module's steps 1-4, then the
    domain's ``rules`` over the draft with the publish's own value sample).

    The reads: ``columns()``; one sample of the first rows; one fused pass of the check engine
    (plus one statement per ``unique`` candidate, unless ``verify_unique`` is off, and on
    ``ACCEPTED_VALUES_APART`` engines one per ``accepted_values`` candidate). The publish's
    value sample (its first rows' strings) is cut from the draft's sample of the same first
    rows, not read again. Raises TableUnreadable.
    """
    try:
        columns = warehouse.columns(identity.table)
    except WarehouseError as exc:
        raise TableUnreadable(f"the warehouse cannot be read: {_line(exc)}") from None
    if columns is None:
        raise TableUnreadable(f"table {identity.table} does not exist", missing=True)
    naming = _rule(rules, "naming.column_snake_case")
    pattern = r".+"
    if naming is not None and naming.severity == Severity.ERROR:
        pattern = str(naming.params.get("pattern", SNAKE_CASE_RE))
    plans = plan_columns(columns, snake_case=pattern)
    sample = _first_rows(warehouse, identity, plans)
    sampling = _rule(rules, "pii.sampled_values")
    params = sampling.params if sampling is not None else {}
    detect_pii(
        plans,
        sample.counted,
        threshold=float(params.get("threshold", 0.5)),
        min_samples=int(params.get("min_samples", 1)),
    )
    probe = probe_spec(identity.product_id, identity.table, plans, sample.counted)
    # The pass proves everything but `unique`, whose proof (a distinct count) is a statement of
    # its own: it comes after, for the candidates a random sample does not already disprove.
    # Where ACCEPTED_VALUES_APART, accepted_values candidates are counted on their own too.
    uniques = [c for c in probe.checks if c.type == CheckType.UNIQUE] if verify_unique else []
    kept = tuple(c for c in probe.checks if c.type != CheckType.UNIQUE)
    apart = (
        tuple(c for c in kept if c.type == CheckType.ACCEPTED_VALUES)
        if warehouse.dialect in ACCEPTED_VALUES_APART
        else ()
    )
    fused = tuple(c for c in kept if c not in apart)
    kept = fused + apart  # the pass's checks keep their indices (outside:<index>)
    deadline = time.monotonic() + timeout_s  # the pass and the proofs share the time cap
    report = run_product(
        warehouse,
        ProductSpec(probe.product_id, probe.table, probe.columns, fused),
        now=now,
        timeout_s=timeout_s,
        hash_key=hash_key,
        profile=True,  # its NULL counts and extremes go into `values`
        profile_sample=False,
        profile_built=False,  # the draft's profile is built below, with the draft's sample
        columns=columns,
    )
    values = report.values
    if not report.table_reachable or values is None or values.get(ROWS)[0] is None:
        why = next(
            (o.message for o in report.outcomes if o.status == CheckStatus.ERROR), "no row count"
        )
        raise TableUnreadable(f"table {identity.table} could not be read: {why}")
    outcomes = list(report.outcomes)
    if apart:
        spec = ProductSpec(probe.product_id, probe.table, probe.columns, kept)
        outcomes.extend(_prove_apart(warehouse, spec, len(fused), values, now, deadline))
    unique_notes: list[str] = []
    if uniques:
        uniques = _not_disproved(warehouse, probe, uniques, _int(values, ROWS), unique_notes)
        outcomes.extend(_prove_unique(warehouse, probe, uniques, values, deadline))
    probe = ProductSpec(probe.product_id, probe.table, probe.columns, kept + tuple(uniques))
    draft = build_draft(identity, plans, probe, outcomes, values, now=now)
    draft.notes.extend(unique_notes)
    flagged = _flag_what_the_policies_find(draft, plans, rules, sample.counted)
    if flagged:  # the publish's own sample flagged a column: draft it again
        draft = build_draft(identity, plans, probe, outcomes, values, now=now)
        draft.notes.extend(unique_notes + flagged)
    contract = parse_contract(draft.document)  # ContractError here is a drafting bug
    draft.notes.extend(
        f"policy {v.policy} ({v.severity}): {v.path}: {v.message}"
        for v in evaluate_policies(contract, rules)
    )
    specs = [p.spec() for p in plans if p.type is not None]
    personal = {p.name for p in plans if p.pii is not None}
    # The draft's sample read PII raw (no mask exists yet): its values stay out of the profile.
    shown = Sample(
        counted=sample.counted,
        shown={k: v for k, v in sample.shown.items() if k not in personal},
        rows=sample.rows,
        method=sample.method,
    )
    not_null = frozenset(p.name for p in plans if p.type is not None and not p.warehouse_nullable)
    profile = build_profile(specs, values, sample=shown, computed_at=now, known_not_null=not_null)
    profile["table"] = identity.table
    profile["columnsLeftOut"] = [
        {"name": p.name, "type": p.warehouse_type, "why": p.left_out} for p in plans if p.left_out
    ]
    return TableDraft(draft.document, profile, draft.notes)


def _first_rows(warehouse: Warehouse, identity: Identity, plans: Sequence[ColumnPlan]) -> Sample:
    """The table's first rows, raw (no mask exists before the draft): candidates and PII."""
    typed = [p for p in plans if p.type is not None]
    spec = ProductSpec(
        identity.product_id, identity.table, tuple(ColumnSpec(p.name, str(p.type)) for p in typed)
    )
    statement = sample_statement(
        spec, warehouse.dialect, rows=None, sample_rows=SAMPLE_ROWS, system=False, masked=False
    )
    if statement is None:
        return Sample()
    try:
        result = warehouse.execute(statement.sql, (), timeout_s=SAMPLE_TIMEOUT_S)
    except WarehouseError as exc:
        raise TableUnreadable(
            f"table {identity.table} could not be sampled: {_line(exc)}"
        ) from None
    return read_sample(statement, result.rows)


def _not_disproved(
    warehouse: Warehouse,
    probe: ProductSpec,
    uniques: list[CheckSpec],
    rows: int | None,
    notes: list[str],
) -> list[CheckSpec]:
    """The ``unique`` candidates without a repeated value in a random sample of the table.

    A value seen twice in the sample is seen twice in the table: that candidate needs no
    distinct count (on PostgreSQL, 10M rows: 6.3 s for a text key that repeats). A sample
    without repeats proves nothing; those candidates go on to the proof. The sample reads
    random pages (``TABLESAMPLE SYSTEM``) where the engine can, else the first rows.
    """
    names = {c.column for c in uniques}
    spec = ProductSpec(
        probe.product_id, probe.table, tuple(c for c in probe.columns if c.name in names)
    )
    statement = sample_statement(
        spec, warehouse.dialect, rows=rows, sample_rows=UNIQUE_SAMPLE_ROWS, masked=False
    )
    if statement is None:
        return uniques
    try:
        result = warehouse.execute(statement.sql, (), timeout_s=SAMPLE_TIMEOUT_S)
    except WarehouseError:  # the sample only saves time: the proof decides
        return uniques
    sampled = read_sample(statement, result.rows)
    left = []
    for check in uniques:
        values = [_key(v) for v in sampled.counted.get(str(check.column), ()) if v is not None]
        repeats = len(values) - len(set(values))
        if repeats:
            notes.append(
                f"{check.column}: looks like an identifier, but {repeats:,} of {len(values):,} "
                f"sampled values repeat one → no unique check"
            )
        else:
            left.append(check)
    return left


def _prove_unique(
    warehouse: Warehouse,
    probe: ProductSpec,
    uniques: Sequence[CheckSpec],
    values: Values,
    deadline: float,
) -> list[CheckOutcome]:
    """Each candidate's duplicate rows (``dupes:<column>`` goes into ``values``): the check
    engine's ``unique`` statement, or on DuckDB for an integer column a bitmap over the pass's
    min ... max (``_bitmap_dupes``); each statement gets what is left before ``deadline``
    (``time.monotonic()``), and none is sent once it has passed."""
    style = UNIQUE_STYLE.get(warehouse.dialect, "distinct")
    types = {c.name: c.type for c in probe.columns}
    found = []
    for check in uniques:
        column = str(check.column)
        statements = [unique_statement(table_node(probe.table), column, style)]
        if warehouse.dialect == "duckdb" and types.get(column) == ColumnType.INTEGER:
            bitmap = _bitmap_dupes(probe.table, column, values)
            statements = [bitmap, *statements] if bitmap is not None else statements
        dupes: float | None = None
        problem = "no answer"
        for statement in statements:  # the bitmap fails on a value the pass did not see
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                problem = "the draft used up its time before this proof"
                break
            try:
                sql = statement.sql(dialect=warehouse.dialect)
                dupes = number(warehouse.execute(sql, (), timeout_s=remaining).rows[0][0])
                break
            except WarehouseError as exc:
                problem = _line(exc)
        if dupes is None:
            found.append(outcome(check, CheckStatus.ERROR, problem))
            continue
        values.values[dupes_key(column)] = dupes
        status = CheckStatus.PASSED if dupes == 0 else CheckStatus.FAILED
        found.append(outcome(check, status, f"{dupes:g} duplicate rows in {column}", dupes))
    return found


def _prove_apart(
    warehouse: Warehouse,
    spec: ProductSpec,
    first: int,
    values: Values,
    now: datetime,
    deadline: float,
) -> list[CheckOutcome]:
    """The outcomes of ``spec.checks[first:]``, each from a statement of its own, judged by
    its declaration as the pass would; each count goes into ``values`` under its key.

    A check's pass aggregate ``count(*) FILTER (WHERE c)`` (types.py, the very condition the
    check runs) is sent as ``SELECT count(*) FROM t WHERE c``: the same rows, counted where the
    engine filters the scan instead of inside the pass's aggregate (``ACCEPTED_VALUES_APART``).
    Each statement gets what is left before ``deadline``; a statement that fails or is not sent
    leaves its check ``error``, which drafts no check.
    """
    at = Compiling(table_node(spec.table), warehouse.dialect, frozenset(), "distinct")
    found = []
    for index in range(first, len(spec.checks)):
        check = spec.checks[index]
        declared = declaration(check.type)
        assert declared is not None  # probe_spec drafts declared checks only
        for part in declared.sql(check, index, at):
            assert isinstance(part, Aggregate)  # ACCEPTED_VALUES_APART types are aggregates
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                values.errors[part.key] = "the draft used up its time before this proof"
                continue
            try:
                sql = _counted_apart(at.table, part.expr).sql(dialect=warehouse.dialect)
                values.values[part.key] = warehouse.execute(sql, (), timeout_s=remaining).rows[0][0]
            except WarehouseError as exc:
                values.errors[part.key] = _line(exc)
        found.append(declared.judge(check, Judging(index, values, spec, now, frozenset())))
    return found


def _counted_apart(table: exp.Table, aggregate: exp.Expr) -> exp.Select:
    """``count(*) FILTER (WHERE c)`` as ``SELECT count(*) FROM table WHERE c``; any other
    aggregate as ``SELECT aggregate FROM table``."""
    if (
        isinstance(aggregate, exp.Filter)
        and isinstance(aggregate.this, exp.Count)
        and isinstance(aggregate.this.this, exp.Star)
        and isinstance(aggregate.expression, exp.Where)
    ):
        condition = aggregate.expression.this.copy()
        return exp.select(count_star()).from_(table.copy()).where(condition)
    return exp.select(aggregate.copy()).from_(table.copy())


def _bitmap_dupes(table: str, column: str, values: Values) -> exp.Select | None:
    """``count(col) - bit_count(bitstring_agg(col, min, max))``: rows minus distinct values of
    an integer column whose range the pass read, one bit a possible value (10M shuffled ids:
    46 ms against 566 ms for ``count(DISTINCT id)``). None when the range is unknown, empty, or
    wider than ``UNIQUE_BITMAP_MAX`` bits."""
    low, high = values.raw(min_key(column))[0], values.raw(max_key(column, ColumnType.INTEGER))[0]
    if not (_exact_int(low) and _exact_int(high)) or not 0 <= high - low < UNIQUE_BITMAP_MAX:
        return None
    bits = exp.Anonymous(
        this="bitstring_agg",
        expressions=[exp.column(column, quoted=True), _number(low), _number(high)],
    )
    dupes = exp.Sub(
        this=exp.Count(this=exp.column(column, quoted=True)),
        expression=exp.Anonymous(this="bit_count", expressions=[bits]),
    )
    return exp.select(exp.alias_(dupes, "dupes")).from_(table_node(table))


def _exact_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: int) -> exp.Expr:
    literal = exp.Literal.number(abs(value))
    return exp.Neg(this=literal) if value < 0 else literal


def _flag_what_the_policies_find(
    draft: Draft,
    plans: Sequence[ColumnPlan],
    rules: Sequence[PolicyRule],
    first_rows: Mapping[str, Sequence[object]],
) -> list[str]:
    """Flag the columns the PII policies find with the publish's own sample: the first rows'
    strings (``conformance.sample_values``), cut from ``first_rows``, the draft's sample of the
    same first rows (``conformance.values_from_rows``)."""
    try:
        contract = parse_contract(draft.document)
    except ContractError:
        return []
    samples = conformance.values_from_rows(contract, first_rows)
    found: list[str] = []
    for violation in evaluate_policies(contract, rules, samples=samples):
        if violation.policy not in ("pii.column_names", "pii.sampled_values"):
            continue
        match = re.match(r"schema\[(\d+)\]", violation.path)
        if match is None:
            continue
        column = contract.schema[int(match.group(1))].column
        mostly = re.search(r"mostly ([^)]+)\)", violation.message)
        category = pii_category_for_name(column) or (mostly.group(1) if mostly else "free text")
        with_detected(plans, column, category, violation.message)
        found.append(f"{column}: the publish's policy sample flags it ({violation.message})")
    return found


def _line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


__all__ = [
    "MASK_FOR",
    "ColumnPlan",
    "Draft",
    "Identity",
    "TableDraft",
    "TableUnreadable",
    "build_draft",
    "contract_type",
    "default_name",
    "default_product_id",
    "detect_pii",
    "draft_table",
    "plan_columns",
    "probe_spec",
    "widened",
    "with_detected",
]
