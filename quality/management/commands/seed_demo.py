"""``manage.py seed_demo``: build the demo warehouse and publish 23 products across 5 domains.

Safe to run again, and it never overwrites what people did in the portal (issue 12):

- the warehouse file is rebuilt relative to now (written to a temp file and swapped in);
- a product whose latest contract version was not published by the demo seed (an owner's
  publish through the API, admin, CLI, a deprecation or a retirement) is left alone, and the
  command says so; the demo's own products are published again (unchanged ones stay as they
  are; a demo contract that changed since is published as the next version);
- domains and consumer registrations are only created when missing; demo users get their
  printed passwords back.

``--reset`` empties the portal's database first (every product, user, run and query log) and
seeds from scratch. ``--warehouse postgresql://loader:…@host/warehouse`` loads the same data
into a PostgreSQL warehouse instead of the DuckDB file (docker-compose.yml's ``demo`` profile;
catalog/demo/postgres.py) and grants the portal's reader role SELECT on the demo tables. A Spark
warehouse (issue 18: ``WAREHOUSE_URL=sc://host:15002`` or ``spark://local[N];warehouse=/abs/dir``,
with ``;database=NAME`` optionally) gets the same data as Spark tables, written through the
portal's Spark session (catalog/demo/spark.py); ``--warehouse`` may name that same Spark URL.

It lives in the quality app, the highest layer it uses: it publishes through the catalog and
then runs every product's checks (README, "Layout": apps depend one way).
"""

from __future__ import annotations

import fcntl
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.access_models import AccessEvent, AccessRequest, AccessStatus
from accounts.models import User
from accounts.services import user_upsert
from catalog.contract import ContractError
from catalog.demo import load_demo_contracts
from catalog.demo.people import DEMO_ACCESS, DEMO_CONSUMERS, DEMO_DOMAINS, DEMO_USERS
from catalog.demo.postgres import display_url, load_demo_warehouse_postgres, reader_roles
from catalog.demo.spark import display_url as display_spark_url
from catalog.demo.spark import is_spark_url, load_demo_warehouse_spark, spark_load_problem
from catalog.demo.warehouse import build_demo_warehouse, duckdb_path
from catalog.models import Consumer, ContractVersion, DataProduct, Domain, ProductStatus
from catalog.services import PublishConflict, PublishRefused, consumer_register, product_publish
from quality.demo_history import (
    DAYS,
    DEPRECATED_DAYS_AGO,
    has_history,
    published_dates,
    seed_history,
)
from quality.models import RunTrigger
from quality.services import check_run
from querying.warehouses import WarehouseError

__all__ = ["Command", "DEMO_SOURCE", "duckdb_path", "changed_since_demo"]

# ContractVersion.source of every version this command publishes.
DEMO_SOURCE = "demo"


