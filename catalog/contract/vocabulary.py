"""The contract's words: product statuses, masks, freshness levels, severities, column types.

Pure Python: it imports only ``Mask`` from the governor (declared there, where masks are
implemented, because the governor sits below the contract and imports nothing of ours), so
every layer (the pure cores, the models' ``choices``, the pages) can use it. Each enum is a
``StrEnum``: a member *is* its string, so it compares equal to, hashes like and JSON-encodes
as the value stored in documents and in the database (``ProductStatus.PUBLISHED ==
"published"``). The values are stored data: changing one needs a data migration. Check types
are declared, with their rules, in ``quality/checks/types.py`` (``CheckType``).
"""

from __future__ import annotations

from enum import StrEnum

# Masks are declared by the governor, which implements them and imports nothing of ours.
from querying.governor.policy import Mask as Mask


class ProductStatus(StrEnum):
    """Where a product is in its life; ``retired`` is our extension: past its sunset."""

    DRAFT = "draft"
    PUBLISHED = "published"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


class Access(StrEnum):
    """Who may query a product (issue 17): everyone who may read it, or, when ``restricted``,
    only people who read its PII raw (admins, its domain's owners, members the domain lets) or
    hold an access grant on it; a restricted product stays listed and described."""

    OPEN = "open"
    RESTRICTED = "restricted"


class Freshness(StrEnum):
    """The SLA's freshness class: how old the newest data may be."""

    REALTIME = "realtime"
    HOUR = "1h"
    FOUR_HOURS = "4h"
    DAY = "24h"

    @property
    def hours(self) -> float:
        """Maximum staleness in hours (``realtime`` allows 15 minutes)."""
        return FRESHNESS_HOURS[self]


class Severity(StrEnum):
    """What a failing check means: ``error`` counts as failing, ``warning`` lowers the score."""

    ERROR = "error"
    WARNING = "warning"


class ColumnType(StrEnum):
    """A declared column's type (the warehouse type families are in quality/checks/schema.py)."""

    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    JSON = "json"
    ARRAY = "array"


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """The plain string values of ``enum`` in declaration order (for choices and messages)."""
    return tuple(member.value for member in enum)


# Read with members or plain strings alike (a member hashes like its value).
FRESHNESS_HOURS: dict[str, float] = {
    Freshness.REALTIME.value: 0.25,
    Freshness.HOUR.value: 1,
    Freshness.FOUR_HOURS.value: 4,
    Freshness.DAY.value: 24,
}
DEFAULT_MASK = Mask.LAST4
NUMERIC_TYPES = (ColumnType.INTEGER, ColumnType.FLOAT)
SCALAR_TYPES = tuple(t for t in ColumnType if t not in (ColumnType.JSON, ColumnType.ARRAY))

# The value tuples the catalog has always exported (plain strings, in declaration order).
STATUSES = values(ProductStatus)
MASKS = values(Mask)
ACCESS_LEVELS = values(Access)
FRESHNESS = values(Freshness)
SEVERITIES = values(Severity)
COLUMN_TYPES = values(ColumnType)

# The shapes of names (regex text, shared by the parser, the JSON Schema and the ODCS importer).
ID_RE = r"^[a-z][a-z0-9-]*\.[a-z][a-z0-9_]*$"
TABLE_RE = r"^[a-z_][a-z0-9_]*$"
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# ASCII digits only: ``\d`` would also take Arabic-Indic or fullwidth digits.
DATETIME_RE = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?$"
)
