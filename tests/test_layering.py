"""Apps depend one way (README, "Layout"): every module imports only its own layer or lower ones.

An AST walk of every module of the apps, imports inside functions included; imports under
``if TYPE_CHECKING:`` serve the type checker only and are allowed. Pure modules import nothing
of Django's world, so they are tested without a database (STYLE.md). No module reaches another
app's logic by a string (``import_module``, ``send_task``, ``apps.get_model``, ``_call("…")``)
or hides a project import behind ``try: … except ImportError``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("accounts", "catalog", "quality", "querying", "config")

# Lowest first. A module may import modules of its own layer or of a lower one, never higher.
# A module belongs to the layer of the longest prefix naming it (``catalog.governance.policies``
# is pure, ``catalog.governance.gates`` is catalog).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "pure cores",
        (
            "catalog.contract",
            "catalog.contract_diff",
            "catalog.odcs",
            "catalog.mail",
            "catalog.demo",
            "catalog.governance.policies",
            "catalog.governance.lifecycle",
            "catalog.governance.namespace",
            "catalog.governance.conformance",
            "quality.checks",
            "quality.health",
            "quality.webhooks",
            "querying.governor",
            "querying.warehouses",
        ),
    ),
    (
        "models",
        (
            *(f"{app}.models" for app in APPS[:4]),
            *(f"{app}.migrations" for app in APPS[:4]),
            "accounts.access_models",  # access requests and grants (issue 17)
        ),
    ),
    ("accounts", ("accounts",)),
    (
        "the API boundary and middleware",
        (
            "config.api",
            "config.errors",
            "config.drf",
            "config.middleware",
            "config.healthz",
            "config.broker",
        ),
    ),
    ("catalog", ("catalog",)),
    ("quality", ("quality",)),
    ("querying", ("querying",)),
    ("config", ("config",)),
)
# Package modules (``__init__.py``) placed apart from their package: the governance package
# imports nothing, so the models can import its pure rules.
PACKAGES = {"catalog.governance": "pure cores"}
DJANGO_WORLD = (
    "django",
    "rest_framework",
    "celery",
    "kombu",
    "guardian",
    "django_filters",
    "django_celery_beat",
    "drf_spectacular",
)
FORBIDDEN_CALLS = re.compile(
    r"\bimport_module\(|\bsend_task\(|\bget_model\(|\b_call\(|__import__\(|"
    r"except\s*\(?[\w\s,]*\b(ImportError|ModuleNotFoundError)\b"
)


def layer_index(name: str) -> int:
    """The layer of module ``name`` (an index into LAYERS)."""
    titles = [title for title, _ in LAYERS]
    if name in PACKAGES:
        return titles.index(PACKAGES[name])
    best, found = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    assert found is not None, f"{name} is in no layer"
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def app_modules() -> list[Path]:
    return sorted(p for app in APPS for p in (ROOT / app).rglob("*.py"))


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Ids of the import nodes under ``if TYPE_CHECKING:``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skipped


def imports_of(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """``(line, module)`` of every import in the file, relative ones resolved; ``from p import
    m`` names the module ``p.m`` when that is a module of ours."""
    tree = ast.parse(source if source is not None else path.read_text(), filename=str(path))
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    skipped = _type_checking_only(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if is_module(sub) else base))
    return found


def layering_problems(path: Path, source: str | None = None) -> list[str]:
    """Every import of ``path`` that goes up a layer, or out of a pure module into Django."""
    name = module_name(path)
    mine = layer_index(name)
    pure = mine == 0
    problems = []
    for line, imported in imports_of(path, source):
        top = imported.split(".")[0]
        where = f"{path.relative_to(ROOT)}:{line} imports {imported}"
        if pure and top in DJANGO_WORLD:
            problems.append(f"{where}: a pure module imports nothing of Django's world")
        if top in APPS and layer_index(imported) > mine:
            theirs = LAYERS[layer_index(imported)][0]
            problems.append(f"{where}: {LAYERS[mine][0]} may not import {theirs}")
    return problems


@pytest.mark.parametrize("path", app_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_imports_only_its_own_layer_or_lower_ones(path: Path) -> None:
    assert layering_problems(path) == []


@pytest.mark.parametrize("path", app_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_reaches_app_code_by_a_string_or_hides_an_import(path: Path) -> None:
    if path.parent.name == "migrations":  # apps.get_model is how a data migration reads rows
        return
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if FORBIDDEN_CALLS.search(line)
    ]
    assert found == []


def test_every_module_of_the_apps_is_in_a_layer_and_the_walk_finds_them_all() -> None:
    names = {module_name(p) for p in app_modules()}
    for expected in (
        "catalog.governance.conformance",
        "catalog.governance.gates",
        "catalog.services.publish",
        "quality.management.commands.seed_demo",
        "config.urls",
    ):
        assert expected in names
    for name in names:
        layer_index(name)  # raises for a module of no layer
    assert layer_index("catalog.governance") == 0 < layer_index("catalog.governance.gates")


# A violation of each kind, written into a real module's place: the check must see it.
CATALOG_MODULE = ROOT / "catalog" / "governance" / "gates.py"
VIOLATIONS = {
    "catalog calls quality's services": "from quality.services import check_request\n",
    "in a function": "def f() -> None:\n    from quality import selectors\n",
    "catalog imports querying's services": "from querying import services\n",
    "catalog imports quality's notifications": "import quality.notifications\n",
}


@pytest.mark.parametrize("source", VIOLATIONS.values(), ids=list(VIOLATIONS))
def test_an_import_up_a_layer_is_reported(source: str) -> None:
    assert layering_problems(CATALOG_MODULE, source)


def test_a_pure_module_importing_django_or_catalog_code_is_reported() -> None:
    pure = ROOT / "catalog" / "governance" / "policies.py"
    assert layering_problems(pure, "from django.conf import settings\n")
    assert layering_problems(pure, "from catalog.models import DataProduct\n")
    assert layering_problems(pure, "from . import gates\n")  # relative: catalog.governance.gates
    assert not layering_problems(pure, "from .namespace import same_table\n")


def test_imports_for_the_type_checker_only_are_allowed() -> None:
    source = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from quality import services\n"
    )
    assert not layering_problems(CATALOG_MODULE, source)
    assert layering_problems(CATALOG_MODULE, source.replace("if TYPE_CHECKING", "if True"))


def test_a_call_by_string_and_a_hidden_import_are_found() -> None:
    for line in (
        'importlib.import_module("quality.services")',
        'current_app.send_task("quality.tasks.check_run_task")',
        'apps.get_model("quality", "CheckRun")',
        'x = _call("sla_status")',
        "except ImportError:",
        "except (ImportError, ValueError):",
    ):
        assert FORBIDDEN_CALLS.search(line), line
    assert not FORBIDDEN_CALLS.search("except ValueError:")
