from django.apps import AppConfig

# The module, not its class: a second AppConfig class in this module's namespace would make
# Django's app-config autodetection for "accounts" ambiguous.
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and domain teams"

    def ready(self) -> None:
        """Forget the domain ids kept per user whenever permissions or groups change."""
        from django.db.models.signals import m2m_changed, post_delete, post_save
        from guardian.models import GroupObjectPermission, UserObjectPermission

        from .models import User
        from .permissions import permissions_changed

        for model in (UserObjectPermission, GroupObjectPermission):
            post_save.connect(permissions_changed, sender=model, dispatch_uid=f"perms-{model}")
            post_delete.connect(permissions_changed, sender=model, dispatch_uid=f"perms-d-{model}")
        m2m_changed.connect(
            permissions_changed, sender=User.groups.through, dispatch_uid="perms-groups"
        )


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin app with the portal's site (``accounts.admin_site.PortalAdminSite``)."""

    default = False  # named explicitly in INSTALLED_APPS instead of "django.contrib.admin"
    default_site = "accounts.admin_site.PortalAdminSite"
