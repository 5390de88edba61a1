"""Sign-in with an identity provider (issue 19): off unless configured, configured from the
environment (refusing to start half-configured), and the documented group-claim mapping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory

from accounts.claims import (
    MappingInvalid,
    claimed_groups,
    group_mapping,
    roles_and_teams,
)
from accounts.models import Role

ROOT = Path(__file__).resolve().parents[2]


# --- Off by default -------------------------------------------------------------------------


@pytest.mark.django_db
def test_off_by_default_every_oidc_url_is_404_and_the_login_page_has_no_button(
    settings: Any,
) -> None:
    assert settings.OIDC_ENABLED is False
    client = Client()
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/", {"code": "c", "state": "s"}).status_code == 404
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert 'id="oidc-login"' not in page.content.decode()
    assert 'name="password"' in page.content.decode()


@pytest.mark.django_db
def test_off_the_backend_authenticates_nobody(settings: Any) -> None:
    request = RequestFactory().get("/oidc/callback/", {"code": "c", "state": "s"})
    request.session = SessionStore()
    assert authenticate(request, nonce="n", code_verifier="v") is None


def _django_start(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "DJANGO_SETTINGS"))}
    clean |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
    }
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.OIDC_ENABLED, s.OIDC_RP_CLIENT_ID, s.OIDC_OP_TOKEN_ENDPOINT, "
        "s.OIDC_SYNC_GROUPS, s.OIDC_ADMIN_GROUPS, s.CONTENT_SECURITY_POLICY]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=180,
    )


CONFIGURED = {
    "OIDC_ENABLED": "1",
    "OIDC_RP_CLIENT_ID": "portal",
    "OIDC_RP_CLIENT_SECRET": "secret",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://id.example.com/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": "https://id.example.com/token",
    "OIDC_OP_USER_ENDPOINT": "https://id.example.com/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "https://id.example.com/jwks",
    "OIDC_OP_LOGOUT_ENDPOINT": "https://id.example.com/logout",
    "OIDC_SYNC_GROUPS": "1",
    "OIDC_ADMIN_GROUPS": "data-platform-admins,it-admins",
}


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    import json

    off = _django_start(tmp_path, {})
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout)[:4] == [False, "", "", False]

    on = _django_start(tmp_path, CONFIGURED)
    assert on.returncode == 0, on.stderr
    enabled, client, token, sync, admins, csp = json.loads(on.stdout)
    assert (enabled, client, token, sync) == (True, "portal", "https://id.example.com/token", True)
    assert admins == ["data-platform-admins", "it-admins"]
    # Logging out posts a form that the provider's logout answers: the CSP lets it go there.
    assert "form-action 'self' https://id.example.com;" in csp


@pytest.mark.parametrize(
    ("missing", "extra"),
    [
        ("OIDC_OP_TOKEN_ENDPOINT", {}),
        ("OIDC_RP_CLIENT_SECRET", {}),
        ("", {"OIDC_OWNER_GROUP_PATTERN": "data-owners"}),
    ],
)
def test_half_configured_refuses_to_start_naming_the_setting(
    tmp_path: Path, missing: str, extra: dict[str, str]
) -> None:
    env = {k: v for k, v in CONFIGURED.items() if k != missing} | extra
    proc = _django_start(tmp_path, env)
    assert proc.returncode != 0
    assert "configuration error: " in proc.stderr and "Traceback" not in proc.stderr
    assert (missing or "OIDC_OWNER_GROUP_PATTERN") in proc.stderr


# --- The documented mapping (README: "Sign-in with your identity provider") -----------------


def test_the_default_mapping_owners_members_and_roles() -> None:
    mapping = group_mapping(admin_groups=["data-platform-admins"], manager_groups=["managers"])
    grants = roles_and_teams(
        ["data-marketing-owners", "data-finance-members", "data-marketing-members", "all-staff"],
        mapping,
    )
    assert grants.role == Role.ANALYST
    assert dict(grants.teams) == {"marketing": True, "finance": False}  # owner beats member
    assert roles_and_teams(["managers"], mapping).role == Role.MANAGER
    assert roles_and_teams(["managers", "data-platform-admins"], mapping).role == Role.ADMIN
    assert roles_and_teams([], mapping) == roles_and_teams(["x"], mapping)


def test_group_names_compare_exactly() -> None:
    mapping = group_mapping()
    grants = roles_and_teams(
        ["Data-Marketing-Owners", "data-marketing-owners-old", "xdata-finance-owners"], mapping
    )
    assert dict(grants.teams) == {}


def test_custom_patterns_and_switching_one_off() -> None:
    mapping = group_mapping(owner_pattern="okta/{domain}/owner", member_pattern="")
    grants = roles_and_teams(["okta/ops/owner", "data-ops-members"], mapping)
    assert dict(grants.teams) == {"ops": True}
    with pytest.raises(MappingInvalid, match="OIDC_MEMBER_GROUP_PATTERN"):
        group_mapping(member_pattern="{domain}-{domain}")


@pytest.mark.parametrize(
    ("claims", "groups"),
    [
        ({"groups": ["a", "b"]}, ["a", "b"]),
        ({"groups": "a"}, ["a"]),
        ({"groups": ["a", 3, None]}, ["a"]),
        ({"groups": {"a": 1}}, []),
        ({}, []),
    ],
)
def test_the_group_claim_shapes(claims: dict[str, Any], groups: list[str]) -> None:
    assert claimed_groups(claims, "groups") == groups
