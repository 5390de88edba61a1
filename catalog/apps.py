from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        # Governance gates (issue 6) and the consumer notices after each publish.
        from . import governance, lifecycle

        governance.register_gates()
        lifecycle.register_hooks()
