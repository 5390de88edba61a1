"""``manage.py seed_demo``: build the demo warehouse and publish 23 products across 5 domains.

Deterministic and safe to run again: the warehouse file is rebuilt relative to now (written to a
temp file and swapped in), contracts that did not change are left alone, users and consumers
are upserted.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.services import user_upsert
from catalog.contract import ContractError
from catalog.demo import load_demo_contracts
from catalog.demo.people import DEMO_CONSUMERS, DEMO_DOMAINS, DEMO_USERS
from catalog.demo.warehouse import build_demo_warehouse
from catalog.models import DataProduct, Domain
from catalog.services import PublishRefused, consumer_register, product_publish


def duckdb_path(url: str) -> Path | None:
    """The file behind a ``duckdb:///…`` URL, or None for another warehouse."""
    parsed = urlparse(url)
    if parsed.scheme != "duckdb":
        return None
    path = unquote(parsed.netloc + parsed.path)
    return Path("/" + path.lstrip("/")) if path.startswith("/") else Path(path)


class Command(BaseCommand):
    help = (
        "Build the demo DuckDB warehouse and publish the demo data products, users and consumers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-checks", action="store_true", help="don't run the quality checks")
        parser.add_argument("--seed", type=int, default=42, help="seed of the generated data")

    def handle(self, *args: Any, **options: Any) -> None:
        path = duckdb_path(settings.WAREHOUSE_URL)
        if path is None:
            raise CommandError(
                "seed_demo builds a DuckDB warehouse; WAREHOUSE_URL is not duckdb:///… "
                "(unset it to use the embedded default)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        counts = build_demo_warehouse(path, now=timezone.now(), seed=options["seed"])
        rows = sum(counts.values())
        self.stdout.write(
            f"warehouse: {len(counts)} tables, {rows:,} rows in {path} "
            f"({time.perf_counter() - started:.1f}s)"
        )
        self.seed_domains()
        published = self.seed_products()
        self.seed_users()
        self.seed_consumers()
        if not options["no_checks"]:
            self.run_checks()
        self.stdout.write(f"catalog: {published} products published")
        self.print_users()

    def seed_domains(self) -> None:
        for slug, info in DEMO_DOMAINS.items():
            domain, _ = Domain.objects.update_or_create(
                slug=slug, defaults={"name": info["name"], "description": info["description"]}
            )
            permissions.grant_domain(domain)

    def seed_products(self) -> int:
        """Publish every demo contract (unchanged ones are left alone)."""
        contracts = load_demo_contracts()  # sorted by id: a replacement exists before its use
        for index, document in enumerate(contracts, start=1):
            try:
                if (
                    document.get("status") == "deprecated"
                    and not DataProduct.objects.filter(product_id=document["id"]).exists()
                ):
                    # The lifecycle starts at published: publish it (as the version before),
                    # then deprecate it; each accepted change is a new version.
                    first = {k: v for k, v in document.items() if k != "deprecation"}
                    first["version"] = max(1, int(document.get("version", 2)) - 1)
                    product_publish(
                        actor=None, document={**first, "status": "published"}, source="demo"
                    )
                outcome = product_publish(actor=None, document=document, source="demo")
            except (ContractError, PublishRefused) as exc:
                raise CommandError(f"demo contract {document.get('id')}: {exc}") from exc
            verb = "created" if outcome.created else ("updated" if outcome.changed else "unchanged")
            self.stderr.write(
                f"  [{index:>2}/{len(contracts)}] {outcome.product.product_id}: {verb}"
            )
        return len(contracts)

    @transaction.atomic
    def seed_users(self) -> None:
        for person in DEMO_USERS:
            domain = Domain.objects.get(slug=person["team"]) if person.get("team") else None
            user_upsert(
                username=person["username"],
                role=person["role"],
                domain=domain,
                is_owner=bool(person.get("owner")),
                password=person["password"],
                email=person.get("email", ""),
            )

    def seed_consumers(self) -> None:
        for consumer in DEMO_CONSUMERS:
            product = DataProduct.objects.get(product_id=consumer["product"])
            consumer_register(
                actor=None,
                product=product,
                team=consumer["team"],
                use_case=consumer["useCase"],
                contact=consumer["contact"],
            )

    def run_checks(self) -> None:
        """Run every product's checks once so the catalog opens with quality data."""
        try:
            from quality.services import check_run
        except ImportError:  # the quality app has no engine yet
            return
        products = list(DataProduct.objects.exclude(status="retired").order_by("product_id"))
        for index, product in enumerate(products, start=1):
            run = check_run(product=product, trigger="manual")
            self.stderr.write(
                f"  checks [{index:>2}/{len(products)}] {product.product_id}: {run.status}"
            )

    def print_users(self) -> None:
        self.stdout.write("\nDemo users (username / password / role / team):")
        for person in DEMO_USERS:
            team = person.get("team") or "-"
            if person.get("owner"):
                team += " (owner)"
            self.stdout.write(
                f"  {person['username']:<18} {person['password']:<24} {person['role']:<8} {team}"
            )
