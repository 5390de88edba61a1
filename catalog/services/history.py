"""What a product's contract versions say about its start, kept on the product (issue 16): when
its first draft version and its first published version were published
(``DataProduct.first_draft_at``, ``first_published_at``), so the metrics' time to publish reads
products instead of every version of every product.

Versions are appended in id order and never changed, so each publish notes the version it
appends (``first_versions_note``, under the product's lock); a history written in one go (the
demo's past) is read again whole (``first_versions_refresh``). Both follow one rule: the first
version (by id) whose document says ``published``, and the first saying ``draft`` before it;
the dates are ``ContractVersion.published_at``. Migration ``catalog/0013`` filled them in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models.fields.json import KeyTextTransform

from catalog.contract.vocabulary import ProductStatus
from catalog.models import ContractVersion, DataProduct


def first_versions_note(*, product: DataProduct, version: ContractVersion) -> None:
    """Store ``version`` (just appended to ``product``) as its first draft or its first
    published version when it is one."""
    if product.first_published_at is not None:
        return
    status = version.document.get("status") if isinstance(version.document, dict) else None
    if status == ProductStatus.PUBLISHED:
        product.first_published_at = version.published_at
        field = "first_published_at"
    elif status == ProductStatus.DRAFT and product.first_draft_at is None:
        product.first_draft_at = version.published_at
        field = "first_draft_at"
    else:
        return
    DataProduct.objects.filter(pk=product.pk).update(**{field: getattr(product, field)})


def first_versions_refresh(*, product_ids: Iterable[int]) -> int:
    """Read the versions of these products again (without their documents) and store each
    one's first draft and first published dates; returns how many products changed."""
    none: tuple[datetime | None, datetime | None] = (None, None)
    firsts = dict.fromkeys(product_ids, none)
    versions = (
        ContractVersion.objects.filter(product_id__in=list(firsts), is_legacy_duplicate=False)
        .defer("document")
        .annotate(
            doc_status=KeyTextTransform("status", "document"),
            # ContractVersion.published_at reads it when the document is not loaded.
            stated_published_at=KeyTextTransform("publishedAt", "document"),
        )
        .order_by("product_id", "id")
    )
    for version in versions:
        draft, published = firsts[version.product_id]
        if published is not None:
            continue
        if version.doc_status == ProductStatus.PUBLISHED:
            firsts[version.product_id] = (draft, version.published_at)
        elif version.doc_status == ProductStatus.DRAFT and draft is None:
            firsts[version.product_id] = (version.published_at, None)
    changed = []
    for product in DataProduct.objects.filter(pk__in=list(firsts)).only(
        "first_draft_at", "first_published_at"
    ):
        if (product.first_draft_at, product.first_published_at) != firsts[product.pk]:
            product.first_draft_at, product.first_published_at = firsts[product.pk]
            changed.append(product)
    DataProduct.objects.bulk_update(
        changed, ["first_draft_at", "first_published_at"], batch_size=500
    )
    return len(changed)
