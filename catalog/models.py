"""Domains, data products and their contract parts, contract versions, consumers.

A product's rows (columns, checks, SLA fields) are the current contract; ``ContractVersion``
keeps every published document, never overwritten. Writes go through ``catalog.services``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Index
from django.utils import timezone

from quality.health import (
    HEALTH_STATES,
    Health,
    HealthFacts,
    SlaStatus,
    facts_from_stored,
    health_of,
    open_incident_count,
    sla_from_stored,
)

from .contract.vocabulary import ACCESS_LEVELS, ProductStatus

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.backends.ddl_references import Statement


class WarehouseConnection(models.Model):
    """A named warehouse (issue 18): where some domains' or products' tables live.

    Admins manage them. ``url`` is a template: a secret is written ``${ENV_VAR}`` and read from
    the environment when the connection opens, so the database never holds it
    (``querying.warehouses.connections``). ``WAREHOUSE_URL`` is the connection called
    ``default``, used by every domain and product that names none.
    """

    name = models.SlugField(
        max_length=63,
        unique=True,
        help_text="What domains and contracts call it (warehouse: <name>); not 'default'.",
    )
    url = models.CharField(
        max_length=500,
        help_text="duckdb:///abs/path.duckdb, postgresql://user:${PASSWORD_VAR}@host/db, "
        "sc://host:15002;database=NAME (Spark Connect / Databricks: ;token=${TOKEN_VAR}) or "
        "spark://local[N];database=NAME. Secrets only as ${ENV_VAR}.",
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """A usable name, and a URL whose secrets are environment variables."""
        from django.core.exceptions import ValidationError

        from querying.warehouses.connections import DEFAULT_NAME, NAME, url_problem

        if self.name == DEFAULT_NAME or not NAME.match(self.name or ""):
            raise ValidationError(
                {"name": "lowercase letters, digits, '-' and '_'; 'default' is WAREHOUSE_URL"}
            )
        problem = url_problem(self.url or "")
        if problem:
            raise ValidationError({"url": problem})


class Domain(models.Model):
    """A business domain whose team owns and publishes data products."""

    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    slack_webhook_url = models.URLField(
        blank=True, help_text="Incoming webhook that posts to the owners' Slack channels."
    )
    # The domain's table namespace (issue 11): its products may bind only tables whose name
    # starts with this prefix, or tables an admin assigned to it (TableAssignment). Blank means
    # the default, ``<slug>_`` with '-' as '_'. Only admins change it.
    table_prefix = models.CharField(
        max_length=62,
        blank=True,
        help_text="Table-name prefix of the domain's namespace (lowercase, ends with '_'); "
        "blank: <slug>_ with '-' as '_'.",
    )
    policy_overrides = models.JSONField(
        default=list,
        blank=True,
        help_text="Stricter governance rules for this domain's products: "
        '[{"key": "...", "severity": "error"}].',
    )
    # Who reads the domain's PII raw besides its owners (issue 17, accounts.permissions): its
    # members too while this is on; off, members ask for access like everyone else.
    members_see_raw = models.BooleanField(
        default=True,
        help_text="Members of the domain's team read its products' PII unmasked "
        "(off: they request access like everyone else).",
    )
    access_max_days = models.PositiveIntegerField(
        default=90, help_text="The longest an access grant on the domain's products may last."
    )
    # Where the domain's tables live (issue 18); None: the default connection (WAREHOUSE_URL).
    warehouse = models.ForeignKey(
        WarehouseConnection,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="domains",
        help_text="The warehouse connection of the domain's products; blank: WAREHOUSE_URL.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Every settings change: governed queries read it in the catalog's version (querying).
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        permissions = [
            ("publish_domain_products", "Publish and change the domain's data products"),
            ("view_domain_pii", "Read the domain's drafts and PII unmasked"),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def effective_table_prefix(self) -> str:
        """The prefix the domain's tables start with: ``table_prefix`` or ``<slug>_``."""
        from .governance.namespace import default_prefix

        return self.table_prefix or default_prefix(self.slug)

    def clean(self) -> None:
        """Overrides name known policies; the prefix is well formed and no other domain's."""
        from django.core.exceptions import ValidationError

        from .governance.namespace import prefix_problem
        from .governance.policies import parse_rules

        if self.policy_overrides is None:
            # A blank admin field (or "null") means no overrides; the column is not nullable.
            self.policy_overrides = []
        try:
            parse_rules(self.policy_overrides or [])
        except ValueError as exc:
            raise ValidationError({"policy_overrides": str(exc)}) from None
        if self.table_prefix:
            problem = prefix_problem(self.table_prefix)
            if problem:
                raise ValidationError({"table_prefix": problem})
        mine = self.effective_table_prefix
        for other in Domain.objects.exclude(pk=self.pk):
            if other.effective_table_prefix == mine:
                raise ValidationError(
                    {"table_prefix": f"domain {other.slug} already uses the prefix {mine}"}
                )


