"""factory_boy factories and contract documents for tests.

Database tests that need a product, its columns, checks, runs, results, incidents, versions,
consumers or query log rows build them here, row by row, instead of publishing through every
gate: a test publishes (``catalog.services.product_publish``) only when the publish is what it
tests. ``DataProductFactory.from_document(doc)`` writes the rows a publish of ``doc`` writes
(product, columns, checks and the version), without the gates, the lock or the after-commit
tasks. Call ``.create()`` (a row) or ``.build()`` (no row); ``Factory(...)`` works too but is
typed as the factory, not the model.
"""

from __future__ import annotations

import copy
import functools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import factory
import yaml
from django.utils import timezone

from accounts import permissions
from accounts.models import Role, User
from catalog.contract import parse_contract
from catalog.contract.vocabulary import ColumnType, Freshness, ProductStatus, Severity
from catalog.models import Column, Consumer, ContractVersion, DataProduct, Domain, QualityCheck
from catalog.services.publish import _write_rows
from quality.checks import CheckStatus, CheckType
from quality.models import CheckResult, CheckRun, Incident, IncidentStatus, RunStatus, RunTrigger
from querying.models import QueryDecision, QueryLog

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
    role = Role.ANALYST
    password = factory.django.Password("pw-for-tests")


@functools.cache
def _seed_yaml() -> dict[str, Any]:
    # Parsed once per process (PyYAML takes ~10 ms; thousands of tests build a contract).
    loaded: dict[str, Any] = yaml.safe_load((FIXTURES / "campaign_attribution.yaml").read_text())
    return loaded


def seed_document() -> dict[str, Any]:
    """The write-up's marketing.campaign_attribution contract, as a fresh dict."""
    return copy.deepcopy(_seed_yaml())


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


# --- catalog ---------------------------------------------------------------------------------

NOW = datetime(2025, 3, 1, tzinfo=UTC)


class DataProductFactory(factory.django.DjangoModelFactory[DataProduct]):
    """A published product row (no columns or checks unless asked: ``columns=``/``checks=``).

    ``DataProductFactory.create(columns=3, checks=2)`` adds that many columns and checks;
    ``from_document`` writes a whole contract's rows.
    """

    class Meta:
        model = DataProduct
        django_get_or_create = ("product_id",)
        skip_postgeneration_save = True

    domain = factory.SubFactory(DomainFactory)
    product_id = factory.LazyAttributeSequence(lambda o, n: f"{o.domain.slug}.product_{n}")
    name = factory.LazyAttribute(lambda o: o.product_id.split(".", 1)[1].replace("_", " ").title())
    description = "A product built by tests.factories."
    owner_team = factory.LazyAttribute(lambda o: f"{o.domain.name} Analytics")
    owner_contact = factory.LazyAttribute(lambda o: f"{o.domain.slug}-data@example.com")
    sla_freshness = Freshness.DAY
    sla_availability = 99.0
    sla_query_latency_p95_ms = 5000.0
    tags = factory.LazyFunction(list)
    version = 1
    published_at = NOW
    status = ProductStatus.PUBLISHED
    table = factory.LazyAttribute(lambda o: o.product_id.replace(".", "_"))

    @factory.post_generation
    def columns(self, create: bool, extracted: int | None, **kwargs: Any) -> None:
        for position in range(extracted or 0):
            if create:
                ColumnFactory.create(product=self, position=position, **kwargs)

    @factory.post_generation
    def checks(self, create: bool, extracted: int | None, **kwargs: Any) -> None:
        for position in range(extracted or 0):
            if create:
                QualityCheckFactory.create(product=self, position=position, **kwargs)

    @classmethod
    def from_document(
        cls, document: dict[str, Any], *, now: datetime | None = None, source: str = "api"
    ) -> DataProduct:
        """The rows a publish of ``document`` writes (product, columns, checks, one version),
        without the gates: for tests that need a product, not a publish."""
        now = now or timezone.now()
        contract = parse_contract(document)
        if contract.published_at is None:  # as a publish dates it
            contract = parse_contract({**contract.to_dict(), "publishedAt": now.isoformat()})
        domain = DomainFactory.create(slug=contract.domain)
        permissions.grant_domain(domain)
        product = DataProduct.objects.filter(product_id=contract.id).first()
        if product is None:
            product = DataProduct(product_id=contract.id, domain=domain)
        _write_rows(product, contract, now=now)
        ContractVersionFactory.create(
            product=product, version=contract.version, document=contract.to_dict(), source=source
        )
        return product


