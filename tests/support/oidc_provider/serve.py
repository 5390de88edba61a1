"""Serve the test OpenID Connect provider: ``python -m tests.support.oidc_provider.serve SPEC``.

SPEC is a JSON file: ``{"port", "db", "key_file", "issuer", "client_id", "client_secret",
"redirect_uri", "post_logout_redirect_uri", "users": [{"username", "password", "email",
"given_name", "family_name", "groups": [...]}]}``. ``port`` 0 takes a free one, which replaces
``{port}`` in ``issuer`` (the socket is bound before anything else, so there is no race for
it). The database is migrated, the users and the portal's client registered, then
``READY <port>`` is printed and requests are served until the process is stopped.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


def _not_ready(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Answers until Django is set up (nothing is served before READY is printed)."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    server = make_server(
        "127.0.0.1",
        int(spec["port"]),
        _not_ready,
        server_class=_Server,
        handler_class=_Quiet,
    )
    os.environ["OP_DB"] = spec["db"]
    os.environ["OP_KEY_FILE"] = spec["key_file"]
    os.environ["OP_ISSUER"] = spec["issuer"].replace("{port}", str(server.server_port))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.support.oidc_provider.settings"
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    for person in spec["users"]:
        user = User.objects.create_user(
            person["username"],
            email=person.get("email", ""),
            password=person["password"],
            first_name=person.get("given_name", ""),
            last_name=person.get("family_name", ""),
        )
        for name in person.get("groups", []):
            user.groups.add(Group.objects.get_or_create(name=name)[0])
    Application.objects.create(
        name="Data Mesh Portal",
        client_id=spec["client_id"],
        client_secret=spec["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=spec["redirect_uri"],
        post_logout_redirect_uris=spec["post_logout_redirect_uri"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    server.set_app(WSGIHandler())
    print(f"READY {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