ACCESS_CHOICES = [(value, value) for value in ACCESS_LEVELS]


# The status field's choices come from the contract's vocabulary (same values and labels as
# the TextChoices they replace, so no migration).
PRODUCT_STATUS_CHOICES = [(status.value, status.value.title()) for status in ProductStatus]


class SearchVectorIndex(GinIndex):
    """GIN on PostgreSQL; a plain index elsewhere, so SQLite can create and rebuild the table.

    (SQLite has no ``USING gin``; its ``search_vector`` column is unused and stays NULL, and its
    tag filter does not use an index.) Named for its first use; the tags index uses it too.
    """

    def create_sql(
        self,
        model: type[models.Model],
        schema_editor: BaseDatabaseSchemaEditor,
        using: str = "",
        **kwargs: Any,
    ) -> Statement:
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        return Index.create_sql(self, model, schema_editor, using=using, **kwargs)


class PortableOrderIndex(Index):
    """An expression index whose NULLS FIRST/LAST is spelled on PostgreSQL only.

    SQLite refuses NULLS LAST in an index, and needs none: it sorts NULL lowest, so DESC already
    puts NULLs last (the order ``NULLS LAST`` asks PostgreSQL for).
    """

    def create_sql(
        self,
        model: type[models.Model],
        schema_editor: BaseDatabaseSchemaEditor,
        using: str = "",
        **kwargs: Any,
    ) -> Statement:
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain: list[Any] = []
        for expression in self.expressions:
            if isinstance(expression, models.OrderBy):
                expression = expression.copy()
                # django-stubs types these bool; Django keeps None for "not said" (the default).
                expression.nulls_first = expression.nulls_last = None  # type: ignore[assignment]
            plain.append(expression)
        return Index(*plain, name=self.name).create_sql(model, schema_editor, using=using, **kwargs)


def demoted() -> models.Case:
    """1 for deprecated products, else 0: the first key of every catalog listing's order.

    The listing index below is built on this exact expression, so PostgreSQL can walk it in
    order and stop after one page instead of sorting every match.
    """
    return models.Case(
        models.When(status=ProductStatus.DEPRECATED, then=models.Value(1)),
        default=models.Value(0),
        output_field=models.IntegerField(),
    )


class DataProductQuerySet(models.QuerySet["DataProduct"]):
    def published(self) -> DataProductQuerySet:
        """Products in the catalog's default listing."""
        return self.filter(status=ProductStatus.PUBLISHED)


