"""API-wide pieces: the error shape, the exception handler and the throttles.

Every API error is ``{"error": {"code": ..., "message": ..., "fields": {...}?}}``; the catalog's
seed endpoints keep the write-up's ``{"error": "Not found"}`` for unknown products. Errors
raised outside DRF's views answer through ``config.errors`` in the same shape.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest
from rest_framework import exceptions, status, throttling
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

# The handlers lived here before config/errors.py; callers may still import them from here.
from .errors import (  # noqa: F401 - the handlers are named from here in config.urls
    UNAVAILABLE_MESSAGE,
    bad_request,
    is_infrastructure_fault,
    page_not_found,
    permission_denied,
    server_error,
)

if TYPE_CHECKING:  # rest_framework.views imports this module while it loads
    from rest_framework.views import APIView

log = logging.getLogger(__name__)

# Deeper JSON than this is refused: no contract or query body comes close, and recursive code
# (serializers, deepcopy, error flattening) would otherwise hit Python's recursion limit later.
MAX_JSON_DEPTH = 64


def error_response(
    code: str, message: str, http_status: int, fields: dict[str, list[str]] | None = None
) -> Response:
    """Build the standard error body."""
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return Response({"error": body}, status=http_status)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested ValidationError detail into ``{"a.b[0].c": ["msg"]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = (
                key if not prefix else (f"{prefix}.{key}" if key != "non_field_errors" else prefix)
            )
            for k, v in _flatten(value, path).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                for k, v in _flatten(item, f"{prefix}[{index}]").items():
                    out.setdefault(k, []).extend(v)
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


CODES = {
    status.HTTP_400_BAD_REQUEST: "INVALID",
    status.HTTP_401_UNAUTHORIZED: "UNAUTHENTICATED",
    status.HTTP_403_FORBIDDEN: "FORBIDDEN",
    status.HTTP_404_NOT_FOUND: "NOT_FOUND",
    status.HTTP_405_METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
    status.HTTP_406_NOT_ACCEPTABLE: "NOT_ACCEPTABLE",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
    status.HTTP_429_TOO_MANY_REQUESTS: "THROTTLED",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every API error in the one error shape; never leak a traceback."""
    _render_as_json(context)
    if isinstance(exc, SuspiciousOperation):
        # Django refuses the body itself (too many form fields, too large): the client's fault.
        log.warning("refused API request: %s", exc)
        if isinstance(exc, RequestDataTooBig):
            return error_response(
                "BODY_TOO_LARGE", str(exc), status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
            )
        return error_response("INVALID", str(exc), status.HTTP_400_BAD_REQUEST)
    if is_infrastructure_fault(exc):
        # The portal database down or locked, the disk full: 503, the request may be retried.
        log.error("service unavailable: %s: %s", type(exc).__name__, exc)
        response = error_response("SERVICE_UNAVAILABLE", UNAVAILABLE_MESSAGE, 503)
        response["Retry-After"] = "30"
        return response
    # Imported here: rest_framework.views reads the settings that name this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        log.exception("unhandled API error", exc_info=exc)
        return error_response(
            "INTERNAL", "The server failed to handle this request; it has been logged.", 500
        )
    if isinstance(exc, exceptions.Throttled):
        reason = getattr(exc, "reason", "Too many requests.")
        wait = max(1, math.ceil(exc.wait)) if exc.wait is not None else None
        message = f"{reason} Try again in {wait} s." if wait else f"{reason} Try again later."
        new = error_response("THROTTLED", message, response.status_code)
    elif isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.items()), ("", ["invalid input"]))
        message = f"{first[0]}: {first[1][0]}" if first[0] != "non_field_errors" else first[1][0]
        new = error_response("INVALID", message, response.status_code, fields)
    else:
        detail = getattr(exc, "detail", str(exc))
        message = str(detail) if not isinstance(detail, (dict, list)) else str(_flatten(detail))
        new = error_response(
            CODES.get(response.status_code, "ERROR"), message, response.status_code
        )
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            new[header] = response[header]
    return new


def _render_as_json(context: dict[str, Any]) -> None:
    """Errors are JSON whatever the endpoint renders otherwise (CSV, the OpenAPI YAML, the
    Swagger page), so every error under /v1/ has the one shape (issue 12)."""
    request = context.get("request")
    if request is not None:
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = "application/json"


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


class _RateFromSettings:
    """Read the rate at each request (DRF binds it at import), so overridden settings apply."""

    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(_RateFromSettings, throttling.AnonRateThrottle):
    """Anonymous callers, per client address: ``API_THROTTLE_ANON``."""


class UserThrottle(_RateFromSettings, throttling.UserRateThrottle):
    """Each user across all endpoints (token and session alike): ``API_THROTTLE_USER``."""


# Every POST to these runs SQL on the warehouse: the API's endpoints, and the query page and
# its CSV download (throttled by config.middleware.QueryPageThrottleMiddleware), one count.
QUERY_VIEWS = frozenset({"querying-api:query", "querying-api:query-csv"})
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
        return super().allow_request(request, view)
