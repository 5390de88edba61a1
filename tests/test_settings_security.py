"""Safe by default: DEBUG off unless asked, required keys, the deploy check, browser headers.

Startup is tested in real processes (``python -c "import django; django.setup()"`` and
``manage.py check``) with an environment built from scratch, so nothing the test settings set
leaks in; headers are tested through the test client.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s" * 20 + "-production-secret-key-0123456789-abcdefghij"
PII_KEY = "p" * 20 + "-production-pii-hash-key-0123456789"
# Every variable the settings read that a test environment or a developer's shell may carry.
SETTINGS_VARIABLES = re.compile(
    r"^(DEBUG|SECRET_KEY|PII_HASH_KEY|ALLOWED_HOSTS|CSRF_TRUSTED_ORIGINS|SECURE_.*|CACHE_URL|"
    r"API_THROTTLE_.*|LOGIN_FAILURES_.*|NUM_PROXIES|DJANGO_SETTINGS_MODULE|PORTAL_VAR_DIR|"
    r"DATABASE_URL|QUERY_.*)$"
)
# What the README's "Production settings" lists, plus an embedded database for the check.
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": SECRET,
    "PII_HASH_KEY": PII_KEY,
    "ALLOWED_HOSTS": "portal.example.com",
    "SECURE_SSL": "1",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
}
SHOW_KEYS = (
    "import django, json; from django.conf import settings; "
    "print(json.dumps([settings.DEBUG, settings.SECRET_KEY, settings.PII_HASH_KEY]))"
)


def run(tmp_path: Path, env: dict[str, str], argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in a fresh interpreter with only ``env`` as the portal's settings."""
    clean = {k: v for k, v in os.environ.items() if not SETTINGS_VARIABLES.match(k)}
    # The browser tests set this in the test process (tests/browser/conftest.py); a deployment
    # never has it, and `check --deploy` rightly refuses it.
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    clean |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
    }
    return subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=clean | env, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip


def start(
    tmp_path: Path, env: dict[str, str], code: str = "import django; django.setup()"
) -> subprocess.CompletedProcess[str]:
    """``python -c code``: by default, start Django as every entry point does."""
    return run(tmp_path, env, ["-c", code])


def manage(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run(tmp_path, env, ["manage.py", *args])


def assert_one_line_failure(proc: Any, *needles: str) -> None:
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("configuration error: "), lines[0]
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


# ---------------------------------------------------------------------------------------------
# Startup: what must be set, and one readable line when it is not
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "needles"),
    [
        ({}, ("SECRET_KEY must be set when DEBUG is off",)),  # DEBUG defaults to off
        ({"DEBUG": "0"}, ("SECRET_KEY must be set when DEBUG is off",)),
        ({"DEBUG": "0", "SECRET_KEY": SECRET}, ("PII_HASH_KEY must be set when DEBUG is off",)),
        ({"SECRET_KEY": SECRET}, ("PII_HASH_KEY must be set",)),
        ({"DEBUG": "0", "SECRET_KEY": SECRET, "PII_HASH_KEY": "short"}, ("at least 32",)),
        ({"DEBUG": "1", "PII_HASH_KEY": "short"}, ("PII_HASH_KEY", "at least 32")),
        ({"DEBUG": "0", "SECRET_KEY": SECRET, "PII_HASH_KEY": SECRET}, ("must differ",)),
        ({"DEBUG": "1", "QUERY_MAX_ROWS": "ten"}, ("QUERY_MAX_ROWS", "'ten'")),
        ({"DEBUG": "1", "API_THROTTLE_USER": "lots"}, ("API_THROTTLE_USER", "600/min")),
        ({"DEBUG": "1", "API_THROTTLE_QUERY": "5/fortnight"}, ("API_THROTTLE_QUERY",)),
        ({"DEBUG": "1", "SECURE_PROXY_SSL_HEADER": "https"}, ("SECURE_PROXY_SSL_HEADER",)),
        ({"DEBUG": "1", "CACHE_URL": "memcached://x:11211"}, ("CACHE_URL", "memcached")),
        ({"DEBUG": "1", "DATABASE_URL": "mysql://x/y"}, ("DATABASE_URL", "mysql")),
    ],
)
def test_startup_with_a_missing_or_invalid_setting_fails_with_one_readable_line(
    tmp_path: Path, env: dict[str, str], needles: tuple[str, ...]
) -> None:
    assert_one_line_failure(start(tmp_path, env), *needles)


