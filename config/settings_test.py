"""Test settings: fast hasher, eager Celery, locmem e-mail and cache, isolated var/ folder.

``DATABASE_URL`` still selects the database, so CI runs the same suite on PostgreSQL. DEBUG
stays off as in production, so the keys it requires are fixed test values (also in the
environment, for the suite's subprocesses: manage.py commands, a Celery worker).
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="portal-test-var-"))
# pytest-xdist: each worker its own var/ (test database, demo warehouse, seed_demo's lock,
# broker folders), under the one the controller chose; its subprocesses inherit it.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER and not os.environ["PORTAL_VAR_DIR"].endswith(f"-{_XDIST_WORKER}"):
    os.environ["PORTAL_VAR_DIR"] = os.path.join(
        os.environ["PORTAL_VAR_DIR"], f"worker-{_XDIST_WORKER}"
    )
TEST_SECRET_KEY = "test-only-secret-key-not-for-production-0123456789abcdefghij"
TEST_PII_HASH_KEY = "test-only-pii-hash-key-0123456789abcdefghij"
os.environ.setdefault("SECRET_KEY", TEST_SECRET_KEY)
os.environ.setdefault("PII_HASH_KEY", TEST_PII_HASH_KEY)

from .settings import *  # noqa: E402,F403

PII_HASH_KEY = TEST_PII_HASH_KEY
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Throttles stay on (their code runs in every test) at rates no test reaches; the throttling
# tests set low ones (tests/test_throttling.py).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min", "query": "100000/min"},
}
LOGIN_FAILURES_MAX = 1000
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# A file (not :memory:) for the SQLite test database, so a real Celery worker subprocess in the
# integration tests can open the same database as the test.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-portal.sqlite3")}  # noqa: F405

# Publishing checks the live warehouse (catalog/governance.py); tests that exercise that gate
# turn it on with the ``settings`` fixture and a real DuckDB file.
PUBLISH_REQUIRE_WAREHOUSE = False
