# Issue 16: products carry the dates of their first draft and first published versions, so the
# metrics' time to publish reads products instead of every version (catalog/services/history.py
# keeps them from now on). Existing products take them from their versions, by the same rule.

from datetime import datetime

from django.db import migrations, models


def _published_at(stated, created_at):  # type: ignore[no-untyped-def]
    # ContractVersion.published_at: the document's publishedAt when it is an ISO date and time
    # with a zone, else when the version was stored.
    if isinstance(stated, str):
        try:
            parsed = datetime.fromisoformat(stated.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return created_at


def first_versions_from_history(apps, schema_editor):  # type: ignore[no-untyped-def]
    DataProduct = apps.get_model("catalog", "DataProduct")
    ContractVersion = apps.get_model("catalog", "ContractVersion")
    firsts = {}
    versions = (
        ContractVersion.objects.filter(is_legacy_duplicate=False)
        .order_by("product_id", "id")
        .values_list("product_id", "document", "created_at")
    )
    for product_id, document, created_at in versions.iterator(chunk_size=500):
        draft, published = firsts.get(product_id, (None, None))
        if published is not None or not isinstance(document, dict):
            continue
        when = _published_at(document.get("publishedAt"), created_at)
        if document.get("status") == "published":
            firsts[product_id] = (draft, when)
        elif document.get("status") == "draft" and draft is None:
            firsts[product_id] = (when, None)
    for product_id, (draft, published) in firsts.items():
        DataProduct.objects.filter(pk=product_id).update(
            first_draft_at=draft, first_published_at=published
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0012_warehouse_connections")]

    operations = [
        migrations.AddField(
            model_name="dataproduct",
            name="first_draft_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="dataproduct",
            name="first_published_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(first_versions_from_history, migrations.RunPython.noop),
    ]
