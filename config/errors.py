"""Error answers for every path: the JSON error shape under /v1/, the app's pages elsewhere.

``config.urls`` names these as handler400/403/404/500, ``CSRF_FAILURE_VIEW`` and the throttles
use them, and with ``DEBUG`` on ``config.middleware.ErrorResponseMiddleware`` routes view errors
here too, so even the demo never shows Django's technical pages (tracebacks, settings, URL
lists). ``SafeExceptionReporter`` covers what is left (an error raised inside a middleware).
"""

from __future__ import annotations

import errno
import json
import logging
import math
import sys
from typing import Any

from django import db
from django.core import signals
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template import loader
from django.views import defaults
from django.views.debug import ExceptionReporter

log = logging.getLogger("django.request")

API_PREFIX = "/v1/"
INTERNAL_MESSAGE = "The server failed to handle this request; it has been logged."


def is_api(request: HttpRequest) -> bool:
    """Is this a request to the JSON API (its errors are JSON, never HTML)?"""
    return request.path_info.startswith(API_PREFIX)


def error_body(code: str, message: str) -> dict[str, Any]:
    """The one error shape: ``{"error": {"code", "message"}}``."""
    return {"error": {"code": code, "message": message}}


def json_error(code: str, message: str, status: int) -> JsonResponse:
    """A JSON error response in the one shape."""
    return JsonResponse(error_body(code, message), status=status)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: the API error shape under /v1/ (no route matched), HTML elsewhere."""
    if is_api(request):
        return json_error("NOT_FOUND", "no API endpoint matches this path", 404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400`` (e.g. too many form fields): JSON under /v1/, the HTML page elsewhere."""
    if is_api(request):
        return json_error("INVALID", "bad request", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler403``: JSON under /v1/, the app's 403 page elsewhere."""
    if is_api(request):
        return json_error("FORBIDDEN", "You do not have permission to do this.", 403)
    return defaults.permission_denied(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an error raised outside a DRF view (rendering, middleware) stays JSON.

    A fault of the portal's own database or disk (saving the session, say) is 503, not 500.
    """
    fault = sys.exc_info()[1]
    if isinstance(fault, Exception) and is_infrastructure_fault(fault):
        return service_unavailable(request, fault)
    if is_api(request):
        return json_error("INTERNAL", INTERNAL_MESSAGE, 500)
    return defaults.server_error(request)


# The disk is full, read-only, over quota or failing: not the request's fault, and passing.
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EIO})
UNAVAILABLE_MESSAGE = (
    "The portal cannot reach its database or storage right now; nothing was changed. "
    "Try again in a minute."
)


def is_infrastructure_fault(exc: BaseException) -> bool:
    """The portal database is down or locked, or its disk is full or read-only (answer 503)."""
    if isinstance(exc, (db.OperationalError, db.InterfaceError)):
        return True
    return isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS


def service_unavailable(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """503 in the JSON shape under /v1/, the app's page elsewhere; the fault is logged."""
    log.error("service unavailable: %s: %s", type(exc).__name__, exc)
    if is_api(request):
        response: HttpResponse = json_error("SERVICE_UNAVAILABLE", UNAVAILABLE_MESSAGE, 503)
    else:
        html: str
        try:
            html = loader.render_to_string("503.html", {"message": UNAVAILABLE_MESSAGE})
        except Exception:  # the template needs nothing from the database, but never fail here
            html = f"<h1>Service unavailable</h1><p>{UNAVAILABLE_MESSAGE}</p>"
        response = HttpResponse(html, status=503)
    response["Retry-After"] = "30"
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: the form's token was missing or stale (Django's page is technical)."""
    if is_api(request):
        return json_error("FORBIDDEN", f"CSRF check failed: {reason}", 403)
    html = loader.render_to_string("403.html", {"csrf_failed": True}, request)
    return HttpResponse(html, status=403)


def too_many_requests(request: HttpRequest, wait: float | None, reason: str) -> HttpResponse:
    """429 with Retry-After: the JSON shape under /v1/, the app's page elsewhere."""
    seconds = max(1, math.ceil(wait)) if wait is not None else None
    message = f"{reason} Try again in {seconds} s." if seconds else f"{reason} Try again later."
    if is_api(request):
        response: HttpResponse = json_error("THROTTLED", message, 429)
    else:
        context = {"message": reason, "minutes": math.ceil(seconds / 60) if seconds else None}
        response = HttpResponse(loader.render_to_string("429.html", context, request), status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


def response_for_debug(request: HttpRequest, exc: Exception) -> HttpResponse:
    """What Django answers for a view's exception with DEBUG off, for use with DEBUG on."""
    if is_infrastructure_fault(exc):
        return service_unavailable(request, exc)
    if isinstance(exc, Http404):
        return page_not_found(request, exc)
    if isinstance(exc, PermissionDenied):
        return permission_denied(request, exc)
    if isinstance(exc, (BadRequest, SuspiciousOperation, MultiPartParserError)):
        if isinstance(exc, SuspiciousOperation):
            logging.getLogger(f"django.security.{exc.__class__.__name__}").error(str(exc))
        return bad_request(request, exc)
    # As Django's handler: tell listeners (the test client re-raises), log the traceback.
    signals.got_request_exception.send(sender=None, request=request)
    log.error(
        "Internal Server Error: %s",
        request.path,
        exc_info=exc,
        extra={"status_code": 500, "request": request},
    )
    return server_error(request)


class SafeExceptionReporter(ExceptionReporter):
    """Django's technical error page with nothing technical in it: what users see is ours.

    Django only reaches this with DEBUG on, for errors no handler above answered (an exception
    raised by a middleware, a disallowed Host header). The traceback still goes to the log.
    """

    def _api(self) -> bool:
        return self.request is not None and is_api(self.request)

    def _client_error(self) -> bool:
        # Django answers SuspiciousOperation (a disallowed Host header, say) with status 400.
        return isinstance(self.exc_value, SuspiciousOperation)

    # Django sends either text as a response body, never through a template, so plain str is
    # right here (the stubs say SafeString, what Django's own templates return).
    def get_traceback_html(self) -> str:  # type: ignore[override]
        if self._api():
            return self.get_traceback_text()
        return loader.render_to_string("400.html" if self._client_error() else "500.html")

    def get_traceback_text(self) -> str:  # type: ignore[override]
        if self._client_error():
            return json.dumps(error_body("INVALID", "bad request"))
        return json.dumps(error_body("INTERNAL", INTERNAL_MESSAGE))
