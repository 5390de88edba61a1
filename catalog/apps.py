from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The catalog: nothing is wired at start-up (a publish reads top to bottom in
    catalog/services/publish.py)."""

    name = "catalog"
    verbose_name = "Catalog"
