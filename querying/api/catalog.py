"""``GET /v1/query/catalog``: what the editor may complete (issue 19): the products, tables and
columns the caller may read, each column's type and whether it is PII (and how it is masked
for the caller). Read from ``querying.selectors.queryable_products``, the query page's list."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import PortalAPIView
from querying.selectors import queryable_products


class QueryCatalogApi(PortalAPIView):
    """The names the SQL editor completes, for the calling user only."""

    @extend_schema(
        responses={
            200: OpenApiResponse(
                description="{products: [{id, name, table, status, "
                "queryable, columns: [{name, type, pii, mask}]}]}"
            )
        },
        summary="Products, tables and columns you may query (the editor's autocomplete)",
    )
    def get(self, request: Request) -> Response:
        products = queryable_products(request.user, now=timezone.now())
        return Response(
            {
                "products": [
                    {
                        "id": p.product_id,
                        "name": p.name,
                        "table": p.table,
                        "status": p.status,
                        "queryable": p.refusal is None,
                        "columns": [
                            {"name": c.name, "type": c.type, "pii": c.pii, "mask": c.mask}
                            for c in p.columns
                        ],
                    }
                    for p in products
                ]
            }
        )
