"""``manage.py contract lint FILE...`` and ``manage.py contract diff OLD NEW``: CI for contracts.

Both run without a database (default policies, or ``--policies FILE``), so a domain's CI can
check its contract files before anything is published:

- ``lint``: the contract is valid (our format or ODCS v3) and meets the policies. Exit 0 when
  every file passes (warnings allowed), 1 when any has an error.
- ``diff``: every change from OLD to NEW and whether it breaks consumers. Exit 1 when a breaking
  change comes without a version increase (or the version goes down), else 0. ``--impact``
  (issue 16) also lists every consumer and downstream product a breaking change reaches,
  transitively, from the product's lineage: a running portal's (``--portal URL`` with
  ``--token``, or ``PORTAL_URL`` and ``PORTAL_TOKEN``), or a lineage file saved from
  ``GET /v1/catalog/products/<id>/lineage?depth=10`` (``--lineage FILE``).

Exit 2 with one line for bad usage or an unreadable file. ``--format json`` for machines.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote
from urllib.request import Request, urlopen

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog import odcs
from catalog.contract import Contract, ContractError, ContractIssue, load_document, parse_contract
from catalog.contract.vocabulary import Severity
from catalog.contract_diff import diff_contracts, needs_version_bump
from catalog.governance.policies import DEFAULT_POLICIES, PolicyRule, evaluate_policies, parse_rules
from catalog.lineage_graph import Graph, impact_of

USAGE = 2
FAILED = 1


def _text(name: str) -> str | bytes:
    """A file's text (``-``: stdin, as bytes); CommandError with exit 2 when it cannot be read."""
    if name == "-":
        # Bytes: load_document reports bad UTF-8 as one line, whatever the process's locale.
        stdin = getattr(sys.stdin, "buffer", sys.stdin)
        return stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{name}: no such file", returncode=USAGE) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{name}: cannot read ({exc})", returncode=USAGE) from None


def _read(name: str) -> object:
    """Load a YAML/JSON file as a contract document; ODCS v3 documents are converted to ours."""
    data = load_document(_text(name), filename=name)
    if isinstance(data, dict) and odcs.is_odcs(data):
        return odcs.from_odcs(data)
    return data


def _parse(name: str) -> tuple[Contract | None, list[ContractIssue]]:
    try:
        return parse_contract(_read(name)), []
    except ContractError as exc:
        return None, list(exc.issues)


def _rules(path: str | None) -> list[PolicyRule]:
    if not path:
        return list(DEFAULT_POLICIES)
    try:
        data = load_document(_text(path), filename=path)
        if isinstance(data, dict):
            data = data.get("policies", data)
        return parse_rules(data)
    except (ContractError, ValueError) as exc:
        message = "; ".join(str(i) for i in exc.issues) if isinstance(exc, ContractError) else exc
        raise CommandError(f"--policies {path}: {message}", returncode=USAGE) from None


def _line(name: str, level: str, problem: dict[str, Any]) -> str:
    """One line per problem; the path is left out when it is the file itself (a syntax error)."""
    policy = f" [{problem['policy']}]" if problem.get("policy") else ""
    where = "" if problem["path"] in ("", name) else f"{problem['path']}: "
    return " ".join(f"{name}: {level}: {where}{problem['message']}{policy}".split())


