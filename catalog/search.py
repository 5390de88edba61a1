"""Catalog search: which products match a query and in what order.

The ranking rule, the same on every database (tests/catalog/test_search.py pins it):

- a query is split into terms (lower-case letters and digits; at most ``MAX_TERMS``); a product
  matches when *every* term appears in its name, tags, column names or description;
- a match in the name beats one in the tags, which beats one in the column names, which beats
  one in the description (weights 8 / 4 / 2 / 1, so one better field always wins over all the
  worse ones together);
- deprecated products are demoted: they come after every current product that matches, and
  the API and pages label them with their replacement;
- usage boosts (issue 16): among hits of equal text relevance, the one with more answered
  queries over 30 days (``DataProduct.queries_30d``) comes first. It never lifts a hit above
  a better text match, so the field order above holds.

``sort`` (``SORTS``) picks another order, deprecated products still last: ``relevance`` (the
default: the rule above; without a query, newest first), ``popular`` (most queried over 30
days), ``recent`` (newest published), ``quality`` (highest quality score, unscored last); ties
by product id.

PostgreSQL uses full-text search over the stored ``DataProduct.search_vector`` (GIN-indexed;
weighted A name, B tags, C column names, D description; ``simple`` configuration, so no
stemming or stop words, like the substring match elsewhere). ``search_index_refresh`` rebuilds it
in one UPDATE; ``catalog.services`` calls it whenever a contract is applied, so every write path
keeps it current. Queries are ``term:* & term:*`` (prefix matching, so "attrib" finds
"attribution") and ``SearchRank`` uses weights 1/8, 1/4, 1/2, 1 so the four classes keep the
same order. Other databases (SQLite, the embedded default) score with ``Case``/``When`` over
``icontains`` and never read the vector. Both are one SQL query, so pagination and ``count``
stay in the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from django.contrib.postgres.aggregates import StringAgg
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
)
from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Cast
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import Column, DataProduct, demoted

MAX_TERMS = 8
MAX_TERM_LENGTH = 64
WEIGHTS = {"name": 8, "tags": 4, "columns": 2, "description": 1}
# SearchRank weights are listed D, C, B, A; keep the 1:2:4:8 ratio of WEIGHTS.
PG_RANK_WEIGHTS = [0.125, 0.25, 0.5, 1.0]
TS_CONFIG = "simple"
_TERM = re.compile(r"[^\W_]+", re.UNICODE)


def terms_of(query: str) -> list[str]:
    """The distinct lower-case terms of ``query``, in order, capped in number and length."""
    seen: list[str] = []
    for raw in _TERM.findall((query or "").lower()):
        term = raw[:MAX_TERM_LENGTH]
        if term not in seen:
            seen.append(term)
        if len(seen) == MAX_TERMS:
            break
    return seen


def uses_postgres() -> bool:
    """Whether the default database can do PostgreSQL full-text search."""
    return connection.vendor == "postgresql"


def rank(qs: QuerySet[DataProduct], query: str) -> QuerySet[DataProduct]:
    """Keep the products matching every term of ``query``, annotated ``relevance``, best first.

    An empty query keeps everything (relevance 0), newest first.
    """
    terms = terms_of(query)
    qs = qs.annotate(is_demoted=demoted())
    if not terms:
        return qs.annotate(relevance=Value(0.0, output_field=FloatField())).order_by(
            "is_demoted", F("published_at").desc(nulls_last=True), "product_id"
        )
    qs = _rank_postgres(qs, terms) if uses_postgres() else _rank_portable(qs, terms)
    return qs.order_by("is_demoted", "-relevance", F("queries_30d").desc(), "product_id")


RELEVANCE, POPULAR, RECENT, QUALITY = "relevance", "popular", "recent", "quality"
SORTS = (RELEVANCE, POPULAR, RECENT, QUALITY)
# What the search page's sort control calls each order.
SORT_LABELS = {
    RELEVANCE: "Best match",
    POPULAR: "Most used",
    RECENT: "Newest",
    QUALITY: "Best quality",
}


def sort(qs: QuerySet[DataProduct], how: str) -> QuerySet[DataProduct]:
    """``qs`` (already ``rank``ed) in the order ``how`` names (module docstring)."""
    if how == POPULAR:
        return qs.order_by("is_demoted", F("queries_30d").desc(), "product_id")
    if how == RECENT:
        return qs.order_by("is_demoted", F("published_at").desc(nulls_last=True), "product_id")
    if how == QUALITY:
        return qs.order_by("is_demoted", F("quality_score").desc(nulls_last=True), "product_id")
    return qs


def _column_names() -> Subquery:
    return Subquery(
        Column.objects.filter(product=OuterRef("pk"))
        .values("product")
        .annotate(names=StringAgg("name", delimiter=" "))
        .values("names")[:1],
        output_field=TextField(),
    )


def search_vector_expression() -> CombinedExpression:
    """The weighted document of a product: A name, B tags, C column names, D description."""
    # SearchVector coalesces NULL to ''; column names are snake_case and the parser splits
    # "campaign_id" into its words. Tags are the jsonb text ('["orbit", "x"]'): the parser
    # drops the brackets, quotes and commas.
    return (
        SearchVector("name", weight="A", config=TS_CONFIG)
        + SearchVector(Cast("tags", TextField()), weight="B", config=TS_CONFIG)
        + SearchVector(_column_names(), weight="C", config=TS_CONFIG)
        + SearchVector("description", weight="D", config=TS_CONFIG)
    )


def search_index_refresh(product_ids: Iterable[int] | None = None) -> int:
    """Rebuild ``search_vector`` of the given products (all when None) in one UPDATE.

    PostgreSQL only; elsewhere nothing is stored and 0 is returned. Returns the rows updated.
    """
    if not uses_postgres():
        return 0
    qs = DataProduct.objects.all()
    if product_ids is not None:
        qs = qs.filter(pk__in=list(product_ids))
    return qs.update(search_vector=search_vector_expression())


def _rank_postgres(qs: QuerySet[DataProduct], terms: Sequence[str]) -> QuerySet[DataProduct]:
    # terms_of keeps letters and digits only ([^\W_]+), so the raw tsquery cannot be malformed
    # and no operator (&, |, !, :, parentheses, quotes) typed by a user reaches to_tsquery.
    query = SearchQuery(" & ".join(f"{t}:*" for t in terms), search_type="raw", config=TS_CONFIG)
    return qs.filter(search_vector=query).annotate(
        relevance=SearchRank(F("search_vector"), query, weights=PG_RANK_WEIGHTS)
    )


def _rank_portable(qs: QuerySet[DataProduct], terms: Sequence[str]) -> QuerySet[DataProduct]:
    total: Case | CombinedExpression | None = None
    for term in terms:
        in_columns = Exists(Column.objects.filter(product=OuterRef("pk"), name__icontains=term))
        qs = qs.filter(
            Q(name__icontains=term)
            | Q(tags__icontains=term)
            | in_columns
            | Q(description__icontains=term)
        )
        parts = [
            Case(When(name__icontains=term, then=Value(WEIGHTS["name"])), default=Value(0)),
            Case(When(tags__icontains=term, then=Value(WEIGHTS["tags"])), default=Value(0)),
            Case(When(in_columns, then=Value(WEIGHTS["columns"])), default=Value(0)),
            Case(
                When(description__icontains=term, then=Value(WEIGHTS["description"])),
                default=Value(0),
            ),
        ]
        for part in parts:
            total = part if total is None else total + part
    if total is None:  # no terms (rank() answers those itself): relevance 0, as there
        return qs.annotate(relevance=Value(0.0, output_field=FloatField()))
    return qs.annotate(relevance=Cast(total, FloatField()))


def highlight(text: str, query: str) -> SafeString:
    """``text`` HTML-escaped, with every term of ``query`` wrapped in ``<mark>``."""
    text = text or ""
    terms = terms_of(query)
    if not terms:
        return escape(text)
    # Match on the raw text and escape each piece, so a term can never land inside an entity
    # such as ``&amp;`` and nothing the user typed reaches the page unescaped.
    pattern = re.compile(
        "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE
    )
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(str(escape(text[last : match.start()])))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    out.append(str(escape(text[last:])))
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped above
