# The one health verdict, denormalised on the product by quality (issue 14): catalog pages
# read these columns instead of quality's tables. Empty until quality's first refresh (after a
# run, an incident change, or the beat's refresh every two minutes): a product reads "not
# checked yet" until then.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_table_namespace_consumer_registrant_unique_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataproduct",
            name="health",
            field=models.CharField(
                choices=[
                    ("ok", "ok"),
                    ("warning", "warning"),
                    ("failing", "failing"),
                    ("stale", "stale"),
                    ("unknown", "unknown"),
                ],
                default="unknown",
                editable=False,
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="dataproduct",
            name="health_reasons",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.AddField(
            model_name="dataproduct",
            name="health_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="dataproduct",
            name="health_facts",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
    ]
