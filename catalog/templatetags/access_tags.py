"""The product page's "Raw access" card (issue 17): ``{% load access_tags %}{% access_card
product %}``. One include, so the page's template changes by one line."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from catalog.access import product_access
from catalog.models import DataProduct

register = template.Library()


@register.inclusion_tag("catalog/_access_card.html", takes_context=True)
def access_card(context: dict[str, Any], product: DataProduct) -> dict[str, Any]:
    """What the caller reads raw of ``product`` and why, how to ask, and the masking figure."""
    request = context["request"]
    return {
        "product": product,
        "access": product_access(user=request.user, product=product, now=timezone.now()),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