class DataProduct(models.Model):
    """A discoverable, documented dataset with an owner, a schema contract, checks and an SLA."""

    product_id = models.CharField(max_length=200, unique=True, help_text="domain.product_name")
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner_team = models.CharField(max_length=200)
    owner_contact = models.EmailField()
    owner_slack_channel = models.CharField(max_length=100, blank=True)
    sla_freshness = models.CharField(max_length=16)
    sla_availability = models.FloatField()
    sla_query_latency_p95_ms = models.FloatField()
    tags = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=PRODUCT_STATUS_CHOICES, default=ProductStatus.DRAFT, db_index=True
    )
    table = models.CharField(max_length=200, help_text="Physical table in the warehouse")
    # The contract's ``access`` (issue 17): ``restricted`` products are listed and described,
    # but only people who read their PII raw (or hold a grant on them) may query them.
    access = models.CharField(max_length=16, choices=ACCESS_CHOICES, default="open")
    # The contract's ``warehouse: <name>`` (issue 18); None: the domain's connection.
    warehouse = models.ForeignKey(
        WarehouseConnection,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
        editable=False,
    )
    # The contract's ``inputs`` (issue 16): the product ids it is built from, in the contract's
    # order, so the contract rebuilt from these rows (catalog.documents) keeps them; the lineage
    # edges are the Consumer rows the publish records from them (catalog.lineage.inputs_record).
    inputs = models.JSONField(default=list, blank=True, editable=False)
    deprecation_sunset_at = models.DateTimeField(null=True, blank=True)
    deprecation_replaced_by = models.CharField(max_length=200, blank=True)
    deprecation_reason = models.TextField(blank=True)
    # Denormalised from the contract versions by catalog.services (every publish; the demo's
    # written past: first_versions_refresh) for the metrics' time to publish (issue 16), so a
    # request reads products, not every version: when its first draft version and its first
    # published version were published (ContractVersion.published_at). A draft version after
    # the first publication is not its first draft.
    first_draft_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Denormalised from quality runs so lists and filters stay one query.
    last_validated_at = models.DateTimeField(null=True, blank=True)
    quality_score = models.FloatField(null=True, blank=True)
    newest_data_at = models.DateTimeField(null=True, blank=True)
    # Denormalised from the columns by catalog.services (the only writer of columns), so the
    # hasPii filter is a column test instead of a subquery per product.
    has_pii = models.BooleanField(default=False, editable=False)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The one health verdict (issue 12), denormalised by quality (the only writer:
    # quality.services.product_health_refresh) after every finished run, every incident
    # transition and every few minutes (beat), so no catalog page reads quality tables for it.
    # ``health`` and ``health_reasons`` are the verdict as of ``health_at``; ``health_facts``
    # holds what the rule needs besides this row (last run's problems, open incidents, measured
    # availability and latency; quality.health.facts_to_stored). Pages call ``health_now()``,
    # which judges those facts at the time of the request: ageing data reads stale without a run.
    health = models.CharField(
        max_length=16,
        choices=[(state, state) for state in HEALTH_STATES],
        default="unknown",
        editable=False,
    )
    health_reasons = models.JSONField(default=list, blank=True, editable=False)
    health_at = models.DateTimeField(null=True, blank=True, editable=False)
    health_facts = models.JSONField(default=dict, blank=True, editable=False)
    # Usage (issue 16), denormalised by the usage rollup (catalog/usage_rollup.py, the only
    # writer): answered governed queries and distinct users over the last 30 UTC days, today
    # counted up to ``usage_at``. Search sorts and shows these; the product page counts live.
    queries_30d = models.PositiveIntegerField(default=0, editable=False)
    users_30d = models.PositiveIntegerField(default=0, editable=False)
    usage_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Weighted name/tags/column names/description, kept by catalog.search.search_index_refresh
    # (PostgreSQL only; NULL and unused on SQLite).
    search_vector = SearchVectorField(null=True, editable=False)

    objects = DataProductQuerySet.as_manager()

    class Meta:
        ordering = ["product_id"]
        indexes = [
            SearchVectorIndex(fields=["search_vector"], name="catalog_product_search_gin"),
            # The default search (published products): the status test is answered by the
            # index itself, so COUNT(*) and the ranking read no row that is not a match.
            SearchVectorIndex(
                fields=["search_vector"],
                condition=models.Q(status=ProductStatus.PUBLISHED),
                name="catalog_product_search_pub",
            ),
            # The catalog's listing order when nothing is searched for (catalog.search.rank):
            # current products first, newest first, then by id.
            PortableOrderIndex(
                demoted(),
                models.F("published_at").desc(nulls_last=True),
                models.F("product_id"),
                name="catalog_product_listing",
            ),
            # The exact-tag filter (jsonb containment).
            SearchVectorIndex(
                fields=["tags"], opclasses=["jsonb_path_ops"], name="catalog_product_tags_gin"
            ),
            # sort=popular (issue 16): current products first, most queried first.
            PortableOrderIndex(
                demoted(),
                models.F("queries_30d").desc(),
                models.F("product_id"),
                name="catalog_product_popular",
            ),
        ]

    def __str__(self) -> str:
        return self.product_id

    @property
    def product_name(self) -> str:
        """The part of the id after the domain: ``campaign_attribution``."""
        return self.product_id.split(".", 1)[-1]

    def health_facts_now(self) -> HealthFacts:
        """What the health rule judges: this row's columns and its stored facts."""
        from .contract import FRESHNESS_HOURS

        return facts_from_stored(
            self.health_facts,
            product_id=self.product_id,
            freshness_sla=self.sla_freshness,
            freshness_limit_h=FRESHNESS_HOURS.get(self.sla_freshness),
            newest_data_at=self.newest_data_at,
            quality_score=self.quality_score,
            availability_target=self.sla_availability,
            latency_target_ms=self.sla_query_latency_p95_ms,
        )

    def health_now(self, now: datetime | None = None) -> Health:
        """The health verdict at ``now`` (default: this moment), from the stored facts."""
        return health_of(self.health_facts_now(), now=now or timezone.now())

    def sla_now(self, now: datetime | None = None) -> SlaStatus:
        """The SLA status: availability and latency as last measured, freshness at ``now``."""
        from .contract import FRESHNESS_HOURS

        return sla_from_stored(
            self.health_facts,
            freshness_sla=self.sla_freshness,
            freshness_limit_h=FRESHNESS_HOURS.get(self.sla_freshness),
            newest_data_at=self.newest_data_at,
            availability_target=self.sla_availability,
            latency_target_ms=self.sla_query_latency_p95_ms,
            latency_cap_s=float(settings.QUERY_TIMEOUT_S),
            now=now or timezone.now(),
        )

    @property
    def open_incident_count(self) -> int:
        """Incidents open at the last health refresh."""
        return open_incident_count(self.health_facts)


class Column(models.Model):
    """One column of a product's schema contract."""

    product = models.ForeignKey(DataProduct, on_delete=models.CASCADE, related_name="columns")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=16)
    description = models.TextField(blank=True)
    pii = models.BooleanField(default=False)
    nullable = models.BooleanField(default=True)
    mask = models.CharField(max_length=16, blank=True, help_text="PII mask; default last4")

    class Meta:
        ordering = ["product", "position"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="unique_column_per_product")
        ]

    def __str__(self) -> str:
        return f"{self.product_id}:{self.name}"

    @property
    def effective_mask(self) -> str | None:
        """The mask applied for readers who may not see raw PII."""
        return (self.mask or "last4") if self.pii else None


