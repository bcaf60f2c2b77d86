"""Import one file now, synchronously, through the task's own service."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ingest import services
from ingest.importers import importer_names
from ingest.models import InboxFile


class Command(BaseCommand):
    help = _("Import one CSV file now and print its summary; exit 1 if it is rejected.")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--importer",
            default="",
            choices=["", *importer_names()],
            help=_("The file's dataset (default: the one its header matches)."),
        )

    def handle(self, *args, path: Path, importer: str, **options):
        if not path.is_file():
            raise CommandError(gettext("%(path)s is not a file.") % {"path": path})
        row = services.file_register_path(path=path, importer=importer)
        summary = services.file_import(file_id=row.pk, task_id=row.task_id)
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
        if summary.get("status") not in (
            InboxFile.State.DONE,
            InboxFile.State.DUPLICATE,
        ):
            raise CommandError(
                gettext("%(name)s was not imported: %(reason)s")
                % {"name": path.name, "reason": summary.get("error", summary)}
            )
