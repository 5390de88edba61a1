"""The contract's JSON Schema (draft 2020-12), for editors and CI. Pure Python."""

from __future__ import annotations

from typing import Any

from quality.checks.types import DECLARATIONS

from .limits import (
    CHECKS_MAX,
    COLUMN_MAX_LENGTH,
    COLUMNS_MAX,
    DESCRIPTION_MAX_LENGTH,
    FIELD_MAX_LENGTH,
    INPUTS_MAX,
    LATENCY_MAX_MS,
    TABLE_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TAGS_MAX,
    VERSION_MAX,
)
from .validate import OPTIONAL_TOP_KEYS, OWNER_KEYS, SLA_KEYS, TOP_KEYS
from .vocabulary import (
    ACCESS_LEVELS,
    COLUMN_TYPES,
    DATETIME_RE,
    DEFAULT_MASK,
    EMAIL_RE,
    FRESHNESS,
    ID_RE,
    MASKS,
    SEVERITIES,
    STATUSES,
    TABLE_RE,
)

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
    datetime_ = {"type": "string", "format": "date-time", "pattern": DATETIME_RE}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Data product contract",
        "description": "A data product's contract: owner, schema, SLA, quality checks.",
        "type": "object",
        "additionalProperties": False,
        "required": [k for k in TOP_KEYS if k not in OPTIONAL_TOP_KEYS],
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
            "inputs": {
                "anyOf": [
                    {
                        "type": "array",
                        "maxItems": INPUTS_MAX,
                        "uniqueItems": True,
                        "items": {"type": "string", "pattern": ID_RE, "maxLength": 200},
                    },
                    {"type": "null"},
                ],
                "description": "Product ids this product is built from (lineage); each must "
                "exist and not be retired, and no cycle may form.",
            },
            "access": {
                "anyOf": [{"enum": list(ACCESS_LEVELS)}, {"type": "null"}],
                "description": "restricted: listed and described, but any query needs raw "
                "access or an access grant. Default open.",
            },
            "warehouse": {
                "anyOf": [
                    {"type": "string", "pattern": "^[a-z][a-z0-9_-]{0,62}$"},
                    {"type": "null"},
                ],
                "description": "The named warehouse connection the table lives in (admins "
                "define them); default: the domain's connection, else WAREHOUSE_URL.",
            },
        },
        "$defs": {
            "owner": {
                "type": "object",
                "additionalProperties": False,
                "required": list(OWNER_KEYS),
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
                        "description": f"Only on pii columns; {DEFAULT_MASK.value} when omitted.",
                    },
                },
                "if": {"properties": {"mask": {"enum": list(MASKS)}}, "required": ["mask"]},
                "then": {"properties": {"pii": {"const": True}}, "required": ["pii"]},
            },
            "sla": {
                "type": "object",
                "additionalProperties": False,
                "required": list(SLA_KEYS),
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
                    "type": {"enum": list(DECLARATIONS)},
                    "column": {"anyOf": [text, {"type": "null"}]},
                    "params": {"anyOf": [{"type": "object"}, {"type": "null"}]},
                    "severity": {"enum": list(SEVERITIES)},
                },
                # One fragment per check type, from its declaration (quality/checks/types.py).
                "allOf": [kind.json_schema() for kind in DECLARATIONS.values()],
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
