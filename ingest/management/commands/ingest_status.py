"""Print recent ledger entries as a table."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from ingest import selectors

COLUMNS = "{:>6}  {:<10}  {:<32}  {:>9}  {:>8}  {:>8}  {:>8}  {:<19}"


class Command(BaseCommand):
    help = "Show the most recent inbox files and their outcome."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--state", default="")

    def handle(self, *args, limit: int, state: str, **options):
        self.stdout.write(
            COLUMNS.format(
                "id",
                "state",
                "file",
                "imported",
                "updated",
                "rejected",
                "seconds",
                "seen",
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
