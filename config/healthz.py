"""``GET /healthz``: 200 when the portal's database answers, 503 otherwise (container checks).

Answered by a middleware placed first, before host validation and the HTTPS redirect, so a
health check from inside the container (``http://127.0.0.1:8000/healthz``) works whatever
``ALLOWED_HOSTS`` and ``SECURE_SSL`` say. The answer names no host, version or error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse

PATH = "/healthz"
log = logging.getLogger(__name__)


def database_answers() -> bool:
    """Whether the portal's database takes a connection and answers a trivial query."""
    for _attempt in range(2):
        try:
            connection.ensure_connection()
            if connection.is_usable():
                return True
        except DatabaseError as exc:
            log.warning("healthz: the portal database does not answer: %s", exc)
        # A persistent connection the server dropped (restart, failover): try a new one once.
        connection.close()
    return False


def healthz() -> HttpResponse:
    """The health answer: ``{"status": "ok"}`` or 503 ``{"status": "unavailable", ...}``."""
    if database_answers():
        response = JsonResponse({"status": "ok"})
    else:
        response = JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class HealthzMiddleware:
    """Answer ``GET``/``HEAD /healthz`` before any other middleware runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == PATH and request.method in {"GET", "HEAD"}:
            return healthz()
        return self.get_response(request)
