"""``manage.py add_domain SLUG --name NAME [--owner USER] [--table-prefix P]``.

Create a domain (or update it) before anything is published into it: its team groups get
their object permissions, and ``--owner`` may publish its products right away.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from catalog.services import DomainSettingsInvalid, domain_upsert

OPTION = {"slug": "SLUG", "name": "--name", "description": "--description"}


class Command(BaseCommand):
    help = (
        "Create or update a domain (its team groups and permissions) and, with --owner, make "
        "an existing user its owner."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="lowercase, e.g. marketing (product ids: <slug>.<name>)")
        parser.add_argument("--name", help="display name (default: the slug, capitalised)")
        parser.add_argument("--description", help="what the domain covers")
        parser.add_argument("--owner", metavar="USER", help="an existing user who owns it")
        parser.add_argument(
            "--table-prefix",
            metavar="P",
            help="its warehouse tables start with P (default <slug>_ with '-' as '_')",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        owner = None
        if options["owner"] is not None:
            username = options["owner"]
            # Unprintable text (NUL, a lone surrogate from invalid UTF-8 in argv) names nobody
            # and would not even reach PostgreSQL.
            owner = (
                User.objects.filter(username=username).first() if username.isprintable() else None
            )
            if owner is None:
                raise CommandError(
                    f"--owner: no user {username!r} (create one first: manage.py add_user "
                    "USERNAME --role manager)"
                )
        try:
            domain, created = domain_upsert(
                slug=options["slug"],
                name=options["name"],
                description=options["description"],
                table_prefix=options["table_prefix"],
                owner=owner,
            )
        except DomainSettingsInvalid as exc:
            option = OPTION.get(exc.field, "--" + exc.field.replace("_", "-"))
            raise CommandError(f"{option}: {exc}") from None
        owner_note = f", owner {owner.username}" if owner is not None else ""
        self.stdout.write(
            f"{'created' if created else 'updated'} domain {domain.slug} ({domain.name}): "
            f"tables {domain.effective_table_prefix}*{owner_note}"
        )
