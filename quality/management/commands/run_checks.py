"""``manage.py run_checks [ID...] [--json]``: run products' checks now, in this process.

Exit 0 when no error-severity check failed or errored, 1 otherwise, 2 on bad usage.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.contract.vocabulary import Severity
from catalog.models import DataProduct
from quality import services
from quality.models import CheckRun, RunTrigger
from quality.services import SCHEDULED_STATUSES

PROGRESS_FROM = 3  # show a progress bar on stderr from this many products


def run_as_dict(run: CheckRun) -> dict[str, Any]:
    """The ``--json`` shape of one run."""
    return {
        "product": run.product.product_id,
        "status": run.status,
        "startedAt": run.started_at.isoformat() if run.started_at else None,
        "results": [
            {
                "checkName": r.check_name,
                "type": r.check_type,
                "passed": r.passed,
                "severity": r.severity,
                "message": r.message,
                "value": r.value,
            }
            for r in run.results.order_by("position")
        ],
    }


def is_blocking(run: CheckRun) -> bool:
    """Whether an error-severity check failed or errored (or the run never got results)."""
    results = list(run.results.all())
    return not results or any(r.severity == Severity.ERROR and not r.passed for r in results)


class Command(BaseCommand):
    help = (
        "Run data products' quality checks now (all published and deprecated products when no "
        "id is given). Exit 1 when an error-severity check fails or errors, 2 on bad usage."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", metavar="ID", help="product ids (domain.name)")
        parser.add_argument("--json", action="store_true", help="print a JSON array of runs")

    def handle(self, *args: Any, **options: Any) -> None:
        products = self._products(options["ids"])
        runs: list[CheckRun] = []
        for index, product in enumerate(products, start=1):
            runs.append(self.handle_one(product))
            if len(products) >= PROGRESS_FROM:
                self._progress(index, len(products), product.product_id)
        if len(products) >= PROGRESS_FROM:
            self.stderr.write("")
        if options["json"]:
            self.stdout.write(json.dumps([run_as_dict(r) for r in runs], indent=2, default=str))
        else:
            for run in runs:
                failed = [r for r in run.results.order_by("position") if not r.passed]
                line = f"{run.product.product_id}: {run.status}"
                if failed:
                    line += " (" + ", ".join(f"{r.check_name}: {r.message}" for r in failed) + ")"
                self.stdout.write(line)
        blocking = [r.product.product_id for r in runs if is_blocking(r)]
        if blocking:
            raise CommandError(
                f"error-severity checks failed for {len(blocking)} product(s): "
                + ", ".join(blocking),
                returncode=1,
            )

    def handle_one(self, product: DataProduct) -> CheckRun:
        """Run one product's checks; returns the finished run."""
        return services.check_run(product=product, trigger=RunTrigger.MANUAL)

    def _products(self, ids: list[str]) -> list[DataProduct]:
        if not ids:
            return list(DataProduct.objects.filter(status__in=SCHEDULED_STATUSES))
        found = {p.product_id: p for p in DataProduct.objects.filter(product_id__in=ids)}
        unknown = [i for i in ids if i not in found]
        if unknown:
            raise CommandError(f"unknown product id: {', '.join(unknown)}", returncode=2)
        return [found[i] for i in dict.fromkeys(ids)]

    def _progress(self, done: int, total: int, label: str) -> None:
        width = 30
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if not sys.stderr.isatty() else ""
        self.stderr.write(f"\r[{bar}] {done}/{total} {label[:40]:<40}", ending=end)
