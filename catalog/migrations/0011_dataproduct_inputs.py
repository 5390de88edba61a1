# Issue 16: products carry their contract's ``inputs`` on the row, so the contract rebuilt from
# the rows (the product API's body, deprecate and retire, the admin form) keeps them. Existing
# products take them from their latest contract version.

from django.db import migrations, models


def inputs_from_latest_version(apps, schema_editor):  # type: ignore[no-untyped-def]
    DataProduct = apps.get_model("catalog", "DataProduct")
    ContractVersion = apps.get_model("catalog", "ContractVersion")
    for product in DataProduct.objects.only("pk").iterator():
        latest = ContractVersion.objects.filter(product_id=product.pk).order_by("-id").first()
        inputs = (latest.document or {}).get("inputs") if latest is not None else None
        if isinstance(inputs, list) and inputs:
            DataProduct.objects.filter(pk=product.pk).update(inputs=inputs)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0010_consumer_kinds_lineage_usage")]

    operations = [
        migrations.AddField(
            model_name="dataproduct",
            name="inputs",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.RunPython(inputs_from_latest_version, migrations.RunPython.noop),
    ]
