"""The data contract: one definition, used by every entry point (YAML, API body, admin, CLI).

Pure Python: no Django import (see tests/test_layering.py). Field names follow the original
TypeScript contract (camelCase in YAML/JSON); see DESIGN.md, "The contract". One module per job:

- ``vocabulary``: the enums (statuses, masks, freshness, severities, column types) and name shapes;
- ``limits``: every bound of a document, and the number rules;
- ``model``: the frozen dataclasses, the canonical document (``to_dict``) and the errors;
- ``load``: YAML/JSON text in (strict), canonical YAML/JSON out;
- ``validate``: ``parse_contract`` and ``validate_contract``;
- ``schema``: ``json_schema``.

What each check type takes is declared once, in quality/checks/types.py; ``validate`` and
``schema`` read it from there.

Invariants, each one tested in tests/catalog/test_contract*.py:

- ``parse_contract`` raises only ``ContractError`` for bad input, and lists *every* problem it
  found, each named by its path (``schema[3].type: must be one of ...``).
- ``parse_contract(c.to_dict()) == c`` and ``parse_contract(load_document(dump_yaml(c))) == c``:
  exporting and publishing again changes nothing.
- A check the engine cannot run (unknown type, missing column, missing params) is a validation
  error, never a silent pass; the engine applies the same rules (quality/checks/types.py).
- Unknown keys anywhere are errors: a typo (``maxStaleHour``) never silently becomes a default.
- Everything is bounded (issue #21): list lengths, text lengths, numbers and dates have
  documented limits (``limits``, docs/governance.md), and validation takes time linear in
  the document's size. Dates out of range, NaN, infinities and huge numbers are validation
  errors naming their path, never an OverflowError or a 500.
"""

from __future__ import annotations

from quality.checks.types import DECLARATIONS, ColumnUse

from .limits import (
    ACCEPTED_VALUE_MAX_LENGTH,
    ACCEPTED_VALUES_MAX,
    CHECKS_MAX,
    COLUMN_MAX_LENGTH,
    COLUMNS_MAX,
    CUSTOM_SQL_MAX_LENGTH,
    DATETIME_MAX,
    DATETIME_MIN,
    DESCRIPTION_MAX_LENGTH,
    FIELD_MAX_LENGTH,
    ISSUES_MAX,
    LATENCY_MAX_MS,
    MAX_DOCUMENT_BYTES,
    NUMBER_MAX,
    REASON_MAX_LENGTH,
    STALE_HOURS_MAX,
    TABLE_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TAGS_MAX,
    VERSION_MAX,
)
from .load import dump_json, dump_yaml, load_document
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
from .schema import SCHEMA_ID, json_schema
from .validate import parse_contract, validate_contract
from .vocabulary import (
    ACCESS_LEVELS,
    COLUMN_TYPES,
    DEFAULT_MASK,
    EMAIL_RE,
    FRESHNESS,
    FRESHNESS_HOURS,
    ID_RE,
    MASKS,
    NUMERIC_TYPES,
    SEVERITIES,
    STATUSES,
    TABLE_RE,
    Access,
    ColumnType,
    Freshness,
    Mask,
    ProductStatus,
    Severity,
)

# Views of the check-type declarations (plain strings), for the code that reads them by these names.
CHECK_TYPES = tuple(kind.type.value for kind in DECLARATIONS.values())
CHECK_PARAMS = {kind.type.value: kind.param_names for kind in DECLARATIONS.values()}
CHECKS_NEEDING_COLUMN = tuple(
    kind.type.value for kind in DECLARATIONS.values() if kind.column == ColumnUse.REQUIRED
)
CHECKS_WITHOUT_COLUMN = tuple(
    kind.type.value for kind in DECLARATIONS.values() if kind.column == ColumnUse.NONE
)

__all__ = [
    "ACCEPTED_VALUES_MAX",
    "ACCESS_LEVELS",
    "ACCEPTED_VALUE_MAX_LENGTH",
    "CHECKS_MAX",
    "CHECKS_NEEDING_COLUMN",
    "CHECKS_WITHOUT_COLUMN",
    "CHECK_PARAMS",
    "CHECK_TYPES",
    "COLUMNS_MAX",
    "COLUMN_MAX_LENGTH",
    "COLUMN_TYPES",
    "CUSTOM_SQL_MAX_LENGTH",
    "DATETIME_MAX",
    "DATETIME_MIN",
    "DEFAULT_MASK",
    "DESCRIPTION_MAX_LENGTH",
    "EMAIL_RE",
    "FIELD_MAX_LENGTH",
    "FRESHNESS",
    "FRESHNESS_HOURS",
    "ID_RE",
    "ISSUES_MAX",
    "LATENCY_MAX_MS",
    "MASKS",
    "MAX_DOCUMENT_BYTES",
    "NUMBER_MAX",
    "NUMERIC_TYPES",
    "REASON_MAX_LENGTH",
    "SCHEMA_ID",
    "SEVERITIES",
    "STALE_HOURS_MAX",
    "STATUSES",
    "TABLE_MAX_LENGTH",
    "TABLE_RE",
    "TAGS_MAX",
    "TAG_MAX_LENGTH",
    "VERSION_MAX",
    "Access",
    "CheckSpec",
    "ColumnSpec",
    "ColumnType",
    "Contract",
    "ContractError",
    "ContractIssue",
    "Deprecation",
    "Freshness",
    "Mask",
    "Owner",
    "ProductStatus",
    "Severity",
    "Sla",
    "default_table",
    "dump_json",
    "dump_yaml",
    "format_datetime",
    "json_schema",
    "load_document",
    "parse_contract",
    "validate_contract",
]
