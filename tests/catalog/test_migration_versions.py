"""Migrating a catalog whose history has several rows for one version (before issue 13)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("catalog", "0006_search_published_index")]
AFTER = [("catalog", "0007_table_namespace_consumer_registrant_unique_version")]


@pytest.fixture
def back_to_latest() -> Any:
    """Leave the database fully migrated, whatever the test did."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_older_rows_sharing_a_version_are_flagged_and_the_newest_is_unique(
    back_to_latest: Any,
) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    domain = apps.get_model("catalog", "Domain").objects.create(slug="finance", name="Finance")
    product = apps.get_model("catalog", "DataProduct").objects.create(
        product_id="finance.legacy", domain=domain, name="L", owner_team="t",
        owner_contact="t@x.io", sla_freshness="24h", sla_availability=99.0,
        sla_query_latency_p95_ms=100, table="finance_legacy",
    )  # fmt: skip
    versions = apps.get_model("catalog", "ContractVersion")
    # What seed_demo wrote before: v6 published, v7 published, then v7 deprecated.
    ids = [versions.objects.create(product=product, version=v, document={}).pk for v in (6, 7, 7)]

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    versions = apps.get_model("catalog", "ContractVersion")
    flags = dict(versions.objects.values_list("id", "is_legacy_duplicate"))
    assert flags == {ids[0]: False, ids[1]: True, ids[2]: False}
    with pytest.raises(IntegrityError), transaction.atomic():
        versions.objects.create(product_id=product.pk, version=7, document={})


@pytest.mark.django_db
def test_the_constraint_refuses_a_second_row_for_a_version(marketing: Any) -> None:
    from catalog.models import ContractVersion
    from catalog.services import product_publish
    from tests.factories import contract_document

    product = product_publish(actor=None, document=contract_document()).product
    with pytest.raises(IntegrityError), transaction.atomic():
        ContractVersion.objects.create(product=product, version=3, document={})
