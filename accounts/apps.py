from django.apps import AppConfig

# The module, not its class: a second AppConfig class in this module's namespace would make
# Django's app-config autodetection for "accounts" ambiguous.
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and domain teams"


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin app with the portal's site (``accounts.admin_site.PortalAdminSite``)."""

    default = False  # named explicitly in INSTALLED_APPS instead of "django.contrib.admin"
    default_site = "accounts.admin_site.PortalAdminSite"
