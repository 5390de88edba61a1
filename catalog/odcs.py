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
                            invalidValues, sql) plus customProperties check/checkPosition, so
                            the round trip is exact
sla                         slaProperties freshness (h, or 15 m for realtime), availability
                            (percent), latency (ms, our p95 query latency)
publishedAt, deprecation    customProperties publishedAt, deprecation
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
    Contract,
    ContractError,
    ContractIssue,
    format_datetime,
)

API_VERSION = "v3.0.2"
KIND = "DataContract"

_LOGICAL_TYPES = {
    "string": "string",
    "integer": "integer",
    "float": "number",
    "boolean": "boolean",
    "timestamp": "date",
    "json": "object",
    "array": "array",
}
_OUR_TYPES = {v: k for k, v in _LOGICAL_TYPES.items()}
_STATUS_TO_ODCS = {"published": "active"}
_STATUS_FROM_ODCS = {"active": "published", "proposed": "draft"}
# Classifications an importer treats as personal data (masked unless privileged).
PII_CLASSIFICATIONS = frozenset(
    {"pii", "personal", "personal_data", "sensitive", "restricted", "confidential"}
)
_DIMENSIONS = {
    "not_null": "completeness",
    "unique": "uniqueness",
    "range": "accuracy",
    "accepted_values": "conformity",
    "freshness": "timeliness",
    "row_count": "completeness",
    "custom_sql": "consistency",
}


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
    params = check.params
    rule: dict[str, Any] = {"name": check.name}
    if check.type == "not_null":
        rule |= {"type": "library", "rule": "nullValues", "mustBe": 0, "unit": "rows"}
    elif check.type == "unique":
        rule |= {"type": "library", "rule": "duplicateValues", "mustBe": 0, "unit": "rows"}
    elif check.type == "accepted_values":
        rule |= {
            "type": "library",
            "rule": "invalidValues",
            "arguments": {"validValues": list(params["values"])},
            "mustBe": 0,
            "unit": "rows",
        }
    elif check.type == "row_count":
        rule |= {"type": "library", "rule": "rowCount"}
        low, high = params.get("minRows"), params.get("maxRows")
        if low is not None and high is not None:
            rule["mustBeBetween"] = [low, high]
        elif low is not None:
            rule["mustBeGreaterOrEqualTo"] = low
        else:
            rule["mustBeLessOrEqualTo"] = high
    elif check.type == "range":
        conditions = []
        if params.get("min") is not None:
            conditions.append(f"{{property}} < {params['min']}")
        if params.get("max") is not None:
            conditions.append(f"{{property}} > {params['max']}")
        rule |= {
            "type": "sql",
            "query": f"SELECT COUNT(*) FROM {{object}} WHERE {' OR '.join(conditions)}",
            "mustBe": 0,
        }
    elif check.type == "custom_sql":
        rule |= {"type": "sql", "query": params["sql"], "mustBe": 0}
    else:  # freshness: no portable ODCS rule; described, and carried in customProperties
        hours = params.get("maxStaleHours")
        window = f"{hours} hours" if hours is not None else "the SLA's freshness window"
        rule |= {
            "type": "text",
            "description": f"The newest {check.column} is at most {window} old.",
        }
    rule["dimension"] = _DIMENSIONS[check.type]
    rule["severity"] = check.severity
    ours: dict[str, Any] = {"type": check.type}
    if check.column is not None:
        ours["column"] = check.column
    if params:
        ours["params"] = _plain(params)
    rule["customProperties"] = _custom(check=ours, checkPosition=position)
    return rule


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


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
        deprecation = {}
        if contract.deprecation.sunset_at is not None:
            deprecation["sunsetAt"] = format_datetime(contract.deprecation.sunset_at)
        if contract.deprecation.replaced_by is not None:
            deprecation["replacedBy"] = contract.deprecation.replaced_by
        deprecation["reason"] = contract.deprecation.reason

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
    severity = rule.get("severity", "error")
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
    raw_arguments = rule.get("arguments")
    arguments: Mapping[str, Any] = raw_arguments if isinstance(raw_arguments, Mapping) else {}
    if not isinstance(name, str) or not name:
        label = metric or kind
        name = f"{column}_{label}" if column else str(label)
    check = {"name": name, "type": None, "severity": severity}
    if column is not None:
        check["column"] = column
    zero = rule.get("mustBe") == 0 and rule.get("unit", "rows") == "rows"
    if kind == "library" and metric == "nullValues" and zero and column:
        check["type"] = "not_null"
    elif kind == "library" and metric == "duplicateValues" and zero and column:
        check["type"] = "unique"
    elif kind == "library" and metric in ("invalidValues", "validValues") and zero and column:
        values = arguments.get("validValues")
        if isinstance(values, list) and values and not arguments.get("pattern"):
            check["type"] = "accepted_values"
            check["params"] = {"values": values}
    elif kind == "library" and metric == "rowCount" and not column:
        params = {}
        between = rule.get("mustBeBetween")
        if isinstance(between, list) and len(between) == 2:
            params = {"minRows": between[0], "maxRows": between[1]}
        else:
            if rule.get("mustBeGreaterOrEqualTo") is not None:
                params["minRows"] = rule["mustBeGreaterOrEqualTo"]
            if rule.get("mustBeLessOrEqualTo") is not None:
                params["maxRows"] = rule["mustBeLessOrEqualTo"]
        if params:
            check["type"] = "row_count"
            check["params"] = params
    elif kind == "sql" and isinstance(rule.get("query"), str) and rule.get("mustBe") == 0:
        check["type"] = "custom_sql"
        check["params"] = {"sql": rule["query"]}
    if check["type"] is None:
        issues.append(
            ContractIssue(
                path,
                f"quality rule {name!r} ({kind} {metric or ''}) has no equivalent check the "
                "engine can run; express it as not_null, unique, accepted_values, row_count "
                "or a sql rule with mustBe: 0",
            )
        )
        return None
    return check


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
        elif prop == "latency" and unit in _UNIT_MS and _is_number(value):
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


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _freshness_class(value: object, unit: object, path: str, issues: list[ContractIssue]) -> Any:
    if isinstance(value, str) and value in FRESHNESS_HOURS:
        return value
    # abs() bound first: 10**400 times a float unit is an OverflowError (issue #21).
    bounded = _is_number(value) and abs(value) <= 1e15  # type: ignore[arg-type]
    if bounded and isinstance(unit, str) and unit in _UNIT_HOURS:
        hours = value * _UNIT_HOURS[unit]  # type: ignore[operator]
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
