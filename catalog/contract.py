"""The data contract: one definition, used by every entry point (YAML, API body, admin, CLI).

Pure Python: no Django import (see tests/test_layering.py). Field names follow the original
TypeScript contract (camelCase in YAML/JSON); see DESIGN.md, "The contract".

Invariants, each one tested in tests/catalog/test_contract*.py:

- ``parse_contract`` raises only ``ContractError`` for bad input, and lists *every* problem it
  found, each named by its path (``schema[3].type: must be one of ...``).
- ``parse_contract(c.to_dict()) == c`` and ``parse_contract(load_document(dump_yaml(c))) == c``:
  exporting and publishing again changes nothing.
- A check the engine cannot run (unknown type, missing column, missing params) is a validation
  error, never a silent pass.
- Unknown keys anywhere are errors: a typo (``maxStaleHour``) never silently becomes a default.
- Everything is bounded (issue #21): list lengths, text lengths, numbers and dates have
  documented limits (the constants below, docs/governance.md), and validation takes time
  linear in the document's size. Dates out of range, NaN, infinities and huge numbers are
  validation errors naming their path, never an OverflowError or a 500.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import yaml

COLUMN_TYPES = ("string", "integer", "float", "boolean", "timestamp", "json", "array")
CHECK_TYPES = (
    "not_null",
    "unique",
    "range",
    "freshness",
    "row_count",
    "custom_sql",
    "accepted_values",
)
SEVERITIES = ("error", "warning")
FRESHNESS = ("realtime", "1h", "4h", "24h")
# "retired" is our lifecycle extension: past its sunset, no longer queryable.
STATUSES = ("draft", "published", "deprecated", "retired")
MASKS = ("last4", "email", "hash", "null", "redact")
DEFAULT_MASK = "last4"
FRESHNESS_HOURS: dict[str, float] = {"realtime": 0.25, "1h": 1, "4h": 4, "24h": 24}
ID_RE = r"^[a-z][a-z0-9-]*\.[a-z][a-z0-9_]*$"
TABLE_RE = r"^[a-z_][a-z0-9_]*$"
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

# Size limits (issue #21): a contract is metadata, and every page, diff, e-mail and search
# index built from it stays small. Listed in docs/governance.md and in the JSON Schema.
TAGS_MAX = 50
TAG_MAX_LENGTH = 50
DESCRIPTION_MAX_LENGTH = 10_000  # the product's and each column's
REASON_MAX_LENGTH = 2_000  # deprecation.reason
COLUMNS_MAX = 500
CHECKS_MAX = 200
ACCEPTED_VALUES_MAX = 1_000
ACCEPTED_VALUE_MAX_LENGTH = 200
CUSTOM_SQL_MAX_LENGTH = 10_000
# Every number: finite and at most 10^15 in magnitude (exact in a double, so JSON readers in
# any language agree, and far from any overflow).
NUMBER_MAX = 10**15
LATENCY_MAX_MS = 3_600_000  # sla.queryLatencyP95Ms: one hour
STALE_HOURS_MAX = 87_600  # freshness params.maxStaleHours: ten years
# Dates: within years 1900..9998 in UTC, so every time zone (UTC-12..UTC+14) can show them.
DATETIME_MIN = datetime(1900, 1, 1, tzinfo=UTC)
DATETIME_MAX = datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)
# A document with more problems than this reports the first ones and a count of the rest.
ISSUES_MAX = 100

# PostgreSQL silently truncates longer identifiers, which would make a table impossible to find.
TABLE_MAX_LENGTH = 63
COLUMN_MAX_LENGTH = 128
# Longest values the catalog stores for these keys (its column sizes; PostgreSQL enforces them).
FIELD_MAX_LENGTH = {
    "id": 200,
    "name": 200,
    "team": 200,
    "contact": 254,
    "slackChannel": 100,
    "replacedBy": 200,
    "description": DESCRIPTION_MAX_LENGTH,
    "reason": REASON_MAX_LENGTH,
}
# The largest version the database stores (a 32-bit PositiveIntegerField on every backend).
VERSION_MAX = 2_147_483_647


# Which checks need a column, and which params each check type understands. Anything else in
# ``params`` is an error: the engine would ignore it and the author would believe it applies.
CHECKS_NEEDING_COLUMN = ("not_null", "unique", "range", "accepted_values", "freshness")
CHECKS_WITHOUT_COLUMN = ("row_count",)
CHECK_PARAMS: dict[str, tuple[str, ...]] = {
    "not_null": (),
    "unique": (),
    "range": ("min", "max"),
    "freshness": ("maxStaleHours",),
    "row_count": ("minRows", "maxRows"),
    "custom_sql": ("sql",),
    "accepted_values": ("values",),
}
NUMERIC_TYPES = ("integer", "float")

_ID = re.compile(ID_RE)
_TABLE = re.compile(TABLE_RE)
_EMAIL = re.compile(EMAIL_RE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# ASCII digits only: ``\d`` would also take Arabic-Indic or fullwidth digits.
_DATETIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?$"
)
# Year 10000 and beyond (ISO 8601 "expanded" years): well-formed, but out of range.
_LONG_YEAR = re.compile(r"^[+-]?[0-9]{5,}-[0-9]{2}-[0-9]{2}([Tt ]|$)")
_MAX_PARAMS_DEPTH = 20


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """The team that owns a data product and how to reach it."""

    team: str
    contact: str
    slack_channel: str


@dataclass(frozen=True)
class ColumnSpec:
    """One declared column of a data product."""

    column: str
    type: str
    description: str
    pii: bool = False
    nullable: bool = True
    mask: str | None = None

    @property
    def effective_mask(self) -> str | None:
        """The mask non-privileged readers get: None when not PII, else the mask or last4."""
        if not self.pii:
            return None
        return self.mask or DEFAULT_MASK


@dataclass(frozen=True)
class Sla:
    """Service level: freshness class, availability percent, p95 query latency."""

    freshness: str
    availability: float
    query_latency_p95_ms: float

    @property
    def freshness_hours(self) -> float:
        """Maximum staleness in hours."""
        return FRESHNESS_HOURS[self.freshness]


@dataclass(frozen=True)
class CheckSpec:
    """One declared quality check."""

    name: str
    type: str
    severity: str
    column: str | None = None
    # A plain JSON-like dict, excluded from the hash (dicts are unhashable) but compared.
    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)


@dataclass(frozen=True)
class Deprecation:
    """Why and until when a deprecated product is still served, and what replaces it."""

    sunset_at: datetime | None
    replaced_by: str | None
    reason: str


@dataclass(frozen=True)
class Contract:
    """A validated data contract. Build it with ``parse_contract``."""

    id: str
    domain: str
    name: str
    description: str
    owner: Owner
    schema: tuple[ColumnSpec, ...]
    sla: Sla
    quality_checks: tuple[CheckSpec, ...]
    tags: tuple[str, ...]
    version: int
    published_at: datetime | None
    status: str
    table: str
    deprecation: Deprecation | None = None

    @property
    def product_name(self) -> str:
        """The part of the id after the dot."""
        return self.id.split(".", 1)[1]

    @property
    def pii_columns(self) -> tuple[ColumnSpec, ...]:
        """Columns flagged as personal data."""
        return tuple(c for c in self.schema if c.pii)

    def column_named(self, name: str) -> ColumnSpec | None:
        """The declared column called ``name``, or None."""
        for col in self.schema:
            if col.column == name:
                return col
        return None

    def to_dict(self) -> dict[str, Any]:
        """The canonical camelCase document, JSON-serializable, keys in the seed's order.

        ``publishedAt`` is omitted while unset; ``table`` is always present; ``deprecation``,
        a column's ``mask``, a check's ``column`` and non-empty ``params`` only when set.
        """
        doc: dict[str, Any] = {
            "id": self.id,
            "domain": self.domain,
            "name": self.name,
            "description": self.description,
            "owner": {
                "team": self.owner.team,
                "contact": self.owner.contact,
                "slackChannel": self.owner.slack_channel,
            },
            "schema": [_column_dict(c) for c in self.schema],
            "sla": {
                "freshness": self.sla.freshness,
                "availability": self.sla.availability,
                "queryLatencyP95Ms": self.sla.query_latency_p95_ms,
            },
            "qualityChecks": [_check_dict(c) for c in self.quality_checks],
            "tags": list(self.tags),
            "version": self.version,
        }
        if self.published_at is not None:
            doc["publishedAt"] = format_datetime(self.published_at)
        doc["status"] = self.status
        doc["table"] = self.table
        if self.deprecation is not None:
            dep: dict[str, Any] = {}
            if self.deprecation.sunset_at is not None:
                dep["sunsetAt"] = format_datetime(self.deprecation.sunset_at)
            if self.deprecation.replaced_by is not None:
                dep["replacedBy"] = self.deprecation.replaced_by
            dep["reason"] = self.deprecation.reason
            doc["deprecation"] = dep
        return doc


def _column_dict(col: ColumnSpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "column": col.column,
        "type": col.type,
        "description": col.description,
        "pii": col.pii,
        "nullable": col.nullable,
    }
    if col.mask is not None:
        out["mask"] = col.mask
    return out


def _check_dict(check: CheckSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": check.name, "type": check.type}
    if check.column is not None:
        out["column"] = check.column
    if check.params:
        out["params"] = _copy_json(check.params)
    out["severity"] = check.severity
    return out


def _copy_json(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy_json(v) for v in value]
    return value


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix (``2025-03-01T00:00:00Z``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def default_table(contract_id: str) -> str:
    """The physical table of a product: ``marketing.campaign_attribution`` → ``marketing_...``.

    Dashes in the domain become underscores so the result is a plain SQL identifier.
    """
    return contract_id.replace(".", "_", 1).replace("-", "_")


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractIssue:
    """One problem in a contract document, named by its path (``schema[3].type``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def to_dict(self) -> dict[str, str]:
        """``{"path": ..., "message": ...}`` for API error bodies."""
        return {"path": self.path, "message": self.message}


class ContractError(ValueError):
    """A contract document is invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: list[ContractIssue]) -> None:
        self.issues = list(issues)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(i) for i in self.issues)


# ---------------------------------------------------------------------------------------------
# Loading text
# ---------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML, strict: no aliases (no billion laughs), no duplicate keys, dates stay text."""

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key; SafeLoader reports it properly below
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


# Timestamps stay strings, so every entry point (YAML, JSON, API) goes through the same
# datetime parsing and the same error messages.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

MAX_DOCUMENT_BYTES = 1_000_000


def load_document(text: str | bytes, *, filename: str | None = None) -> object:
    """YAML or JSON text → plain Python object. Syntax errors raise ``ContractError``.

    JSON is chosen by a ``.json`` filename; otherwise the text is read as YAML (a superset of
    JSON for any document we produce).
    """
    where = filename or "<document>"
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractError([ContractIssue(where, f"not UTF-8 text: {exc.reason}")]) from None
    if not isinstance(text, str):
        raise ContractError([ContractIssue(where, "must be text")])
    if len(text) > MAX_DOCUMENT_BYTES:
        raise ContractError(
            [ContractIssue(where, f"document too large (over {MAX_DOCUMENT_BYTES} characters)")]
        )
    if filename is not None and filename.lower().endswith(".json"):
        return _load_json(text, where)
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # One line: PyYAML's texts may span several ("...not allowed\n  in ...").
        problem = " ".join((exc.problem or exc.context or "syntax error").split())
        location = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ContractError([ContractIssue(where, f"invalid YAML: {location}{problem}")]) from None
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise ContractError([ContractIssue(where, f"invalid YAML: {problem}")]) from None
    except RecursionError:
        raise ContractError([ContractIssue(where, "invalid YAML: nested too deeply")]) from None


def _load_json(text: str, where: str) -> object:
    def no_constant(name: str) -> object:
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(text, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise ContractError(
            [
                ContractIssue(
                    where, f"invalid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
                )
            ]
        ) from None
    except (ValueError, RecursionError) as exc:
        raise ContractError([ContractIssue(where, f"invalid JSON: {exc}")]) from None


def dump_json(contract: Contract) -> str:
    """The canonical document as indented JSON."""
    return json.dumps(contract.to_dict(), indent=2, ensure_ascii=False) + "\n"


def dump_yaml(contract: Contract) -> str:
    """The canonical document as block-style YAML, keys in the seed's order."""
    return yaml.safe_dump(
        contract.to_dict(), sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

_MISSING = object()


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_problem(value: object) -> str | None:
    """Why ``value`` is not an acceptable contract number (NaN, infinite, huge), or None."""
    if not _is_number(value):
        return f"must be a number, not {_type_name(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    # abs() and int/float comparison are exact in Python: no OverflowError for 10**400.
    if abs(value) > NUMBER_MAX:  # type: ignore[call-overload]
        return f"must be at most {NUMBER_MAX:,} in magnitude"
    return None


def _hint(v: _Validator, key: str, known: tuple[str, ...]) -> list[str]:
    """The closest known key, while few problems are reported; none past ISSUES_MAX."""
    # Only the first ISSUES_MAX problems are shown, so hints past them are wasted time
    # (difflib per key made 100,000 unknown keys take seconds).
    if len(v.issues) >= ISSUES_MAX or len(key) > 100:
        return []
    return difflib.get_close_matches(key, known, n=1)


def _control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def _is_int(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    # JSON has one number type: 3.0 is the integer 3 (zod's .int() agrees).
    return isinstance(value, float) and value.is_integer()


class _Validator:
    def __init__(self) -> None:
        self.issues: list[ContractIssue] = []
        # Filled by _parse_columns, read by the check rules: a check may name a column whose
        # other fields are wrong without getting a second, misleading "not declared" error.
        # None when the schema itself is unusable: then no check can be told its column is missing.
        self.declared_columns: dict[str, int] | None = None
        self.column_types: dict[str, object] = {}

    def add(self, path: str, message: str) -> None:
        self.issues.append(ContractIssue(path, message))

    def mapping(
        self,
        value: object,
        path: str,
        known: tuple[str, ...],
    ) -> Mapping[str, Any] | None:
        """The value as a mapping, reporting unknown keys; None (reported) if not a mapping."""
        if not isinstance(value, Mapping):
            self.add(path, f"must be a mapping, not {_type_name(value)}")
            return None
        for key in value:
            if not isinstance(key, str):
                self.add(path, f"unknown field {key!r} (keys must be strings)")
            elif key not in known:
                hint = _hint(self, key, known)
                suffix = f" (did you mean '{hint[0]}'?)" if hint else ""
                self.add(_join(path, _safe_key(key)), f"unknown field{suffix}")
        return value

    def string(
        self, obj: Mapping[str, Any], key: str, path: str, *, required: bool = True
    ) -> str | None:
        value = obj.get(key, _MISSING)
        p = _join(path, key)
        if value is _MISSING or (value is None and not required):
            if required:
                self.add(p, "required")
            return None
        if not isinstance(value, str):
            self.add(p, f"must be a string, not {_type_name(value)}")
            return None
        limit = FIELD_MAX_LENGTH.get(key)
        if limit is not None and len(value) > limit:
            self.add(p, f"must be at most {limit} characters")
            return None
        return value

    def non_empty(
        self, obj: Mapping[str, Any], key: str, path: str, *, required: bool = True
    ) -> str | None:
        value = self.string(obj, key, path, required=required)
        if value is not None and not value.strip():
            self.add(_join(path, key), "must not be empty")
            return None
        return value

    def boolean(self, obj: Mapping[str, Any], key: str, path: str, default: bool) -> bool | None:
        value = obj.get(key, _MISSING)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.add(_join(path, key), f"must be a boolean, not {_type_name(value)}")
            return None
        return value

    def choice(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        choices: tuple[str, ...],
        *,
        required: bool = True,
    ) -> str | None:
        value = self.string(obj, key, path, required=required)
        if value is not None and value not in choices:
            self.add(_join(path, key), f"must be one of {', '.join(choices)}")
            return None
        return value

    def number(self, obj: Mapping[str, Any], key: str, path: str) -> float | None:
        value = obj.get(key, _MISSING)
        p = _join(path, key)
        if value is _MISSING:
            self.add(p, "required")
            return None
        problem = _number_problem(value)
        if problem is not None:
            self.add(p, problem)
            return None
        return value  # type: ignore[no-any-return]

    def datetime_(
        self, obj: Mapping[str, Any], key: str, path: str, *, required: bool = False
    ) -> datetime | None:
        value = obj.get(key, _MISSING)
        p = _join(path, key)
        if value is _MISSING or value is None:
            if required:
                self.add(p, "required")
            return None
        try:
            parsed = _parse_datetime(value)
        except _DateOutOfRange:
            self.add(
                p,
                f"out of range: must be between {format_datetime(DATETIME_MIN)} and "
                f"{format_datetime(DATETIME_MAX)}",
            )
            return None
        if parsed is None:
            self.add(p, "must be an ISO 8601 datetime, e.g. 2025-03-01T00:00:00Z")
        return parsed

    def list_(self, obj: Mapping[str, Any], key: str, path: str) -> list[Any] | None:
        value = obj.get(key, _MISSING)
        p = _join(path, key)
        if value is _MISSING:
            self.add(p, "required")
            return None
        if not isinstance(value, list | tuple):
            self.add(p, f"must be a list, not {_type_name(value)}")
            return None
        return list(value)


def _safe_key(key: str) -> str:
    # Keep error paths readable even for garbage keys (newlines, megabyte-long strings).
    cleaned = _printable(_CONTROL.sub("?", key))
    return cleaned if len(cleaned) <= 60 else cleaned[:57] + "..."


def _printable(text: str) -> str:
    """``text`` with lone surrogates as ``\\ud800``: an error line must be writable as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _string_problem(text: str) -> str | None:
    if "\x00" in text:  # PostgreSQL stores no NUL in text or JSON
        return "must not contain the NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # JSON's "\ud800": no database, log or terminal takes it
        return "must be valid Unicode (no lone surrogates such as \\ud800)"
    return None


def _check_strings(v: _Validator, doc: Mapping[str, Any]) -> None:
    """Every string and key of the document is storable text: no NUL, no lone surrogate.

    One pass over the document (an explicit stack: no recursion limit, linear time); paths
    are built only for the containers walked, never compared.
    """
    stack: list[tuple[object, str, int]] = [(doc, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            problem = _string_problem(value)
            if problem is not None:
                v.add(path, problem)
        elif depth > _MAX_PARAMS_DEPTH + 5:
            continue  # too deep: reported where the nesting is read
        elif isinstance(value, Mapping):
            children = []
            for key, item in value.items():
                if isinstance(key, str) and _string_problem(key) is not None:
                    v.add(path, f"a key {_string_problem(key)}")
                    continue
                children.append((item, _join(path, _safe_key(str(key))), depth + 1))
            stack.extend(reversed(children))
        elif isinstance(value, list | tuple):
            stack.extend(
                reversed([(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)])
            )


class _DateOutOfRange(ValueError):
    """A well-formed datetime outside DATETIME_MIN..DATETIME_MAX."""


def _parse_datetime(value: object) -> datetime | None:
    """Aware UTC datetime from an ISO 8601 string or a datetime; naive means UTC.

    None when the value is not a datetime; ``_DateOutOfRange`` when it is one outside the
    supported range (``9999-12-31T23:59:59-14:00`` is past datetime.max in UTC).
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date) or not isinstance(value, str):
        return None
    else:
        text = value.strip()
        if _LONG_YEAR.match(text):
            raise _DateOutOfRange(text)
        if not _DATETIME.match(text):
            return None
        if text[:4] == "0000":  # year 0 does not exist; Python says "year 0 is out of range"
            raise _DateOutOfRange(text)
        if text[-1] in "zZ":
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:  # month 13, an offset of 24 hours...
            return None
    # Check the local year before converting: the conversion itself overflows at the edges.
    if not DATETIME_MIN.year - 1 <= parsed.year <= DATETIME_MAX.year + 1:
        raise _DateOutOfRange(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise _DateOutOfRange(str(value)) from None
    if not DATETIME_MIN <= parsed <= DATETIME_MAX:
        raise _DateOutOfRange(str(value))
    return parsed


_TOP_KEYS = (
    "id",
    "domain",
    "name",
    "description",
    "owner",
    "schema",
    "sla",
    "qualityChecks",
    "tags",
    "version",
    "publishedAt",
    "status",
    "table",
    "deprecation",
)
_OPTIONAL_TOP_KEYS = ("publishedAt", "table", "deprecation")
_OWNER_KEYS = ("team", "contact", "slackChannel")
_COLUMN_KEYS = ("column", "type", "description", "pii", "nullable", "mask")
_SLA_KEYS = ("freshness", "availability", "queryLatencyP95Ms")
_CHECK_KEYS = ("name", "type", "column", "params", "severity")
_DEPRECATION_KEYS = ("sunsetAt", "replacedBy", "reason")


def parse_contract(data: object) -> Contract:
    """Validate a contract document (a mapping) and build a ``Contract``.

    Raises ``ContractError`` listing every problem; never any other exception for bad input.
    """
    v = _Validator()
    try:
        contract = _parse(v, data)
    except RecursionError:
        v.add("", "document nested too deeply")
        contract = None
    if v.issues or contract is None:
        issues = v.issues or [ContractIssue("", "invalid contract")]
        if len(issues) > ISSUES_MAX:
            more = len(issues) - ISSUES_MAX
            issues = [*issues[:ISSUES_MAX], ContractIssue("", f"... and {more} more problem(s)")]
        # Messages quote the document (duplicate names, unknown types): keep them writable.
        issues = [ContractIssue(_printable(i.path), _printable(i.message)) for i in issues]
        raise ContractError(issues)
    return contract


def validate_contract(data: object) -> list[ContractIssue]:
    """Every problem of a contract document; an empty list when it is valid."""
    try:
        parse_contract(data)
    except ContractError as exc:
        return exc.issues
    return []


def _parse(v: _Validator, data: object) -> Contract | None:
    if not isinstance(data, Mapping):
        v.add("", f"the contract must be a mapping (a YAML/JSON object), not {_type_name(data)}")
        return None
    doc = v.mapping(data, "", _TOP_KEYS)
    assert doc is not None
    _check_strings(v, doc)

    contract_id = v.string(doc, "id", "")
    if contract_id is not None and not _ID.match(contract_id):
        v.add("id", "must look like domain.product_name (lowercase; regex " + ID_RE + ")")
        contract_id = None

    domain = v.non_empty(doc, "domain", "")
    if domain is not None and contract_id is not None:
        prefix = contract_id.split(".", 1)[0]
        if domain != prefix:
            v.add("domain", f"must equal the id's prefix '{prefix}'")

    name = v.non_empty(doc, "name", "")
    description = v.string(doc, "description", "")
    owner = _parse_owner(v, doc.get("owner", _MISSING))
    columns = _parse_columns(v, doc)
    sla = _parse_sla(v, doc.get("sla", _MISSING))
    checks = _parse_checks(v, doc)
    tags = _parse_tags(v, doc)

    version: int | None = None
    raw_version = doc.get("version", _MISSING)
    if raw_version is _MISSING:
        v.add("version", "required")
    elif not _is_int(raw_version):
        v.add("version", f"must be an integer, not {_type_name(raw_version)}")
    elif raw_version < 1:
        v.add("version", "must be a positive integer")
    elif raw_version > VERSION_MAX:
        v.add("version", f"must be at most {VERSION_MAX}")
    else:
        version = int(raw_version)

    published_at = v.datetime_(doc, "publishedAt", "")
    status = v.choice(doc, "status", "", STATUSES)

    table: str | None = None
    raw_table = doc.get("table")
    if raw_table is None:
        if contract_id is not None:
            table = default_table(contract_id)
            if len(table) > TABLE_MAX_LENGTH:
                v.add(
                    "table",
                    f"the default table name '{table}' is longer than {TABLE_MAX_LENGTH} "
                    "characters; set table explicitly",
                )
    elif not isinstance(raw_table, str):
        v.add("table", f"must be a string, not {_type_name(raw_table)}")
    elif not _TABLE.match(raw_table):
        v.add("table", "must be a lowercase SQL identifier (regex " + TABLE_RE + ")")
    elif len(raw_table) > TABLE_MAX_LENGTH:
        v.add("table", f"must be at most {TABLE_MAX_LENGTH} characters")
    else:
        table = raw_table

    deprecation = _parse_deprecation(v, doc.get("deprecation"), contract_id)
    if deprecation is not None and status in ("draft", "published"):
        v.add("deprecation", "only allowed when status is deprecated or retired")

    if v.issues:
        return None
    assert contract_id is not None and domain is not None and name is not None
    assert description is not None and owner is not None and columns is not None
    assert sla is not None and checks is not None and tags is not None
    assert version is not None and status is not None and table is not None
    return Contract(
        id=contract_id,
        domain=domain,
        name=name,
        description=description,
        owner=owner,
        schema=tuple(columns),
        sla=sla,
        quality_checks=tuple(checks),
        tags=tuple(tags),
        version=version,
        published_at=published_at,
        status=status,
        table=table,
        deprecation=deprecation,
    )


def _parse_owner(v: _Validator, raw: object) -> Owner | None:
    if raw is _MISSING:
        v.add("owner", "required")
        return None
    obj = v.mapping(raw, "owner", _OWNER_KEYS)
    if obj is None:
        return None
    team = v.non_empty(obj, "team", "owner")
    contact = v.string(obj, "contact", "owner")
    if contact is not None and not _EMAIL.match(contact):
        v.add("owner.contact", "must be an e-mail address")
        contact = None
    slack = v.string(obj, "slackChannel", "owner")
    if team is None or contact is None or slack is None:
        return None
    return Owner(team=team, contact=contact, slack_channel=slack)


def _parse_columns(v: _Validator, doc: Mapping[str, Any]) -> list[ColumnSpec] | None:
    items = v.list_(doc, "schema", "")
    if items is None:
        return None
    if not items:
        v.add("schema", "must declare at least one column")
        return None
    if len(items) > COLUMNS_MAX:
        # Refused whole and early: nothing below runs over an unbounded list.
        v.add("schema", f"at most {COLUMNS_MAX} columns (got {len(items)})")
        return None
    columns: list[ColumnSpec] = []
    seen: dict[str, int] = {}
    ok = True
    for i, raw in enumerate(items):
        path = f"schema[{i}]"
        obj = v.mapping(raw, path, _COLUMN_KEYS)
        if obj is None:
            ok = False
            continue
        name = v.non_empty(obj, "column", path)
        if name is not None:
            if _CONTROL.search(name):
                v.add(f"{path}.column", "must not contain control characters")
                name = None
            elif len(name) > COLUMN_MAX_LENGTH:
                v.add(f"{path}.column", f"must be at most {COLUMN_MAX_LENGTH} characters")
                name = None
            elif name in seen:
                v.add(f"{path}.column", f"duplicate column '{name}' (also schema[{seen[name]}])")
                name = None
            else:
                seen[name] = i
        col_type = _choice_with_hint(v, obj, "type", path, COLUMN_TYPES, "unknown column type")
        description = v.string(obj, "description", path)
        pii = v.boolean(obj, "pii", path, default=False)
        nullable = v.boolean(obj, "nullable", path, default=True)
        if "mask" in obj and obj["mask"] is None:
            # Unquoted ``mask: null`` in YAML is null, not the "null" mask: silently reading it as
            # "no mask" would show last4 where the author asked for nothing at all.
            v.add(
                f"{path}.mask",
                "null is not a mask; write mask: 'null' (quoted) to hide values, or omit mask",
            )
        mask = v.choice(obj, "mask", path, MASKS, required=False)
        if mask is not None and pii is False:
            v.add(f"{path}.mask", "only allowed on pii columns (set pii: true or remove mask)")
            mask = None
        if None in (name, col_type, description, pii, nullable) or ("mask" in obj and mask is None):
            ok = False
            continue
        assert name is not None and col_type is not None and description is not None
        columns.append(
            ColumnSpec(
                column=name,
                type=col_type,
                description=description,
                pii=bool(pii),
                nullable=bool(nullable),
                mask=mask,
            )
        )
    # Cross-field checks need the names even when another field of a column is wrong, so
    # ``seen`` (not ``columns``) answers "is this column declared"; see _parse_checks.
    v.declared_columns = seen
    v.column_types = {
        obj["column"]: obj.get("type")
        for obj in items
        if isinstance(obj, Mapping) and isinstance(obj.get("column"), str)
    }
    return columns if ok else None


def _choice_with_hint(
    v: _Validator,
    obj: Mapping[str, Any],
    key: str,
    path: str,
    choices: tuple[str, ...],
    what: str,
) -> str | None:
    value = v.string(obj, key, path)
    if value is not None and value not in choices:
        shown = _safe_key(value)
        v.add(_join(path, key), f"{what} '{shown}'; must be one of {', '.join(choices)}")
        return None
    return value


def _parse_sla(v: _Validator, raw: object) -> Sla | None:
    if raw is _MISSING:
        v.add("sla", "required")
        return None
    obj = v.mapping(raw, "sla", _SLA_KEYS)
    if obj is None:
        return None
    freshness = v.choice(obj, "freshness", "sla", FRESHNESS)
    availability = v.number(obj, "availability", "sla")
    if availability is not None and not 99 <= availability <= 100:
        v.add("sla.availability", "must be between 99 and 100")
        availability = None
    latency = v.number(obj, "queryLatencyP95Ms", "sla")
    if latency is not None and latency <= 0:
        v.add("sla.queryLatencyP95Ms", "must be greater than 0")
        latency = None
    elif latency is not None and latency > LATENCY_MAX_MS:
        v.add("sla.queryLatencyP95Ms", f"must be at most {LATENCY_MAX_MS:,} (one hour)")
        latency = None
    if freshness is None or availability is None or latency is None:
        return None
    return Sla(freshness=freshness, availability=availability, query_latency_p95_ms=latency)


def _parse_checks(v: _Validator, doc: Mapping[str, Any]) -> list[CheckSpec] | None:
    items = v.list_(doc, "qualityChecks", "")
    if items is None:
        return None
    if len(items) > CHECKS_MAX:
        v.add("qualityChecks", f"at most {CHECKS_MAX} checks (got {len(items)})")
        return None
    declared = v.declared_columns
    checks: list[CheckSpec] = []
    seen: dict[str, int] = {}
    ok = True
    for i, raw in enumerate(items):
        path = f"qualityChecks[{i}]"
        obj = v.mapping(raw, path, _CHECK_KEYS)
        if obj is None:
            ok = False
            continue
        before = len(v.issues)
        name = v.non_empty(obj, "name", path)
        if name is not None:
            if _control(name):
                # Names go into e-mail subjects and Slack lines: one line, always.
                v.add(f"{path}.name", "must not contain control characters (line breaks, tabs)")
            elif name in seen:
                v.add(
                    f"{path}.name", f"duplicate check '{name}' (also qualityChecks[{seen[name]}])"
                )
            else:
                seen[name] = i
        check_type = v.string(obj, "type", path)
        if check_type is not None and check_type not in CHECK_TYPES:
            v.add(
                f"{path}.type",
                f"unknown check type '{_safe_key(check_type)}'; the engine runs: "
                + ", ".join(CHECK_TYPES),
            )
            check_type = None
        severity = v.choice(obj, "severity", path, SEVERITIES)
        column = v.string(obj, "column", path, required=False)
        if column is not None and declared is not None and column not in declared:
            v.add(f"{path}.column", f"'{_safe_key(column)}' is not a declared column")
            column = None
        raw_params = obj.get("params")
        params: dict[str, Any] = {}
        if raw_params is not None and not isinstance(raw_params, Mapping):
            v.add(f"{path}.params", f"must be a mapping, not {_type_name(raw_params)}")
        elif raw_params is not None:
            params = _json_params(v, raw_params, f"{path}.params")
        if check_type is not None:
            # Known params depend on the type, so unknown keys are reported by _check_rules.
            _check_rules(v, obj, path, check_type, column, v.column_types, params)
        if len(v.issues) != before:
            ok = False
            continue
        assert name is not None and check_type is not None and severity is not None
        if check_type == "row_count":  # 1000.0 is the integer 1000; store it as one
            params = {k: int(val) if _is_int(val) else val for k, val in params.items()}
        checks.append(
            CheckSpec(name=name, type=check_type, severity=severity, column=column, params=params)
        )
    return checks if ok else None


def _check_rules(
    v: _Validator,
    obj: Mapping[str, Any],
    path: str,
    check_type: str,
    column: str | None,
    column_types: Mapping[str, object],
    raw_params: Mapping[str, Any],
) -> None:
    """Type-specific rules: which column a check needs and which params, with their bounds."""
    has_column_key = obj.get("column") is not None
    if check_type in CHECKS_NEEDING_COLUMN and not has_column_key:
        v.add(f"{path}.column", f"required for {check_type}")
    if check_type in CHECKS_WITHOUT_COLUMN and has_column_key:
        v.add(f"{path}.column", f"not used by {check_type}; remove it")
    col_type = column_types.get(column) if column is not None else None

    params = raw_params
    ppath = f"{path}.params"
    known = CHECK_PARAMS[check_type]
    for key in params:
        if not isinstance(key, str) or key not in known:
            shown = _safe_key(key) if isinstance(key, str) else repr(key)
            hint = _hint(v, key, known) if isinstance(key, str) else []
            if known:
                expected = f"{check_type} takes {', '.join(known)}"
            else:
                expected = f"{check_type} takes no params"
            suffix = f"; did you mean '{hint[0]}'?" if hint else ""
            v.add(f"{ppath}.{shown}", f"unknown field ({expected}){suffix}")

    def number_param(key: str, *, integer: bool = False) -> float | None:
        value = params.get(key)
        if value is None:
            return None
        if integer and not _is_int(value):
            v.add(f"{ppath}.{key}", f"must be an integer, not {_type_name(value)}")
            return None
        problem = _number_problem(value)
        if problem is not None:
            v.add(f"{ppath}.{key}", problem)
            return None
        return value  # type: ignore[no-any-return]

    if check_type == "range":
        low, high = number_param("min"), number_param("max")
        if "min" not in params and "max" not in params:
            v.add(ppath, "range needs params.min and/or params.max")
        elif low is not None and high is not None and low > high:
            v.add(f"{ppath}.min", f"must not exceed params.max ({low} > {high})")
        if col_type is not None and col_type not in NUMERIC_TYPES:
            v.add(
                f"{path}.column", f"range needs a numeric column (integer or float), not {col_type}"
            )
    elif check_type == "accepted_values":
        values = params.get("values")
        if values is None:
            v.add(f"{ppath}.values", "required for accepted_values (a non-empty list)")
        elif not isinstance(values, list | tuple) or not values:
            v.add(f"{ppath}.values", "must be a non-empty list")
        elif len(values) > ACCEPTED_VALUES_MAX:
            v.add(f"{ppath}.values", f"at most {ACCEPTED_VALUES_MAX} values (got {len(values)})")
        else:
            for j, item in enumerate(values):
                problem = _number_problem(item) if _is_number(item) else None
                if item is None or not isinstance(item, str | int | float | bool):
                    v.add(f"{ppath}.values[{j}]", f"must be a scalar, not {_type_name(item)}")
                elif problem is not None:
                    v.add(f"{ppath}.values[{j}]", problem)
                elif isinstance(item, str) and len(item) > ACCEPTED_VALUE_MAX_LENGTH:
                    v.add(
                        f"{ppath}.values[{j}]",
                        f"must be at most {ACCEPTED_VALUE_MAX_LENGTH} characters",
                    )
                elif col_type is not None and not _matches_column_type(item, col_type):
                    v.add(f"{ppath}.values[{j}]", f"does not match the column type {col_type}")
        if col_type in ("json", "array"):
            v.add(f"{path}.column", f"accepted_values needs a scalar column, not {col_type}")
    elif check_type == "freshness":
        stale = number_param("maxStaleHours")
        if stale is not None and stale <= 0:
            v.add(f"{ppath}.maxStaleHours", "must be a positive number")
        elif stale is not None and stale > STALE_HOURS_MAX:
            v.add(f"{ppath}.maxStaleHours", f"must be at most {STALE_HOURS_MAX:,} (ten years)")
        if col_type is not None and col_type != "timestamp":
            v.add(f"{path}.column", f"freshness needs a timestamp column, not {col_type}")
    elif check_type == "row_count":
        low = number_param("minRows", integer=True)
        high = number_param("maxRows", integer=True)
        if "minRows" not in params and "maxRows" not in params:
            v.add(ppath, "row_count needs params.minRows and/or params.maxRows")
        for key, val in (("minRows", low), ("maxRows", high)):
            if val is not None and val < 0:
                v.add(f"{ppath}.{key}", "must be a non-negative integer")
        if low is not None and high is not None and 0 <= low and low > high:
            v.add(f"{ppath}.minRows", f"must not exceed params.maxRows ({low} > {high})")
    elif check_type == "custom_sql":
        sql = params.get("sql")
        if sql is None:
            v.add(f"{ppath}.sql", "required for custom_sql")
        elif not isinstance(sql, str):
            v.add(f"{ppath}.sql", f"must be a string, not {_type_name(sql)}")
        elif not sql.strip():
            v.add(f"{ppath}.sql", "must not be empty")
        elif len(sql) > CUSTOM_SQL_MAX_LENGTH:
            v.add(f"{ppath}.sql", f"must be at most {CUSTOM_SQL_MAX_LENGTH:,} characters")


def _matches_column_type(value: object, col_type: object) -> bool:
    if col_type == "string" or col_type == "timestamp":
        return isinstance(value, str)
    if col_type == "integer":
        return _is_int(value)
    if col_type == "float":
        return _is_number(value)
    if col_type == "boolean":
        return isinstance(value, bool)
    return True


def _json_params(v: _Validator, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    """A plain-dict copy of params; non-JSON values (sets, dates, NaN...) are reported."""

    def copy(value: Any, p: str, depth: int) -> Any:
        if depth > _MAX_PARAMS_DEPTH:
            v.add(p, "nested too deeply")
            return None
        if value is None or isinstance(value, str | bool | int):
            return value
        if isinstance(value, float):
            return value  # bounds and finiteness are the type rules' business (_check_rules)
        if isinstance(value, list | tuple):
            return [copy(item, f"{p}[{j}]", depth + 1) for j, item in enumerate(value)]
        if isinstance(value, Mapping):
            out = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    v.add(p, f"keys must be strings, not {_type_name(key)}")
                    continue
                out[key] = copy(item, f"{p}.{_safe_key(key)}", depth + 1)
            return out
        v.add(p, f"must be JSON data, not {_type_name(value)}")
        return None

    return copy(raw, path, 0)  # type: ignore[no-any-return]


def _parse_tags(v: _Validator, doc: Mapping[str, Any]) -> list[str] | None:
    items = v.list_(doc, "tags", "")
    if items is None:
        return None
    if len(items) > TAGS_MAX:
        # Refused early and whole: 100,000 tags cost one comparison, not 100,000 (issue #21).
        v.add("tags", f"at most {TAGS_MAX} tags (got {len(items)})")
        return None
    tags: list[str] = []
    seen: set[str] = set()
    ok = True
    for i, tag in enumerate(items):
        if not isinstance(tag, str):
            v.add(f"tags[{i}]", f"must be a string, not {_type_name(tag)}")
            ok = False
        elif not tag.strip():
            v.add(f"tags[{i}]", "must not be empty")
            ok = False
        elif len(tag) > TAG_MAX_LENGTH:
            v.add(f"tags[{i}]", f"must be at most {TAG_MAX_LENGTH} characters")
            ok = False
        elif _control(tag):
            v.add(f"tags[{i}]", "must not contain control characters (line breaks, tabs)")
            ok = False
        elif tag in seen:
            v.add(f"tags[{i}]", f"duplicate tag '{_safe_key(tag)}'")
            ok = False
        else:
            seen.add(tag)
            tags.append(tag)
    return tags if ok else None


def _parse_deprecation(v: _Validator, raw: object, contract_id: str | None) -> Deprecation | None:
    if raw is None:
        return None
    obj = v.mapping(raw, "deprecation", _DEPRECATION_KEYS)
    if obj is None:
        return None
    before = len(v.issues)
    sunset_at = v.datetime_(obj, "sunsetAt", "deprecation")
    replaced_by = v.string(obj, "replacedBy", "deprecation", required=False)
    if replaced_by is not None:
        if not _ID.match(replaced_by):
            v.add("deprecation.replacedBy", "must be a product id like domain.product_name")
        elif replaced_by == contract_id:
            v.add("deprecation.replacedBy", "must not be the product itself")
    reason = v.non_empty(obj, "reason", "deprecation")
    if len(v.issues) != before or reason is None:
        return None
    return Deprecation(sunset_at=sunset_at, replaced_by=replaced_by, reason=reason)


# ---------------------------------------------------------------------------------------------
# JSON Schema
# ---------------------------------------------------------------------------------------------

SCHEMA_ID = "/v1/contracts/schema.json"


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the contract document, for editors and CI.

    It describes shapes, enums and per-type params; the cross-field rules (domain = id prefix,
    a check's column is declared, unique names, min ≤ max, the date range) only
    ``parse_contract`` enforces.
    """
    text = {"type": "string"}
    non_empty = {"type": "string", "minLength": 1, "pattern": r"\S"}
    description = {"type": "string", "maxLength": DESCRIPTION_MAX_LENGTH}

    def bounded(schema: dict[str, Any], key: str) -> dict[str, Any]:
        return {**schema, "maxLength": FIELD_MAX_LENGTH[key]}

    # The parser refuses control characters in check names and tags; so does the schema.
    one_line = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
    # The pattern repeats what the parser accepts, so validators without format support agree.
    datetime_ = {"type": "string", "format": "date-time", "pattern": _DATETIME.pattern}
    number = {"type": "number", "minimum": -NUMBER_MAX, "maximum": NUMBER_MAX}
    count = {"type": "integer", "minimum": 0, "maximum": NUMBER_MAX}

    def params_for(check_type: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "if": {"properties": {"type": {"const": check_type}}, "required": ["type"]},
            "then": {
                "properties": {
                    "params": {
                        "type": "object",
                        "properties": properties,
                        "additionalProperties": False,
                        **extra,
                    }
                }
            },
        }

    def needs_column(*types: str) -> dict[str, Any]:
        return {
            "if": {"properties": {"type": {"enum": list(types)}}, "required": ["type"]},
            "then": {"required": ["column"]},
        }

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Data product contract",
        "description": "A data product's contract: owner, schema, SLA, quality checks.",
        "type": "object",
        "additionalProperties": False,
        "required": [k for k in _TOP_KEYS if k not in _OPTIONAL_TOP_KEYS],
        "properties": {
            "id": {"type": "string", "pattern": ID_RE, "description": "domain.product_name"},
            "domain": {**non_empty, "description": "Owning domain; equals the id's prefix."},
            "name": bounded(non_empty, "name"),
            "description": description,
            "owner": {"$ref": "#/$defs/owner"},
            "schema": {
                "type": "array",
                "minItems": 1,
                "maxItems": COLUMNS_MAX,
                "items": {"$ref": "#/$defs/column"},
            },
            "sla": {"$ref": "#/$defs/sla"},
            "qualityChecks": {
                "type": "array",
                "maxItems": CHECKS_MAX,
                "items": {"$ref": "#/$defs/qualityCheck"},
            },
            "tags": {
                "type": "array",
                "maxItems": TAGS_MAX,
                "uniqueItems": True,
                "items": {"type": "string", "maxLength": TAG_MAX_LENGTH, "pattern": one_line},
            },
            "version": {"type": "integer", "minimum": 1, "maximum": VERSION_MAX},
            "publishedAt": {
                "anyOf": [datetime_, {"type": "null"}],
                "description": "Filled in on publish when absent.",
            },
            "status": {"enum": list(STATUSES)},
            "table": {
                "anyOf": [
                    {"type": "string", "pattern": TABLE_RE, "maxLength": TABLE_MAX_LENGTH},
                    {"type": "null"},
                ],
                "description": "Physical table; defaults to <domain>_<product_name>.",
            },
            "deprecation": {"anyOf": [{"$ref": "#/$defs/deprecation"}, {"type": "null"}]},
        },
        "$defs": {
            "owner": {
                "type": "object",
                "additionalProperties": False,
                "required": list(_OWNER_KEYS),
                "properties": {
                    "team": bounded(non_empty, "team"),
                    "contact": bounded(
                        {"type": "string", "format": "email", "pattern": EMAIL_RE}, "contact"
                    ),
                    "slackChannel": bounded(text, "slackChannel"),
                },
            },
            "column": {
                "type": "object",
                "additionalProperties": False,
                "required": ["column", "type", "description"],
                "properties": {
                    "column": {**non_empty, "maxLength": COLUMN_MAX_LENGTH},
                    "type": {"enum": list(COLUMN_TYPES)},
                    "description": description,
                    "pii": {"type": "boolean", "default": False},
                    "nullable": {"type": "boolean", "default": True},
                    "mask": {
                        "enum": list(MASKS),
                        "description": f"Only on pii columns; {DEFAULT_MASK} when omitted.",
                    },
                },
                "if": {"properties": {"mask": {"enum": list(MASKS)}}, "required": ["mask"]},
                "then": {"properties": {"pii": {"const": True}}, "required": ["pii"]},
            },
            "sla": {
                "type": "object",
                "additionalProperties": False,
                "required": list(_SLA_KEYS),
                "properties": {
                    "freshness": {"enum": list(FRESHNESS)},
                    "availability": {"type": "number", "minimum": 99, "maximum": 100},
                    "queryLatencyP95Ms": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": LATENCY_MAX_MS,
                    },
                },
            },
            "qualityCheck": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "type", "severity"],
                "properties": {
                    "name": bounded({"type": "string", "pattern": one_line}, "name"),
                    "type": {"enum": list(CHECK_TYPES)},
                    "column": {"anyOf": [text, {"type": "null"}]},
                    "params": {"anyOf": [{"type": "object"}, {"type": "null"}]},
                    "severity": {"enum": list(SEVERITIES)},
                },
                "allOf": [
                    needs_column(*CHECKS_NEEDING_COLUMN),
                    {
                        "if": {"properties": {"type": {"const": "row_count"}}},
                        "then": {"not": {"required": ["column"]}},
                    },
                    params_for("not_null", {}),
                    params_for("unique", {}),
                    params_for("range", {"min": number, "max": number}, minProperties=1),
                    params_for(
                        "accepted_values",
                        {
                            "values": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": ACCEPTED_VALUES_MAX,
                                "items": {
                                    "anyOf": [
                                        {"type": "string", "maxLength": ACCEPTED_VALUE_MAX_LENGTH},
                                        number,
                                        {"type": "boolean"},
                                    ]
                                },
                            }
                        },
                        required=["values"],
                    ),
                    params_for(
                        "freshness",
                        {
                            "maxStaleHours": {
                                "type": "number",
                                "exclusiveMinimum": 0,
                                "maximum": STALE_HOURS_MAX,
                            }
                        },
                    ),
                    params_for("row_count", {"minRows": count, "maxRows": count}, minProperties=1),
                    params_for(
                        "custom_sql",
                        {"sql": {**non_empty, "maxLength": CUSTOM_SQL_MAX_LENGTH}},
                        required=["sql"],
                    ),
                    {
                        "if": {
                            "properties": {
                                "type": {
                                    "enum": ["range", "accepted_values", "row_count", "custom_sql"]
                                }
                            },
                            "required": ["type"],
                        },
                        "then": {"required": ["params"]},
                    },
                ],
            },
            "deprecation": {
                "type": "object",
                "additionalProperties": False,
                "required": ["reason"],
                "properties": {
                    "sunsetAt": {"anyOf": [datetime_, {"type": "null"}]},
                    "replacedBy": {
                        "anyOf": [{"type": "string", "pattern": ID_RE}, {"type": "null"}]
                    },
                    "reason": bounded(non_empty, "reason"),
                },
            },
        },
    }