class Command(BaseCommand):
    help = "Lint contract files against the policies, or diff two versions (no database needed)."
    requires_system_checks: list[str] = []  # runs in CI without a configured database

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="{lint,diff}", required=True)
        lint = sub.add_parser("lint", help="validate contracts and check them against policies")
        lint.add_argument("files", nargs="+", metavar="FILE")
        lint.add_argument("--format", choices=["text", "json"], default="text")
        lint.add_argument(
            "--policies", metavar="FILE", help='rules as [{"key","severity","params"}] (YAML/JSON)'
        )
        diff = sub.add_parser("diff", help="list the changes between two versions of a contract")
        diff.add_argument("old", metavar="OLD")
        diff.add_argument("new", metavar="NEW")
        diff.add_argument("--format", choices=["text", "json"], default="text")
        diff.add_argument(
            "--impact",
            action="store_true",
            help="list what a breaking change reaches downstream (needs --portal or --lineage)",
        )
        diff.add_argument("--portal", metavar="URL", help="the portal to ask for the lineage")
        diff.add_argument("--token", metavar="TOKEN", help="an API token for --portal")
        diff.add_argument(
            "--lineage", metavar="FILE", help="a lineage API answer saved to a file (JSON)"
        )
        for p in (parser, lint, diff):
            # Bad usage is one line ("contract lint: error: ..."), exit 2, not a usage dump.
            p.print_usage = lambda file=None: None  # type: ignore[method-assign]

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "lint":
            self.lint(options["files"], options["format"], options.get("policies"))
        else:
            impact = None
            if options.get("impact"):
                impact = _impact_source(options)
            self.diff(options["old"], options["new"], options["format"], impact)

    # -- lint ------------------------------------------------------------------------------------

    def lint(self, files: list[str], fmt: str, policies: str | None) -> None:
        """Lint every file; print problems; exit 1 when any file has an error."""
        rules = _rules(policies)
        reports = [self.lint_one(name, rules) for name in files]
        failed = [r for r in reports if not r["ok"]]
        if fmt == "json":
            self.stdout.write(json.dumps({"ok": not failed, "files": reports}, indent=2))
        else:
            for report in reports:
                for problem in report["errors"]:
                    self.stdout.write(_line(report["file"], "error", problem))
                for problem in report["warnings"]:
                    self.stdout.write(_line(report["file"], "warning", problem))
                verdict = "ok" if report["ok"] else "FAILED"
                self.stdout.write(f"{report['file']}: {verdict}")
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(files)} contract(s) failed lint", returncode=FAILED
            )

    def lint_one(self, name: str, rules: list[PolicyRule]) -> dict[str, Any]:
        """One file's verdict: contract errors, policy errors and warnings."""
        contract, issues = _parse(name)
        errors: list[dict[str, Any]] = [
            {"path": i.path, "message": i.message, "policy": None} for i in issues
        ]
        warnings: list[dict[str, Any]] = []
        if contract is not None:
            for v in evaluate_policies(contract, rules):
                item = {"path": v.path, "message": v.message, "policy": v.policy}
                (errors if v.severity == Severity.ERROR else warnings).append(item)
        return {
            "file": name,
            "id": contract.id if contract else None,
            "ok": not errors,
            "errors": errors,
            "warnings": warnings,
        }

    # -- diff ------------------------------------------------------------------------------------

    def diff(
        self,
        old_name: str,
        new_name: str,
        fmt: str,
        lineage: Callable[[str], Graph] | None = None,
    ) -> None:
        """Print each change (and, with ``lineage``, what a breaking change reaches); exit 1
        when a breaking change lacks a version increase."""
        old, old_issues = _parse(old_name)
        new, new_issues = _parse(new_name)
        if old is None or new is None:
            for name, issues in ((old_name, old_issues), (new_name, new_issues)):
                for issue in issues:
                    where = "" if issue.path in ("", name) else f"{issue.path}: "
                    self.stderr.write(" ".join(f"{name}: {where}{issue.message}".split()))
            raise CommandError("cannot diff invalid contracts", returncode=FAILED)
        changes = diff_contracts(old, new)
        version_down = new.version < old.version
        needs_bump = needs_version_bump(old, new, changes)
        ok = not needs_bump and not version_down
        impact = None
        if lineage is not None and any(c.breaking for c in changes):
            impact = impact_of(lineage(old.id), old.id)
        if fmt == "json":
            body = {
                "ok": ok,
                "oldVersion": old.version,
                "newVersion": new.version,
                "breaking": any(c.breaking for c in changes),
                "needsVersionBump": needs_bump,
                "changes": [c.to_dict() for c in changes],
            }
            if lineage is not None:
                body["impact"] = impact.to_dict() if impact is not None else None
            self.stdout.write(json.dumps(body, indent=2))
        else:
            for change in changes:
                flag = "BREAKING" if change.breaking else "ok      "
                self.stdout.write(f"{flag} {change.path}: {change.message}")
            if not changes:
                self.stdout.write("no changes")
            summary = f"v{old.version} → v{new.version}: {len(changes)} change(s), " + (
                f"{sum(c.breaking for c in changes)} breaking"
            )
            self.stdout.write(summary)
            if impact is not None:
                self.stdout.write(f"impact: the breaking change reaches {impact.summary()}")
                for line in impact.lines():
                    self.stdout.write(f"  {line}")
            elif lineage is not None:
                self.stdout.write("impact: no breaking change, nothing downstream is affected")
        if version_down:
            raise CommandError(
                f"version goes down ({old.version} → {new.version})", returncode=FAILED
            )
        if needs_bump:
            raise CommandError(
                f"breaking changes need a version above {old.version}", returncode=FAILED
            )


