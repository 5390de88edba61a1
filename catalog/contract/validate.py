"""Validation: a contract document (a mapping) in, a ``Contract`` or every problem out.

Pure Python. What a check of each type needs (its column, its params and their bounds) is not
written here: it is declared once in quality/checks/types.py and read from there, so the
contract and the engine apply the same rules.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from quality.checks.types import DECLARATIONS, Declaration, declaration

from .limits import (
    CHECKS_MAX,
    COLUMN_MAX_LENGTH,
    COLUMNS_MAX,
    DATETIME_MAX,
    DATETIME_MIN,
    FIELD_MAX_LENGTH,
    INPUTS_MAX,
    ISSUES_MAX,
    LATENCY_MAX_MS,
    MAX_PARAMS_DEPTH,
    TABLE_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TAGS_MAX,
    VERSION_MAX,
    is_int,
    number_problem,
    type_name,
)
from .model import (
    CheckSpec,
    ColumnSpec,
    Contract,
    ContractError,
    ContractIssue,
    Deprecation,
    Owner,
    Sla,
    default_table,
    format_datetime,
)
from .vocabulary import (
    ACCESS_LEVELS,
    COLUMN_TYPES,
    DATETIME_RE,
    EMAIL_RE,
    FRESHNESS,
    ID_RE,
    MASKS,
    SEVERITIES,
    STATUSES,
    TABLE_RE,
    Access,
    ProductStatus,
)

_ID = re.compile(ID_RE)
_TABLE = re.compile(TABLE_RE)
_EMAIL = re.compile(EMAIL_RE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DATETIME = re.compile(DATETIME_RE)
# Year 10000 and beyond (ISO 8601 "expanded" years): well-formed, but out of range.
_LONG_YEAR = re.compile(r"^[+-]?[0-9]{5,}-[0-9]{2}-[0-9]{2}([Tt ]|$)")

_MISSING = object()


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _hint(v: _Validator, key: str, known: tuple[str, ...]) -> list[str]:
    """The closest known key, while few problems are reported; none past ISSUES_MAX."""
    # Only the first ISSUES_MAX problems are shown, so hints past them are wasted time
    # (difflib per key made 100,000 unknown keys take seconds).
    if len(v.issues) >= ISSUES_MAX or len(key) > 100:
        return []
    return difflib.get_close_matches(key, known, n=1)


def _control(text: str) -> bool:
    return _CONTROL.search(text) is not None


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
            self.add(path, f"must be a mapping, not {type_name(value)}")
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
            self.add(p, f"must be a string, not {type_name(value)}")
            return None
        limit = FIELD_MAX_LENGTH.get(key)
        if limit is not None and len(value) > limit:
            self.add(p, f"must be at most {limit} characters")
            return None
        return str(value)  # a plain str, also for an enum member: the document stays YAML-safe

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
            self.add(_join(path, key), f"must be a boolean, not {type_name(value)}")
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
        problem = number_problem(value)
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
            self.add(p, f"must be a list, not {type_name(value)}")
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
        elif depth > MAX_PARAMS_DEPTH + 5:
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


TOP_KEYS = (
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
    "access",
    "inputs",
    "warehouse",
)
OPTIONAL_TOP_KEYS = ("publishedAt", "table", "deprecation", "access", "inputs", "warehouse")
OWNER_KEYS = ("team", "contact", "slackChannel")
WAREHOUSE_NAME_RE = "^[a-z][a-z0-9_-]{0,62}$"
_WAREHOUSE_NAME = re.compile(WAREHOUSE_NAME_RE)
COLUMN_KEYS = ("column", "type", "description", "pii", "nullable", "mask")
SLA_KEYS = ("freshness", "availability", "queryLatencyP95Ms")
CHECK_KEYS = ("name", "type", "column", "params", "severity")
DEPRECATION_KEYS = ("sunsetAt", "replacedBy", "reason")


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
        v.add("", f"the contract must be a mapping (a YAML/JSON object), not {type_name(data)}")
        return None
    doc = v.mapping(data, "", TOP_KEYS)
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
    elif not is_int(raw_version):
        v.add("version", f"must be an integer, not {type_name(raw_version)}")
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
        v.add("table", f"must be a string, not {type_name(raw_table)}")
    elif not _TABLE.match(raw_table):
        v.add("table", "must be a lowercase SQL identifier (regex " + TABLE_RE + ")")
    elif len(raw_table) > TABLE_MAX_LENGTH:
        v.add("table", f"must be at most {TABLE_MAX_LENGTH} characters")
    else:
        table = raw_table

    deprecation = _parse_deprecation(v, doc.get("deprecation"), contract_id)
    if deprecation is not None and status in (ProductStatus.DRAFT, ProductStatus.PUBLISHED):
        v.add("deprecation", "only allowed when status is deprecated or retired")

    # Absent (or null) is open: documents written before the field read as they always did.
    access = v.choice(doc, "access", "", ACCESS_LEVELS, required=False)
    inputs = _parse_inputs(v, doc, contract_id)
    # The named warehouse connection the table lives in (issue 18); absent: the domain's.
    warehouse = v.string(doc, "warehouse", "", required=False)
    if warehouse is not None and not _WAREHOUSE_NAME.match(warehouse):
        v.add("warehouse", "must name a warehouse connection (regex " + WAREHOUSE_NAME_RE + ")")

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
        access=access or Access.OPEN,
        inputs=tuple(inputs or ()),
        warehouse=warehouse or None,
    )


def _parse_owner(v: _Validator, raw: object) -> Owner | None:
    if raw is _MISSING:
        v.add("owner", "required")
        return None
    obj = v.mapping(raw, "owner", OWNER_KEYS)
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
        obj = v.mapping(raw, path, COLUMN_KEYS)
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
    obj = v.mapping(raw, "sla", SLA_KEYS)
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
        obj = v.mapping(raw, path, CHECK_KEYS)
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
        kind = _check_type(v, obj, path)
        severity = v.choice(obj, "severity", path, SEVERITIES)
        column = v.string(obj, "column", path, required=False)
        if column is not None and declared is not None and column not in declared:
            v.add(f"{path}.column", f"'{_safe_key(column)}' is not a declared column")
            column = None
        raw_params = obj.get("params")
        params: dict[str, Any] = {}
        if raw_params is not None and not isinstance(raw_params, Mapping):
            v.add(f"{path}.params", f"must be a mapping, not {type_name(raw_params)}")
        elif raw_params is not None:
            params = _json_params(v, raw_params, f"{path}.params")
        if kind is not None:
            _type_rules(v, kind, obj, path, column, params)
        if len(v.issues) != before:
            ok = False
            continue
        assert name is not None and kind is not None and severity is not None
        checks.append(
            CheckSpec(
                name=name,
                type=kind.type.value,
                severity=severity,
                column=column,
                params=kind.normalized(params),
            )
        )
    return checks if ok else None


def _check_type(v: _Validator, obj: Mapping[str, Any], path: str) -> Declaration | None:
    """The declaration of the check's type; an unknown type lists the ones the engine runs."""
    check_type = v.string(obj, "type", path)
    if check_type is None:
        return None
    kind = declaration(check_type)
    if kind is None:
        v.add(
            f"{path}.type",
            f"unknown check type '{_safe_key(check_type)}'; the engine runs: "
            + ", ".join(DECLARATIONS),
        )
    return kind


