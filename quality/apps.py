"""Quality history: check runs, results, incidents."""

from django.apps import AppConfig


class QualityConfig(AppConfig):
    """Nothing is wired at start-up: the dispatcher sees a published version as data."""

    name = "quality"
    verbose_name = "Quality"
