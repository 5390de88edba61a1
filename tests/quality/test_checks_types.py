"""quality/checks/types.py: each check type declared once, and every consumer agreeing with it.

The contract, the JSON Schema, the compiler, the evaluator, the ODCS mapping and the diff all
read the declarations; these tests walk every declaration through every one of them, with
generated params, so a new entry is covered without editing a list here.
"""

from __future__ import annotations

import copy
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from catalog.contract import CHECK_TYPES, ContractError, parse_contract, validate_contract
from catalog.contract_diff import diff_contracts
from catalog.odcs import from_odcs, to_odcs
from quality.checks import (
    CheckSpec,
    ColumnSpec,
    ProductSpec,
    compile_plan,
    evaluate,
    param_problem,
)
from quality.checks.params import Loosening
from quality.checks.sql import Statement
from quality.checks.types import DECLARATIONS, CheckType, ColumnUse, Declaration
from querying.warehouses.base import Result
from tests.catalog import full_document

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
# full_contract.yaml declares one check of every type; its columns fit each type.
FULL = full_document()
EXAMPLES: dict[str, dict[str, Any]] = {c["type"]: c for c in FULL["qualityChecks"]}
KINDS = list(DECLARATIONS.values())


def kind_id(kind: Declaration) -> str:
    return kind.type.value


def document_with(check: dict[str, Any]) -> dict[str, Any]:
    """The full contract with ``check`` as its only check."""
    return {**copy.deepcopy(FULL), "qualityChecks": [copy.deepcopy(check)]}


# --- one declaration per type -----------------------------------------------------------------


def test_every_check_type_has_exactly_one_declaration_in_the_contract_order() -> None:
    assert list(DECLARATIONS) == list(CheckType)
    assert all(kind.type == name for name, kind in DECLARATIONS.items())
    assert tuple(t.value for t in CheckType) == CHECK_TYPES
    assert set(EXAMPLES) == set(CheckType), "full_contract.yaml has one check per type"


@pytest.mark.parametrize(
    "module",
    [
        "quality.checks.types",
        "quality.checks",
        "catalog.contract.vocabulary",
        "catalog.contract",
        "catalog.odcs",
        "catalog.contract_diff",
    ],
)
def test_either_package_can_be_imported_first(module: str) -> None:
    # catalog.contract reads the declarations and types.py reads the contract's vocabulary.
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}; import catalog.contract, quality.checks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


# --- the contract and the engine apply the same rules ------------------------------------------

HOSTILE: list[Any] = [
    None, True, False, 0, -1, 1, 2.5, 1e300, float("nan"), float("inf"), 10**16, 5.0,
    "x", "", "  ", "SELECT 1", "x" * 10_001, [], ["EUR"], ["EUR", 1], [None], [["EUR"]],
    ["v" * 201], {"k": 1}, list(range(1001)),
]  # fmt: skip


def generated_params(kind: Declaration, rng: random.Random) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for param in kind.params:
        if rng.random() < 0.8:
            params[param.name] = rng.choice(HOSTILE)
    return params


def engine_check(check: dict[str, Any]) -> CheckSpec:
    return CheckSpec(
        check["name"],
        check["type"],
        check["severity"],
        check.get("column"),
        check.get("params", {}),
    )


def check_issues(doc: dict[str, Any]) -> list[str]:
    return [str(i) for i in validate_contract(doc) if i.path.startswith("qualityChecks[0]")]


def about_the_column_type(issue: str) -> bool:
    """Rules that need the declared column's type: the engine does not know it."""
    return "does not match the column type" in issue or (
        issue.startswith("qualityChecks[0].column:") and " needs " in issue
    )


