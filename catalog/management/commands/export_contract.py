"""``manage.py export_contract ID``: print a stored contract (YAML, JSON or ODCS v3)."""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.contract import dump_json, dump_yaml
from catalog.models import DataProduct
from catalog.services import product_contract


class Command(BaseCommand):
    help = "Print a product's stored contract; publishing the output again changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("product_id", metavar="ID")
        parser.add_argument("--format", choices=["yaml", "json", "odcs"], default="yaml")

    def handle(self, *args: Any, **options: Any) -> None:
        product = (
            DataProduct.objects.select_related("domain")
            .prefetch_related("columns", "checks")
            .filter(product_id=options["product_id"])
            .first()
        )
        if product is None:
            raise CommandError(f"no data product {options['product_id']!r}")
        contract = product_contract(product)
        if options["format"] == "json":
            self.stdout.write(dump_json(contract))
        elif options["format"] == "odcs":
            from catalog.odcs import to_odcs

            self.stdout.write(
                yaml.safe_dump(json.loads(json.dumps(to_odcs(contract))), sort_keys=False)
            )
        else:
            self.stdout.write(dump_yaml(contract), ending="")
