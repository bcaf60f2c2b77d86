"""Stream validated rows into a temporary staging table.

PostgreSQL gets ``COPY … FROM STDIN``; other databases get batched
``executemany``. Either way memory holds one batch at most, and the
importer's set-based :meth:`~ingest.importers.base.Importer.apply` reads the
staged rows back with SQL.
"""

import contextlib
from collections.abc import Callable, Iterator

from django.db import connection

from .base import Importer

#: Rows per ``executemany`` on databases without COPY.
BATCH_SIZE = 5000


class Staging:
    """A connection-local temporary table, created on enter, dropped on exit."""

    def __init__(self, importer: Importer, table: str = "ingest_stage") -> None:
        self.importer = importer
        self.table = table
        self.columns = ["line", *(name for name, _type in importer.staging_columns)]

    def __enter__(self) -> "Staging":
        definition = ", ".join(
            ["line INTEGER", *(f"{n} {t}" for n, t in self.importer.staging_columns)]
        )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
            cursor.execute(f"CREATE TEMP TABLE {self.table} ({definition})")
        return self

    def __exit__(self, *exc_info) -> None:
        with contextlib.suppress(Exception), connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")

    @contextlib.contextmanager
    def writer(self) -> Iterator[Callable[[tuple], None]]:
        """Yield a function that stages one row tuple (line first)."""
        if connection.vendor == "postgresql":
            with self._copy_writer() as write:
                yield write
            with connection.cursor() as cursor:
                # Temporary tables are never auto-analysed; the planner needs
                # row counts to pick hash joins for the upsert.
                cursor.execute(f"ANALYZE {self.table}")
        else:
            with self._batch_writer() as write:
                yield write

    @contextlib.contextmanager
    def _copy_writer(self) -> Iterator[Callable[[tuple], None]]:
        columns = ", ".join(self.columns)
        with connection.cursor() as cursor:
            with cursor.cursor.copy(
                f"COPY {self.table} ({columns}) FROM STDIN"
            ) as copy:
                yield copy.write_row

    @contextlib.contextmanager
    def _batch_writer(self) -> Iterator[Callable[[tuple], None]]:
        placeholders = ", ".join(["%s"] * len(self.columns))
        columns = ", ".join(self.columns)
        sql = f"INSERT INTO {self.table} ({columns}) VALUES ({placeholders})"
        batch: list[tuple] = []
        with connection.cursor() as cursor:

            def write(row: tuple) -> None:
                batch.append(row)
                if len(batch) >= BATCH_SIZE:
                    cursor.executemany(sql, batch)
                    batch.clear()

            yield write
            if batch:
                cursor.executemany(sql, batch)
