# Issue 16: the governed-query audit log summed per UTC day (per product and role; per product
# and person), and the days the rollup has done.

import django.db.models.deletion
from django.db import migrations, models


def _id() -> models.BigAutoField:
    return models.BigAutoField(
        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0010_consumer_kinds_lineage_usage"),
        ("querying", "0003_query_log_raw_reads"),
    ]

    operations = [
        migrations.CreateModel(
            name="UsageRollupDay",
            fields=[
                ("id", _id()),
                ("day", models.DateField(unique=True)),
                ("rolled_at", models.DateTimeField()),
            ],
            options={"ordering": ["day"]},
        ),
        migrations.CreateModel(
            name="UsageDay",
            fields=[
                ("id", _id()),
                ("day", models.DateField()),
                ("role", models.CharField(blank=True, max_length=16)),
                ("queries", models.PositiveIntegerField(default=0)),
                ("attributed", models.FloatField(default=0.0)),
                ("users", models.PositiveIntegerField(default=0)),
                ("masked", models.PositiveIntegerField(default=0)),
                ("raw_by_role", models.PositiveIntegerField(default=0)),
                ("raw_by_domain", models.PositiveIntegerField(default=0)),
                ("raw_by_grant", models.PositiveIntegerField(default=0)),
                ("answered", models.PositiveIntegerField(default=0)),
                ("within_latency", models.PositiveIntegerField(default=0)),
                (
                    "product",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="catalog.dataproduct",
                    ),
                ),
            ],
            options={
                "ordering": ["day", "product", "role"],
                "indexes": [models.Index(fields=["day", "product"], name="usageday_day")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "product", "role"), name="usageday_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="UsageDomainDay",
            fields=[
                ("id", _id()),
                ("day", models.DateField()),
                ("role", models.CharField(blank=True, max_length=16)),
                ("status", models.CharField(max_length=16)),
                ("queries", models.PositiveIntegerField(default=0)),
                ("attributed", models.FloatField(default=0.0)),
                ("masked", models.PositiveIntegerField(default=0)),
                ("raw_by_role", models.PositiveIntegerField(default=0)),
                ("raw_by_domain", models.PositiveIntegerField(default=0)),
                ("raw_by_grant", models.PositiveIntegerField(default=0)),
                ("answered", models.PositiveIntegerField(default=0)),
                ("within_latency", models.PositiveIntegerField(default=0)),
                (
                    "domain",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="catalog.domain",
                    ),
                ),
            ],
            options={
                "ordering": ["day", "domain", "role", "status"],
                "indexes": [models.Index(fields=["day", "domain"], name="usagedomainday_day")],
            },
        ),
        migrations.CreateModel(
            name="UsageUserDay",
            fields=[
                ("id", _id()),
                ("day", models.DateField()),
                ("username", models.CharField(max_length=150)),
                ("team", models.CharField(blank=True, max_length=200)),
                ("queries", models.PositiveIntegerField(default=0)),
                (
                    "product",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="catalog.dataproduct",
                    ),
                ),
            ],
            options={
                "ordering": ["day", "product", "username"],
                "indexes": [models.Index(fields=["product", "day"], name="usageuserday_product")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "product", "username"), name="usageuserday_unique"
                    )
                ],
            },
        ),
    ]
