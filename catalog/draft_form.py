"""The "New data product" page's form: a contract document as named fields, and back (issue 15).

Every field is named after the contract's path where it has one (``owner.contact``,
``sla.freshness``); the rows of the schema and the checks are ``col-<row>-<field>`` and
``chk-<row>-<field>``, with a ``keep`` box each (unticked rows are left out). Errors come back
named by the contract's paths (``schema[3].type``), which count only the kept rows:
``FormDocument.field_for`` turns a path into the field that shows it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog.contract.vocabulary import COLUMN_TYPES, FRESHNESS, MASKS, SEVERITIES, Severity
from quality.checks.types import CHECK_TYPES

PRODUCT_FIELDS = (
    "id",
    "name",
    "description",
    "owner.team",
    "owner.contact",
    "owner.slackChannel",
    "tags",
    "sla.freshness",
    "sla.availability",
    "sla.queryLatencyP95Ms",
    "table",
)
COLUMN_FIELDS = ("column", "type", "description", "pii", "nullable", "mask")
CHECK_FIELDS = ("name", "type", "column", "params", "severity")
MAX_ROWS = 600  # rows a posted form may carry (the contract's limits are lower)
CHOICES: Mapping[str, Sequence[str]] = {
    "type": COLUMN_TYPES,
    "mask": ("", *MASKS),
    "check_type": tuple(sorted(CHECK_TYPES)),
    "severity": SEVERITIES,
    "freshness": FRESHNESS,
}


@dataclass
class Row:
    """One schema or check row as the page shows it."""

    index: int
    keep: bool  # its "keep" box is ticked (a row without a name is left out all the same)
    values: dict[str, Any]
    new: bool = False  # an empty row for a column or check the table does not have yet
    errors: dict[str, list[str]] = field(default_factory=dict)  # by field: what to fix


# (name, label, kind, size) of the product's fields, in the page's order.
PRODUCT_LAYOUT: tuple[tuple[str, str, str, str], ...] = (
    ("id", "Product id", "input", "half"),
    ("name", "Name", "input", "half"),
    ("description", "Description", "textarea", "full"),
    ("owner.team", "Owner team", "input", "third"),
    ("owner.contact", "Contact e-mail", "input", "third"),
    ("owner.slackChannel", "Slack channel", "input", "third"),
    ("sla.freshness", "Freshness SLA", "select", "third"),
    ("sla.availability", "Availability (%)", "input", "third"),
    ("sla.queryLatencyP95Ms", "p95 query latency (ms)", "input", "third"),
    ("tags", "Tags (comma-separated)", "input", "full"),
)


def page_fields(values: Mapping[str, Any], errors: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """The product's fields as the template renders them."""
    return [
        {
            "name": name,
            "label": label,
            "kind": kind,
            "size": size,
            "value": values.get(name, ""),
            "errors": list(errors.get(name, [])),
            "options": CHOICES["freshness"] if name == "sla.freshness" else (),
        }
        for name, label, kind, size in PRODUCT_LAYOUT
    ]


def attach_errors(rows: Sequence[Row], kind: str, errors: Mapping[str, list[str]]) -> None:
    """Give each row the errors of its fields (``col-3-type`` → ``row.errors["type"]``)."""
    for row in rows:
        prefix = f"{kind}-{row.index}-"
        row.errors = {k[len(prefix) :]: list(v) for k, v in errors.items() if k.startswith(prefix)}


@dataclass
class FormDocument:
    """A document read from the form, with where each of its rows came from."""

    document: dict[str, Any]
    column_rows: list[int] = field(default_factory=list)  # schema[i] came from row column_rows[i]
    check_rows: list[int] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)  # fields the form itself refused

    def field_for(self, path: str) -> str:
        """The form field that shows a problem at contract ``path`` ("" for the whole form)."""
        for prefix, rows, fields, default in (
            ("schema", self.column_rows, COLUMN_FIELDS, "column"),
            ("qualityChecks", self.check_rows, CHECK_FIELDS, "name"),
        ):
            if path.startswith(prefix + "["):
                try:
                    index = int(path[len(prefix) + 1 : path.index("]")])
                except ValueError:
                    return ""
                if not 0 <= index < len(rows):
                    return ""
                rest = path[path.index("]") + 1 :].lstrip(".")
                name = rest.split(".", 1)[0].split("[", 1)[0]
                kind = "col" if prefix == "schema" else "chk"
                return f"{kind}-{rows[index]}-{name if name in fields else default}"
        head = path.split("[", 1)[0]
        if head in PRODUCT_FIELDS:
            return head
        top = head.split(".", 1)[0]
        if top in ("owner", "sla"):
            return head if head in PRODUCT_FIELDS else ""
        return top if top in PRODUCT_FIELDS else ""


