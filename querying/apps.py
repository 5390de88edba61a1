from django.apps import AppConfig


class QueryingConfig(AppConfig):
    name = "querying"
    verbose_name = "Governed queries"
