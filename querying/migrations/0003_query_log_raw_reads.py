# Issue 17: every raw PII column a query read, with its justification, and how each query
# (and each product it used) read PII, for the masking metric.

from django.db import migrations, models

PII_ACCESS = [
    ("", "No PII"),
    ("masked", "Masked"),
    ("grant", "Raw under an access grant"),
    ("domain_member", "Raw as a member of the domain"),
    ("domain_owner", "Raw as an owner of the domain"),
    ("admin", "Raw as a platform admin"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("querying", "0002_saved_queries"),
    ]

    operations = [
        migrations.AddField(
            model_name="querylog",
            name="raw_columns",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="querylog",
            name="pii_access",
            field=models.CharField(
                blank=True, choices=PII_ACCESS, db_index=True, default="", max_length=16
            ),
        ),
        migrations.AddField(
            model_name="queryproductuse",
            name="pii_access",
            field=models.CharField(blank=True, choices=PII_ACCESS, default="", max_length=16),
        ),
    ]
