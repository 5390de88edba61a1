"""``manage.py publish FILE...``: validate and publish contracts from YAML, JSON or ODCS files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from catalog.contract import ContractError, load_document
from catalog.services import PublishRefused, product_publish


def read_source(name: str) -> str | bytes:
    """Read a file (or stdin for ``-``), with a one-line error on failure."""
    if name == "-":
        # Bytes when there are any: load_document reports bad UTF-8 as one line, whatever
        # the locale the process runs in.
        stdin = getattr(sys.stdin, "buffer", sys.stdin)
        return stdin.read()
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{name}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{name}: cannot read ({exc})") from None


def issue_line(label: str, issue: Any) -> str:
    """``file: path: message`` on one line; the file is not repeated when it is the path."""
    where = "" if issue.path in ("", label) else f"{issue.path}: "
    return " ".join(f"{label}: {where}{issue.message}".split())


class Command(BaseCommand):
    help = "Validate and publish data product contracts (YAML, JSON or ODCS v3; '-' reads stdin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help="publish with this user's permissions (default: trusted operator)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["as_user"]:
            actor = User.objects.filter(username=options["as_user"]).first()
            if actor is None:
                raise CommandError(f"--as: no user named {options['as_user']!r}")
        failed = 0
        for name in options["files"]:
            if not self.handle_one(name, actor):
                failed += 1
        if failed:
            raise CommandError(f"{failed} of {len(options['files'])} contract(s) not published")

    def handle_one(self, name: str, actor: User | None) -> bool:
        """Publish one file; print one line per problem and return whether it was published."""
        label = "<stdin>" if name == "-" else name
        try:
            document = load_document(read_source(name), filename=label)
            outcome = product_publish(actor=actor, document=document, source="cli")
        except CommandError as exc:
            self.stderr.write(str(exc))
            return False
        except (ContractError, PublishRefused) as exc:
            for issue in exc.issues:
                self.stderr.write(issue_line(label, issue))
            return False
        except PermissionDenied as exc:
            self.stderr.write(f"{label}: permission denied: {exc}")
            return False
        for warning in outcome.warnings:
            self.stdout.write(f"{label}: warning: {warning}")
        product = outcome.product
        if outcome.created:
            verb = "created"
        elif outcome.changed:
            verb = "updated"
        else:
            verb = "unchanged"
        self.stdout.write(f"{product.product_id} v{product.version} ({product.status}): {verb}")
        return True
