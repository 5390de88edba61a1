"""``manage.py draft_contract TABLE --domain DOMAIN``: print a contract drafted from a table.

The same service as ``POST /v1/catalog/drafts`` and the "New data product" page
(``catalog.services.drafts``). The contract goes to stdout (pipe it to ``manage.py publish -``
or into a file to edit); every inference and its evidence go to stderr as ``note:`` lines.
A table that cannot be drafted is one line naming what you could mean, exit 1.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.contract import dump_json, dump_yaml, parse_contract
from catalog.services.drafts import DraftError, contract_draft


class Command(BaseCommand):
    help = "Draft a data product's contract from a warehouse table and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("table", metavar="TABLE")
        parser.add_argument("--domain", required=True, metavar="DOMAIN")
        parser.add_argument("--id", dest="product_id", metavar="ID", help="domain.product_name")
        parser.add_argument("--name", metavar="NAME")
        parser.add_argument("--format", choices=["yaml", "json", "odcs"], default="yaml")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            draft = contract_draft(
                actor=None,  # the CLI is trusted, like manage.py publish without --as
                table=options["table"],
                domain=options["domain"],
                product_id=options.get("product_id"),
                name=options.get("name"),
            )
        except DraftError as exc:
            raise CommandError(f"draft_contract: {exc}") from None
        contract = parse_contract(draft.contract)
        if options["format"] == "json":
            self.stdout.write(dump_json(contract))
        elif options["format"] == "odcs":
            from catalog.odcs import to_odcs

            document = json.loads(json.dumps(to_odcs(contract)))
            self.stdout.write(yaml.safe_dump(document, sort_keys=False), ending="")
        else:
            self.stdout.write(dump_yaml(contract), ending="")
        for note in draft.notes:
            self.stderr.write(f"note: {note}")
