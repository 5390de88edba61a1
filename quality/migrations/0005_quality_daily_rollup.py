# Issue 16: check runs summed per product and UTC day (the metrics' quality figures), and the
# days the rollup has done.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0010_consumer_kinds_lineage_usage"),
        ("quality", "0004_incident_acknowledgement"),
    ]

    operations = [
        migrations.CreateModel(
            name="QualityRollupDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(unique=True)),
                ("rolled_at", models.DateTimeField()),
            ],
            options={"ordering": ["day"]},
        ),
        migrations.CreateModel(
            name="QualityDomainDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("status", models.CharField(max_length=16)),
                ("runs", models.PositiveIntegerField(default=0)),
                ("failed_runs", models.PositiveIntegerField(default=0)),
                ("scored", models.PositiveIntegerField(default=0)),
                ("score_sum", models.FloatField(default=0.0)),
                ("freshness_runs", models.PositiveIntegerField(default=0)),
                ("fresh_runs", models.PositiveIntegerField(default=0)),
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
                "ordering": ["day", "domain", "status"],
                "indexes": [models.Index(fields=["day", "domain"], name="qualitydomainday_day")],
            },
        ),
        migrations.CreateModel(
            name="QualityDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("runs", models.PositiveIntegerField(default=0)),
                ("failed_runs", models.PositiveIntegerField(default=0)),
                ("w_passed", models.FloatField(default=0.0)),
                ("w_total", models.FloatField(default=0.0)),
                ("freshness_runs", models.PositiveIntegerField(default=0)),
                ("fresh_runs", models.PositiveIntegerField(default=0)),
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
                "ordering": ["day", "product"],
                "constraints": [
                    models.UniqueConstraint(fields=("day", "product"), name="qualityday_unique")
                ],
            },
        ),
    ]
