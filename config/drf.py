"""The classes REST_FRAMEWORK's settings name: the JSON parser and the throttles.

DRF imports these while ``rest_framework.views`` itself is loading (``APIView``'s class body
reads the default parser and throttle classes), so this module must never import
``rest_framework.views``; ``config.api``, which subclasses ``APIView``, does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from rest_framework import exceptions, throttling
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.settings import api_settings

if TYPE_CHECKING:  # rest_framework.views imports this module while it loads
    from rest_framework.views import APIView

# Deeper JSON than this is refused: no contract or query body comes close, and recursive code
# (serializers, deepcopy, error flattening) would otherwise hit Python's recursion limit later.
MAX_JSON_DEPTH = 64


def _json_problem(data: Any) -> str | None:
    """Why a parsed JSON value cannot be used safely (too deep, NUL, surrogates), or None."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return f"nested deeper than {MAX_JSON_DEPTH} levels"
            if isinstance(value, dict):
                stack.extend((k, depth) for k in value)
                stack.extend((v, depth + 1) for v in value.values())
            else:
                stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, str):
            if "\x00" in value:  # PostgreSQL cannot store NUL in text or JSON
                return "strings must not contain the NUL character (\\u0000)"
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "strings must be valid Unicode (no lone surrogates such as \\ud800)"
    return None


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, plus a 400 for bodies that would fail later (deep nesting, surrogates).

    ``"\\ud800"`` is valid JSON but not valid Unicode: it cannot be stored, logged or echoed
    back in an error message, so it is refused here, before any view sees it.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels"
            ) from None
        problem = _json_problem(data)
        if problem:
            raise exceptions.ParseError(f"JSON parse error - {problem}")
        return data


class _RateFromSettings(throttling.SimpleRateThrottle):
    """Read the rate at each request (DRF binds it at import), so overridden settings apply."""

    def get_rate(self) -> str | None:
        # DRF's stubs type the rates as numbers; DRF's rates are strings such as "600/min".
        rates: Mapping[str | None, str | None] = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
        return rates.get(self.scope)


class AnonThrottle(_RateFromSettings, throttling.AnonRateThrottle):
    """Anonymous callers, per client address: ``API_THROTTLE_ANON``."""


class UserThrottle(_RateFromSettings, throttling.UserRateThrottle):
    """Each user across all endpoints (token and session alike): ``API_THROTTLE_USER``."""


# Every POST to these runs SQL on the warehouse: the API's endpoints, and the query page and
# its CSV download (throttled by config.middleware.QueryPageThrottleMiddleware), one count.
QUERY_VIEWS = frozenset(
    {"querying-api:query", "querying-api:query-csv", "querying-api:saved-query-run"}
)
QUERY_PAGES = frozenset({"querying:query", "querying:download"})


class QueryThrottle(_RateFromSettings, throttling.UserRateThrottle):
    """Governed queries per user, through the API or the query page: ``API_THROTTLE_QUERY``."""

    scope = "query"

    def allow_request(self, request: Request | HttpRequest, view: APIView | None) -> bool:
        match = request.resolver_match
        if request.method != "POST" or match is None:
            return True
        if match.view_name not in QUERY_VIEWS | QUERY_PAGES:
            return True
        # The query-page middleware passes Django's request and no view; the user throttle
        # reads only request.user and request.META, which both have.
        return super().allow_request(request, view)  # type: ignore[arg-type]
