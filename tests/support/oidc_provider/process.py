"""Start the test OpenID Connect provider (``serve.py``) in a second process, and the fixtures
the sign-in tests share: the provider, the portal configured for it, and ``sign_in_at_provider``
(the browser's part of the code flow, done with ``requests`` over real HTTP)."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[3]
CLIENT_ID = "data-mesh-portal"
CLIENT_SECRET = "client-secret-for-tests-only"
PROVIDER_NAME = "Example Corp"
ADMIN_GROUP = "data-platform-admins"
PASSWORD = "op-password"
START_TIMEOUT_S = 90

# The people at the company's provider (their portal accounts do not exist before they sign in,
# except "mo": tests/conftest.py's local member of marketing has that username too).
PEOPLE: list[dict[str, Any]] = [
    {
        "username": "dana",
        "email": "dana@example.com",
        "given_name": "Dana",
        "family_name": "Owens",
        "groups": ["data-marketing-owners", "data-finance-members", "everyone"],
    },
    {"username": "eli", "email": "eli@example.com", "groups": [ADMIN_GROUP]},
    {"username": "gus", "email": "gus@example.com", "groups": ["data-nowhere-owners"]},
    {"username": "mo", "email": "mo.other@example.com", "groups": []},
]


@dataclass
class Provider:
    """A running provider: its base URL, issuer, database file and process."""

    base: str
    issuer: str
    db: Path
    process: subprocess.Popen[str]

    @property
    def endpoints(self) -> dict[str, str]:
        return {
            "OIDC_OP_ISSUER": self.issuer,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.issuer}/authorize/",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.issuer}/token/",
            "OIDC_OP_USER_ENDPOINT": f"{self.issuer}/userinfo/",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.issuer}/.well-known/jwks.json",
            "OIDC_OP_LOGOUT_ENDPOINT": f"{self.issuer}/logout/",
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def groups_remove(self, username: str, group: str) -> None:
        """Take ``username`` out of ``group`` at the provider (its own database)."""
        with sqlite3.connect(self.db) as connection:
            connection.execute(
                "DELETE FROM auth_user_groups WHERE user_id = "
                "(SELECT id FROM auth_user WHERE username = ?) AND group_id = "
                "(SELECT id FROM auth_group WHERE name = ?)",
                (username, group),
            )


def _lines_into(stream: Any, into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


@contextmanager
def provider_running(folder: Path, portal_url: str) -> Iterator[Provider]:
    """django-oauth-toolkit's provider on a free port of 127.0.0.1, its client the portal at
    ``portal_url``; stopped on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = folder / "op-key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    db = folder / "op.sqlite3"
    spec = {
        "port": 0,
        "db": str(db),
        "key_file": str(key_file),
        "issuer": "http://127.0.0.1:{port}/o",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": f"{portal_url}/oidc/callback/",
        "post_logout_redirect_uri": f"{portal_url}/accounts/login/",
        "users": [{**person, "password": PASSWORD} for person in PEOPLE],
    }
    spec_file = folder / "op-spec.json"
    spec_file.write_text(json.dumps(spec))
    log = (folder / "op.log").open("w")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.oidc_provider.serve", str(spec_file)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines_into, args=(process.stdout, lines), daemon=True).start()
    try:
        try:
            line = lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            line = ""
        if not line.startswith("READY "):
            process.kill()
            log.flush()
            raise RuntimeError(f"the provider did not start: {(folder / 'op.log').read_text()}")
        port = int(line.split()[1])
        base = f"http://127.0.0.1:{port}"
        provider = Provider(base=base, issuer=f"{base}/o", db=db, process=process)
        yield provider
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()


def portal_configure(settings: Any, provider: Provider, *, sync_groups: bool = True) -> None:
    """Turn sign-in with ``provider`` on in the running portal, as the environment would."""
    from config.settings import csp_allowing_logout_at

    settings.OIDC_ENABLED = True
    settings.OIDC_PROVIDER_NAME = PROVIDER_NAME
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    for name, value in provider.endpoints.items():
        setattr(settings, name, value)
    settings.OIDC_SYNC_GROUPS = sync_groups
    settings.OIDC_ADMIN_GROUPS = [ADMIN_GROUP]
    settings.OIDC_MANAGER_GROUPS = []
    settings.CONTENT_SECURITY_POLICY = csp_allowing_logout_at(
        settings.CONTENT_SECURITY_POLICY, provider.endpoints["OIDC_OP_LOGOUT_ENDPOINT"]
    )


def sign_in_at_provider(
    http: requests.Session, portal_url: str, username: str, password: str = PASSWORD
) -> str:
    """What a browser does from the portal's "Sign in with" link to the provider's answer:
    returns the portal callback URL (with code and state) the provider redirects to, not yet
    visited."""
    start = http.get(f"{portal_url}/oidc/authenticate/", allow_redirects=False)
    assert start.status_code == 302, (start.status_code, start.text[:500])
    authorize = start.headers["Location"]
    answer = http.get(authorize, allow_redirects=False)
    assert answer.status_code == 302, (answer.status_code, answer.text[:500])
    location = urljoin(authorize, answer.headers["Location"])
    if urlparse(location).path == "/accounts/login/":  # no session at the provider yet
        form = http.get(location)
        assert "Example Corp sign-in" in form.text
        token = http.cookies.get("op_csrf", domain=urlparse(location).hostname)
        posted = http.post(
            location,
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token,
                "next": parse_qs(urlparse(location).query)["next"][0],
            },
            allow_redirects=False,
        )
        assert posted.status_code == 302, (posted.status_code, posted.text[:500])
        again = http.get(urljoin(location, posted.headers["Location"]), allow_redirects=False)
        assert again.status_code == 302, (again.status_code, again.text[:500])
        location = urljoin(location, again.headers["Location"])
    assert location.startswith(f"{portal_url}/oidc/callback/"), location
    return location


@pytest.fixture(scope="session")
def oidc_provider(live_server: Any, tmp_path_factory: Any) -> Iterator[Provider]:
    """One provider process for the session, its client the live server."""
    with provider_running(tmp_path_factory.mktemp("oidc-provider"), live_server.url) as provider:
        yield provider


@pytest.fixture
def oidc_on(settings: Any, oidc_provider: Provider) -> Provider:
    """The portal configured for the running provider, group sync on."""
    portal_configure(settings, oidc_provider)
    return oidc_provider
