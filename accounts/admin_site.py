"""The portal's Django admin site: who may enter is decided by ``accounts.permissions``.

Django's own admin lets in users flagged ``is_staff`` and shows each model to whoever holds its
global model permissions. The portal has neither notion: a platform admin (role ``admin`` or a
superuser) and the owners of a domain use the admin, and what each sees is narrowed per object
by ``accounts.permissions`` in every ModelAdmin (issue 12). So this site asks
``permissions.may_use_admin`` instead of ``is_staff``, its log-in form does the same, and
``is_staff`` grants nothing here. ``accounts.apps.PortalAdminConfig`` makes it ``admin.site``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from . import permissions

NO_ADMIN_ACCESS = (
    "The admin is for domain owners and platform admins; the account %(username)s is neither. "
    "The portal's pages (catalog, query, quality) are open to it."
)


class PortalAdminLoginForm(AdminAuthenticationForm):
    """The admin log-in: a correct password of an account without admin access says so."""

    def confirm_login_allowed(self, user: Any) -> None:
        # Not super(): Django's admin form refuses every account without is_staff.
        super(AdminAuthenticationForm, self).confirm_login_allowed(user)
        if not permissions.may_use_admin(user):
            raise ValidationError(
                NO_ADMIN_ACCESS, code="no_admin_access", params={"username": user.get_username()}
            )


class PortalAdminSite(AdminSite):
    """``admin.site``: entry for platform admins and domain owners, per ``accounts.permissions``."""

    site_header = "Data mesh portal admin"
    site_title = "Data mesh portal admin"
    index_title = "Administration"
    login_form = PortalAdminLoginForm
    # The sidebar repeats the index and takes 300 px: without it, a product's change form with
    # its column and check inlines fits a 1280 px window (issue 12).
    enable_nav_sidebar = False

    def has_permission(self, request: HttpRequest) -> bool:
        """Platform admins and owners of a domain; ``is_staff`` is not consulted."""
        return permissions.may_use_admin(request.user)

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Django's admin log-in; a logged-in user without admin access is told why."""
        user = request.user
        if request.method == "GET" and user.is_authenticated and not self.has_permission(request):
            messages.warning(request, NO_ADMIN_ACCESS % {"username": user.get_username()})
        return super().login(request, extra_context)
