"""The pure modules stay pure: no Django, and only other pure modules of ours (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PURE_PACKAGES = ["querying/governor", "querying/warehouses", "quality/checks", "catalog/contract"]
PURE_FILES = [
    "catalog/contract_diff.py",
    "catalog/policies.py",
    "catalog/odcs.py",
    "catalog/demo/warehouse.py",
    "quality/health.py",
]
# What a pure module may import from this project: other pure modules.
PURE_MODULES = (
    "querying.governor",
    "querying.warehouses",
    "quality.checks",
    "catalog.contract",
    "catalog.contract_diff",
    "catalog.policies",
    "catalog.odcs",
    "catalog.demo",
)
OUR_APPS = ("accounts", "catalog", "quality", "querying", "config")


def pure_sources() -> list[Path]:
    files = [ROOT / f for f in PURE_FILES]
    for package in PURE_PACKAGES:
        files += sorted((ROOT / package).glob("*.py"))
    return files


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.append(".".join([*base, node.module] if node.module else base))
            elif node.module:
                names.append(node.module)
    return names


@pytest.mark.parametrize("path", pure_sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_imports_no_django_and_no_app_code(path: Path) -> None:
    assert path.exists(), path
    for name in imported_modules(path):
        assert not name.startswith("django"), f"{path.name} imports {name}"
        if name.split(".")[0] in OUR_APPS:
            assert name.startswith(PURE_MODULES), f"{path.name} imports app code {name}"
