"""Serve the test OpenID Connect provider: ``python -m tests.support.oidc_provider.serve SPEC``.

SPEC is a JSON file: ``{"port", "db", "key_file", "issuer", "client_id", "client_secret",
"redirect_uri", "post_logout_redirect_uri", "users": [{"username", "password", "email",
"given_name", "family_name", "groups": [...]}]}``. The database is migrated, the users and the
portal's client registered, then ``READY <port>`` is printed and requests are served until
the process is stopped.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    os.environ["OP_DB"] = spec["db"]
    os.environ["OP_KEY_FILE"] = spec["key_file"]
    os.environ["OP_ISSUER"] = spec["issuer"]
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
    server = make_server(
        "127.0.0.1", int(spec["port"]), WSGIHandler(), server_class=_Server, handler_class=_Quiet
    )
    print(f"READY {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