class QualityCheck(models.Model):
    """One quality check declared by a product's contract (the spec, not its results)."""

    product = models.ForeignKey(DataProduct, on_delete=models.CASCADE, related_name="checks")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=32)
    column = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)
    severity = models.CharField(max_length=16, default="error")

    class Meta:
        ordering = ["product", "position"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="unique_check_per_product")
        ]

    def __str__(self) -> str:
        return f"{self.product_id}:{self.name}"


class ContractVersion(models.Model):
    """One published contract document; rows are appended, never changed.

    One row per (product, version) (issue 13): every accepted change carries a higher version.
    Rows written before that rule that shared a version with a later row are kept, flagged
    ``is_legacy_duplicate``, and left out of the constraint.
    """

    product = models.ForeignKey(DataProduct, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    document = models.JSONField()
    changes = models.JSONField(default=list, blank=True)
    is_breaking = models.BooleanField(default=False)
    source = models.CharField(max_length=32, default="api")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    is_legacy_duplicate = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["-id"]
        get_latest_by = "id"
        constraints = [
            models.UniqueConstraint(
                fields=["product", "version"],
                condition=models.Q(is_legacy_duplicate=False),
                name="unique_contract_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_id} v{self.version}"

    @property
    def published_at(self) -> datetime:
        """When this version was published: its document's ``publishedAt``, else when stored.

        A changelog read without the documents annotates ``stated_published_at`` (the
        document's ``publishedAt`` as text, ``catalog.selectors.product_versions``) instead.
        """
        if "document" in self.get_deferred_fields():
            stated = getattr(self, "stated_published_at", None)
        else:
            stated = self.document.get("publishedAt") if isinstance(self.document, dict) else None
        if isinstance(stated, str):
            try:
                parsed = datetime.fromisoformat(stated.replace("Z", "+00:00"))
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                return parsed
        return self.created_at


class ConsumerKind(models.TextChoices):
    """What consumes a product (issue 16): lineage draws each kind, impact analysis lists them."""

    DASHBOARD = "dashboard", "Dashboard"
    APPLICATION = "application", "Application"
    NOTEBOOK = "notebook", "Notebook"
    TEAM = "team", "Team"
    # Another data product built from this one: recorded by publishing a contract whose
    # ``inputs`` name it (catalog/services/publish.py), never registered by hand.
    PRODUCT = "product", "Data product"


class Consumer(models.Model):
    """A named thing that uses a product (lineage, impact analysis, notifications).

    ``kind`` and ``name`` say what it is (the ``Executive / CEO dashboard``); ``team`` and
    ``contact`` who answers for it. A registration made with only the write-up's ``team`` is a
    ``team`` consumer named after the team. Product consumers point at the ``downstream``
    product and are kept in step with its contract's ``inputs`` by the publish pipeline.
    """

    product = models.ForeignKey(DataProduct, on_delete=models.CASCADE, related_name="consumers")
    kind = models.CharField(max_length=16, choices=ConsumerKind.choices, default=ConsumerKind.TEAM)
    name = models.CharField(max_length=200)
    url = models.URLField(max_length=500, blank=True)
    downstream = models.ForeignKey(
        DataProduct,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="input_links",
        help_text="The product built from this one (kind product)",
    )
    team = models.CharField(max_length=200)
    use_case = models.TextField()
    contact = models.EmailField()
    # Who registered the team (issue 11): only they, the product's owners and admins may change
    # the registration. NULL for registrations made by the system (seed_demo) or before.
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    registered_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "kind", "name"], name="unique_consumer_kind_name"
            )
        ]
        indexes = [models.Index(fields=["downstream", "kind"], name="consumer_downstream")]

    def __str__(self) -> str:
        return f"{self.name or self.team} → {self.product_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A consumer registered with only a team is that team (the write-up's registrations)."""
        if not self.name:
            self.name = self.team
        super().save(*args, **kwargs)


