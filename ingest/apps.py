"""App configuration for ingest."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IngestConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ingest"
    verbose_name = _("Inbox ingest")

    def ready(self) -> None:
        # Imported for its @register side effect, as Django's own apps do.
        from . import checks  # noqa: F401
