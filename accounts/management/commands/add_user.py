"""``manage.py add_user``: create or update a user, their role and domain team membership."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Role
from accounts.services import user_upsert
from catalog.models import Domain


class Command(BaseCommand):
    help = "Create or update a portal user with a role and, optionally, a domain team."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--team", metavar="DOMAIN", help="domain slug of the user's team")
        parser.add_argument("--owner", action="store_true", help="owner of --team's products")
        parser.add_argument("--password", help="set this password (else unchanged / unusable)")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["owner"] and not options["team"]:
            raise CommandError("--owner needs --team DOMAIN")
        domain = None
        if options["team"]:
            domain = Domain.objects.filter(slug=options["team"]).first()
            if domain is None:
                known = ", ".join(Domain.objects.values_list("slug", flat=True)) or "none yet"
                raise CommandError(f"--team: no domain {options['team']!r} (known: {known})")
        user, created = user_upsert(
            username=options["username"],
            role=options["role"],
            domain=domain,
            is_owner=options["owner"],
            password=options["password"],
            email=options["email"],
        )
        team = f", {'owner' if options['owner'] else 'member'} of {domain.slug}" if domain else ""
        self.stdout.write(
            f"{'created' if created else 'updated'} {user.username} ({user.role}{team})"
        )
