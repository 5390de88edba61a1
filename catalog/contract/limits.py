"""Every bound of a contract document (issue #21), and the number rules that enforce them.

Pure Python and a leaf: it imports nothing of ours. A contract is metadata, and every page,
diff, e-mail and search index built from it stays small. The limits are listed in
docs/governance.md (a test reads them there) and carried by the JSON Schema.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TypeGuard

TAGS_MAX = 50
# Products a contract may declare as its inputs (issue 16: lineage).
INPUTS_MAX = 50
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
MAX_DOCUMENT_BYTES = 1_000_000
# How deeply a check's params may nest (they are plain JSON data).
MAX_PARAMS_DEPTH = 20

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


def type_name(value: object) -> str:
    """What kind of value this is, in the words of error messages (``a string``, ``null``)."""
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


def is_number(value: object) -> TypeGuard[int | float]:
    """An int or float, not a boolean."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_int(value: object) -> bool:
    """An integer; JSON has one number type, so 3.0 is the integer 3 (zod's .int() agrees)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def number_problem(value: object) -> str | None:
    """Why ``value`` is not an acceptable contract number (NaN, infinite, huge), or None."""
    if not is_number(value):
        return f"must be a number, not {type_name(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    # abs() and int/float comparison are exact in Python: no OverflowError for 10**400.
    if abs(value) > NUMBER_MAX:
        return f"must be at most {NUMBER_MAX:,} in magnitude"
    return None