@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
def test_the_engine_runs_exactly_what_the_contract_accepts(kind: Declaration) -> None:
    rng = random.Random(f"one vocabulary {kind.type}")
    spec = ProductSpec("finance.ledger", "finance_ledger", (), (), "1h")
    accepted = refused = 0
    for _ in range(300 if kind.params else 1):
        check = {**EXAMPLES[kind.type], "params": generated_params(kind, rng)}
        issues = check_issues(document_with(check))
        problem = param_problem(engine_check(check), spec)
        if not issues:
            accepted += 1
            assert problem is None, (check, problem)
        elif problem is not None:
            refused += 1
        else:  # the engine runs it: the contract refused it only for its column's type
            assert all(about_the_column_type(i) for i in issues), (check, issues)
    assert accepted > 5 or not kind.params
    assert refused > 5 or not kind.params


@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
def test_a_missing_or_extra_column_is_refused_by_both(kind: Declaration) -> None:
    spec = ProductSpec("finance.ledger", "finance_ledger", (), (), "1h")
    check = copy.deepcopy(EXAMPLES[kind.type])
    if kind.column == ColumnUse.REQUIRED:
        del check["column"]
        expected = f"required for {kind.type}"
    elif kind.column == ColumnUse.NONE:
        check["column"] = "amount"
        expected = f"not used by {kind.type}"
    else:
        check.pop("column", None)
        assert check_issues(document_with(check)) == []
        assert param_problem(engine_check(check), spec) is None
        return
    assert any(expected in i for i in check_issues(document_with(check)))
    assert expected in (param_problem(engine_check(check), spec) or "")


def test_the_engine_ignores_param_keys_the_contract_refuses() -> None:
    check = {**EXAMPLES["row_count"], "params": {"minRows": 1, "rows": 5}}
    assert check_issues(document_with(check)) == [
        "qualityChecks[0].params.rows: unknown field (row_count takes minRows, maxRows)"
    ]
    spec = ProductSpec("finance.ledger", "finance_ledger", (), (), "1h")
    assert param_problem(engine_check(check), spec) is None


@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
def test_what_the_parser_accepts_the_json_schema_accepts(kind: Declaration) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from catalog.contract import json_schema

    validator = jsonschema.Draft202012Validator(json_schema())
    rng = random.Random(f"schema {kind.type}")
    checked = 0
    for _ in range(300 if kind.params else 1):
        params = {k: v for k, v in generated_params(kind, rng).items() if v is not None}
        doc = document_with({**EXAMPLES[kind.type], "params": params})
        if validate_contract(doc):
            continue
        checked += 1
        assert not list(validator.iter_errors(doc)), params
    assert checked > 0


# --- compiled, judged, exported, diffed ---------------------------------------------------------


# What the warehouse answers: 5 rows, the newest value now, and 0 for every other count.
VALUES: dict[str, object] = {"rows": 5, "newest": NOW}


def runnable(kind: Declaration) -> ProductSpec:
    check = engine_check(EXAMPLES[kind.type])
    columns = (ColumnSpec("amount", "float", pii=True),)
    return ProductSpec("finance.ledger", "finance_ledger", columns, (check,), "1h")


@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
def test_every_type_compiles_to_sql_and_is_judged_from_its_values(kind: Declaration) -> None:
    spec = runnable(kind)
    plan = compile_plan(spec, "duckdb")
    assert plan.statements, "every check computes something"
    results: dict[Statement, Result | BaseException] = {}
    for statement in plan.statements:
        row = tuple(VALUES.get(key.split(":")[0], 0) for key in statement.outputs)
        results[statement] = Result(columns=list(statement.outputs), rows=[row])
    (out,) = evaluate(spec, results, now=NOW)
    assert (out.check_name, out.type) == (EXAMPLES[kind.type]["name"], kind.type)
    expected = "failed" if kind.type == CheckType.ROW_COUNT else "passed"  # 5 < minRows 10
    assert out.status == expected, out.message
    assert "unknown" not in out.message


@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
def test_every_type_maps_to_an_odcs_rule_and_back_exactly(kind: Declaration) -> None:
    contract = parse_contract(document_with(EXAMPLES[kind.type]))
    odcs = to_odcs(contract)
    rules = [q for p in odcs["schema"][0]["properties"] for q in p.get("quality", [])]
    (rule,) = rules + odcs["schema"][0].get("quality", [])
    assert rule["dimension"] == kind.odcs.dimension
    assert parse_contract(from_odcs(odcs)) == contract


