"""Domains: their settings (Slack webhook, table prefix) and ``manage.py add_domain``'s upsert."""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts import permissions
from accounts.models import User
from catalog.governance.namespace import prefix_problem
from catalog.models import Domain
from quality.webhooks import UnsafeURL, check_url

from .locks import domain_lock, rows_lock


class DomainSettingsDenied(PermissionDenied):
    """Settings of a domain the actor may not change; ``fields`` names them (HTTP 403)."""

    def __init__(self, fields: list[str], message: str) -> None:
        self.fields = fields
        super().__init__(message)


class DomainSettingsInvalid(Exception):
    """A domain setting that cannot be stored; ``field`` names it (HTTP 400)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


_DOMAIN_SETTING_NAMES = {
    "slack_webhook_url": "the Slack webhook",
    "table_prefix": "the table prefix",
    "members_see_raw": "whether members read PII raw",
    "access_max_days": "the longest access grant",
}
# An access grant lasts at least a day and at most about a year (issue 17).
ACCESS_MAX_DAYS_LIMIT = 366


def webhook_url_problem(url: str) -> str | None:
    """Why the portal refuses to post to ``url`` (private, loopback, metadata...), or None."""
    try:
        check_url(url, allow_private=bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False)))
    except UnsafeURL as exc:
        return str(exc)
    return None


def domain_update(
    *,
    actor: User,
    domain: Domain,
    slack_webhook_url: str | None = None,
    table_prefix: str | None = None,
    members_see_raw: bool | None = None,
    access_max_days: int | None = None,
) -> Domain:
    """Change a domain's settings: its Slack webhook, whether its members read PII raw and the
    longest access grant (owners, admins; issue 17), its table prefix (admins).

    ``None`` leaves a setting as it is; ``""`` clears it (a blank prefix is the default one).
    Raises DomainSettingsDenied naming what the actor may not change, or DomainSettingsInvalid.
    Every change stores ``updated_at``: governed queries see it from the next one.
    """
    wanted: dict[str, object] = {
        name: value
        for name, value in (
            ("slack_webhook_url", slack_webhook_url),
            ("table_prefix", table_prefix),
            ("members_see_raw", members_see_raw),
            ("access_max_days", access_max_days),
        )
        if value is not None
    }
    if not wanted:
        return domain
    denied = permissions.can_change_domain_settings(actor, domain, list(wanted))
    if denied:
        who = "admins" if permissions.can(actor, "change", domain) else "its owners or admins"
        what = " and ".join(_DOMAIN_SETTING_NAMES[name] for name in denied)
        raise DomainSettingsDenied(denied, f"only {who} may change {what} of domain {domain.slug}")
    days = wanted.get("access_max_days")
    if days is not None and not (
        isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= ACCESS_MAX_DAYS_LIMIT
    ):
        raise DomainSettingsInvalid(
            "access_max_days", f"must be a whole number of days from 1 to {ACCESS_MAX_DAYS_LIMIT}"
        )
    url = wanted.get("slack_webhook_url")
    if isinstance(url, str) and url:
        problem = webhook_url_problem(url)
        if problem:
            raise DomainSettingsInvalid("slack_webhook_url", problem)
    prefix = wanted.get("table_prefix")
    if isinstance(prefix, str) and prefix:
        problem = prefix_problem(prefix)
        if problem:
            raise DomainSettingsInvalid("table_prefix", problem)
    with transaction.atomic():
        rows_lock(Domain, pk=domain.pk)
        fresh = Domain.objects.get(pk=domain.pk)
        for name, value in wanted.items():
            setattr(fresh, name, value)
        if "table_prefix" in wanted:
            clash = next(
                (
                    d.slug
                    for d in Domain.objects.exclude(pk=fresh.pk)
                    if d.effective_table_prefix == fresh.effective_table_prefix
                ),
                None,
            )
            if clash is not None:
                raise DomainSettingsInvalid(
                    "table_prefix",
                    f"domain {clash} already uses the prefix {fresh.effective_table_prefix}",
                )
        fresh.save(update_fields=[*wanted, "updated_at"])
    return fresh


# A domain slug is the first part of every product id (``<domain>.<product>``, contract.ID_RE).
DOMAIN_SLUG_RE = re.compile(r"[a-z][a-z0-9-]*")
DOMAIN_SLUG_MAX = 63
DOMAIN_NAME_MAX = 200
DOMAIN_DESCRIPTION_MAX = 10_000


def _text_problem(value: str, *, max_length: int, one_line: bool) -> str | None:
    """Why ``value`` cannot be stored as a domain's name or description, or None."""
    if len(value) > max_length:
        return f"must be at most {max_length:,} characters"
    allowed = set() if one_line else {"\n", "\t"}
    if any(unicodedata.category(ch) in {"Cc", "Cs"} and ch not in allowed for ch in value):
        where = " on one line" if one_line else ""
        return f"must be printable text{where} (no control characters or invalid UTF-8)"
    return None


@transaction.atomic
def domain_upsert(
    *,
    slug: str,
    name: str | None = None,
    description: str | None = None,
    table_prefix: str | None = None,
    owner: User | None = None,
) -> tuple[Domain, bool]:
    """Create a domain or update the fields given, grant its team groups, add ``owner``.

    Returns ``(domain, created)``. ``None`` leaves a field as it is; a blank ``table_prefix``
    is the default ``<slug>_``. Raises DomainSettingsInvalid naming the field.
    """
    if len(slug) > DOMAIN_SLUG_MAX or not DOMAIN_SLUG_RE.fullmatch(slug):
        raise DomainSettingsInvalid(
            "slug",
            "must be lowercase ASCII letters, digits and '-', start with a letter and be at "
            f"most {DOMAIN_SLUG_MAX} characters (it starts every product id: <domain>.<product>)",
        )
    wanted: dict[str, str] = {}
    if name is not None:
        name = name.strip()
        problem = "must not be blank" if not name else None
        problem = problem or _text_problem(name, max_length=DOMAIN_NAME_MAX, one_line=True)
        if problem:
            raise DomainSettingsInvalid("name", problem)
        wanted["name"] = name
    if description is not None:
        problem = _text_problem(description, max_length=DOMAIN_DESCRIPTION_MAX, one_line=False)
        if problem:
            raise DomainSettingsInvalid("description", problem)
        wanted["description"] = description
    if table_prefix is not None:
        problem = prefix_problem(table_prefix) if table_prefix else None
        if problem:
            raise DomainSettingsInvalid("table_prefix", problem)
        wanted["table_prefix"] = table_prefix
    if owner is not None and not owner.is_active:
        raise DomainSettingsInvalid("owner", f"user {owner.username} is inactive")

    domain, created = domain_lock(slug, name=wanted.get("name"))
    changed = [key for key, value in wanted.items() if getattr(domain, key) != value]
    for key in changed:
        setattr(domain, key, wanted[key])
    mine = domain.effective_table_prefix
    clash = next(
        (d.slug for d in Domain.objects.exclude(pk=domain.pk) if d.effective_table_prefix == mine),
        None,
    )
    if clash is not None:
        # Raising rolls the whole call back: a new domain is not left behind.
        raise DomainSettingsInvalid(
            "table_prefix",
            f"domain {clash} already uses the table prefix {mine}; give {slug} its own",
        )
    if changed:
        domain.save(update_fields=changed)
    permissions.grant_domain(domain)
    if owner is not None:
        permissions.membership_set(user=owner, domain=domain, is_owner=True)
        if not owner.is_staff:  # as accounts.services.user_upsert: owners use the admin too
            owner.is_staff = True
            owner.save(update_fields=["is_staff"])
    return domain, created
