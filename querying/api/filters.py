"""Filters for the governed query audit log (``GET /v1/query/log``)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet

from querying.models import QueryDecision, QueryLog, QueryProductUse


class QueryLogFilterForm(forms.Form):
    """``since`` must come before ``until`` when both are given."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and since >= until:
            self.add_error("until", "must be later than since")
        return data


class QueryLogFilterSet(django_filters.FilterSet):
    """Filter audit rows: user, product, decision, code and a time window [since, until)."""

    user = django_filters.CharFilter(
        field_name="username", max_length=150, label="Username of who ran the query"
    )
    product = django_filters.CharFilter(
        method="filter_product", max_length=200, label="Product id the query used"
    )
    decision = django_filters.ChoiceFilter(choices=QueryDecision.choices)
    code = django_filters.CharFilter(
        field_name="code", lookup_expr="iexact", max_length=64, label="Error or refusal code"
    )
    since = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="From this time on (ISO 8601)"
    )
    until = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Before this time (ISO 8601)"
    )

    class Meta:
        model = QueryLog
        fields: list[str] = []
        form = QueryLogFilterForm

    def filter_product(self, qs: QuerySet[QueryLog], name: str, value: str) -> QuerySet[QueryLog]:
        uses = QueryProductUse.objects.filter(log=OuterRef("pk"), product_id=value)
        return qs.filter(Exists(uses))


QUERY_LOG_PARAMETERS = frozenset(QueryLogFilterSet.base_filters) | {"page", "pageSize", "format"}
