"""From an OpenID Connect provider's group claim to portal roles and domain teams (issue 19).

Pure (no I/O, no settings; only the ``Role`` vocabulary): ``group_mapping`` reads the
documented settings once, ``roles_and_teams`` applies them to one login's groups. The
mapping (README, "Sign-in with your identity provider"):

- a group in ``OIDC_ADMIN_GROUPS`` makes a platform admin, one in ``OIDC_MANAGER_GROUPS`` a
  manager; anyone else is an analyst;
- ``OIDC_OWNER_GROUP_PATTERN`` (default ``data-{domain}-owners``) makes an owner of that domain's
  team, ``OIDC_MEMBER_GROUP_PATTERN`` (default ``data-{domain}-members``) a member: group
  ``data-marketing-owners`` owns marketing.

Group names compare exactly (case and all): they are the provider's identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .models import Role

DOMAIN_SLUG = r"(?P<domain>[a-z0-9](?:[a-z0-9_-]{0,48}[a-z0-9])?)"


class MappingInvalid(ValueError):
    """A group-claim setting that cannot be used (named in the message)."""


def _pattern(name: str, value: str) -> re.Pattern[str] | None:
    if not value:
        return None
    if value.count("{domain}") != 1:
        raise MappingInvalid(
            f"{name} must contain {{domain}} exactly once, e.g. data-{{domain}}-owners"
        )
    head, tail = value.split("{domain}")
    return re.compile(re.escape(head) + DOMAIN_SLUG + re.escape(tail))


@dataclass(frozen=True)
class GroupMapping:
    """The documented group-claim mapping, read from settings."""

    admin_groups: frozenset[str] = frozenset()
    manager_groups: frozenset[str] = frozenset()
    owner_pattern: re.Pattern[str] | None = None
    member_pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Grants:
    """What one login's groups grant: a role and ``{domain slug: is_owner}``."""

    role: Role
    teams: Mapping[str, bool] = field(default_factory=dict)


def group_mapping(
    *,
    admin_groups: Iterable[str] = (),
    manager_groups: Iterable[str] = (),
    owner_pattern: str = "data-{domain}-owners",
    member_pattern: str = "data-{domain}-members",
) -> GroupMapping:
    """The mapping from its settings; an unusable pattern raises ``MappingInvalid``."""
    return GroupMapping(
        admin_groups=frozenset(g for g in admin_groups if g),
        manager_groups=frozenset(g for g in manager_groups if g),
        owner_pattern=_pattern("OIDC_OWNER_GROUP_PATTERN", owner_pattern),
        member_pattern=_pattern("OIDC_MEMBER_GROUP_PATTERN", member_pattern),
    )


def claimed_groups(claims: Mapping[str, object], claim: str) -> list[str]:
    """The group names in ``claims[claim]``: a list of strings (or one string); else none."""
    value = claims.get(claim)
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [g for g in value if isinstance(g, str)]
    return []


def roles_and_teams(groups: Iterable[str], mapping: GroupMapping) -> Grants:
    """The role and teams ``groups`` grant; owning a team beats being a member of it."""
    names = set(groups)
    if names & mapping.admin_groups:
        role = Role.ADMIN
    elif names & mapping.manager_groups:
        role = Role.MANAGER
    else:
        role = Role.ANALYST
    teams: dict[str, bool] = {}
    for group in sorted(names):
        for pattern, is_owner in ((mapping.owner_pattern, True), (mapping.member_pattern, False)):
            found = pattern.fullmatch(group) if pattern is not None else None
            if found is not None:
                slug = found.group("domain")
                teams[slug] = teams.get(slug, False) or is_owner
    return Grants(role=role, teams=teams)