def test_manage_py_fails_with_the_same_one_line_when_debug_is_off_without_keys(
    tmp_path: Path,
) -> None:
    assert_one_line_failure(manage(tmp_path, {"DEBUG": "0"}, "check"), "SECRET_KEY")


def test_production_keys_come_from_the_environment_and_never_from_each_other(
    tmp_path: Path,
) -> None:
    env = {"DEBUG": "0", "SECRET_KEY": SECRET, "PII_HASH_KEY": PII_KEY}
    debug, secret, pii = json.loads(start(tmp_path, env, SHOW_KEYS).stdout)
    assert (debug, secret, pii) == (False, SECRET, PII_KEY)
    # Another SECRET_KEY leaves the hash key (and so every hashed value) unchanged.
    other = start(tmp_path, env | {"SECRET_KEY": SECRET[::-1]}, SHOW_KEYS)
    assert json.loads(other.stdout)[2] == PII_KEY
    assert not (tmp_path / "var" / "pii_hash_key").exists()


def test_with_debug_on_each_key_is_generated_once_into_var_private_and_reused(
    tmp_path: Path,
) -> None:
    first = start(tmp_path, {"DEBUG": "1"}, SHOW_KEYS)
    assert first.returncode == 0, first.stderr
    debug, secret, pii = json.loads(first.stdout)
    assert debug is True
    for name, value in (("secret_key", secret), ("pii_hash_key", pii)):
        path = tmp_path / "var" / name
        assert path.read_text().strip() == value
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, oct(path.stat().st_mode)
        assert len(value) >= 32
    assert pii != secret and secret not in pii and pii not in secret
    again = json.loads(start(tmp_path, {"DEBUG": "1"}, SHOW_KEYS).stdout)
    assert again == [True, secret, pii]
    elsewhere = json.loads(start(tmp_path / "other", {"DEBUG": "1"}, SHOW_KEYS).stdout)
    assert elsewhere[1] != secret and elsewhere[2] != pii
    # Not the old public default either.
    assert "dev-only" not in secret and not pii.startswith("pii:")


def test_processes_starting_together_agree_on_one_generated_key(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not SETTINGS_VARIABLES.match(k)}
    env = clean | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "DEBUG": "1",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SHOW_KEYS],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), [err for _, err in outputs]
    keys = {json.loads(out)[2] for out, _ in outputs}
    assert len(keys) == 1
    assert keys == {(tmp_path / "var" / "pii_hash_key").read_text().strip()}
    assert [p.name for p in (tmp_path / "var").iterdir() if p.name.endswith(".tmp")] == []


def test_an_unusable_generated_key_file_stops_startup_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "pii_hash_key").write_text("\n")
    assert_one_line_failure(start(tmp_path, {"DEBUG": "1"}), "pii_hash_key", "delete it")


# ---------------------------------------------------------------------------------------------
# Production: the deploy check passes with the documented variables
# ---------------------------------------------------------------------------------------------


def test_production_settings_turn_on_https_cookies_hsts_and_the_proxy_header(
    tmp_path: Path,
) -> None:
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) "
        "for k in ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_PROXY_SSL_HEADER', "
        "'SECURE_CONTENT_TYPE_NOSNIFF', 'X_FRAME_OPTIONS', 'SECURE_REFERRER_POLICY', 'CACHES']}))"
    )
    proc = start(tmp_path, PRODUCTION | {"CACHE_URL": "redis://cache:6379/1"}, code)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_REFERRER_POLICY": "same-origin",
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://cache:6379/1",
            }
        },
    }


