"""App configuration for ingest."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IngestConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ingest"
    verbose_name = _("Inbox ingest")

    def ready(self) -> None:
        # Imported for their registrations, as Django's own apps do: the
        # system checks, and the tasks, which services publish by name
        # (so a web process that never imports ingest.tasks can publish),
        # and the worker's connection check after each task.
        from . import checks, tasks, worker  # noqa: F401
