# Stored full-text vector for catalog search (PostgreSQL); filled here for existing rows,
# then kept by catalog.search.search_index_refresh on every publish.

import django.contrib.postgres.search
from django.contrib.postgres.aggregates import StringAgg
from django.contrib.postgres.search import SearchVector
from django.db import migrations
from django.db.models import OuterRef, Subquery, TextField
from django.db.models.functions import Cast

import catalog.models


def fill_search_vector(apps, schema_editor):
    # Same document as catalog.search.search_vector_expression, written against the historical
    # models so this migration does not change when that module does.
    if schema_editor.connection.vendor != "postgresql":
        return
    DataProduct = apps.get_model("catalog", "DataProduct")
    Column = apps.get_model("catalog", "Column")
    column_names = Subquery(
        Column.objects.filter(product=OuterRef("pk"))
        .values("product")
        .annotate(names=StringAgg("name", delimiter=" "))
        .values("names")[:1],
        output_field=TextField(),
    )
    DataProduct.objects.using(schema_editor.connection.alias).update(
        search_vector=SearchVector("name", weight="A", config="simple")
        + SearchVector(Cast("tags", TextField()), weight="B", config="simple")
        + SearchVector(column_names, weight="C", config="simple")
        + SearchVector("description", weight="D", config="simple")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_governance_policy"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataproduct",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        # Fill before indexing: one GIN build is cheaper than maintaining it row by row.
        migrations.RunPython(fill_search_vector, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="dataproduct",
            index=catalog.models.SearchVectorIndex(
                fields=["search_vector"], name="catalog_product_search_gin"
            ),
        ),
    ]
