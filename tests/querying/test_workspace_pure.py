"""Pure parts of the workspace (issue 19): the chart spec and its defaults, the syntax error
pointer. No database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from querying.saved.charts import ChartInvalid, chart_clean, chart_default, column_kind
from querying.saved.pointer import error_pointer


@pytest.mark.parametrize(
    ("type_name", "kind"),
    [
        ("BIGINT", "number"),
        ("int4", "number"),
        ("numeric(12,2)", "number"),
        ("DECIMAL(18,3)", "number"),
        ("DOUBLE", "number"),
        ("float8", "number"),
        ("DATE", "time"),
        ("TIMESTAMP WITH TIME ZONE", "time"),
        ("timestamptz", "time"),
        ("VARCHAR", "text"),
        ("text", "text"),
        ("BOOLEAN", "text"),
        ("INTEGER[]", "text"),
        ("int4range", "text"),
        ("STRUCT(a INTEGER)", "text"),
        ("INTERVAL", "number"),
    ],
)
def test_column_types_read_as_numbers_times_or_text(type_name: str, kind: str) -> None:
    assert column_kind(type_name) == kind


def test_defaults_follow_the_column_types() -> None:
    assert chart_default(["day", "n"], ["DATE", "BIGINT"]) == {
        "type": "line",
        "x": "day",
        "y": ["n"],
    }
    assert chart_default(["channel", "rev", "n"], ["VARCHAR", "DECIMAL(18,2)", "BIGINT"]) == {
        "type": "bar",
        "x": "channel",
        "y": ["rev", "n"],
    }
    assert chart_default(["a", "b"], ["DOUBLE", "BIGINT"]) == {
        "type": "scatter",
        "x": "a",
        "y": ["b"],
    }
    assert chart_default(["a", "b"], ["VARCHAR", "VARCHAR"]) is None
    assert chart_default(["n"], ["BIGINT"]) is None
    assert chart_default([], []) is None


def test_the_browser_applies_the_same_default_rule() -> None:
    """static/js/query-chart.js spells the rule in JavaScript: same words, same order."""
    from pathlib import Path

    js = (Path(__file__).resolve().parents[2] / "static/js/query-chart.js").read_text()
    assert "INT|DECIMAL|NUMERIC|DOUBLE|FLOAT|REAL|HUGEINT|SERIAL" in js
    assert '[["time", "line"], ["text", "bar"]]' in js
    assert "MAX_SERIES = 6" in js


@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.text(),
        st.lists(st.text()),
        st.dictionaries(
            st.sampled_from(["type", "x", "y", "z"]),
            st.one_of(st.none(), st.text(max_size=5), st.lists(st.text(max_size=5), max_size=8)),
        ),
    )
)
def test_any_chart_spec_is_stored_clean_or_refused_naming_its_field(spec: object) -> None:
    try:
        cleaned = chart_clean(spec)
    except ChartInvalid as exc:
        assert exc.field.startswith("chart")
        return
    if spec is None:
        assert cleaned is None
        return
    assert cleaned is not None and set(cleaned) == {"type", "x", "y"}
    assert cleaned["type"] in ("bar", "line", "scatter")
    assert 1 <= len(cleaned["y"]) <= 6 and len(set(cleaned["y"])) == len(cleaned["y"])


def test_a_single_y_column_is_stored_as_a_list() -> None:
    assert chart_clean({"type": "line", "x": "d", "y": "n"}) == {
        "type": "line",
        "x": "d",
        "y": ["n"],
    }


def test_the_pointer_marks_the_token_the_parser_stopped_at() -> None:
    sql = "SELEC channel\nFROM t"
    message = "could not parse the query: this is not valid SQL here near 'FROM' (line 2, column 4)"
    pointer = error_pointer(sql, message)
    assert pointer is not None
    assert (pointer.line, pointer.start, pointer.end, pointer.text) == (2, 1, 4, "FROM t")
    assert pointer.caret == "^^^^"


@given(
    sql=st.text(max_size=80),
    line=st.integers(-3, 12),
    col=st.integers(-3, 120),
    near=st.text(max_size=45),
)
def test_any_position_points_inside_the_sql_or_nowhere(
    sql: str, line: int, col: int, near: str
) -> None:
    message = f"could not parse the query: expected x near {near!r} (line {line}, column {col})"
    pointer = error_pointer(sql, message)
    if pointer is None:
        return
    lines = sql.split("\n")
    assert 1 <= pointer.line <= len(lines) and pointer.text == lines[pointer.line - 1]
    assert 1 <= pointer.start <= pointer.end <= max(len(pointer.text), 1)


def test_a_message_without_a_position_points_nowhere() -> None:
    assert error_pointer("SELECT", "could not parse the query") is None
