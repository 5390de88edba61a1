"""Statuses, roles, masks, freshness levels and severities are named by their enums (issue 14).

An AST walk of every app module (migrations aside: they keep the values they were written
with) finds a vocabulary word written as a string where the code compares, filters or sets
one of those fields: ``status == "published"``, ``filter(status="draft")``,
``role in ("admin", ...)``, ``{"severity": "error"}``. Each must be the enum member instead
(``ProductStatus.PUBLISHED``, ``Role.ADMIN``, ``Severity.ERROR``): the enums are StrEnums and
TextChoices, so the stored values do not change, and a reader (or mypy) finds every use.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from accounts.models import Role
from catalog.contract.vocabulary import Freshness, Mask, ProductStatus, Severity
from quality.checks.specs import CheckStatus
from quality.models import IncidentStatus, RunStatus

ROOT = Path(__file__).resolve().parents[1]
APPS = ("accounts", "catalog", "quality", "querying", "config")

# The field names (as attributes, keyword arguments, dict keys or lookups) and the words each
# may hold. A name matches when it ends with the field (``product.status``, ``run_status``,
# ``status__in``, ``domain__products__status``).
VOCABULARY: dict[str, frozenset[str]] = {
    "status": frozenset(
        v
        for enum in (ProductStatus, RunStatus, IncidentStatus, CheckStatus)
        for v in (m.value for m in enum)
    ),
    "role": frozenset(m.value for m in Role),
    "mask": frozenset(m.value for m in Mask),
    "freshness": frozenset(m.value for m in Freshness),
    "severity": frozenset(m.value for m in Severity),
}
FIELD_RE = re.compile(
    r"(?:^|_)(status(?:es)?|roles?|masks?|freshness|severit(?:y|ies))(?:__(?:in|exact|iexact))?$"
)
PLURALS = {"statuses": "status", "roles": "role", "masks": "mask", "severities": "severity"}


def _field_of(name: str) -> str | None:
    """The vocabulary field a name ends with (``status__in``, ``DEFAULT_STATUSES``), or None."""
    match = FIELD_RE.search(name.lower())
    return PLURALS.get(match.group(1), match.group(1)) if match else None


def _field(node: ast.AST) -> str | None:
    """The vocabulary field ``node`` names: an attribute, a variable or a constant key."""
    if isinstance(node, ast.Constant):
        name: object = node.value
    elif isinstance(node, ast.JoinedStr) and node.values:
        # f"{prefix}status": the field is the last literal part
        last = node.values[-1]
        name = last.value if isinstance(last, ast.Constant) else None
    elif isinstance(node, ast.Attribute):
        name = node.attr
    elif isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        name = node.slice.value
    elif isinstance(node, ast.Call):
        # row.get("status"), getattr(user, "role", None)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and node.args:
            key = node.args[0]
        elif isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2:
            key = node.args[1]
        else:
            return None
        if not isinstance(key, ast.Constant):
            return None
        name = key.value
    else:
        return None
    return _field_of(name) if isinstance(name, str) else None


def _words(node: ast.AST, field: str) -> Iterator[ast.Constant]:
    """String constants in ``node`` (alone or in a tuple, list or set) that are ``field`` words."""
    items = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    for item in items:
        if (
            isinstance(item, ast.Constant)
            and isinstance(item.value, str)
            and item.value in VOCABULARY[field]
        ):
            yield item


def literals(tree: ast.AST) -> Iterator[tuple[int, str, str]]:
    """(line, field, word) for each vocabulary word written as a string in ``tree``."""
    for node in ast.walk(tree):
        pairs: list[tuple[str | None, ast.AST]] = []
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            for side in sides:
                field = _field(side)
                if field:
                    pairs += [(field, other) for other in sides if other is not side]
        elif isinstance(node, ast.keyword) and node.arg:
            pairs.append((_field_of(node.arg), node.value))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is not None:
                    pairs.append((_field(key), value))
        elif isinstance(node, ast.Call) and len(node.args) >= 2:
            # getattr(obj, "status", "published"), row.get("status", "draft")
            is_getattr = isinstance(node.func, ast.Name) and node.func.id == "getattr"
            is_get = isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            key, default = (
                (node.args[1], node.args[2:3]) if is_getattr else (node.args[0], node.args[1:2])
            )
            if (is_getattr or is_get) and default:
                pairs.append((_field(key), default[0]))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if node.value is not None:
                    pairs.append((_field(target), node.value))
        for field, found in pairs:
            if field:
                for word in _words(found, field):
                    yield word.lineno, field, str(word.value)


def app_modules() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def findings() -> list[str]:
    out = []
    for path in app_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, field, word in literals(tree):
            out.append(f"{path.relative_to(ROOT)}:{line}: {field} {word!r}")
    return out


def test_no_app_module_writes_a_status_role_mask_freshness_or_severity_as_a_string() -> None:
    found = findings()
    assert not found, "use the enum member instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('product.status == "published"', [("status", "published")]),
        ('"draft" != p.status', [("status", "draft")]),
        ('qs.filter(status="retired")', [("status", "retired")]),
        (
            'qs.filter(domain__products__status__in=("draft", "deprecated"))',
            [("status", "draft"), ("status", "deprecated")],
        ),
        ('user.role in ("admin", "manager")', [("role", "admin"), ("role", "manager")]),
        ('{"severity": "warning", "mask": "hash"}', [("severity", "warning"), ("mask", "hash")]),
        ('column.mask = "last4"', [("mask", "last4")]),
        ('row.get("status") == "open"', [("status", "open")]),
        ('Sla(freshness="24h")', [("freshness", "24h")]),
        ('DEFAULT_STATUSES = ("published",)', [("status", "published")]),
        (
            'params.get("statuses", ("published", "deprecated"))',
            [("status", "published"), ("status", "deprecated")],
        ),
        ('Q(**{f"{prefix}status": "draft"})', [("status", "draft")]),
        ('getattr(product, "status", "published")', [("status", "published")]),
        ('getattr(user, "role", None) == "admin"', [("role", "admin")]),
        ('doc.get("mask", "last4")', [("mask", "last4")]),
        # Not vocabulary uses: other fields, other words, enum members.
        ('qs.filter(kind="email", name="status")', []),
        ("product.status == ProductStatus.PUBLISHED", []),
        ('body["error"] = "published"', []),
        ('run.status == "weird"', []),
    ],
)
def test_the_walk_finds_exactly_the_written_words(
    source: str, expected: list[tuple[str, str]]
) -> None:
    found = [(field, word) for _, field, word in literals(ast.parse(source))]
    assert sorted(found) == sorted(expected)
