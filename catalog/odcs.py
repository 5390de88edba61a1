"""Conversion between our contract and the Open Data Contract Standard (ODCS) v3.

Pure Python: no Django import. Field names follow ODCS v3.0.2 (bitol-io/open-data-contract-standard,
``schema/odcs-json-schema-v3.0.2.json``).

Invariant, tested on the seed and on a contract using every field:
``parse_contract(from_odcs(to_odcs(c))) == c``.

How our fields map (what ODCS has no field for travels in ``customProperties``):

==========================  ====================================================================
ours                        ODCS
==========================  ====================================================================
id, name, domain, tags      id, name, domain, tags
version 3                   version "3.0.0" (major = ours) + customProperties contractVersion
status                      status (published ↔ active; proposed → draft on import)
description                 description.purpose
owner.contact               team[{username, role: owner}] and support[{tool: email}]
owner.team                  customProperties ownerTeam
owner.slackChannel          support[{tool: slack, channel}]
schema / table              schema[0] (logicalType object, name = product name, physicalName)
column                      schema[0].properties[]: name, logicalType, description,
                            required = not nullable, classification pii|public,
                            customProperties mask
column type                 logicalType string|integer|number|boolean|date|object|array
                            (float ↔ number, timestamp ↔ date, json ↔ object)
qualityChecks               quality[] on the property (checks with a column) or on the object;
                            the nearest ODCS rule (nullValues, duplicateValues, rowCount,
                            invalidValues, sql; each type's ``odcs`` in quality/checks/types.py)
                            plus customProperties check/checkPosition, so the round trip is exact
sla                         slaProperties freshness (h, or 15 m for realtime), availability
                            (percent), latency (ms, our p95 query latency)
publishedAt, deprecation    customProperties publishedAt, deprecation
access (when restricted)    customProperties access
==========================  ====================================================================

Importing a foreign ODCS document never drops a guarantee silently: a quality rule we cannot
run, a second schema object or an SLA value without a freshness class is a ``ContractError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from catalog.contract import (
    FRESHNESS_HOURS,
    ID_RE,
    CheckSpec,
    ColumnType,
    Contract,
    ContractError,
    ContractIssue,
    ProductStatus,
    Severity,
)
from catalog.contract.limits import NUMBER_MAX, is_number
from catalog.contract.model import copy_json, deprecation_dict, format_datetime
from quality.checks.types import DECLARATIONS, ForeignRule, declaration

API_VERSION = "v3.0.2"
KIND = "DataContract"

_LOGICAL_TYPES = {
    ColumnType.STRING.value: "string",
    ColumnType.INTEGER.value: "integer",
    ColumnType.FLOAT.value: "number",
    ColumnType.BOOLEAN.value: "boolean",
    ColumnType.TIMESTAMP.value: "date",
    ColumnType.JSON.value: "object",
    ColumnType.ARRAY.value: "array",
}
_OUR_TYPES = {v: k for k, v in _LOGICAL_TYPES.items()}
_STATUS_TO_ODCS = {ProductStatus.PUBLISHED.value: "active"}
_STATUS_FROM_ODCS = {"active": ProductStatus.PUBLISHED.value, "proposed": ProductStatus.DRAFT.value}
# Classifications an importer treats as personal data (masked unless privileged).
PII_CLASSIFICATIONS = frozenset(
    {"pii", "personal", "personal_data", "sensitive", "restricted", "confidential"}
)


def is_odcs(doc: object) -> bool:
    """True for an ODCS v3 data contract document (apiVersion v3.*, kind DataContract)."""
    return (
        isinstance(doc, Mapping)
        and isinstance(doc.get("apiVersion"), str)
        and doc["apiVersion"].startswith("v3")
        and doc.get("kind") == KIND
    )


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


def _custom(**values: Any) -> list[dict[str, Any]]:
    return [{"property": k, "value": v} for k, v in values.items() if v is not None]


def _quality(check: CheckSpec, position: int) -> dict[str, Any]:
    """The ODCS quality rule nearest to our check, carrying ours for an exact round trip."""
    kind = declaration(check.type)
    assert kind is not None  # a parsed contract's checks all have a declaration
    rule: dict[str, Any] = {"name": check.name, **kind.odcs.export(check)}
    rule["dimension"] = kind.odcs.dimension
    rule["severity"] = check.severity
    ours: dict[str, Any] = {"type": check.type}
    if check.column is not None:
        ours["column"] = check.column
    if check.params:
        ours["params"] = copy_json(check.params)
    rule["customProperties"] = _custom(check=ours, checkPosition=position)
    return rule


def to_odcs(contract: Contract) -> dict[str, Any]:
    """The contract as an ODCS v3 document (JSON-serializable)."""
    checks_by_column: dict[str | None, list[tuple[int, CheckSpec]]] = {}
    for i, check in enumerate(contract.quality_checks):
        checks_by_column.setdefault(check.column, []).append((i, check))

    properties = []
    for col in contract.schema:
        prop: dict[str, Any] = {
            "name": col.column,
            "logicalType": _LOGICAL_TYPES[col.type],
            "description": col.description,
            "required": not col.nullable,
            "classification": "pii" if col.pii else "public",
        }
        quality = [_quality(c, i) for i, c in checks_by_column.get(col.column, [])]
        if quality:
            prop["quality"] = quality
        if col.mask is not None:
            prop["customProperties"] = _custom(mask=col.mask)
        properties.append(prop)

    obj: dict[str, Any] = {
        "name": contract.product_name,
        "physicalName": contract.table,
        "physicalType": "table",
        "logicalType": "object",
        "description": contract.description,
        "properties": properties,
    }
    table_quality = [_quality(c, i) for i, c in checks_by_column.get(None, [])]
    if table_quality:
        obj["quality"] = table_quality

    freshness_hours = FRESHNESS_HOURS[contract.sla.freshness]
    freshness = (
        {"property": "freshness", "value": int(freshness_hours * 60), "unit": "m"}
        if freshness_hours < 1
        else {"property": "freshness", "value": int(freshness_hours), "unit": "h"}
    )
    support = [
        {
            "channel": "email",
            "tool": "email",
            "url": f"mailto:{contract.owner.contact}",
            "scope": "issues",
        }
    ]
    if contract.owner.slack_channel:
        name = contract.owner.slack_channel.lstrip("#")
        support.append(
            {
                "channel": contract.owner.slack_channel,
                "tool": "slack",
                "url": f"https://slack.com/app_redirect?channel={name}",
                "scope": "interactive",
            }
        )

    deprecation = None
    if contract.deprecation is not None:
        deprecation = deprecation_dict(contract.deprecation)

    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "id": contract.id,
        "name": contract.name,
        "version": f"{contract.version}.0.0",
        "status": _STATUS_TO_ODCS.get(contract.status, contract.status),
        "domain": contract.domain,
        "dataProduct": contract.product_name,
        "description": {"purpose": contract.description},
        "tags": list(contract.tags),
        "schema": [obj],
        "team": [{"username": contract.owner.contact, "role": "owner"}],
        "support": support,
        "slaProperties": [
            freshness,
            {"property": "availability", "value": contract.sla.availability, "unit": "percent"},
            {
                "property": "latency",
                "value": contract.sla.query_latency_p95_ms,
                "unit": "ms",
                "element": "query.p95",
            },
        ],
        "customProperties": _custom(
            contractVersion=contract.version,
            ownerTeam=contract.owner.team,
            publishedAt=(format_datetime(contract.published_at) if contract.published_at else None),
            deprecation=deprecation,
            access=contract.access if contract.access != "open" else None,
        ),
    }


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------

_MISSING = object()
_UNIT_HOURS = {
    "m": 1 / 60,
    "min": 1 / 60,
    "mins": 1 / 60,
    "minute": 1 / 60,
    "minutes": 1 / 60,
    "h": 1,
    "hr": 1,
    "hour": 1,
    "hours": 1,
    "d": 24,
    "day": 24,
    "days": 24,
}
_UNIT_MS = {"ms": 1, "millisecond": 1, "milliseconds": 1, "s": 1000, "sec": 1000, "seconds": 1000}


def _customs(items: object) -> dict[str, Any]:
    """customProperties list → dict (later entries win); garbage entries are ignored."""
    out: dict[str, Any] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, Mapping) and isinstance(item.get("property"), str):
                out[item["property"]] = item.get("value")
    return out


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def from_odcs(doc: object) -> dict[str, Any]:
    """An ODCS v3 document → OUR camelCase contract document (validate it with parse_contract).

    Raises ContractError (ODCS paths) for what has no faithful translation.
    """
    if not is_odcs(doc):
        raise ContractError(
            [
                ContractIssue(
                    "apiVersion", "not an ODCS v3 document (apiVersion v3.x, kind DataContract)"
                )
            ]
        )
    assert isinstance(doc, Mapping)
    issues: list[ContractIssue] = []
    custom = _customs(doc.get("customProperties"))

    objects = _list(doc.get("schema"))
    if len(objects) != 1 or not isinstance(objects[0], Mapping):
        issues.append(
            ContractIssue(
                "schema",
                f"expected exactly one schema object (one product = one table), got {len(objects)}",
            )
        )
        obj: Mapping[str, Any] = {}
    else:
        obj = objects[0]

    domain = doc.get("domain")
    contract_id = doc.get("id")
    if (
        isinstance(contract_id, str)
        and not re.match(ID_RE, contract_id)
        and isinstance(domain, str)
        and isinstance(obj.get("name"), str)
    ):
        # ODCS ids are often UUIDs; ours is domain.product_name.
        candidate = f"{domain}.{obj['name']}"
        if re.match(ID_RE, candidate):
            contract_id = candidate

    out: dict[str, Any] = {"id": contract_id, "domain": domain}
    out["name"] = doc.get("name", obj.get("name"))
    description = doc.get("description")
    if isinstance(description, Mapping):
        out["description"] = description.get("purpose", obj.get("description", ""))
    elif description is not None:
        out["description"] = description
    else:
        out["description"] = obj.get("description", "")

    out["owner"] = _owner(doc, custom)
    columns, checks = _columns_and_checks(obj, issues)
    out["schema"] = columns
    out["sla"] = _sla(_list(doc.get("slaProperties")), issues)
    out["qualityChecks"] = checks
    out["tags"] = doc.get("tags", [])
    out["version"] = _version(doc.get("version"), custom, issues)
    if custom.get("publishedAt") is not None:
        out["publishedAt"] = custom["publishedAt"]
    status = doc.get("status")
    out["status"] = _STATUS_FROM_ODCS.get(status, status) if isinstance(status, str) else status
    if obj.get("physicalName") is not None:
        out["table"] = obj["physicalName"]
    if custom.get("deprecation") is not None:
        out["deprecation"] = custom["deprecation"]
    if custom.get("access") is not None:
        out["access"] = custom["access"]
    if issues:
        raise ContractError(issues)
    return out


def _owner(doc: Mapping[str, Any], custom: Mapping[str, Any]) -> dict[str, Any]:
    contact: object = None
    slack = ""
    for member in _list(doc.get("team")):
        if isinstance(member, Mapping) and member.get("role") == "owner":
            contact = member.get("username")
            break
    for channel in _list(doc.get("support")):
        if not isinstance(channel, Mapping):
            continue
        if channel.get("tool") == "slack" and isinstance(channel.get("channel"), str):
            slack = slack or channel["channel"]
        url = channel.get("url")
        if contact is None and isinstance(url, str) and url.startswith("mailto:"):
            contact = url.removeprefix("mailto:")
    team = custom.get("ownerTeam")
    if team is None:
        team = doc.get("domain")
    return {"team": team, "contact": contact, "slackChannel": slack}


def _columns_and_checks(
    obj: Mapping[str, Any], issues: list[ContractIssue]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    columns: list[dict[str, Any]] = []
    placed: list[tuple[float, int, dict[str, Any]]] = []  # (position, order seen, check)

    def collect(rules: object, path: str, column: str | None) -> None:
        for j, rule in enumerate(_list(rules)):
            check = _check_from_rule(rule, f"{path}.quality[{j}]", column, issues)
            if check is None:
                continue
            position = _customs(rule.get("customProperties")).get("checkPosition")
            key = position if isinstance(position, int) and not isinstance(position, bool) else 1e9
            placed.append((key, len(placed), check))

    for i, prop in enumerate(_list(obj.get("properties"))):
        path = f"schema[0].properties[{i}]"
        if not isinstance(prop, Mapping):
            issues.append(ContractIssue(path, "must be a mapping"))
            continue
        logical = prop.get("logicalType")
        col_type = _OUR_TYPES.get(logical, logical) if isinstance(logical, str) else logical
        column: dict[str, Any] = {
            "column": prop.get("name"),
            "type": col_type,
            "description": prop.get("description") or "",
        }
        classification = prop.get("classification")
        column["pii"] = (
            isinstance(classification, str) and classification.lower() in PII_CLASSIFICATIONS
        )
        required = prop.get("required", False)
        column["nullable"] = not required if isinstance(required, bool) else required
        mask = _customs(prop.get("customProperties")).get("mask")
        if mask is not None:
            column["mask"] = mask
        columns.append(column)
        name = prop.get("name") if isinstance(prop.get("name"), str) else None
        collect(prop.get("quality"), path, name)
    collect(obj.get("quality"), "schema[0]", None)
    placed.sort(key=lambda item: (item[0], item[1]))
    return columns, [check for _, _, check in placed]


def _check_from_rule(
    rule: object, path: str, column: str | None, issues: list[ContractIssue]
) -> dict[str, Any] | None:
    """One ODCS quality rule → our check dict, or None (with an issue) when we cannot run it."""
    if not isinstance(rule, Mapping):
        issues.append(ContractIssue(path, "must be a mapping"))
        return None
    ours = _customs(rule.get("customProperties")).get("check")
    severity = rule.get("severity", Severity.ERROR.value)
    name = rule.get("name")
    if isinstance(ours, Mapping):
        check: dict[str, Any] = {"name": name, "type": ours.get("type")}
        if ours.get("column") is not None:
            check["column"] = ours["column"]
        if ours.get("params") is not None:
            check["params"] = ours["params"]
        check["severity"] = severity
        return check

    # A foreign rule: translate what has an exact meaning, refuse the rest.
    kind = rule.get("type", "library")
    metric = rule.get("rule", rule.get("metric"))
    if not isinstance(name, str) or not name:
        label = metric or kind
        name = f"{column}_{label}" if column else str(label)
    check = {"name": name, "type": None, "severity": severity}
    if column is not None:
        check["column"] = column
    foreign = ForeignRule(kind=kind, metric=metric, column=column, rule=rule)
    for declared in DECLARATIONS.values():
        params = declared.odcs.read(foreign) if declared.odcs.read else None
        if params is not None:
            check["type"] = declared.type.value
            if params:
                check["params"] = params
            break
    if check["type"] is None:
        issues.append(
            ContractIssue(
                path,
                f"quality rule {name!r} ({kind} {metric or ''}) has no equivalent check the "
                f"engine can run; express it as {_IMPORTABLE}",
            )
        )
        return None
    return check


# What a foreign rule may be written as, e.g. "not_null (nullValues), ...".
_IMPORTABLE = ", ".join(
    f"{name} ({kind.odcs.reads_from})" for name, kind in DECLARATIONS.items() if kind.odcs.read
)


def _sla(items: list[Any], issues: list[ContractIssue]) -> dict[str, Any]:
    sla: dict[str, Any] = {}
    data_latency: tuple[int, Mapping[str, Any]] | None = None
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        prop, value, unit = item.get("property"), item.get("value"), item.get("unit")
        unit = unit.lower() if isinstance(unit, str) else None
        if prop == "freshness":
            sla["freshness"] = _freshness_class(value, unit, f"slaProperties[{i}]", issues)
        elif prop == "availability":
            sla["availability"] = value
        elif prop == "latency" and unit in _UNIT_MS and is_number(value):
            assert isinstance(value, int | float)
            sla["queryLatencyP95Ms"] = value * _UNIT_MS[unit]
        elif prop == "latency":
            # ODCS's own "latency" is data latency: our freshness, when not given directly.
            data_latency = (i, item)
    if "freshness" not in sla and data_latency is not None:
        i, item = data_latency
        unit = item.get("unit")
        unit = unit.lower() if isinstance(unit, str) else None
        sla["freshness"] = _freshness_class(item.get("value"), unit, f"slaProperties[{i}]", issues)
    return sla


def _freshness_class(value: object, unit: object, path: str, issues: list[ContractIssue]) -> Any:
    if isinstance(value, str) and value in FRESHNESS_HOURS:
        return value
    # abs() bound first: 10**400 times a float unit is an OverflowError (issue #21).
    if (
        is_number(value)
        and abs(value) <= NUMBER_MAX
        and isinstance(unit, str)
        and unit in _UNIT_HOURS
    ):
        hours = value * _UNIT_HOURS[unit]
        for name, class_hours in FRESHNESS_HOURS.items():
            if abs(hours - class_hours) < 1e-9:
                return name
    issues.append(
        ContractIssue(
            path,
            f"freshness {value} {unit or ''} has no freshness class; use 15 m (realtime), "
            "1 h, 4 h or 24 h",
        )
    )
    return None


def _version(value: object, custom: Mapping[str, Any], issues: list[ContractIssue]) -> Any:
    ours = custom.get("contractVersion")
    if ours is not None:
        return ours
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        # ASCII digits, at most 10 (int() of a 5,000-digit string is a ValueError; issue #21).
        match = re.match(r"^v?([0-9]{1,10})(?![0-9])", value.strip())
        if match:
            # Our versions start at 1; ODCS drafts are often 0.x.
            return max(int(match.group(1)), 1)
    issues.append(ContractIssue("version", f"cannot read a version number from {value!r}"))
    return None