def _type_rules(
    v: _Validator,
    kind: Declaration,
    obj: Mapping[str, Any],
    path: str,
    column: str | None,
    params: Mapping[str, Any],
) -> None:
    """The type's own rules (quality/checks/types.py): its column, its params, their bounds."""
    problem = kind.column_problem(has_column=obj.get("column") is not None)
    if problem is not None:
        v.add(f"{path}.{problem.path}", problem.message)
    known = kind.param_names
    for key in params:
        if not isinstance(key, str) or key not in known:
            shown = _safe_key(key) if isinstance(key, str) else repr(key)
            hint = _hint(v, key, known) if isinstance(key, str) else []
            takes = f"takes {', '.join(known)}" if known else "takes no params"
            suffix = f"; did you mean '{hint[0]}'?" if hint else ""
            v.add(f"{path}.params.{shown}", f"unknown field ({kind.type} {takes}){suffix}")
    column_type = v.column_types.get(column) if column is not None else None
    for problem in kind.param_problems(params, column_type=column_type):
        v.add(f"{path}.{problem.path}", problem.message)


def _json_params(v: _Validator, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    """A plain-dict copy of params; non-JSON values (sets, dates, NaN...) are reported."""

    def copy(value: Any, p: str, depth: int) -> Any:
        if depth > MAX_PARAMS_DEPTH:
            v.add(p, "nested too deeply")
            return None
        if value is None or isinstance(value, str | bool | int):
            return value
        if isinstance(value, float):
            return value  # bounds and finiteness are the type rules' business (_type_rules)
        if isinstance(value, list | tuple):
            return [copy(item, f"{p}[{j}]", depth + 1) for j, item in enumerate(value)]
        if isinstance(value, Mapping):
            out = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    v.add(p, f"keys must be strings, not {type_name(key)}")
                    continue
                out[key] = copy(item, f"{p}.{_safe_key(key)}", depth + 1)
            return out
        v.add(p, f"must be JSON data, not {type_name(value)}")
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
            v.add(f"tags[{i}]", f"must be a string, not {type_name(tag)}")
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
    obj = v.mapping(raw, "deprecation", DEPRECATION_KEYS)
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


def _parse_inputs(
    v: _Validator, doc: Mapping[str, Any], contract_id: str | None
) -> list[str] | None:
    """``inputs``: the distinct product ids the product is built from (absent or null: none).

    Whether each exists and is live, and that no cycle forms, is the publish's lineage gate's
    to say (catalog/governance/gates.py): the document alone cannot know.
    """
    raw = doc.get("inputs")
    if raw is None:
        return []
    if not isinstance(raw, list):
        v.add("inputs", f"must be a list of product ids, not {type_name(raw)}")
        return None
    if len(raw) > INPUTS_MAX:
        v.add("inputs", f"at most {INPUTS_MAX} inputs (got {len(raw)})")
        return None
    found: list[str] = []
    for i, item in enumerate(raw):
        path = f"inputs[{i}]"
        if not isinstance(item, str):
            v.add(path, f"must be a product id string, not {type_name(item)}")
        elif not _ID.match(item) or len(item) > FIELD_MAX_LENGTH["id"]:
            v.add(path, "must be a product id like domain.product_name")
        elif item == contract_id:
            v.add(path, "a product cannot be its own input")
        elif item in found:
            v.add(path, f"duplicate input '{_safe_key(item)}'")
        else:
            found.append(item)
    return found
