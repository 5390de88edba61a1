"""Server-drawn SVG (issue 16): the metrics page's charts and the lineage graph. Pure Python.

Each function returns SVG markup in which every piece of text has been escaped here
(``html.escape``), so a template may include it as it is. No script, no inline style (the
Content-Security-Policy allows neither): colours come from classes styled in
``static/css/insights.css``. Every chart has a ``<title>`` and the pages print the numbers
beside it, so nothing is only in a picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from .contract.vocabulary import ProductStatus
from .lineage_graph import Graph, Node


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def _svg(
    width: int, height: int, title: str, body: list[str], css: str, *, natural: bool = False
) -> str:
    """An SVG element: scaled to its container, or at its own size (``natural``: the
    lineage graph, whose boxes and text keep their size however many nodes it has)."""
    size = f'width="{width}" height="{height}"' if natural else 'width="100%"'
    return (
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" {size} '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def line_chart(
    dates: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    width: int = 720,
    height: int = 220,
    y_max: float | None = None,
    unit: str = "",
) -> str:
    """One line per series over ``dates`` (ISO dates); ``None`` values leave a gap."""
    left, right, top, bottom = 44, 110, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    peak = y_max if y_max is not None else max(values, default=0) or 1
    peak = peak * (1.0 if y_max is not None else 1.1)
    n = max(1, len(dates) - 1)

    def x(i: int) -> float:
        return left + plot_w * i / n

    def y(v: float) -> float:
        return top + plot_h * (1 - v / peak)

    body = []
    for step in range(5):
        value = peak * step / 4
        body.append(
            f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/><text class="axis" x="{left - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{escape(_num(value))}{escape(unit)}</text>'
        )
    for i, day in enumerate(dates):
        if day.endswith("-01") or i == 0:
            body.append(
                f'<text class="axis" x="{x(i):.1f}" y="{height - 8}" text-anchor="middle">'
                f"{escape(day[:7])}</text>"
            )
    for index, (label, vs) in enumerate(series):
        runs: list[list[str]] = [[]]
        for i, v in enumerate(vs):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(i):.1f},{y(v):.1f}")
        for run in runs:
            if len(run) > 1:
                body.append(
                    f'<polyline class="series s{index}" fill="none" points="{" ".join(run)}"/>'
                )
            elif run:
                cx, cy = run[0].split(",")
                body.append(f'<circle class="series s{index}" cx="{cx}" cy="{cy}" r="2"/>')
        last = next((v for v in reversed(vs) if v is not None), None)
        if last is not None:
            body.append(
                f'<text class="legend s{index}" x="{left + plot_w + 8}" '
                f'y="{top + 14 + 16 * index}">{escape(label)}: {escape(_num(last))}'
                f"{escape(unit)}</text>"
            )
    return _svg(width, height, title, body, "chart--line")


def bar_chart(
    items: Sequence[tuple[str, float | None]],
    *,
    title: str,
    width: int = 480,
    unit: str = "",
    x_max: float | None = None,
) -> str:
    """Horizontal bars, one per ``(label, value)``, the value written after each bar."""
    label_w, bar_h, gap, right = 130, 18, 8, 70
    height = max(1, len(items)) * (bar_h + gap) + gap
    peak = x_max if x_max is not None else max((v or 0 for _, v in items), default=0) or 1
    plot_w = width - label_w - right
    body = []
    for i, (label, value) in enumerate(items):
        top = gap + i * (bar_h + gap)
        size = plot_w * (value or 0) / peak
        shown = "–" if value is None else f"{_num(value)}{unit}"
        body.append(
            f'<text class="axis" x="{label_w - 6}" y="{top + 13}" text-anchor="end">'
            f"{escape(label[:22])}</text>"
            f'<rect class="bar" x="{label_w}" y="{top}" width="{size:.1f}" height="{bar_h}"/>'
            f'<text class="value" x="{label_w + size + 6:.1f}" y="{top + 13}">'
            f"{escape(shown)}</text>"
        )
    return _svg(width, height, title, body, "chart--bars")


def column_pairs(
    labels: Sequence[str],
    pairs: Sequence[tuple[int, int]],
    names: tuple[str, str],
    *,
    title: str,
    width: int = 480,
    height: int = 200,
) -> str:
    """Two columns per label (``pairs``: first, second), the counts written above them."""
    left, top, bottom = 30, 16, 40
    plot_h = height - top - bottom
    peak = max((max(a, b) for a, b in pairs), default=0) or 1
    slot = (width - left) / max(1, len(labels))
    col = min(24.0, slot / 3)
    body = [
        f'<text class="legend s0" x="{left}" y="{height - 4}">{escape(names[0])}</text>'
        f'<text class="legend s1" x="{left + 110}" y="{height - 4}">{escape(names[1])}</text>'
    ]
    for i, (label, (a, b)) in enumerate(zip(labels, pairs, strict=True)):
        x0 = left + i * slot + (slot - 2 * col) / 2
        for j, value in enumerate((a, b)):
            h = plot_h * value / peak
            x = x0 + j * col
            y = top + plot_h - h
            body.append(
                f'<rect class="bar s{j}" x="{x:.1f}" y="{y:.1f}" width="{col - 2:.1f}" '
                f'height="{h:.1f}"/><text class="value" x="{x + col / 2 - 1:.1f}" '
                f'y="{y - 3:.1f}" text-anchor="middle">{value}</text>'
            )
        body.append(
            f'<text class="axis" x="{x0 + col:.1f}" y="{top + plot_h + 14}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    return _svg(width, height, title, body, "chart--columns")


# ---------------------------------------------------------------------------------------------
# The lineage graph
# ---------------------------------------------------------------------------------------------

NODE_W, NODE_H, COL_GAP, ROW_GAP, PAD = 230, 40, 80, 10, 12
LABEL_CHARS = 27


@dataclass(frozen=True)
class Placed:
    """A node and the top-left corner of its box."""

    node: Node
    x: float
    y: float


def layout(graph: Graph) -> tuple[dict[str, Placed], int, int]:
    """Columns by level (upstream left of the product, downstream right), nodes stacked in
    each column and centred; returns the placed nodes and the drawing's width and height."""
    columns: dict[int, list[Node]] = {}
    for node in graph.nodes.values():
        columns.setdefault(node.level, []).append(node)
    levels = sorted(columns)
    tallest = max((len(c) for c in columns.values()), default=1)
    height = PAD * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP
    # The right margin leaves room for the loops between boxes of one column.
    width = PAD * 2 + len(levels) * NODE_W + (len(levels) - 1) * COL_GAP + COL_GAP // 2
    placed: dict[str, Placed] = {}
    for index, level in enumerate(levels):
        nodes = sorted(columns[level], key=lambda n: (not n.is_product, n.kind, n.name.lower()))
        used = len(nodes) * NODE_H + (len(nodes) - 1) * ROW_GAP
        top = (height - used) / 2
        for row, node in enumerate(nodes):
            placed[node.key] = Placed(
                node, PAD + index * (NODE_W + COL_GAP), top + row * (NODE_H + ROW_GAP)
            )
    return placed, width, height


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def lineage_svg(graph: Graph, *, title: str, link: str = "/products/{}/lineage/") -> str:
    """The graph as SVG: a box per node (kind and name; products link to their own lineage,
    ``link`` formatted with the product id), a curve per edge, the product itself outlined."""
    placed, width, height = layout(graph)
    body = []
    for source, target in graph.edges:
        a, b = placed.get(source), placed.get(target)
        if a is None or b is None:
            continue
        x1, y1 = a.x + NODE_W, a.y + NODE_H / 2
        x2, y2 = b.x, b.y + NODE_H / 2
        if x2 <= x1:  # same column (a consumer of two products at one distance): loop right
            x2 = b.x + NODE_W
            bulge = x1 + COL_GAP / 2
            body.append(
                f'<path class="edge edge--same" d="M{x1:.1f},{y1:.1f} C{bulge:.1f},{y1:.1f} '
                f'{bulge:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" fill="none" marker-end="url(#arrow)"/>'
            )
            continue
        mid = (x1 + x2) / 2
        body.append(
            f'<path class="edge" d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} '
            f'{x2:.1f},{y2:.1f}" fill="none" marker-end="url(#arrow)"/>'
        )
    for key, spot in placed.items():
        node = spot.node
        css = f"node node--{escape(node.kind)}"
        if node.health:
            css += f" health--{escape(node.health)}"
        if key == graph.root:
            css += " node--root"
        if node.status in (ProductStatus.DEPRECATED, ProductStatus.RETIRED):
            css += " node--deprecated"
        name = node.product_id if node.is_product else node.name
        kind = node.status if node.is_product else node.kind
        box = (
            f'<g class="{css}" data-node="{escape(key)}"><title>{escape(name)} '
            f"({escape(kind)}){escape(' · ' + node.team if node.team else '')}</title>"
            f'<rect x="{spot.x:.1f}" y="{spot.y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="6"/>'
            f'<text class="node__kind" x="{spot.x + 8:.1f}" y="{spot.y + 14:.1f}">'
            f"{escape(kind)}</text>"
            f'<text class="node__name" x="{spot.x + 8:.1f}" y="{spot.y + 31:.1f}">'
            f"{escape(_short(name))}</text></g>"
        )
        if node.is_product and key != graph.root:
            box = f'<a href="{escape(link.format(node.product_id))}">{box}</a>'
        body.append(box)
    defs = (
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>'
        "</defs>"
    )
    return _svg(width, height, title, [defs, *body], "lineage-graph", natural=True)
