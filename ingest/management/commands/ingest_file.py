"""Import one file now, synchronously, through the task's own service."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ingest import services
from ingest.importers import importer_names
from ingest.models import InboxFile


class Command(BaseCommand):
    help = "Import one CSV file now and print its summary; exit 1 if it is rejected."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--importer",
            default="",
            choices=["", *importer_names()],
            help="The file's dataset (default: the one its header matches).",
        )

    def handle(self, *args, path: Path, importer: str, **options):
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        row = services.file_register_path(path=path, importer=importer)
        summary = services.file_import(file_id=row.pk, task_id=row.task_id)
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
        if summary.get("status") not in (
            InboxFile.State.DONE,
            InboxFile.State.DUPLICATE,
        ):
            raise CommandError(
                f"{path.name} was not imported: {summary.get('error', summary)}"
            )
