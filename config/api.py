"""The API boundary: the error family, the base view and the one exception handler.

Every API error is ``{"error": {"code": ..., "message": ..., "fields": {...}?}}``. A view raises
a ``PortalError`` (or a service exception it names in ``errors``), never builds an error
response itself; ``exception_handler`` renders each one here. The only body outside the shape
is the write-up's ``{"error": "Not found"}`` for ``GET /v1/catalog/products/<unknown id>``,
kept in ``catalog.api.views.ProductDetailApi.get``. Errors raised outside DRF's views answer
through ``config.errors`` in the same shape.

This module imports only Django, DRF and ``accounts.permissions`` (README, layout), so every
app's API may build on it. The parser and throttles REST_FRAMEWORK names live in
``config.drf``: DRF imports those while ``rest_framework.views`` loads, and this module
imports ``rest_framework.views``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db.models import Model, QuerySet
from rest_framework import exceptions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.permissions import OWNER_ACTIONS, Action, can, is_admin, restrict

# The handlers lived here before config/errors.py; callers may still import them from here.
from .errors import (  # noqa: F401 - the handlers are named from here in config.urls
    UNAVAILABLE_MESSAGE,
    bad_request,
    is_infrastructure_fault,
    page_not_found,
    permission_denied,
    server_error,
)

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# The error family
# ---------------------------------------------------------------------------------------------


class PortalError(Exception):
    """An error the API answers in the one shape: a stable ``code``, an HTTP status, a message
    and, for input errors, ``fields`` naming each field with its messages.

    A subclass names its defaults in its class line: ``class Gone(PortalError, code="GONE",
    http_status=410)``; an instance may override both.
    """

    code: str = "INVALID"
    http_status: int = status.HTTP_400_BAD_REQUEST

    def __init_subclass__(
        cls, *, code: str | None = None, http_status: int | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = code or cls.code
        cls.http_status = http_status or cls.http_status

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        fields: Mapping[str, Sequence[str]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.http_status = http_status or self.http_status
        self.fields = {name: list(messages) for name, messages in (fields or {}).items()}
        # More keys of the error body, beside code and message (a refused breaking change's
        # ``impact``, issue 16); never ``code``, ``message`` or ``fields``.
        self.extra = {k: v for k, v in (extra or {}).items() if k not in _ERROR_KEYS}


_ERROR_KEYS = frozenset({"code", "message", "fields"})


class Invalid(PortalError):
    """The request cannot be used as sent (400)."""


class Forbidden(PortalError, code="FORBIDDEN", http_status=status.HTTP_403_FORBIDDEN):
    """The caller may see the object but not do this to it (403)."""


class NotFound(PortalError, code="NOT_FOUND", http_status=status.HTTP_404_NOT_FOUND):
    """Nothing by that name that the caller may see (404)."""


class Conflict(PortalError, code="CONFLICT", http_status=status.HTTP_409_CONFLICT):
    """The request conflicts with what is stored (409)."""


class Unavailable(
    PortalError, code="SERVICE_UNAVAILABLE", http_status=status.HTTP_503_SERVICE_UNAVAILABLE
):
    """Something the portal needs is down; the request may be retried (503)."""


# Exception class → the PortalError it answers as. Looked up along the exception's MRO, so a
# subclass listed on its own wins over its base class: errors are told apart by class only.
ErrorMap = Mapping[type[BaseException], Callable[[Any], PortalError]]

FORBIDDEN_MESSAGE = "You do not have permission to perform this action."
# What every view answers the same way: a service's PermissionDenied keeps its message.
COMMON_ERRORS: ErrorMap = {
    PermissionDenied: lambda exc: Forbidden(str(exc) or FORBIDDEN_MESSAGE),
}


def as_portal_error(exc: BaseException, errors: ErrorMap) -> PortalError | None:
    """The PortalError ``exc`` answers as (``errors`` first, then the common ones), or None."""
    if isinstance(exc, PortalError):
        return exc
    for cls in type(exc).__mro__:
        translate = errors.get(cls) or COMMON_ERRORS.get(cls)
        if translate is not None:
            return translate(exc)
    return None


# ---------------------------------------------------------------------------------------------
# The base view
# ---------------------------------------------------------------------------------------------

# What each owner action reads as in a 403 message.
ACTION_WORDS: Mapping[str, str] = {
    "change": "change it",
    "create": "create products in it",
    "deprecate": "deprecate or retire it",
    "run_checks": "run its checks",
    "decide": "decide access requests on its products",
}


def denied_message(action: Action, obj: Model) -> str:
    """Why ``action`` on ``obj`` was refused, naming who may do it."""
    domain = getattr(obj, "domain", obj)
    if action in OWNER_ACTIONS:
        slug = getattr(domain, "slug", domain)
        return f"only owners of domain {slug} and admins may {ACTION_WORDS[action]}"
    return f"you may not {action.replace('_', ' ')} {obj}"


class PortalAPIView(APIView):
    """Every API view: finds the object its URL names, checks the caller's right to it, and
    leaves every error to ``exception_handler``.

    A view names its object (``queryset``, ``lookup_field``: also the URL's parameter,
    ``noun``: for the 404 message), the permission each method needs on it (``actions``:
    method → ``accounts.permissions`` action; reading needs ``view``), the methods only
    platform admins may call (``admin_only``: method → what they do) and the service
    exceptions it answers (``errors``).
    """

    queryset: ClassVar[QuerySet[Any] | None] = None
    lookup_field: ClassVar[str] = "pk"
    noun: ClassVar[str] = "object"
    actions: ClassVar[Mapping[str, Action]] = {}
    admin_only: ClassVar[Mapping[str, str]] = {}
    errors: ClassVar[ErrorMap] = {}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, DRF permissions, throttles
        what = self.admin_only.get(request.method or "")
        if what is not None and not is_admin(request.user):
            raise Forbidden(f"only platform admins may {what}")

    def get_object(self) -> Any:
        """The object the URL names if the caller may see it (else 404) and do this method's
        action on it (else 403)."""
        if self.queryset is None:
            raise TypeError(f"{type(self).__name__} names no queryset")
        value = self.kwargs[self.lookup_field]
        visible = restrict(self.queryset.all(), self.request.user, "view")
        obj = visible.filter(**{self.lookup_field: value}).first()
        if obj is None:
            raise NotFound(f"no {self.noun} {value!r} that you can see")
        action = self.actions.get(self.request.method or "", "view")
        if action != "view" and not can(self.request.user, action, obj):
            raise Forbidden(denied_message(action, obj))
        return obj

    def validated(self, serializer_class: type[serializers.Serializer], data: Any) -> Any:
        """``data`` checked by ``serializer_class``: its validated data, or a 400 naming fields."""
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def page(self, *, count: int, page: int, size: int) -> dict[str, Any]:
        """The paging keys of a list body: count, page, pageSize and the next/previous URLs."""
        return {
            "count": count,
            "page": page,
            "pageSize": size,
            "next": self._page_url(page + 1) if page * size < count else None,
            "previous": self._page_url(page - 1) if page > 1 else None,
        }

    def _page_url(self, page: int) -> str:
        params = self.request.query_params.copy()
        params["page"] = str(page)
        return self.request.build_absolute_uri(f"{self.request.path}?{params.urlencode()}")


# ---------------------------------------------------------------------------------------------
# The one exception handler
# ---------------------------------------------------------------------------------------------


def error_response(
    code: str,
    message: str,
    http_status: int,
    fields: dict[str, list[str]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """Build the standard error body."""
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra or {})
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
    error = as_portal_error(exc, getattr(context.get("view"), "errors", {}))
    if error is not None:
        # No set_rollback(): services own their transactions (STYLE.md), and what a refusal
        # wrote on purpose (a refused query's audit row) stays written.
        return error_response(
            error.code, error.message, error.http_status, error.fields, error.extra
        )
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
        unavailable = error_response("SERVICE_UNAVAILABLE", UNAVAILABLE_MESSAGE, 503)
        unavailable["Retry-After"] = "30"
        return unavailable
    response = drf_exception_handler(exc, context)
    if response is None:
        log.exception("unhandled API error", exc_info=exc)
        return error_response(
            "INTERNAL", "The server failed to handle this request; it has been logged.", 500
        )
    if isinstance(exc, exceptions.Throttled):
        reason = getattr(exc, "reason", "Too many requests.")
        wait_s: float | None = exc.wait  # type: ignore[attr-defined]  # set in __init__, not in the stubs
        wait = max(1, math.ceil(wait_s)) if wait_s is not None else None
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
