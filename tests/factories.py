"""factory_boy factories and contract documents for tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import factory
import yaml

from accounts.models import User
from catalog.models import Domain

FIXTURES = Path(__file__).parent / "catalog" / "fixtures"


class DomainFactory(factory.django.DjangoModelFactory[Domain]):
    class Meta:
        model = Domain
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"domain{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    role = "analyst"
    password = factory.django.Password("pw-for-tests")


def seed_document() -> dict[str, Any]:
    """The write-up's marketing.campaign_attribution contract, as a fresh dict."""
    return copy.deepcopy(yaml.safe_load((FIXTURES / "campaign_attribution.yaml").read_text()))


def contract_document(
    product_id: str = "marketing.campaign_attribution", **overrides: Any
) -> dict[str, Any]:
    """A valid contract for ``product_id`` (the seed's shape), with top-level overrides."""
    doc = seed_document()
    domain, name = product_id.split(".", 1)
    doc["id"] = product_id
    doc["domain"] = domain
    doc["name"] = name.replace("_", " ").title()
    doc.pop("table", None)
    doc["qualityChecks"] = [c for c in doc["qualityChecks"] if c["type"] != "custom_sql"]
    doc.update(overrides)
    return doc
