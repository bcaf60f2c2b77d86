"""Stream validated rows into a temporary staging table.

Two writers behind one interface, both fed batches by the one validation
pipeline: PostgreSQL gets ``COPY … FROM STDIN`` (text format, built here in
large chunks), other databases get ``executemany``. Either way memory holds
one batch at most, and the importer's set-based
:meth:`~ingest.importers.base.Importer.apply` reads the staged rows back
with SQL.
"""

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from typing import Literal

from django.db import connection

from .base import Importer

Method = Literal["copy", "batch"]
WriteFn = Callable[[list[tuple]], None]

#: COPY text format escapes: these four would otherwise end a field or row.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
#: Fewer staged rows than this need no statistics: any plan is fast, and a
#: small file saves a statement.
ANALYZE_MIN_ROWS = 10_000
#: COPY text format's NULL.
COPY_NULL = "\\N"
#: A staging table that held more rows than this is dropped after its
#: import (its space returned); a smaller one is kept for the next import.
KEEP_MAX_ROWS = 10_000


def copy_line(row: tuple) -> str:
    """Return one row as a line of COPY text format, escaping every field."""
    return (
        "\t".join(
            [
                COPY_NULL
                if value is None
                else value.translate(COPY_ESCAPES)
                if isinstance(value, str)
                else str(value)
                for value in row
            ]
        )
        + "\n"
    )


def copy_text(rows: list[tuple], width: int) -> str:
    """Return *rows* (each *width* values) as COPY text format.

    The fast path formats the whole batch with one ``%`` template a row and
    then proves it needed no escaping: no backslash or CR anywhere, exactly
    one tab between fields and one newline a row (so no field held either),
    and no ``None`` (a NULL would have printed as that word). A batch that
    fails the proof is formatted again field by field with escaping.
    """
    template = "\t".join(["%s"] * width) + "\n"
    text = "".join([template % row for row in rows])
    if (
        "\\" in text
        or "\r" in text
        or "None" in text
        or text.count("\n") != len(rows)
        or text.count("\t") != (width - 1) * len(rows)
    ):
        text = "".join([copy_line(row) for row in rows])
    return text


class Staging:
    """A connection-local temporary table, emptied on enter, kept if small.

    A worker keeps its connection from one import to the next
    (:mod:`ingest.worker`), and making a temporary table costs the
    catalogue a table (rows in ``pg_class``, ``pg_attribute``, ``pg_type``,
    each committed) every time: a small import empties the one it finds
    instead, and only a large one drops it afterwards. The name carries a
    digest of the columns, so files staged with other columns get a table
    of their own.
    """

    #: Writer used when :meth:`writer` is not told; None picks by database.
    method: Method | None = None

    def __init__(self, importer: Importer, table: str | None = None) -> None:
        self.importer = importer
        quote = connection.ops.quote_name
        self.columns = ["line", *(name for name, _type in importer.staging_columns)]
        #: The columns as SQL names them: a column may be called "order".
        self.quoted = ", ".join(map(quote, self.columns))
        self.definition = ", ".join(
            ["line INTEGER", *(f"{quote(n)} {t}" for n, t in importer.staging_columns)]
        )
        digest = hashlib.sha1(self.definition.encode(), usedforsecurity=False)
        self.table = table or f"ingest_stage_{digest.hexdigest()[:12]}"
        self.staged = 0

    def __enter__(self) -> "Staging":
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {self.table} ({self.definition})"
            )
            # Whatever an earlier import on this connection left behind.
            cursor.execute(f"DELETE FROM {self.table}")
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        if exc_type is None and self.staged < KEEP_MAX_ROWS:
            return  # Emptied by the next import on this connection.
        with contextlib.suppress(Exception), connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")

    @contextlib.contextmanager
    def writer(self, method: Method | None = None) -> Iterator[WriteFn]:
        """Yield a function that stages a batch of row tuples (line first).

        *method* defaults to ``copy`` on PostgreSQL and ``batch`` elsewhere;
        tests force ``batch`` on PostgreSQL to hold both writers to the same
        behaviour.
        """
        method = method or self.method
        if method is None:
            method = "copy" if connection.vendor == "postgresql" else "batch"
        staged = 0

        def counting(write: WriteFn) -> WriteFn:
            def counted(rows: list[tuple]) -> None:
                nonlocal staged
                staged += len(rows)
                write(rows)

            return counted

        factory = self._copy_writer if method == "copy" else self._batch_writer
        with factory() as write:
            yield counting(write)
        self.staged += staged
        if connection.vendor == "postgresql" and staged >= ANALYZE_MIN_ROWS:
            with connection.cursor() as cursor:
                # Temporary tables are never auto-analysed; the planner needs
                # row counts to pick hash joins for the upsert.
                cursor.execute(f"ANALYZE {self.table}")

    @contextlib.contextmanager
    def _copy_writer(self) -> Iterator[WriteFn]:
        columns, width = self.quoted, len(self.columns)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy,
        ):

            def write(rows: list[tuple]) -> None:
                copy.write(copy_text(rows, width))

            yield write

    @contextlib.contextmanager
    def _batch_writer(self) -> Iterator[WriteFn]:
        placeholders = ", ".join(["%s"] * len(self.columns))
        columns = self.quoted
        sql = f"INSERT INTO {self.table} ({columns}) VALUES ({placeholders})"
        # In autocommit mode each inserted row would be a transaction of its
        # own; one per batch is far cheaper. A plain (deferred) BEGIN on
        # SQLite locks no other database than the temporary one we write.
        explicit = connection.vendor == "sqlite" and connection.get_autocommit()
        with connection.cursor() as cursor:

            def write(rows: list[tuple]) -> None:
                if explicit:
                    cursor.execute("BEGIN")
                    try:
                        cursor.executemany(sql, rows)
                    except BaseException:
                        cursor.execute("ROLLBACK")
                        raise
                    cursor.execute("COMMIT")
                else:
                    cursor.executemany(sql, rows)

            yield write
