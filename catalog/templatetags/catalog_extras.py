"""Template helpers for catalog pages: highlighting, facet links, the score chart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django import template
from django.http import QueryDict
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from catalog import search

register = template.Library()


@register.filter
def highlight(text: str, query: str) -> SafeString:
    """Escape ``text`` and wrap the words of ``query`` in ``<mark>``."""
    return search.highlight(text, query)


@register.simple_tag(takes_context=True)
def toggle_param(context: dict[str, Any], name: str, value: str) -> str:
    """The current query string with ``name=value`` set (or removed when already set)."""
    request = context["request"]
    params: QueryDict = request.GET.copy()
    params.pop("page", None)
    if params.get(name) == value:
        params.pop(name, None)
    else:
        params[name] = value
    return _query_string(params)


@register.simple_tag(takes_context=True)
def sort_param(context: dict[str, Any], how: str) -> str:
    """The current query string sorted by ``how`` (no ``sort`` for the default, relevance)."""
    params: QueryDict = context["request"].GET.copy()
    params.pop("page", None)
    params.pop("sort", None)
    if how != search.RELEVANCE:
        params["sort"] = how
    return _query_string(params)


def _query_string(params: QueryDict) -> str:
    """``params`` as a link's query string (``?`` alone when empty: the page without any)."""
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def page_param(context: dict[str, Any], page: int) -> str:
    """The current query string pointing at ``page``."""
    params: QueryDict = context["request"].GET.copy()
    params["page"] = str(page)
    return f"?{params.urlencode()}"


@register.filter
def hours(value: float | None) -> str:
    """``0.4`` → ``24 min``, ``5.26`` → ``5.3 h``, ``24.0`` → ``24 h``, ``50`` → ``2.1 days``."""
    if value is None:
        return "—"
    if value < 1:
        return f"{round(value * 60)} min"
    if value < 48:
        return f"{_one_decimal(value)} h"
    return f"{_one_decimal(value / 24)} days"


def _one_decimal(value: float) -> str:
    """``24.0`` → ``24``, ``5.26`` → ``5.3``, ``1234.5`` → ``1,234.5``."""
    text = f"{value:,.1f}"
    return text[:-2] if text.endswith(".0") else text


@register.simple_tag
def score_chart(
    points: Sequence[tuple[datetime, float]], width: int = 900, height: int = 170
) -> SafeString:
    """An inline SVG line chart of quality scores (0-100) with a text alternative."""
    if not points:
        return mark_safe('<p class="muted">No quality runs yet: no data yet.</p>')  # noqa: S308
    pad = 28
    first, last = points[0][0], points[-1][0]
    span = max((last - first).total_seconds(), 1.0)
    coords = []
    for at, score in points:
        x = pad + (width - 2 * pad) * (
            (at - first).total_seconds() / span if len(points) > 1 else 0.5
        )
        y = pad / 2 + (height - pad) * (1 - max(0.0, min(100.0, float(score))) / 100)
        coords.append((round(x, 1), round(y, 1), at, score))
    line = " ".join(f"{x},{y}" for x, y, _, _ in coords)
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3"><title>{}: {}</title></circle>',
        ((x, y, _human_datetime(at), f"{score:.0f}") for x, y, at, score in coords),
    )
    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/><text x="2" y="{}" class="axis">{}</text>',  # noqa: E501 (SQL/SVG text reads best on one line)
        (
            (pad, width - pad, y, y, y + 4, label)
            for label, y in (
                (100, pad / 2),
                (50, pad / 2 + (height - pad) / 2),
                (0, height - pad / 2),
            )
        ),
    )
    axis = format_html(
        '<text x="{}" y="{}" class="axis">{}</text>'
        '<text x="{}" y="{}" class="axis" text-anchor="end">{}</text>',
        pad,
        height - 2,
        f"{first.day} {first:%b}",
        width - pad,
        height - 2,
        f"{last.day} {last:%b}",
    )
    scores = [float(s) for _, s in points]
    summary = (
        f"Quality score over {len(points):,} run{'s' if len(points) != 1 else ''} from "
        f"{_human_date(first)} to {_human_date(last)}: "
        f"latest {scores[-1]:.0f}, lowest {min(scores):.0f}, highest {max(scores):.0f}."
    )
    return format_html(
        '<figure class="chart"><svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="score-title score-desc" '  # noqa: E501 (SQL/SVG text reads best on one line)
        '><title id="score-title">Quality score history</title>'
        '<desc id="score-desc">{summary}</desc>{grid}{axis}<polyline points="{line}" class="line"/>{dots}</svg>'  # noqa: E501 (SQL/SVG text reads best on one line)
        "<figcaption>{summary}</figcaption></figure>",
        w=width,
        h=height,
        summary=summary,
        grid=grid,
        axis=axis,
        line=line,
        dots=dots,
    )


@register.filter
def words(value: str) -> str:
    """``stale_data`` → ``stale data``."""
    return str(value or "").replace("_", " ")


@register.filter
def pct(value: float | None) -> str:
    """A percentage with at most two decimals, or a dash."""
    if value is None:
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


@register.filter
def health_label(state: str) -> str:
    """How a health verdict reads in a badge (``ok`` → ``healthy``; quality/health.py)."""
    from quality.health import HEALTH_LABELS

    return HEALTH_LABELS.get(str(state), str(state))


__all__ = ["register"]


def _human_date(at: datetime) -> str:
    """``7 Dec 2026``: the portal's date format (templates use ``date:"j M Y"``)."""
    return f"{at.day} {at:%b %Y}"


def _human_datetime(at: datetime) -> str:
    """``7 Dec 2026, 05:27``."""
    return f"{_human_date(at)}, {at:%H:%M}"
