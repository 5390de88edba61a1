"""Filters for catalog lists, shared by the search API and the search page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from catalog import search
from catalog.contract import FRESHNESS_HOURS, STATUSES
from catalog.contract.vocabulary import ProductStatus
from catalog.models import DataProduct

FRESHNESS_STATES = ("fresh", "stale", "unknown")
DEFAULT_STATUSES = (ProductStatus.PUBLISHED,)


def freshness_state_expression(now: datetime | None = None) -> Case:
    """SQL for fresh | stale | unknown: ``newest_data_at`` against the SLA's freshness hours."""
    now = now or timezone.now()
    fresh = [
        When(
            sla_freshness=key, newest_data_at__gte=now - timedelta(hours=hours), then=Value("fresh")
        )
        for key, hours in FRESHNESS_HOURS.items()
    ]
    return Case(
        When(newest_data_at__isnull=True, then=Value("unknown")),
        *fresh,
        default=Value("stale"),
        output_field=CharField(),
    )


def freshness_filter(state: str, now: datetime | None = None) -> Q:
    """The products whose ``freshness_state_expression`` is ``state``, as plain predicates.

    Equivalent to filtering on the CASE, but PostgreSQL can estimate (and index) column
    comparisons, where it assumes any ``CASE ... = 'stale'`` matches almost nothing and then
    sorts every product instead of walking the listing index.
    """
    now = now or timezone.now()
    fresh = Q()
    for key, hours in FRESHNESS_HOURS.items():
        fresh |= Q(sla_freshness=key, newest_data_at__gte=now - timedelta(hours=hours))
    if state == "unknown":
        return Q(newest_data_at__isnull=True)
    if state == "fresh":
        return Q(newest_data_at__isnull=False) & fresh
    return Q(newest_data_at__isnull=False) & ~fresh


def with_freshness(qs: QuerySet[DataProduct], now: datetime | None = None) -> QuerySet[DataProduct]:
    """Annotate ``freshness_state`` on every product."""
    return qs.annotate(freshness_state=freshness_state_expression(now))


class StatusListField(forms.CharField):
    """Comma-separated statuses (``published,deprecated``), or ``all`` (``any`` too)."""

    def clean(self, value: object) -> tuple[str, ...] | None:
        text = super().clean(value)
        if not text:
            return None
        items = tuple(dict.fromkeys(s.strip().lower() for s in str(text).split(",") if s.strip()))
        if items in (("any",), ("all",)):
            return tuple(STATUSES)
        bad = [s for s in items if s not in STATUSES]
        if bad:
            raise forms.ValidationError(
                f"unknown status {bad[0]!r}; use any of {', '.join(STATUSES)} "
                "(comma-separated), or all"
            )
        return items


class StatusListFilter(django_filters.Filter):
    field_class = StatusListField


class ProductFilterSet(django_filters.FilterSet):
    """Search and filter data products: ``q``, domain, tag, owner, status, freshness, score, PII."""

    q = django_filters.CharFilter(method="filter_q", max_length=200, label="Search text")
    domain = django_filters.CharFilter(field_name="domain__slug", max_length=63)
    tag = django_filters.CharFilter(method="filter_tag", max_length=100)
    owner = django_filters.CharFilter(
        field_name="owner_team", lookup_expr="iexact", max_length=200, label="Owner team"
    )
    status = StatusListFilter(method="filter_status", label="Status (comma-separated, or all)")
    freshness = django_filters.ChoiceFilter(
        choices=[(s, s) for s in FRESHNESS_STATES], method="filter_freshness"
    )
    minQualityScore = django_filters.NumberFilter(  # noqa: N815 - the API's camelCase name
        field_name="quality_score",
        lookup_expr="gte",
        label="Minimum quality score (0-100)",
        min_value=0,
        max_value=100,
    )
    hasPii = django_filters.ChoiceFilter(  # noqa: N815
        choices=[("true", "true"), ("false", "false")],
        method="filter_has_pii",
        label="Has PII columns (true or false)",
    )
    # Applied last, in filter_queryset (issue 16): catalog.search.SORTS says each order.
    sort = django_filters.ChoiceFilter(
        choices=[(s, s) for s in search.SORTS], method="filter_sort", label="Order of the hits"
    )

    class Meta:
        model = DataProduct
        fields: list[str] = []

    def __init__(self, *args: Any, now: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()  # the freshness filter and annotation share one clock

    def filter_queryset(self, queryset: QuerySet[DataProduct]) -> QuerySet[DataProduct]:
        """Apply the filters; the default status (published) applies when none is given."""
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(status__in=DEFAULT_STATUSES)
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("q"):
            queryset = search.rank(queryset, "")
        return search.sort(queryset, self.form.cleaned_data.get("sort") or search.RELEVANCE)

    def filter_sort(
        self, qs: QuerySet[DataProduct], name: str, value: str
    ) -> QuerySet[DataProduct]:
        return qs  # ordered last, once every filter applied (filter_queryset)

    def filter_q(self, qs: QuerySet[DataProduct], name: str, value: str) -> QuerySet[DataProduct]:
        return search.rank(qs, value)

    def filter_status(
        self, qs: QuerySet[DataProduct], name: str, value: tuple[str, ...] | None
    ) -> QuerySet[DataProduct]:
        return qs.filter(status__in=value) if value else qs

    def filter_tag(self, qs: QuerySet[DataProduct], name: str, value: str) -> QuerySet[DataProduct]:
        # Exact tag match. On PostgreSQL jsonb containment; SQLite has no JSON containment
        # lookup, and icontains on the JSON text would match "revenue" inside "revenue_ops".
        if search.uses_postgres():
            return qs.filter(tags__contains=[value])
        has_tag = RawSQL(
            'EXISTS (SELECT 1 FROM json_each("catalog_dataproduct"."tags") AS t WHERE t.value = %s)',  # noqa: E501 (SQL/SVG text reads best on one line)
            (value,),
            output_field=BooleanField(),
        )
        return qs.filter(has_tag)

    def filter_freshness(
        self, qs: QuerySet[DataProduct], name: str, value: str
    ) -> QuerySet[DataProduct]:
        return qs.filter(freshness_filter(value, self.now))

    def filter_has_pii(
        self, qs: QuerySet[DataProduct], name: str, value: str
    ) -> QuerySet[DataProduct]:
        return qs.filter(has_pii=value == "true")
