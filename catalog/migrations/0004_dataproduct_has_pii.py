"""DataProduct.has_pii: denormalised from the columns, filled for existing products."""

from django.db import migrations, models


def fill_has_pii(apps, schema_editor):  # type: ignore[no-untyped-def]
    DataProduct = apps.get_model("catalog", "DataProduct")
    Column = apps.get_model("catalog", "Column")
    pii = Column.objects.filter(product=models.OuterRef("pk"), pii=True)
    DataProduct.objects.update(has_pii=models.Exists(pii))


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_dataproduct_search_vector"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataproduct",
            name="has_pii",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(fill_has_pii, migrations.RunPython.noop, elidable=True),
    ]