def in_dependency_order(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``documents`` by id, each after the demo products it names (``inputs``,
    ``deprecation.replacedBy``), so the publish gates find them."""
    by_id = {str(d.get("id")): d for d in documents}
    done: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(product_id: str, path: tuple[str, ...]) -> None:
        if product_id in seen or product_id not in by_id or product_id in path:
            return
        document = by_id[product_id]
        named = list(document.get("inputs") or [])
        replaced = (document.get("deprecation") or {}).get("replacedBy")
        for other in sorted({*named, *([replaced] if replaced else [])}):
            visit(str(other), (*path, product_id))
        seen.add(product_id)
        done.append(document)

    for product_id in sorted(by_id):
        visit(product_id, ())
    return done


def changed_since_demo(product: DataProduct) -> str | None:
    """Who changed ``product`` after the demo published it (``v4 via api by maya``), or None.

    The product's latest contract version tells: the seed publishes with source ``demo`` and
    no user; anything else (an owner's publish through the API, admin or CLI, a deprecation,
    a retirement) is someone's work that a new run must not overwrite.
    """
    latest = (
        ContractVersion.objects.filter(product=product, is_legacy_duplicate=False)
        .select_related("published_by")
        .order_by("-id")
        .first()
    )
    if latest is None or (latest.source == DEMO_SOURCE and latest.published_by_id is None):
        return None
    who = f" by {latest.published_by.username}" if latest.published_by else ""
    return f"v{latest.version} via {latest.source}{who}"


@dataclass
class Seeded:
    """What ``seed_products`` did: products published, and those left alone (id → why)."""

    published: int = 0
    left_alone: dict[str, str] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)


class Command(BaseCommand):
    help = (
        "Build the demo DuckDB warehouse and publish the demo data products, users and "
        "consumers; products changed in the portal since are left alone (--reset starts over)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-checks", action="store_true", help="don't run the quality checks")
        parser.add_argument("--seed", type=int, default=42, help="seed of the generated data")
        parser.add_argument(
            "--history-days",
            type=int,
            default=DAYS,
            metavar="N",
            help=f"days of past usage, checks, incidents and versions to write on a catalog "
            f"that has none (default {DAYS}; 0: none)",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="empty the portal's database first (every product, user, run, log) and start over",
        )
        parser.add_argument(
            "--warehouse",
            metavar="URL",
            help="load the demo data into this PostgreSQL database instead of the DuckDB file, "
            "as the role in URL (one that may create tables there, e.g. warehouse_loader); "
            "WAREHOUSE_URL's role, the portal's reader of that database, gets SELECT on them. "
            "A Spark URL (sc://host:15002, spark://local[N];warehouse=/abs/dir) writes Spark "
            "tables there; it must be WAREHOUSE_URL's Spark database (a Spark WAREHOUSE_URL "
            "alone does the same)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        lock_path = Path(settings.VAR_DIR) / "seed_demo.lock"
        with lock_path.open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise CommandError(
                    "another seed_demo is running on this portal; wait for it to finish"
                ) from None
            self.seed(**options)

    def seed(self, **options: Any) -> None:
        """Everything ``handle`` does, under the one-seed-at-a-time lock."""
        loader_url = options["warehouse"]
        spark_url = None
        path = None
        if loader_url is not None and is_spark_url(loader_url):
            problem = spark_load_problem(loader_url, settings.WAREHOUSE_URL)
            if problem is not None:
                raise CommandError(f"--warehouse: {problem}")
            spark_url, loader_url = loader_url, None
        elif loader_url is None and is_spark_url(settings.WAREHOUSE_URL):
            problem = spark_load_problem(settings.WAREHOUSE_URL, settings.WAREHOUSE_URL)
            if problem is not None:
                raise CommandError(f"WAREHOUSE_URL: {problem}")
            spark_url = settings.WAREHOUSE_URL
        if loader_url is not None:
            try:
                readers = reader_roles(loader_url, settings.WAREHOUSE_URL)
            except ValueError as exc:
                raise CommandError(f"--warehouse: {exc}") from None
        elif spark_url is None:
            path = duckdb_path(settings.WAREHOUSE_URL)
            if path is None:
                raise CommandError(
                    "seed_demo builds a DuckDB warehouse or a Spark one; WAREHOUSE_URL is "
                    "neither duckdb:///… nor sc:// or spark:// (unset it to use the embedded "
                    "default, or load PostgreSQL with --warehouse)"
                )
        if options["reset"]:
            call_command("flush", interactive=False, verbosity=0)
            self.stdout.write("reset: the portal's database was emptied; seeding from scratch")
        started = time.perf_counter()
        if spark_url is not None:
            try:
                counts = load_demo_warehouse_spark(
                    spark_url, now=timezone.now(), seed=options["seed"]
                )
            except WarehouseError as exc:
                raise CommandError(f"Spark warehouse: {exc}") from None
            where = f"Spark, {display_spark_url(spark_url)}"
        elif loader_url is not None:
            try:
                counts = load_demo_warehouse_postgres(
                    loader_url, now=timezone.now(), seed=options["seed"], grant_to=readers
                )
            except psycopg.Error as exc:
                reason = " ".join(str(exc).split()) or type(exc).__name__
                raise CommandError(f"--warehouse: PostgreSQL refused: {reason}") from None
            where = display_url(loader_url)
            if readers:
                where += f", SELECT granted to {', '.join(readers)}"
        else:
            assert path is not None
            path.parent.mkdir(parents=True, exist_ok=True)
            counts = build_demo_warehouse(path, now=timezone.now(), seed=options["seed"])
            where = str(path)
        rows = sum(counts.values())
        self.stdout.write(
            f"warehouse: {len(counts)} tables, {rows:,} rows in {where} "
            f"({time.perf_counter() - started:.1f}s)"
        )
        # One unit for the catalog: a seed that fails half-way (or is interrupted) leaves the
        # catalog as it was, and requests writing meanwhile wait for it (issue 13).
        with transaction.atomic():
            self.seed_domains()
            seeded = self.seed_products()
            left_alone = seeded.left_alone
            self.seed_users()
            self.seed_consumers(skip=set(left_alone))
            self.seed_access()
        self.seed_past(seeded, options)
        if not options["no_checks"]:
            self.run_checks()
        self.stdout.write(f"catalog: {seeded.published} products published")
        if left_alone:
            self.stdout.write(
                f"left alone: {len(left_alone)} product{'s' if len(left_alone) != 1 else ''} "
                "changed in the portal since the demo published them (bin/demo --reset starts "
                "over):"
            )
            for product_id, why in sorted(left_alone.items()):
                self.stdout.write(f"  {product_id}: {why}")
        self.print_users()

    def seed_past(self, seeded: Seeded, options: dict[str, Any]) -> None:
        """The demo's past (issue 16: quality/demo_history.py), once: a rerun keeps it."""
        days = int(options.get("history_days") or 0)
        if days <= 0:
            return
        now = timezone.now()
        if has_history(now):
            self.stdout.write("history: kept (the portal already has a past)")
            return
        started = time.perf_counter()
        summary = seed_history(now=now, seed=options["seed"], created=seeded.created, days=days)
        self.stdout.write(f"{summary.line()} ({time.perf_counter() - started:.1f}s)")

    def seed_domains(self) -> None:
        """Create the demo domains that are missing (an edited name or description stays)."""
        for slug, info in DEMO_DOMAINS.items():
            domain, _ = Domain.objects.get_or_create(
                slug=slug, defaults={"name": info["name"], "description": info["description"]}
            )
            permissions.grant_domain(domain)

    def seed_products(self) -> Seeded:
        """Publish every demo contract, except products someone changed since the demo did."""
        # Sorted by id, then so that what a contract names (its replacement, its inputs)
        # is published before it.
        contracts = in_dependency_order(load_demo_contracts())
        # Dated relative to now (issue 16), in the order the demo's documents date them.
        dates = published_dates(contracts, now=timezone.now())
        seeded = Seeded()
        for index, document in enumerate(contracts, start=1):
            product_id = str(document.get("id"))
            existing = DataProduct.objects.filter(product_id=product_id).first()
            changed = changed_since_demo(existing) if existing is not None else None
            if changed is not None:
                seeded.left_alone[product_id] = f"changed since the demo published it ({changed})"
                verb = f"left alone ({changed})"
            elif existing is None:
                verb = self.create_product(document, dates[product_id])
                seeded.published += 1
                seeded.created.append(product_id)
            else:
                verb, refused = self.update_product(existing, document)
                if refused:
                    seeded.left_alone[product_id] = refused
                else:
                    seeded.published += 1
            self.stderr.write(f"  [{index:>2}/{len(contracts)}] {product_id}: {verb}")
        return seeded

    def create_product(self, document: dict[str, Any], published: datetime) -> str:
        """Publish a demo product that does not exist yet, dated ``published``; a refusal is
        a bug in the demo."""
        document = {**document, "publishedAt": published.isoformat()}
        try:
            if document.get("status") == ProductStatus.DEPRECATED:
                # The lifecycle starts at published: publish it (as the version before),
                # then deprecate it; each accepted change is a new version.
                first = {k: v for k, v in document.items() if k != "deprecation"}
                first["version"] = max(1, int(document.get("version", 2)) - 1)
                product_publish(
                    actor=None,
                    document={**first, "status": ProductStatus.PUBLISHED},
                    source=DEMO_SOURCE,
                )
                deprecated = timezone.now() - timedelta(days=DEPRECATED_DAYS_AGO)
                document["publishedAt"] = max(deprecated, published).isoformat()
            product_publish(actor=None, document=document, source=DEMO_SOURCE)
        except (ContractError, PublishRefused) as exc:
            raise CommandError(f"demo contract {document.get('id')}: {exc}") from exc
        return "created"

    def update_product(self, product: DataProduct, document: dict[str, Any]) -> tuple[str, str]:
        """Publish the demo contract over the demo's own product: (what happened, refusal).

        A demo contract edited since the last run without a version bump is published as
        the product's next version; a contract the gates refuse now leaves the product as it
        is (with the reason), so a rerun never fails on data the portal already holds.
        """
        # The stored date stays; a new version is dated now (publishedAt left out).
        document = {k: v for k, v in document.items() if k != "publishedAt"}
        try:
            try:
                outcome = product_publish(actor=None, document=document, source=DEMO_SOURCE)
            except PublishConflict as exc:
                if exc.code != "VERSION_CONFLICT":
                    raise
                bumped = {**document, "version": product.version + 1}
                outcome = product_publish(actor=None, document=bumped, source=DEMO_SOURCE)
        except (ContractError, PublishRefused) as exc:
            reason = " ".join(str(exc).split())
            return f"left alone (the demo contract is refused now: {reason})", (
                f"the demo contract is refused now: {reason}"
            )
        if not outcome.changed:
            return "unchanged", ""
        return f"updated to v{outcome.product.version}", ""

    @transaction.atomic
    def seed_users(self) -> None:
        """Create or update the demo users; their printed passwords work again afterwards."""
        for person in DEMO_USERS:
            domain = Domain.objects.get(slug=person["team"]) if person.get("team") else None
            user, _ = user_upsert(
                username=person["username"],
                role=person["role"],
                domain=domain,
                is_owner=bool(person.get("owner")),
                password=person["password"],
                email=person.get("email", ""),
            )
            first, _, last = person.get("name", "").partition(" ")
            if first and not (user.first_name or user.last_name):  # a name someone set stays
                user.first_name, user.last_name = first, last
                user.save(update_fields=["first_name", "last_name"])

    def seed_consumers(self, *, skip: set[str]) -> None:
        """Register the demo consumers that are missing (edited ones stay as they are)."""
        for consumer in DEMO_CONSUMERS:
            if consumer["product"] in skip:
                continue
            product = DataProduct.objects.filter(product_id=consumer["product"]).first()
            if product is None:
                continue
            kind = consumer.get("kind", "team")
            name = consumer.get("name") or consumer["team"]
            if Consumer.objects.filter(product=product, kind=kind, name=name).exists():
                continue
            consumer_register(
                actor=None,
                product=product,
                team=consumer["team"],
                use_case=consumer["useCase"],
                contact=consumer["contact"],
                kind=kind,
                name=name,
                url=consumer.get("url", ""),
            )

    def seed_access(self) -> None:
        """An active access grant and a pending request (issue 17), when missing.

        Written as rows with their history (this command sits below querying, whose services
        would also notify owners): ana.analyst reads finance.invoices' billing e-mails raw
        under a grant fiona.finance approved; max.manager waits for maya.marketing's decision
        on marketing.customer_segments.
        """
        now = timezone.now()
        for grant in DEMO_ACCESS:
            requester = User.objects.filter(username=grant["requester"]).first()
            product = DataProduct.objects.filter(product_id=grant["product"]).first()
            decider = User.objects.filter(username=grant["decider"]).first()
            if requester is None or product is None or decider is None:
                continue
            mine = AccessRequest.objects.filter(requester=requester, product=product)
            if grant["approved"]:
                if mine.active_at(now).exists():
                    continue
            elif mine.filter(status=AccessStatus.PENDING).exists():
                continue
            asked = now - timedelta(days=2)
            request = AccessRequest.objects.create(
                requester=requester,
                product=product,
                columns=list(grant["columns"]),
                purpose=grant["purpose"],
                days=grant["days"],
                created_at=asked,
            )
            AccessEvent.objects.create(
                request=request, actor=requester, actor_username=requester.username,
                from_status="", to_status=AccessStatus.PENDING, note=grant["purpose"], at=asked,
            )  # fmt: skip
            if grant["approved"]:
                decided = asked + timedelta(hours=3)
                AccessRequest.objects.filter(pk=request.pk).update(
                    status=AccessStatus.APPROVED,
                    decided_at=decided,
                    decided_by=decider,
                    decision_note=grant["note"],
                    expires_at=decided + timedelta(days=grant["days"]),
                )
                AccessEvent.objects.create(
                    request=request, actor=decider, actor_username=decider.username,
                    from_status=AccessStatus.PENDING, to_status=AccessStatus.APPROVED,
                    note=grant["note"], at=decided,
                )  # fmt: skip

    def run_checks(self) -> None:
        """Run every product's checks once so the catalog opens with quality data."""
        products = list(
            DataProduct.objects.exclude(status=ProductStatus.RETIRED).order_by("product_id")
        )
        for index, product in enumerate(products, start=1):
            run = check_run(product=product, trigger=RunTrigger.MANUAL)
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