class ConsumerChangeAction(models.TextChoices):
    REGISTERED = "registered", "Registered"
    UPDATED = "updated", "Updated"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ConsumerChange(models.Model):
    """One registration, update or withdrawal of a consumer: the lineage's history (issue 16).

    Rows are appended, never changed, so a product shows the consumers it lost and when.
    """

    product = models.ForeignKey(
        DataProduct, on_delete=models.CASCADE, related_name="consumer_changes"
    )
    kind = models.CharField(max_length=16, choices=ConsumerKind.choices)
    name = models.CharField(max_length=200)
    team = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=16, choices=ConsumerChangeAction.choices)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["product", "-at"], name="consumerchange_product_at")]

    def __str__(self) -> str:
        return f"{self.name} {self.action} {self.product_id}"


class TableAssignment(models.Model):
    """A physical table an admin assigned to a domain outside its prefix namespace (issue 11).

    An assignment wins over every prefix: the table belongs to this domain and no other.
    """

    table = models.CharField(max_length=63, unique=True, help_text="Physical table name")
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="table_assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True, help_text="Why this table belongs to the domain")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["table"]

    def __str__(self) -> str:
        return f"{self.table} → {self.domain_id}"

    def clean(self) -> None:
        """The name is one a contract can bind: a lowercase ASCII SQL identifier."""
        from django.core.exceptions import ValidationError

        from .governance.namespace import table_name_problem

        problem = table_name_problem(self.table)
        if problem:
            raise ValidationError({"table": problem})


class PolicySeverity(models.TextChoices):
    ERROR = "error", "Error (blocks publishing)"
    WARNING = "warning", "Warning"
    OFF = "off", "Off"


class GovernancePolicy(models.Model):
    """One global governance rule as the platform admins configured it (issue 6).

    Rows are created from ``catalog.governance.policies.DEFAULT_POLICIES`` on first read
    (``catalog.governance.selectors.global_rules``); the key names a rule the policy engine knows.
    """

    key = models.CharField(max_length=64, unique=True)
    severity = models.CharField(
        max_length=16, choices=PolicySeverity.choices, default=PolicySeverity.WARNING
    )
    params = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["key"]
        verbose_name = "governance policy"
        verbose_name_plural = "governance policies"

    def __str__(self) -> str:
        return f"{self.key} ({self.severity})"
