"""The floor: the same file loaded by plain SQL, no Python validation."""

import csv
import itertools
import time
from pathlib import Path

from django.db import connection, transaction

from ..importers import Importer

#: Rows per ``executemany`` of the SQLite floor (same as the staging writer).
FLOOR_BATCH = 5000


def floor_load(path: Path, importer: Importer) -> dict[str, float]:
    """Return the seconds plain SQL takes to load *path*; leaves no trace.

    PostgreSQL: the raw file through ``COPY … (FORMAT csv, HEADER)`` into a
    staging table, ``ANALYZE``, then the importer's own set-based apply.
    Elsewhere: the stdlib ``csv`` module and ``executemany``, then the same
    apply. The deferred foreign-key checks are included (their share is
    ``constraint_check_seconds``); the load is rolled back, so the real
    import starts from the same tables. The staging table has the
    importer's own staging columns, in the order of its header.
    """
    table = "ingest_bench_floor"
    quote = connection.ops.quote_name
    names = [quote(name) for name, _type in importer.staging_columns]
    typed = ", ".join(f"{quote(n)} {sql}" for n, sql in importer.staging_columns)
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.monotonic()
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMP TABLE {table} (line BIGINT GENERATED ALWAYS AS "
                f"IDENTITY, {typed}) ON COMMIT DROP"
            )
            with (
                cursor.cursor.copy(
                    f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT csv, HEADER)"
                ) as copy,
                open(path, "rb") as handle,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
            cursor.execute(f"ANALYZE {table}")
        else:
            cursor.execute(f"CREATE TEMP TABLE {table} (line INTEGER, {typed})")
            marks = ", ".join(["%s"] * (len(names) + 1))
            sql = f"INSERT INTO {table} VALUES ({marks})"
            with open(path, encoding="utf-8", newline="") as handle:
                reader = csv.reader(handle)
                next(reader)
                numbered = ((n, *fields) for n, fields in enumerate(reader, 2))
                while batch := list(itertools.islice(numbered, FLOOR_BATCH)):
                    cursor.executemany(sql, batch)
        importer.apply(cursor, table)
        applied = time.monotonic()
        if connection.vendor == "postgresql":
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: their
            # checks run at COMMIT, which a rolled-back floor never reaches.
            # Run them now, or the floor would skip work the import must do.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        finished = time.monotonic()
        if connection.vendor != "postgresql":
            cursor.execute(f"DROP TABLE {table}")
        transaction.set_rollback(True)
    return {
        "seconds": finished - started,
        "constraint_check_seconds": finished - applied,
    }
