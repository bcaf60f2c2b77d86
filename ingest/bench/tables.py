"""Guard the importer's tables before a run and give back exactly what it took.

The tables are those of the models the importer writes
(:meth:`~ingest.importers.base.Importer.models_written`), rows pointing at
others first, so deleting in that order never breaks a foreign key.
"""

from django.db import DatabaseError, connection, transaction

from ..importers import Importer
from ..models import InboxFile


class BenchRefused(Exception):
    """The benchmark will not run here; the message says why."""


def _tables(importer: Importer) -> list[str]:
    return [model._meta.db_table for model in importer.models_written()]


def tables_counts(importer: Importer) -> dict[str, int]:
    """Return the row count of each table *importer* writes."""
    return {
        model._meta.db_table: model.objects.count()
        for model in importer.models_written()
    }


def tables_snapshot(importer: Importer) -> dict[str, int]:
    """Return the highest ids now, so cleanup can drop only newer rows."""
    with connection.cursor() as cursor:
        marks = {}
        for table in _tables(importer):
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            marks[table] = cursor.fetchone()[0]
    return marks


def tables_guard(importer: Importer, *, force: bool) -> dict[str, int]:
    """Refuse tables that hold data unless forced; return the id marks."""
    if not importer.models_written():
        raise BenchRefused(
            f"The {importer.name} importer names no models it writes "
            "(model, or writes = (...)): the benchmark could not clean up."
        )
    counts = tables_counts(importer)
    if any(counts.values()) and not force:
        held = ", ".join(f"{table}: {count} rows" for table, count in counts.items())
        raise BenchRefused(
            f"The {importer.name} tables are not empty ({held}). Run the "
            "benchmark on a database of its own, or pass --force to add to "
            "this one (only rows the benchmark created are removed afterwards)."
        )
    return tables_snapshot(importer)


def tables_restore(importer: Importer, marks: dict[str, int]) -> None:
    """Remove the rows created since *marks* was taken.

    On tables that were empty, ``TRUNCATE`` (PostgreSQL) leaves no dead rows
    behind for the next run to wade through.
    """
    tables = _tables(importer)
    with transaction.atomic(), connection.cursor() as cursor:
        if not any(marks.values()) and connection.vendor == "postgresql":
            try:
                with transaction.atomic():
                    cursor.execute(f"TRUNCATE {', '.join(tables)}")
                return
            except DatabaseError:
                # Another table points at these (authors without books):
                # PostgreSQL refuses to truncate them alone; delete instead.
                pass
        for table in tables:
            cursor.execute(f"DELETE FROM {table} WHERE id > %s", [marks[table]])


def ledger_forget(file_ids: list[int]) -> None:
    """Delete the benchmark's ledger entries (row errors cascade)."""
    InboxFile.objects.filter(pk__in=file_ids).delete()


def folder_forget(folder: str) -> None:
    """Delete the ledger entries of the bench inbox *folder*, and their task results."""
    from django_celery_results.models import TaskResult

    ledger = InboxFile.objects.filter(folder=folder)
    task_ids = list(ledger.values_list("task_id", flat=True))
    TaskResult.objects.filter(task_id__in=task_ids).delete()
    ledger.delete()
