"""API-wide pieces: the error shape and the exception handler.

Every API error is ``{"error": {"code": ..., "message": ..., "fields": {...}?}}``; the catalog's
seed endpoints keep the write-up's ``{"error": "Not found"}`` for unknown products.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

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
    if isinstance(exc, SuspiciousOperation):
        # Django refuses the body itself (too many form fields, too large): the client's fault.
        log.warning("refused API request: %s", exc)
        if isinstance(exc, RequestDataTooBig):
            return error_response(
                "BODY_TOO_LARGE", str(exc), status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
            )
        return error_response("INVALID", str(exc), status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is None:
        log.exception("unhandled API error", exc_info=exc)
        return error_response(
            "INTERNAL", "The server failed to handle this request; it has been logged.", 500
        )
    if isinstance(exc, exceptions.ValidationError):
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


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/v1/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: the API error shape under /v1/ (no route matched), HTML elsewhere."""
    if _is_api(request):
        return JsonResponse(
            {"error": {"code": "NOT_FOUND", "message": "no API endpoint matches this path"}},
            status=404,
        )
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400`` (e.g. too many form fields): JSON under /v1/, the HTML page elsewhere."""
    if _is_api(request):
        return JsonResponse({"error": {"code": "INVALID", "message": "bad request"}}, status=400)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an error raised outside a DRF view (rendering, middleware) stays JSON."""
    if _is_api(request):
        return JsonResponse(
            {
                "error": {
                    "code": "INTERNAL",
                    "message": "The server failed to handle this request; it has been logged.",
                }
            },
            status=500,
        )
    return defaults.server_error(request)
