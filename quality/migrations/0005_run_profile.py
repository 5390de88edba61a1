# Issue 15: the column profile each check run stores (quality.models.RunProfile).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_dataproduct_stored_health"),
        ("quality", "0004_incident_acknowledgement"),
    ]

    operations = [
        migrations.CreateModel(
            name="RunProfile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("computed_at", models.DateTimeField()),
                ("data", models.JSONField(default=dict)),
                (
                    "product",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="profiles",
                        to="catalog.dataproduct",
                    ),
                ),
                (
                    "run",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="profile",
                        to="quality.checkrun",
                    ),
                ),
            ],
            options={
                "ordering": ["-computed_at", "-id"],
                "indexes": [
                    models.Index(
                        fields=["product", "-computed_at"], name="runprofile_product_recent"
                    )
                ],
            },
        ),
    ]