def test_deploy_check_passes_with_the_documented_production_variables(tmp_path: Path) -> None:
    proc = manage(
        tmp_path, PRODUCTION, "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout, proc.stdout
    # The whole deploy check (every app's checks) has no error either.
    full = manage(tmp_path, PRODUCTION, "check", "--deploy")
    assert full.returncode == 0, full.stdout + full.stderr
    assert "security." not in full.stdout + full.stderr


def test_deploy_check_fails_without_https(tmp_path: Path) -> None:
    """The check is meaningful: the same variables without SECURE_SSL=1 are refused."""
    env = {k: v for k, v in PRODUCTION.items() if k != "SECURE_SSL"}
    proc = manage(
        tmp_path, env, "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"
    )
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output, output


# ---------------------------------------------------------------------------------------------
# Browser protections: CSP and friends on every HTML page, Swagger UI served from here
# ---------------------------------------------------------------------------------------------


def directives(header: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.fixture
def pages(db: Any, owner: Any, admin_user: Any) -> dict[str, Any]:
    user_client, admin_client = Client(), Client()
    user_client.force_login(owner)
    admin_client.force_login(admin_user)
    return {
        "/accounts/login/": Client(),
        "/": user_client,
        "/search/?q=x": user_client,
        "/query/": user_client,
        "/governance/": user_client,
        "/no-such-page/": user_client,
        "/admin/": admin_client,
    }


def test_every_html_page_has_a_strict_content_security_policy(pages: dict[str, Any]) -> None:
    for path, client in pages.items():
        response = client.get(path)
        assert response["Content-Type"].startswith("text/html"), path
        policy = directives(response["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"], path
        assert policy["script-src"] == ["'self'"], path
        assert policy["style-src"] == ["'self'"], path
        assert policy["object-src"] == ["'none'"], path
        assert policy["frame-ancestors"] == ["'none'"], path
        assert policy["base-uri"] == ["'self'"], path
        assert response["X-Frame-Options"] == "DENY", path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path


def test_the_portals_pages_carry_no_inline_script_style_or_handler(
    pages: dict[str, Any],
) -> None:
    """What the CSP would block: the pages must work without it."""
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>\s*\S|<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:",
        re.IGNORECASE,
    )
    for path, client in pages.items():
        if path.startswith("/admin/"):
            continue  # Django's own admin templates: checked in a browser (tests/browser)
        html = client.get(path).content.decode()
        # JSON data blocks are not scripts; the CSP does not apply to them.
        html = re.sub(
            r'<script[^>]*type="application/json"[^>]*>.*?</script>', "", html, flags=re.S
        )
        assert not inline.search(html), (path, inline.search(html))


def test_no_template_has_an_inline_script_or_event_handler() -> None:
    """Every template of the project, rendered or not: scripts only from static files."""
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>|\son[a-z]+\s*=\s*[\"']|javascript:",
        re.IGNORECASE,
    )
    templates = [p for p in ROOT.glob("**/templates/**/*.html") if ".venv" not in p.parts]
    assert len(templates) > 10
    found = [
        (str(p.relative_to(ROOT)), m.group())
        for p in templates
        for m in inline.finditer(p.read_text())
    ]
    assert found == []


def test_error_pages_use_the_apps_base_template_and_no_inline_style(db: Any) -> None:
    from django.template.loader import render_to_string

    for name in ("400.html", "403.html", "404.html", "429.html", "500.html"):
        html = render_to_string(name)
        assert 'href="/static/css/base.css"' in html, name
        assert "<style" not in html and "style=" not in html, name


def test_swagger_ui_is_served_from_the_portal_without_a_cdn(db: Any, owner: Any) -> None:
    client = Client()
    client.force_login(owner)
    page = client.get("/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in s for s in sources)
    assert all(s.startswith("/") for s in sources), sources  # nothing from another host
    for source in sources:
        if source.startswith("/static/"):
            assert finders.find(source.removeprefix("/static/")), source
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # its start-up script too
    policy = directives(page["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]  # Swagger UI's inline styles
    script_url = next(s for s in sources if "script" in s and "sidecar" not in s)
    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
