# Issue 16: consumers are named things of a kind (dashboard, application, notebook, team, or a
# downstream product), unique per product by kind and name; their registrations and
# withdrawals are kept (ConsumerChange); products carry their 30-day usage for search.
# Existing registrations become ``team`` consumers named after their team, each with a
# "registered" change at its registration time.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import catalog.models


def name_existing_consumers(apps, schema_editor):  # type: ignore[no-untyped-def]
    Consumer = apps.get_model("catalog", "Consumer")
    ConsumerChange = apps.get_model("catalog", "ConsumerChange")
    changes = []
    for consumer in Consumer.objects.all().iterator():
        consumer.name = consumer.team
        consumer.kind = "team"
        consumer.save(update_fields=["name", "kind"])
        changes.append(
            ConsumerChange(
                product_id=consumer.product_id,
                kind="team",
                name=consumer.team,
                team=consumer.team,
                action="registered",
                actor_id=consumer.registered_by_id,
                at=consumer.registered_at,
            )
        )
    ConsumerChange.objects.bulk_create(changes, batch_size=500)


KINDS = [
    ("dashboard", "Dashboard"),
    ("application", "Application"),
    ("notebook", "Notebook"),
    ("team", "Team"),
    ("product", "Data product"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0009_domain_access_settings_product_access"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsumerChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(choices=KINDS, max_length=16)),
                ("name", models.CharField(max_length=200)),
                ("team", models.CharField(blank=True, max_length=200)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("registered", "Registered"),
                            ("updated", "Updated"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        max_length=16,
                    ),
                ),
                ("note", models.TextField(blank=True)),
                ("at", models.DateTimeField(db_index=True)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "product",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="consumer_changes",
                        to="catalog.dataproduct",
                    ),
                ),
            ],
            options={
                "ordering": ["-at", "-id"],
                "indexes": [
                    models.Index(fields=["product", "-at"], name="consumerchange_product_at")
                ],
            },
        ),
        migrations.AlterModelOptions(
            name="consumer", options={"ordering": ["product", "kind", "name"]}
        ),
        migrations.RemoveConstraint(model_name="consumer", name="unique_consumer_team"),
        migrations.AddField(
            model_name="consumer",
            name="kind",
            field=models.CharField(choices=KINDS, default="team", max_length=16),
        ),
        migrations.AddField(
            model_name="consumer",
            name="name",
            field=models.CharField(default="", max_length=200),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="consumer",
            name="url",
            field=models.URLField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="consumer",
            name="downstream",
            field=models.ForeignKey(
                blank=True,
                help_text="The product built from this one (kind product)",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="input_links",
                to="catalog.dataproduct",
            ),
        ),
        migrations.RunPython(name_existing_consumers, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="consumer",
            constraint=models.UniqueConstraint(
                fields=("product", "kind", "name"), name="unique_consumer_kind_name"
            ),
        ),
        migrations.AddIndex(
            model_name="consumer",
            index=models.Index(fields=["downstream", "kind"], name="consumer_downstream"),
        ),
        migrations.AddField(
            model_name="dataproduct",
            name="queries_30d",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="dataproduct",
            name="users_30d",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="dataproduct",
            name="usage_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="dataproduct",
            index=catalog.models.PortableOrderIndex(
                models.Case(
                    models.When(status="deprecated", then=models.Value(1)),
                    default=models.Value(0),
                    output_field=models.IntegerField(),
                ),
                models.OrderBy(models.F("queries_30d"), descending=True),
                models.F("product_id"),
                name="catalog_product_popular",
            ),
        ),
    ]
