"""Print recent ledger entries as a table."""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from ingest import selectors

COLUMNS = "{:>6}  {:<10}  {:<32}  {:>9}  {:>8}  {:>8}  {:>8}  {:<19}"


class Command(BaseCommand):
    help = _("Show the most recent inbox files and their outcome.")

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--state", default="")

    def handle(self, *args, limit: int, state: str, **options):
        self.stdout.write(
            COLUMNS.format(
                pgettext("ingest_status column", "id"),
                pgettext("ingest_status column", "state"),
                pgettext("ingest_status column", "file"),
                pgettext("ingest_status column", "imported"),
                pgettext("ingest_status column", "updated"),
                pgettext("ingest_status column", "rejected"),
                pgettext("ingest_status column", "seconds"),
                pgettext("ingest_status column", "seen"),
            )
        )
        for row in selectors.file_list(state=state, limit=limit):
            duration = "-" if row.duration is None else f"{row.duration:.1f}"
            self.stdout.write(
                COLUMNS.format(
                    row.pk,
                    row.state,
                    row.name[:32],
                    row.rows_imported,
                    row.rows_updated,
                    row.rows_rejected,
                    duration,
                    timezone.localtime(row.discovered_at).strftime("%Y-%m-%d %H:%M:%S"),
                )
            )
