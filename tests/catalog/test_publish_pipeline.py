"""The one publish pipeline (issue 14): gates in order, one diff, side effects as tasks on commit.

``catalog/services/publish.py`` is where a reader learns what a publish does; these tests hold
it to what it says: the gates run in the documented order and the first refusal stops
the rest; the contract diff is computed once per publish, whatever the gates need it for;
after the commit, consumer notices and the search refresh are queued as named Celery tasks
(nothing goes out inside the request), and nothing is queued for a publish that wrote nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.apps import AppConfig, apps
from django.core import mail
from kombu.exceptions import OperationalError as BrokerError

from catalog import contract_diff, tasks
from catalog.contract import ContractIssue
from catalog.governance import gates
from catalog.governance.gates import Candidate, GateResult
from catalog.services import PublishRefused, consumer_register, product_publish, publish
from tests.catalog.test_publish_gates import warehouse  # noqa: F401 - the fixture
from tests.factories import contract_document

# The seed's table in a real DuckDB file, checked at publish (test_publish_gates.warehouse).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("warehouse")]

ORDER = [
    "lifecycle_gate",
    "breaking_change_gate",
    "lineage_gate",
    "table_binding_gate",
    "policies_gate",
    "custom_sql_gate",
    "conformance_gate",
]
DEPRECATION = {"sunsetAt": "2099-01-01T00:00:00Z", "reason": "moving on"}


@pytest.fixture
def product(marketing: Any) -> Any:
    return product_publish(actor=None, document=contract_document(), source="test").product


@pytest.fixture
def ran(monkeypatch: Any) -> list[str]:
    """The names of the gates the pipeline calls, in order (each still does its work)."""
    calls: list[str] = []
    for name in ORDER:
        real = getattr(publish, name)

        def gate(candidate: Candidate, real: Any = real, name: str = name) -> GateResult:
            calls.append(name)
            return real(candidate)

        monkeypatch.setattr(publish, name, gate)
    return calls


def test_every_gate_runs_in_the_documented_order(product: Any, ran: list[str]) -> None:
    product_publish(actor=None, document=contract_document(version=4, description="More."))
    # The gates, then the table binding again under the lock (a concurrent publish of the
    # domain may have taken the table since it was judged).
    assert ran == [*ORDER, "table_binding_gate"]
    assert publish.__doc__ is not None
    documented = (
        "lifecycle, breaking\n   change (with its impact downstream), lineage (inputs), table "
        "binding, policies, custom SQL,\n   conformance"
    )
    assert documented in publish.__doc__


@pytest.mark.parametrize("refusing", range(len(ORDER)))
def test_the_first_refusal_stops_the_pipeline_and_nothing_is_written(
    refusing: int, product: Any, ran: list[str], monkeypatch: Any
) -> None:
    name = ORDER[refusing]

    def refuse(candidate: Candidate) -> GateResult:
        ran.append(name)
        return GateResult("TEST", errors=[ContractIssue("x", f"{name} says no")])

    monkeypatch.setattr(publish, name, refuse)
    with pytest.raises(PublishRefused) as refused:
        product_publish(actor=None, document=contract_document(version=4, description="More."))
    assert (refused.value.code, str(refused.value)) == ("TEST", f"x: {name} says no")
    assert ran == ORDER[: refusing + 1]
    product.refresh_from_db()
    assert (product.version, product.versions.count()) == (3, 1)


@pytest.mark.parametrize(
    "change",
    [
        {"version": 4, "description": "An edit that stays published."},
        {"version": 4, "status": "deprecated", "deprecation": DEPRECATION},  # lenient path
        {"version": 3},  # the same document again: judged, nothing written
    ],
    ids=["edit", "deprecation", "unchanged"],
)
def test_the_contract_diff_is_computed_once_per_publish(
    change: dict[str, Any], product: Any, monkeypatch: Any
) -> None:
    calls: list[int] = []
    real = contract_diff.diff_contracts

    def counting(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(publish, "diff_contracts", counting)
    monkeypatch.setattr(contract_diff, "diff_contracts", counting)
    product_publish(actor=None, document=contract_document(**change))
    assert len(calls) == 1


def test_the_gates_never_diff_contracts_themselves() -> None:
    # They read Candidate.changes; the pipeline is the one place the diff is computed.
    assert "diff_contracts" not in vars(gates)
    assert "diff_contracts" in vars(publish)


def test_after_commit_the_notices_and_the_search_refresh_are_queued_as_named_tasks(
    product: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    consumer_register(actor=None, product=product, team="Growth", use_case="d", contact="g@x.io")
    queued: list[tuple[str, tuple[Any, ...]]] = []
    for task in (tasks.consumers_notify_task, tasks.search_index_refresh_task):
        monkeypatch.setattr(task, "delay", lambda *a, task=task: queued.append((task.name, a)))
    mail.outbox.clear()
    document = contract_document(version=4, status="deprecated", deprecation=DEPRECATION)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outcome = product_publish(actor=None, document=document)
    assert queued == [] and mail.outbox == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert outcome.version is not None
    assert queued == [
        ("catalog.consumers_notify", (outcome.version.pk,)),
        ("catalog.search_index_refresh", ([product.pk],)),
    ]
    assert mail.outbox == []  # the e-mail is the task's, in the worker


def test_the_consumer_task_sends_the_notice(
    product: Any, django_capture_on_commit_callbacks: Any
) -> None:
    consumer_register(actor=None, product=product, team="Growth", use_case="d", contact="g@x.io")
    mail.outbox.clear()
    document = contract_document(version=4, status="deprecated", deprecation=DEPRECATION)
    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: the task runs here
        product_publish(actor=None, document=document)
    assert [m.to for m in mail.outbox] == [["g@x.io"]]
    assert tasks.consumers_notify_task.name == "catalog.consumers_notify"


@pytest.mark.parametrize("outcome", ["refused", "unchanged", "dry run"])
def test_a_publish_that_writes_nothing_queues_nothing(
    outcome: str, product: Any, django_capture_on_commit_callbacks: Any
) -> None:
    document = contract_document(version=3)
    if outcome == "refused":
        document = contract_document(version=3, status="draft")  # published → draft: refused
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        try:
            product_publish(actor=None, document=document, dry_run=outcome == "dry run")
        except PublishRefused:
            assert outcome == "refused"
    assert callbacks == []


def test_a_broker_that_cannot_take_the_tasks_does_not_fail_a_committed_publish(
    product: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any, caplog: Any
) -> None:
    def down(*args: Any) -> None:
        raise BrokerError("connection refused")

    for task in (tasks.consumers_notify_task, tasks.search_index_refresh_task):
        monkeypatch.setattr(task, "delay", down)
    with (
        caplog.at_level(logging.WARNING, logger="catalog.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        outcome = product_publish(actor=None, document=contract_document(version=4))
    assert outcome.changed and outcome.product.version == 4
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"could not queue catalog.consumers_notify({outcome.version.pk},)",
        f"could not queue catalog.search_index_refresh([{product.pk}],)",
    ]


def test_nothing_is_wired_at_start_up() -> None:
    # A publish is read in one module, not assembled in ready() from lists other apps fill.
    for label in ("catalog", "quality"):
        assert type(apps.get_app_config(label)).ready is AppConfig.ready
    for name in ("PUBLISH_GATES", "PUBLISH_RECHECKS", "AFTER_PUBLISH"):
        assert not hasattr(publish, name)


def test_beat_rebuilds_the_search_index_and_every_beat_entry_names_a_registered_task() -> None:
    from config.celery import app

    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert schedule["catalog-refresh-search-index"]["task"] == "catalog.search_index_refresh"
    assert [e["task"] for e in schedule.values() if e["task"] not in app.tasks] == []
