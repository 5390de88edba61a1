"""The product page's "Example queries" card (issue 19): ``{% load saved_query_tags %}
{% example_queries product %}`` lists the shared saved queries reading the product that the
viewer may see (catalog.selectors.product_example_queries), with their authors and last run."""

from __future__ import annotations

from typing import Any

from django import template

from catalog.models import DataProduct
from catalog.selectors import product_example_queries

register = template.Library()


@register.inclusion_tag("querying/_example_queries.html", takes_context=True)
def example_queries(context: dict[str, Any], product: DataProduct) -> dict[str, Any]:
    """The card's context: the product and its example queries for the request's user."""
    user = context["request"].user
    return {"product": product, "queries": product_example_queries(user=user, product=product)}