class ColumnFactory(factory.django.DjangoModelFactory[Column]):
    class Meta:
        model = Column

    product = factory.SubFactory(DataProductFactory)
    position = factory.Sequence(int)
    name = factory.LazyAttribute(lambda o: f"column_{o.position}")
    type = ColumnType.STRING
    description = "A column."
    pii = False
    nullable = True
    mask = ""


class QualityCheckFactory(factory.django.DjangoModelFactory[QualityCheck]):
    """A not_null check on the product's first column (``column=`` and ``type=`` to change)."""

    class Meta:
        model = QualityCheck

    product = factory.SubFactory(DataProductFactory)
    position = factory.Sequence(int)
    name = factory.LazyAttribute(lambda o: f"check_{o.position}")
    type = CheckType.NOT_NULL
    column = factory.LazyAttribute(lambda o: _first_column(o.product))
    params = factory.LazyFunction(dict)
    severity = Severity.ERROR


def _first_column(product: DataProduct) -> str:
    if product.pk is None:
        return ""
    return product.columns.order_by("position").values_list("name", flat=True).first() or ""


class ContractVersionFactory(factory.django.DjangoModelFactory[ContractVersion]):
    """A stored version; its document is the product's current contract unless given."""

    class Meta:
        model = ContractVersion

    product = factory.SubFactory(DataProductFactory, columns=1)
    version = factory.LazyAttribute(lambda o: o.product.version)
    document = factory.LazyAttribute(lambda o: _document_of(o.product))
    changes = factory.LazyFunction(list)
    is_breaking = False
    source = "api"


def _document_of(product: DataProduct) -> dict[str, Any]:
    from catalog.documents import product_document

    return product_document(product)


class ConsumerFactory(factory.django.DjangoModelFactory[Consumer]):
    class Meta:
        model = Consumer

    product = factory.SubFactory(DataProductFactory)
    team = factory.Sequence(lambda n: f"Team {n}")
    use_case = "Weekly reporting"
    contact = factory.Sequence(lambda n: f"team{n}@example.com")


# --- quality ---------------------------------------------------------------------------------


class CheckRunFactory(factory.django.DjangoModelFactory[CheckRun]):
    """A finished scheduled run that passed (``status=``, ``finished_at=`` to change)."""

    class Meta:
        model = CheckRun

    product = factory.SubFactory(DataProductFactory)
    trigger = RunTrigger.SCHEDULE
    run_key = factory.Sequence(lambda n: f"factory-run-{n}")
    status = RunStatus.PASSED
    contract_version = factory.LazyAttribute(lambda o: o.product.version)
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(seconds=1))
    duration_ms = 1000.0
    table_reachable = True


class CheckResultFactory(factory.django.DjangoModelFactory[CheckResult]):
    """One passed error-severity result of a run (``passed=False`` makes it failed)."""

    class Meta:
        model = CheckResult

    run = factory.SubFactory(CheckRunFactory)
    position = factory.Sequence(int)
    check_name = factory.Sequence(lambda n: f"check_{n}")
    check_type = CheckType.NOT_NULL
    passed = True
    status = factory.LazyAttribute(lambda o: CheckStatus.PASSED if o.passed else CheckStatus.FAILED)
    severity = Severity.ERROR
    message = ""
    created_at = factory.LazyAttribute(lambda o: o.run.finished_at or timezone.now())


class IncidentFactory(factory.django.DjangoModelFactory[Incident]):
    """An open stale-data incident."""

    class Meta:
        model = Incident

    product = factory.SubFactory(DataProductFactory)
    kind = "stale_data"
    status = IncidentStatus.OPEN
    opened_at = factory.LazyFunction(timezone.now)
    message = "newest data 30 h old"


# --- querying --------------------------------------------------------------------------------


class QueryLogFactory(factory.django.DjangoModelFactory[QueryLog]):
    """An answered query by a fresh analyst."""

    class Meta:
        model = QueryLog

    user = factory.SubFactory(UserFactory)
    username = factory.LazyAttribute(lambda o: o.user.username if o.user else "")
    role = factory.LazyAttribute(lambda o: o.user.role if o.user else "")
    submitted_sql = "SELECT 1"
    executed_sql = factory.LazyAttribute(lambda o: o.submitted_sql)
    decision = QueryDecision.ALLOWED
    products = factory.LazyFunction(list)
    row_count = 1
    duration_ms = 5.0
    created_at = factory.LazyFunction(timezone.now)
