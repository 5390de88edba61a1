"""The params check types take: their kinds (validation, JSON Schema) and what loosens them.

Pure Python, a leaf of quality/checks (only the contract's limits and vocabulary below it).
A kind validates one value and describes the same bounds as JSON Schema, so the parser, the
engine and the schema cannot drift apart; ``types.py`` says which params each type takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from catalog.contract.limits import (
    ACCEPTED_VALUE_MAX_LENGTH,
    ACCEPTED_VALUES_MAX,
    NUMBER_MAX,
    is_int,
    is_number,
    number_problem,
    type_name,
)
from catalog.contract.vocabulary import ColumnType


class Loosening(StrEnum):
    """Which change of a param weakens the guarantee (the contract diff calls it breaking)."""

    LOWER_BOUND = "lower bound"  # lower, or removed, is looser
    UPPER_BOUND = "upper bound"  # higher, or removed, is looser
    MORE_VALUES = "more values"  # a value added is looser; one removed is tighter
    ANY_CHANGE = "any change"  # no order: any change but whitespace counts as looser


@dataclass(frozen=True)
class Problem:
    """Why something is not accepted, named by its path (a check's: ``params.min``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# ---------------------------------------------------------------------------------------------
# Params: their kinds (validation and JSON Schema), then what each param means
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberParam:
    """A finite number within ±NUMBER_MAX; optionally an integer, and bounded further."""

    required_words: ClassVar[str] = ""
    integer: bool = False
    minimum: float | None = None
    exclusive_minimum: float | None = None
    maximum: float | None = None
    too_small: str = ""
    too_large: str = ""

    def problems(self, value: object, path: str, column_type: object) -> list[Problem]:
        """At most one problem: the value's type, then its magnitude, then its bounds."""
        if self.integer and not is_int(value):
            return [Problem(path, f"must be an integer, not {type_name(value)}")]
        problem = number_problem(value)
        if problem is None:
            assert isinstance(value, int | float)
            low = self.minimum is not None and value < self.minimum
            at_or_below = self.exclusive_minimum is not None and value <= self.exclusive_minimum
            if low or at_or_below:
                problem = self.too_small
            elif self.maximum is not None and value > self.maximum:
                problem = self.too_large
        return [] if problem is None else [Problem(path, problem)]

    def json_schema(self) -> dict[str, Any]:
        """The same bounds for editors and CI."""
        schema: dict[str, Any] = {"type": "integer" if self.integer else "number"}
        if self.exclusive_minimum is not None:
            schema["exclusiveMinimum"] = self.exclusive_minimum
        else:
            schema["minimum"] = -NUMBER_MAX if self.minimum is None else self.minimum
        schema["maximum"] = NUMBER_MAX if self.maximum is None else self.maximum
        return schema


@dataclass(frozen=True)
class ValuesParam:
    """A non-empty, bounded list of scalars, each matching the column's declared type."""

    required_words: ClassVar[str] = " (a non-empty list)"

    def problems(self, value: object, path: str, column_type: object) -> list[Problem]:
        """The list's shape, or one problem per value that is not acceptable."""
        if not isinstance(value, list | tuple) or not value:
            return [Problem(path, "must be a non-empty list")]
        if len(value) > ACCEPTED_VALUES_MAX:
            return [Problem(path, f"at most {ACCEPTED_VALUES_MAX} values (got {len(value)})")]
        found = ((j, _value_problem(item, column_type)) for j, item in enumerate(value))
        return [Problem(f"{path}[{j}]", problem) for j, problem in found if problem]

    def json_schema(self) -> dict[str, Any]:
        """The same bounds for editors and CI."""
        items = [
            {"type": "string", "maxLength": ACCEPTED_VALUE_MAX_LENGTH},
            NumberParam().json_schema(),
            {"type": "boolean"},
        ]
        return {
            "type": "array",
            "minItems": 1,
            "maxItems": ACCEPTED_VALUES_MAX,
            "items": {"anyOf": items},
        }


def _value_problem(item: object, column_type: object) -> str | None:
    if item is None or not isinstance(item, str | int | float | bool):
        return f"must be a scalar, not {type_name(item)}"
    if is_number(item) and number_problem(item) is not None:
        return number_problem(item)
    if isinstance(item, str) and len(item) > ACCEPTED_VALUE_MAX_LENGTH:
        return f"must be at most {ACCEPTED_VALUE_MAX_LENGTH} characters"
    if not _matches_column_type(item, column_type):
        return f"does not match the column type {column_type}"
    return None


def _matches_column_type(value: object, column_type: object) -> bool:
    if column_type in (ColumnType.STRING, ColumnType.TIMESTAMP):
        return isinstance(value, str)
    if column_type == ColumnType.INTEGER:
        return is_int(value)
    if column_type == ColumnType.FLOAT:
        return is_number(value)
    if column_type == ColumnType.BOOLEAN:
        return isinstance(value, bool)
    return True  # unknown (reported on the column) or json/array (reported on the check)


@dataclass(frozen=True)
class TextParam:
    """Non-blank text of bounded length."""

    required_words: ClassVar[str] = ""
    max_length: int

    def problems(self, value: object, path: str, column_type: object) -> list[Problem]:
        """At most one problem: not text, blank, or too long."""
        if not isinstance(value, str):
            return [Problem(path, f"must be a string, not {type_name(value)}")]
        if not value.strip():
            return [Problem(path, "must not be empty")]
        if len(value) > self.max_length:
            return [Problem(path, f"must be at most {self.max_length:,} characters")]
        return []

    def json_schema(self) -> dict[str, Any]:
        """The same bounds for editors and CI."""
        return {"type": "string", "minLength": 1, "pattern": r"\S", "maxLength": self.max_length}


@dataclass(frozen=True)
class Param:
    """One param of a check type. Absent and null are the same: not set."""

    name: str
    kind: NumberParam | ValuesParam | TextParam
    loosening: Loosening
    required: bool = False
    shown_as: str = ""  # how the diff names it, when not by its name
    sla_default: bool = False  # not set means the SLA's freshness window

    @property
    def label(self) -> str:
        """The param's name in messages."""
        return self.shown_as or self.name