def initial_rows(document: Mapping[str, Any]) -> tuple[list[Row], list[Row]]:
    """The drafted document's columns and checks as rows, plus one empty row of each."""
    columns = [
        Row(i, True, {k: column.get(k, "") for k in COLUMN_FIELDS})
        for i, column in enumerate(document.get("schema") or [])
    ]
    for row in columns:
        row.values["mask"] = row.values.get("mask") or ""
    checks = []
    for i, check in enumerate(document.get("qualityChecks") or []):
        values = {k: check.get(k, "") for k in CHECK_FIELDS}
        values["params"] = json.dumps(check["params"]) if check.get("params") else ""
        values["column"] = check.get("column") or ""
        checks.append(Row(i, True, values))
    return columns, checks


def empty_column(index: int) -> Row:
    """A row for a column the table does not have yet (kept once it is named)."""
    values = {"column": "", "type": "string", "description": "", "pii": False, "nullable": True}
    return Row(index, True, {**values, "mask": ""}, new=True)


def empty_check(index: int) -> Row:
    """A row for another check (kept once it is named)."""
    values = {
        "name": "",
        "type": "not_null",
        "column": "",
        "params": "",
        "severity": Severity.ERROR.value,
    }
    return Row(index, True, values, new=True)


def product_values(document: Mapping[str, Any]) -> dict[str, Any]:
    """The product fields' values from a document."""
    owner = document.get("owner") or {}
    sla = document.get("sla") or {}
    return {
        "id": document.get("id", ""),
        "name": document.get("name", ""),
        "description": document.get("description", ""),
        "owner.team": owner.get("team", ""),
        "owner.contact": owner.get("contact", ""),
        "owner.slackChannel": owner.get("slackChannel", ""),
        "tags": ", ".join(document.get("tags") or []),
        "sla.freshness": sla.get("freshness", ""),
        "sla.availability": sla.get("availability", ""),
        "sla.queryLatencyP95Ms": sla.get("queryLatencyP95Ms", ""),
        "table": document.get("table", ""),
    }


def _count(data: Mapping[str, Any], key: str) -> int:
    try:
        return max(0, min(MAX_ROWS, int(str(data.get(key, "0")))))
    except ValueError:
        return 0


def _number(text: str) -> object:
    """A posted number as JSON reads it (the contract's validation says what is wrong)."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, int | float) and not isinstance(value, bool) else text


def read_form(data: Mapping[str, Any], *, status: str) -> tuple[FormDocument, list[Row], list[Row]]:
    """The document a posted form describes, and its rows as posted (to render them again)."""
    text = {k: str(data.get(k, "")) for k in PRODUCT_FIELDS}
    tags = [t.strip() for t in text["tags"].split(",") if t.strip()]
    document: dict[str, Any] = {
        "id": text["id"].strip(),
        "domain": text["id"].strip().split(".", 1)[0],
        "name": text["name"].strip(),
        "description": text["description"].strip(),
        "owner": {
            "team": text["owner.team"].strip(),
            "contact": text["owner.contact"].strip(),
            "slackChannel": text["owner.slackChannel"].strip(),
        },
        "schema": [],
        "sla": {
            "freshness": text["sla.freshness"],
            "availability": _number(text["sla.availability"]),
            "queryLatencyP95Ms": _number(text["sla.queryLatencyP95Ms"]),
        },
        "qualityChecks": [],
        "tags": tags,
        "version": 1,
        "status": status,
        "table": text["table"].strip(),
    }
    form = FormDocument(document)
    columns: list[Row] = []
    for r in range(_count(data, "col-count")):
        values: dict[str, Any] = {k: str(data.get(f"col-{r}-{k}", "")) for k in COLUMN_FIELDS}
        values["pii"] = f"col-{r}-pii" in data
        values["nullable"] = f"col-{r}-nullable" in data
        ticked = f"col-{r}-keep" in data
        columns.append(Row(r, ticked, values, new=data.get(f"col-{r}-new") == "1"))
        if not (ticked and values["column"].strip()):
            continue
        entry: dict[str, Any] = {
            "column": values["column"].strip(),
            "type": values["type"],
            "description": values["description"].strip(),
            "pii": values["pii"],
            "nullable": values["nullable"],
        }
        if values["pii"] and values["mask"]:
            entry["mask"] = values["mask"]
        form.column_rows.append(r)
        document["schema"].append(entry)
    checks: list[Row] = []
    for r in range(_count(data, "chk-count")):
        check_values = {k: str(data.get(f"chk-{r}-{k}", "")) for k in CHECK_FIELDS}
        ticked = f"chk-{r}-keep" in data
        checks.append(Row(r, ticked, dict(check_values), new=data.get(f"chk-{r}-new") == "1"))
        if not (ticked and check_values["name"].strip()):
            continue
        check: dict[str, Any] = {"name": check_values["name"].strip(), "type": check_values["type"]}
        if check_values["column"]:
            check["column"] = check_values["column"]
        if check_values["params"].strip():
            try:
                check["params"] = json.loads(check_values["params"])
            except ValueError:
                form.errors[f"chk-{r}-params"] = [
                    'params must be a JSON object, e.g. {"minRows": 1} or {"values": ["a", "b"]}'
                ]
        check["severity"] = check_values["severity"]
        form.check_rows.append(r)
        document["qualityChecks"].append(check)
    return form, columns, checks
