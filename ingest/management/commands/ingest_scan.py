"""Scan an inbox once, now, in this process."""

import json

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from ingest import services


class Command(BaseCommand):
    help = "Scan the inbox once now (register, queue and repair files)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--inbox", default=None, help="Another allowed inbox folder."
        )

    def handle(self, *args, inbox: str | None, **options):
        try:
            summary = services.inbox_scan(inbox=inbox)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(summary))
