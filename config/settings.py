"""Settings for the data mesh portal, all from the environment with safe defaults.

Embedded default (no services needed): SQLite for Django, a DuckDB warehouse file and kombu's
filesystem broker, all under ``var/``. Production: ``DATABASE_URL=postgresql://…``,
``WAREHOUSE_URL=postgresql://…``, ``CELERY_BROKER_URL=redis://…``, ``CACHE_URL=redis://…``.

``DEBUG`` is off unless set (``bin/demo`` sets it). With it off, ``SECRET_KEY`` and
``PII_HASH_KEY`` must be set; with it on, each defaults to a random key generated once into
``var/`` (mode 0600). A missing or invalid setting stops startup with one readable line.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, urlparse


def fail(message: str) -> NoReturn:
    """Stop startup with one readable line (no traceback): a setting is missing or invalid."""
    raise SystemExit(f"configuration error: {message}")


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var")).resolve()
try:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    fail(f"PORTAL_VAR_DIR {VAR_DIR} cannot be created: {exc.strerror}")


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean: 1/true/yes/on are true."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Read an integer, falling back to the default when unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        fail(f"{name} must be a whole number, not {value!r}")


def env_list(name: str, default: str) -> list[str]:
    """Read a comma-separated list, dropping blanks."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Smallest length accepted for a key: the ``hash`` mask's key is brute-forced offline otherwise.
MIN_KEY_LENGTH = 32


def local_secret(path: Path) -> str:
    """A random key generated once into ``path`` (mode 0600) and read back on later starts.

    Written to a private temporary file and hard-linked into place, so two processes starting
    at once (web and worker) agree on one key and nobody reads a half-written file.
    """
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process won the race: use its key
            finally:
                tmp.unlink()
        except OSError as exc:
            fail(f"cannot write a generated key to {path}: {exc.strerror}")
    try:
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the generated key in {path}: {exc}")
    if len(value) < MIN_KEY_LENGTH:
        fail(f"{path} holds no usable key; delete it to generate a new one")
    return value


