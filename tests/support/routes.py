"""Every route the portal serves, read from Django's URL resolver (not from a list).

Tests that must cover each endpoint walk ``routes()``, so an endpoint is covered the day its
URL is added. The admin site is its own resolver (``admin_urls()`` reads its registry).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

README = Path(__file__).resolve().parents[2] / "README.md"
PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
API_PREFIX = "/v1/"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Route:
    """One URL pattern: ``/v1/catalog/products/<str:product_id>``, its name and its view."""

    pattern: str
    name: str
    callback: Callable[..., Any]

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith(API_PREFIX)

    @property
    def view_class(self) -> type | None:
        """The class of a class-based view (DRF or Django), None for a function view."""
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)

    @property
    def params(self) -> list[str]:
        return [m.group("name") for m in PARAM.finditer(self.pattern)]

    def methods(self) -> list[str]:
        """The methods the view answers (a function view: GET and POST, its decorators decide)."""
        view = self.view_class
        if view is None:
            return ["GET", "POST"]
        return [m for m in METHODS if hasattr(view, m.lower())]

    def url(self, values: Mapping[str, str]) -> str:
        """The pattern with each parameter filled from ``values``."""
        return PARAM.sub(lambda m: values[m.group("name")], self.pattern)


def routes() -> list[Route]:
    """Every URL pattern of the portal outside the admin site, API and pages."""

    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[Route]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == admin.site.name:
                    continue  # admin_urls()
                space = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), space)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}{pattern.name}" if pattern.name else ""
                yield Route(prefix + str(pattern.pattern), name, pattern.callback)

    found = list(walk(get_resolver().url_patterns, "/", ""))
    assert sum(r.is_api for r in found) >= 15 and len(found) >= 25, found  # the walk worked
    return found


def admin_urls() -> list[str]:
    """The admin's index and, for every registered model, its list and add pages."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    return urls


def public_routes_in_readme() -> set[str]:
    """The paths named in the README's sentence that starts with **No login**."""
    text = " ".join(README.read_text().split())
    sentences = re.findall(r"\*\*No login\*\*.*?\.(?: |$)", text)
    assert len(sentences) == 1, "the README states once which endpoints need no login"
    return set(re.findall(r"`(/v1/[^`\s]*)`", sentences[0]))
