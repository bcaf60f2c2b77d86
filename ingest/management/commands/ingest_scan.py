"""Scan an inbox once, now, in this process."""

import json

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ingest import services
from ingest.importers import importer_names
from ingest.models import Inbox


class Command(BaseCommand):
    help = _("Scan an inbox once now (register, queue and repair files).")

    def add_arguments(self, parser):
        parser.add_argument(
            "--inbox",
            default=None,
            help=_(
                "The inbox's name (default: the default inbox). A folder path "
                "is still accepted, deprecated."
            ),
        )
        parser.add_argument(
            "--importer",
            default="",
            choices=["", *importer_names()],
            help=_(
                "The dataset of every file this scan registers (default: the "
                "inbox's, else each file's header)."
            ),
        )

    def handle(self, *args, inbox: str | None, importer: str, **options):
        try:
            target = self._inbox(inbox)
            summary = services.inbox_scan(inbox=target, importer=importer)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(summary, ensure_ascii=False))

    def _inbox(self, name: str | None) -> Inbox:
        if not name:
            return services.inbox_default()
        found = Inbox.objects.filter(name=name).first()
        if found is not None:
            return found
        if name.startswith("/"):
            return services.inbox_legacy(folder=name, importer=None)
        known = ", ".join(Inbox.objects.values_list("name", flat=True)) or gettext(
            "none"
        )
        raise CommandError(
            gettext("No inbox is named %(name)s (inboxes: %(known)s).")
            % {"name": repr(name), "known": known}
        )
