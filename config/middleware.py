"""Request hygiene, browser protections and error answers that every view relies on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework.exceptions import Throttled

from . import drf, errors

NUL = "\x00"


def _has_nul(request: HttpRequest) -> bool:
    if NUL in request.path:
        return True
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in v for v in values):
            return True
    if request.content_type == "application/x-www-form-urlencoded":
        for key, values in request.POST.lists():
            if NUL in key or any(NUL in v for v in values):
                return True
    return False


class RejectNulMiddleware:
    """Refuse requests carrying a NUL character in the path, query string or form fields.

    PostgreSQL cannot store or even compare NUL in text, so such a value reaching the ORM is a
    500 there (and only there); no legitimate input contains one. JSON bodies are checked by
    ``config.drf.SafeJSONParser``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            message = "the request contains a NUL character (\\u0000)"
            if request.path_info.startswith("/v1/"):
                return JsonResponse({"error": {"code": "INVALID", "message": message}}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain")
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Set ``Content-Security-Policy`` on every response (Django 5.2 has none built in).

    ``CONTENT_SECURITY_POLICY`` applies everywhere except the path prefixes listed in
    ``CONTENT_SECURITY_POLICY_BY_PATH`` (the longest matching prefix wins); a response that
    already carries the header keeps its own.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            policy = settings.CONTENT_SECURITY_POLICY
            prefixes = settings.CONTENT_SECURITY_POLICY_BY_PATH
            matching = [p for p in prefixes if request.path_info.startswith(p)]
            if matching:
                policy = prefixes[max(matching, key=len)]
            response["Content-Security-Policy"] = policy
        return response


class ErrorResponseMiddleware:
    """Errors answer the app's pages and the JSON error shape, never Django's technical pages.

    A throttled log-in (``accounts.backends``) raises DRF's ``Throttled`` from a plain view:
    answered 429 here. With DEBUG on, Django would show a technical page (traceback, settings,
    URL patterns) for any other view error and for an unknown URL; this answers them as with
    DEBUG off, through ``config.errors``. With DEBUG off, Django itself calls those handlers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.DEBUG:
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404 as exc:
                return errors.page_not_found(request, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if errors.is_infrastructure_fault(exception):
            return errors.service_unavailable(request, exception)
        if isinstance(exception, Throttled):
            reason = getattr(exception, "reason", "Too many requests.")
            # DRF sets Throttled.wait in __init__; its stubs leave the attribute out.
            return errors.too_many_requests(request, exception.wait, reason)  # type: ignore[attr-defined]
        if settings.DEBUG:
            return errors.response_for_debug(request, exception)
        return None


class QueryPageThrottleMiddleware:
    """The query page and its CSV download count against the same per-user query limit as
    ``POST /v1/query`` (``API_THROTTLE_QUERY``): no way around it through the HTML form."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if request.method != "POST" or match is None or match.view_name not in drf.QUERY_PAGES:
            return None
        throttle = drf.QueryThrottle()
        if throttle.allow_request(request, None):
            return None
        return errors.too_many_requests(request, throttle.wait(), "Too many queries.")