def cache_from_url(url: str) -> dict[str, object]:
    """Translate ``CACHE_URL`` to a CACHES entry: ``redis://…``, ``rediss://…`` or ``locmem://``."""
    scheme = urlparse(url).scheme
    if scheme in {"redis", "rediss"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if scheme == "locmem" or not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    raise ValueError(f"CACHE_URL: unsupported scheme {scheme!r} (use redis:// or locmem://)")


# DRF's rate syntax: a count, a slash, and a period that starts with s, m, h or d.
RATE_RE = re.compile(r"^[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def env_rate(name: str, default: str) -> str:
    """Read a throttle rate such as ``600/min``."""
    value = os.environ.get(name, "").strip() or default
    if not RATE_RE.match(value):
        fail(f"{name} must look like 600/min (a count per s, min, hour or day), not {value!r}")
    return value


def database_from_url(url: str, *, sqlite_busy_timeout_s: int = 30) -> dict[str, Any]:
    """Translate ``sqlite:///path`` or ``postgresql://user:pass@host:port/db`` to DATABASES."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        if sqlite_busy_timeout_s < 1:
            raise ValueError("SQLITE_BUSY_TIMEOUT_S must be at least 1 (seconds)")
        # As dj-database-url: sqlite:////abs/path is absolute, sqlite:///rel/path relative.
        path = unquote(parsed.netloc + parsed.path)
        if path.startswith("/") and not parsed.netloc:
            path = path[1:]
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path or ":memory:",
            # Several writers (web threads, the worker, seed_demo): write-ahead logging lets
            # readers go on while one writes; a writer waits up to 30 s (SQLITE_BUSY_TIMEOUT_S)
            # for the lock instead of failing; BEGIN IMMEDIATE takes the write lock when a
            # transaction starts, so two transactions never deadlock upgrading a read lock
            # ("database is locked").
            "OPTIONS": {
                "timeout": sqlite_busy_timeout_s,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if parsed.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
        }
    raise ValueError(f"DATABASE_URL: unsupported scheme {parsed.scheme!r}")


DEBUG = env_bool("DEBUG", False)
KEY_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        fail(f"SECRET_KEY must be set when DEBUG is off ({KEY_HINT})")
    SECRET_KEY = local_secret(VAR_DIR / "secret_key")
# Key of the "hash" PII mask: its own secret, never derived from SECRET_KEY.
PII_HASH_KEY = os.environ.get("PII_HASH_KEY", "")
if not PII_HASH_KEY:
    if not DEBUG:
        fail(f"PII_HASH_KEY must be set when DEBUG is off ({KEY_HINT})")
    PII_HASH_KEY = local_secret(VAR_DIR / "pii_hash_key")
elif len(PII_HASH_KEY) < MIN_KEY_LENGTH:
    fail(f"PII_HASH_KEY must be at least {MIN_KEY_LENGTH} characters ({KEY_HINT})")
elif PII_HASH_KEY == SECRET_KEY:
    fail("PII_HASH_KEY must differ from SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# --- HTTPS and browser protections (README, "Production settings") ------------------------
# SECURE_SSL=1: the portal is only served over HTTPS (directly or behind a TLS proxy).
SECURE_SSL = env_bool("SECURE_SSL", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE_SSL)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE_SSL else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a TLS-terminating proxy: the header it sets on HTTPS requests, "X-Forwarded-Proto: https".
# Only set it when the proxy overwrites that header on every request, or clients can fake HTTPS.
_proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
SECURE_PROXY_SSL_HEADER: tuple[str, str] | None = None
if _proxy_header:
    _name, _sep, _value = _proxy_header.partition(":")
    if not _sep or not re.fullmatch(r"[A-Za-z0-9-]+", _name.strip()) or not _value.strip():
        fail(
            "SECURE_PROXY_SSL_HEADER must look like 'X-Forwarded-Proto: https', "
            f"not {_proxy_header!r}"
        )
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _name.strip().upper().replace("-", "_"),
        _value.strip(),
    )
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# Preloading is the domain owner's decision (hstspreload.org); left off, the deploy check's
# reminder about it is silenced. Same for subdomains when HSTS_INCLUDE_SUBDOMAINS=0 is chosen.
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
]
# Content-Security-Policy (config.middleware): nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI (served from drf-spectacular-sidecar) sets inline styles; its scripts stay 'self'.
CONTENT_SECURITY_POLICY_BY_PATH = {
    "/v1/docs/": CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    ),
}

INSTALLED_APPS = [
    "accounts.apps.PortalAdminConfig",  # django.contrib.admin with the portal's site (issue 12)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (no CDN)
    "guardian",
    "django_celery_beat",
    "accounts",
    "catalog",
    "quality",
    "querying",
]

MIDDLEWARE = [
    # First: GET /healthz answers before host checks and the HTTPS redirect (container checks).
    "config.healthz.HealthzMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.QueryPageThrottleMiddleware",
    # Innermost: errors answer the app's pages / the JSON shape, never a technical page.
    "config.middleware.ErrorResponseMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# Django's template renderer, with its basic widgets written in Python (config/forms.py): the
# same HTML, ~40 % less time for an admin page.
FORM_RENDERER = "config.forms.FormRenderer"

try:
    DATABASES = {
        "default": database_from_url(
            os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
            sqlite_busy_timeout_s=env_int("SQLITE_BUSY_TIMEOUT_S", 30),
        )
    }
    # Login and API throttling count in the cache: locmem is per process, so production
    # (several gunicorn workers) sets CACHE_URL=redis://… to share one count.
    CACHES = {"default": cache_from_url(os.environ.get("CACHE_URL", "").strip())}
except ValueError as exc:
    fail(str(exc))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ThrottledModelBackend",  # ModelBackend, with failed log-ins limited
    "accounts.oidc.PortalOIDCBackend",  # the identity provider's logins (inert when off)
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:home"
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in with the company's identity provider (OpenID Connect, accounts/oidc.py) --------


def csp_allowing_logout_at(policy: str, endpoint: str) -> str:
    """``policy`` letting forms lead to ``endpoint``'s origin: logging out posts a form whose
    answer redirects to the provider's logout, and browsers check such redirects against
    ``form-action``."""
    url = urlparse(endpoint)
    return policy.replace("form-action 'self'", f"form-action 'self' {url.scheme}://{url.netloc}")


# Off unless OIDC_ENABLED=1; local accounts keep signing in with a password either way.
OIDC_ENABLED = env_bool("OIDC_ENABLED", False)
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "your company account")
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_ISSUER = os.environ.get("OIDC_OP_ISSUER", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_OP_LOGOUT_ENDPOINT = os.environ.get("OIDC_OP_LOGOUT_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid email profile")
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True  # the logout's id_token_hint
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_S", 10)
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
OIDC_SYNC_GROUPS = env_bool("OIDC_SYNC_GROUPS", False)
OIDC_ADMIN_GROUPS = env_list("OIDC_ADMIN_GROUPS", "")
OIDC_MANAGER_GROUPS = env_list("OIDC_MANAGER_GROUPS", "")
OIDC_OWNER_GROUP_PATTERN = os.environ.get("OIDC_OWNER_GROUP_PATTERN", "data-{domain}-owners")
OIDC_MEMBER_GROUP_PATTERN = os.environ.get("OIDC_MEMBER_GROUP_PATTERN", "data-{domain}-members")
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?oidc=failed"
LOGOUT_REDIRECT_URL_PATH = "/accounts/login/"
if OIDC_ENABLED:
    for _name in (
        "OIDC_RP_CLIENT_ID",
        "OIDC_RP_CLIENT_SECRET",
        "OIDC_OP_AUTHORIZATION_ENDPOINT",
        "OIDC_OP_TOKEN_ENDPOINT",
        "OIDC_OP_USER_ENDPOINT",
        "OIDC_OP_JWKS_ENDPOINT",
    ):
        if not globals()[_name]:
            fail(f"{_name} must be set when OIDC_ENABLED=1 (README: Sign-in)")
    for _name in ("OIDC_OWNER_GROUP_PATTERN", "OIDC_MEMBER_GROUP_PATTERN"):
        if globals()[_name] and globals()[_name].count("{domain}") != 1:
            fail(f"{_name} must contain {{domain}} exactly once, e.g. data-{{domain}}-owners")
    if OIDC_OP_LOGOUT_ENDPOINT:
        CONTENT_SECURITY_POLICY = csp_allowing_logout_at(
            CONTENT_SECURITY_POLICY, OIDC_OP_LOGOUT_ENDPOINT
        )
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Failed log-ins per username and client address (any form that checks a password): past
# this many within the window, log-ins answer 429 until the window ends.
LOGIN_FAILURES_MAX = env_int("LOGIN_FAILURES_MAX", 10)
LOGIN_FAILURES_WINDOW_S = env_int("LOGIN_FAILURES_WINDOW_S", 900)
# Errors never show Django's technical pages, even with DEBUG on (config/errors.py).
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
DEFAULT_EXCEPTION_REPORTER = "config.errors.SafeExceptionReporter"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing folder before collectstatic

# --- The warehouse ------------------------------------------------------------------------
WAREHOUSE_URL = os.environ.get("WAREHOUSE_URL", f"duckdb://{VAR_DIR / 'warehouse.duckdb'}")
QUERY_MAX_ROWS = env_int("QUERY_MAX_ROWS", 10000)
# Byte cap of one governed result (values as JSON/CSV would carry them): a huge answer is cut
# (truncated, with a warning) instead of filling the web process memory.
QUERY_MAX_BYTES = env_int("QUERY_MAX_BYTES", 50 * 1024 * 1024)
# Governed queries at a time: per server process (the other threads keep serving the catalog;
# a query waits up to QUERY_QUEUE_WAIT_S for a slot) and per user across processes (counted in
# the cache). Beyond them: 429 QUERY_BUSY (querying/capacity.py).
QUERY_MAX_CONCURRENT = env_int("QUERY_MAX_CONCURRENT", 4)
QUERY_MAX_PER_USER = env_int("QUERY_MAX_PER_USER", 2)
QUERY_QUEUE_WAIT_S = env_int("QUERY_QUEUE_WAIT_S", 5)
QUERY_TIMEOUT_S = env_int("QUERY_TIMEOUT_S", 30)
CHECK_TIMEOUT_S = env_int("CHECK_TIMEOUT_S", 120)
# A check run unfinished this long after its time cap was lost (worker killed, broker or database
# down): the dispatcher queues it again once, then records it as an error (quality/services.py).
CHECK_RUN_MARGIN_S = env_int("CHECK_RUN_MARGIN_S", 60)
# Check history is kept this many days (never fewer than 90).
QUALITY_HISTORY_DAYS = env_int("QUALITY_HISTORY_DAYS", 90)

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
# Beat's schedule state lives with the other writable files (the image's /app is read-only).
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport, with atomic message writes (config/broker.py).
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    _broker = VAR_DIR / "broker"
    for _folder in ("out", "control", "processed"):  # kombu does not create them
        (_broker / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker / "out"),
        "data_folder_out": str(_broker / "out"),
        "control_folder": str(_broker / "control"),
        "processed_folder": str(_broker / "processed"),
        "store_processed": False,
    }

# --- Notifications ------------------------------------------------------------------------
# Embedded default: notifications are written as files under var/mail (one per message).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "data-portal@localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
NOTIFY_WEBHOOK_URL = os.environ.get("NOTIFY_WEBHOOK_URL", "")
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
# The demo only (bin/demo sets 300): rebuild the demo DuckDB warehouse relative to now every
# this many seconds, so its fresh products stay fresh (catalog.tasks); 0 never does.
DEMO_KEEP_FRESH_S = env_int("DEMO_KEEP_FRESH_S", 0)

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's defaults, with JSON refusing too-deep nesting and lone surrogates (config/drf.py).
    "DEFAULT_PARSER_CLASSES": [
        "config.drf.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # Per user (tokens and sessions), per client address for anonymous callers, and a stricter
    # scope for POST /v1/query; 429 answers carry Retry-After (config/drf.py, config/api.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "config.drf.AnonThrottle",
        "config.drf.UserThrottle",
        "config.drf.QueryThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_THROTTLE_ANON", "60/min"),
        "user": env_rate("API_THROTTLE_USER", "600/min"),
        "query": env_rate("API_THROTTLE_QUERY", "120/min"),
    },
    # Proxies in front of the portal whose X-Forwarded-For is trusted for the client address
    # (0: the connection's address; never trust a header any client can send).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Data Mesh Portal API",
    "DESCRIPTION": "Catalog, contracts, quality and governed SQL over domain-owned data products.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No validator badge: it would fetch validator.swagger.io (the docs work offline).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
}

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user object

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