@pytest.mark.parametrize("kind", [k for k in KINDS if k.odcs.read], ids=kind_id)
def test_a_foreign_tool_reading_our_rule_without_our_properties_gets_the_same_check(
    kind: Declaration,
) -> None:
    contract = parse_contract(document_with(EXAMPLES[kind.type]))
    odcs = to_odcs(contract)
    for holder in [*odcs["schema"][0]["properties"], odcs["schema"][0]]:
        for rule in holder.get("quality", []):
            del rule["customProperties"]
    assert parse_contract(from_odcs(odcs)).quality_checks == contract.quality_checks


def loosened(value: Any, loosening: Loosening) -> Any:
    if loosening == Loosening.LOWER_BOUND:
        return value - 1
    if loosening == Loosening.UPPER_BOUND:
        return value + 1
    if loosening == Loosening.MORE_VALUES:
        return [*value, "CHF"]
    return value + " AND amount > 1"


def tightened(value: Any, loosening: Loosening) -> Any:
    if loosening == Loosening.LOWER_BOUND:
        return value + 1
    if loosening == Loosening.UPPER_BOUND:
        return value - 1
    if loosening == Loosening.MORE_VALUES:
        return value[:-1]
    return "  " + value.replace(" ", "\n  ") + "  "  # whitespace only: no change at all


@pytest.mark.parametrize(
    ("kind", "param"),
    [(k, p) for k in KINDS for p in k.params],
    ids=[f"{k.type}.{p.name}" for k in KINDS for p in k.params],
)
def test_the_diff_calls_each_params_loosening_breaking_and_its_tightening_not(
    kind: Declaration, param: Any
) -> None:
    example = EXAMPLES[kind.type]
    old = parse_contract(document_with(example))
    value = example["params"][param.name]
    for change, breaking in ((loosened, True), (tightened, False)):
        new_check = copy.deepcopy(example)
        new_check["params"][param.name] = change(value, param.loosening)
        new = parse_contract(document_with(new_check))
        changes = diff_contracts(old, new)
        assert all(c.breaking is breaking for c in changes), changes
        assert all(c.path == f"qualityChecks[0].params.{param.name}" for c in changes), changes
        if breaking or param.loosening != Loosening.ANY_CHANGE:
            assert changes, (param.name, change.__name__)


REFUSED_BY_BOTH = [
    {"type": "row_count"},  # issue 14: the evaluator used to default it to minRows: 1
    {"type": "row_count", "params": {"minRows": None, "maxRows": None}},
    {"type": "row_count", "params": {"minRows": -1}},
    {"type": "row_count", "column": "amount", "params": {"minRows": 1}},
    {"type": "range", "column": "amount", "params": {"min": None}},
    {"type": "range", "column": "amount", "params": {"min": "2024-01-01"}},
    {"type": "freshness", "column": "booked_at", "params": {"maxStaleHours": 0}},
    {"type": "accepted_values", "column": "currency", "params": {"values": ["x" * 201]}},
    {"type": "custom_sql", "params": {"sql": "SELECT 1 " + " " * 10_000}},
]


@pytest.mark.parametrize("check", REFUSED_BY_BOTH, ids=lambda c: str(c)[:60])
def test_a_check_the_contract_refuses_is_an_error_outcome_never_a_default(
    check: dict[str, Any],
) -> None:
    declared = {"name": "c", "severity": "error", **check}
    with pytest.raises(ContractError):
        parse_contract(document_with(declared))
    engine = CheckSpec("c", check["type"], "error", check.get("column"), check.get("params", {}))
    spec = ProductSpec("finance.ledger", "finance_ledger", (), (engine,), "1h")
    assert compile_plan(spec, "duckdb").statements == []
    (out,) = evaluate(spec, {}, now=NOW)
    assert (out.status, out.passed, out.value) == ("error", False, None)