# -- impact (issue 16) ---------------------------------------------------------------------------

PORTAL_TIMEOUT_S = 15


def _impact_source(options: dict[str, Any]) -> Callable[[str], Graph]:
    """How ``diff --impact`` reads a product's lineage: from ``--lineage FILE`` or a portal."""
    path = options.get("lineage")
    portal = options.get("portal") or os.environ.get("PORTAL_URL", "")
    token = options.get("token") or os.environ.get("PORTAL_TOKEN", "")
    if path:
        return lambda product_id: _lineage_file(path, product_id)
    if portal:
        return lambda product_id: _lineage_portal(portal, token, product_id)
    raise CommandError(
        "--impact needs --lineage FILE or --portal URL (or PORTAL_URL)", returncode=USAGE
    )


def _graph(data: object, where: str, product_id: str) -> Graph:
    try:
        graph = Graph.from_dict(data)  # type: ignore[arg-type]
    except ValueError as exc:
        raise CommandError(f"{where}: {exc}", returncode=USAGE) from None
    if graph.root != f"product:{product_id}":
        raise CommandError(
            f"{where}: the lineage is of {graph.root.removeprefix('product:')}, not {product_id}",
            returncode=USAGE,
        )
    return graph


def _lineage_file(path: str, product_id: str) -> Graph:
    try:
        data = json.loads(_text(path))
    except json.JSONDecodeError as exc:
        message = f"{path}: not JSON ({exc.msg}, line {exc.lineno})"
        raise CommandError(message, returncode=USAGE) from None
    return _graph(data, path, product_id)


def _lineage_portal(portal: str, token: str, product_id: str) -> Graph:
    """GET the product's whole lineage from a running portal (its API, with ``token``)."""
    base = portal.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise CommandError(f"--portal {portal}: must be an http(s) URL", returncode=USAGE)
    url = f"{base}/v1/catalog/products/{quote(product_id)}/lineage?depth=10"
    request = Request(url, headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urlopen(request, timeout=PORTAL_TIMEOUT_S) as response:  # noqa: S310 - http(s) only
            data = json.loads(response.read().decode("utf-8"))
    except HTTPError as exc:
        reason = {401: "needs --token", 403: "refused the token", 404: f"has no {product_id}"}
        why = reason.get(exc.code, f"answered HTTP {exc.code}")
        raise CommandError(f"--portal {base}: the portal {why}", returncode=USAGE) from None
    except (URLError, TimeoutError, OSError, ValueError) as exc:
        cause: object = getattr(exc, "reason", exc)
        raise CommandError(
            f"--portal {base}: cannot read the lineage ({cause})", returncode=USAGE
        ) from None
    return _graph(data, url, product_id)
