"""Quality history: check runs, results, incidents."""

from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = "Quality"

    def ready(self) -> None:
        """Queue a ``publish`` check run after every committed contract version."""
        from catalog import lifecycle_hooks

        from .services import schedule_after_publish

        if schedule_after_publish not in lifecycle_hooks.AFTER_PUBLISH:
            lifecycle_hooks.AFTER_PUBLISH.append(schedule_after_publish)
