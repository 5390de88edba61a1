"""Quality models: the invariants the database enforces."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Domain
from quality.models import CheckRun, Incident
from tests.quality.test_services import make_product


def test_a_product_has_at_most_one_open_incident_of_a_kind(marketing: Domain) -> None:
    product = make_product(marketing)
    Incident.objects.create(product=product, opened_at=timezone.now())

    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(product=product, opened_at=timezone.now())
    Incident.objects.create(product=product, opened_at=timezone.now(), status="resolved")

    assert Incident.objects.filter(product=product).count() == 2


def test_a_run_key_is_unique(marketing: Domain) -> None:
    product = make_product(marketing)
    CheckRun.objects.create(product=product, trigger="schedule", run_key="schedule:1:t")

    with pytest.raises(IntegrityError), transaction.atomic():
        CheckRun.objects.create(product=product, trigger="schedule", run_key="schedule:1:t")


def test_check_history_is_deleted_with_its_product(marketing: Domain, admin_user: Any) -> None:
    product = make_product(marketing)
    CheckRun.objects.create(product=product, trigger="manual", run_key="m")
    product.checks.all().delete()
    product.columns.all().delete()

    product.delete()

    assert not CheckRun.objects.exists()
