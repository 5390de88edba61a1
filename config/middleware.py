"""Request hygiene that every view relies on."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

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
    ``config.api.SafeJSONParser``.
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
