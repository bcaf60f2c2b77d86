"""The set-based SQL every importer's apply is made of.

Two steps, shared by the generic :meth:`~ingest.importers.base.Importer.apply`
and by importers that write several tables (the catalogue's books):

1. :func:`latest_rows` keeps the last staged row per natural key (a file
   may repeat a key; PostgreSQL refuses to update one row twice in one
   statement), into a temporary table;
2. :func:`rows_upsert` inserts those rows, in key order so that concurrent
   imports lock shared keys in the same order and cannot deadlock, and
   rewrites an existing row only where a value changed
   (``IS DISTINCT FROM``), so a file imported twice changes nothing.

Both run on PostgreSQL and SQLite; table and column names come from model
metadata and importer declarations, never from a file, and are quoted here
(a column may be called ``order``); expressions given in *select* and the
source side of *columns* are the caller's to quote.
"""

from collections.abc import Sequence

from django.db import connection


class UpsertCounts(tuple):
    """``(inserted, updated)``, and how many of the updated really changed.

    Still unpacks as the pair every ``apply`` returns; a preview reads
    :attr:`changed` to tell updated rows from unchanged ones.
    """

    changed: int | None

    def __new__(cls, inserted: int, updated: int, *, changed: int | None = None):
        counts = super().__new__(cls, (inserted, updated))
        counts.changed = changed
        return counts


def latest_rows(
    cursor,
    *,
    staging: str,
    final: str,
    key: Sequence[str],
    select: Sequence[str],
    join: str = "",
) -> int:
    """Create *final* with the last staged row per *key*; return its row count.

    *select* lists the expressions kept (``s.title``, ``a.id AS author_id``),
    *join* an optional ``JOIN … ON …`` against the staged rows ``s``.
    """
    partition = ", ".join(map(connection.ops.quote_name, key))
    cursor.execute(f"DROP TABLE IF EXISTS {final}")
    cursor.execute(
        f"CREATE TEMP TABLE {final} AS SELECT {', '.join(select)} FROM ("
        f" SELECT *, ROW_NUMBER() OVER (PARTITION BY {partition}"
        f" ORDER BY line DESC) AS rn FROM {staging}) AS s {join} WHERE s.rn = 1"
    )
    if cursor.rowcount is not None and cursor.rowcount >= 0:
        return cursor.rowcount  # PostgreSQL counts what CREATE … AS wrote.
    cursor.execute(f"SELECT COUNT(*) FROM {final}")
    return cursor.fetchone()[0]


def rows_upsert(
    cursor,
    *,
    table: str,
    final: str,
    columns: Sequence[tuple[str, str]],
    key: Sequence[str],
    distinct: int,
) -> UpsertCounts:
    """Upsert *final* into *table*; return (inserted, updated).

    *columns* pairs each target column with its column in *final*; *key*
    names the target columns of the unique natural key; *distinct* is
    :func:`latest_rows`' count. Rows already present count as updated,
    whether or not a value changed; ``changed`` says how many did (the
    statement's row count holds the inserted and the rewritten rows).
    """
    quote = connection.ops.quote_name
    columns = [(quote(target), src) for target, src in columns]
    key = [quote(target) for target in key]
    source = dict(columns)
    on_key = " AND ".join(f"t.{target} = f.{source[target]}" for target in key)
    cursor.execute(f"SELECT COUNT(*) FROM {final} AS f JOIN {table} AS t ON {on_key}")
    updated = cursor.fetchone()[0]
    others = [target for target, _ in columns if target not in key]
    if others:
        assignments = ", ".join(f"{c} = excluded.{c}" for c in others)
        changed = " OR ".join(
            f"{table}.{c} IS DISTINCT FROM excluded.{c}" for c in others
        )
        action = f"DO UPDATE SET {assignments} WHERE {changed}"
    else:
        action = "DO NOTHING"
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(target for target, _ in columns)})"
        f" SELECT {', '.join(src for _, src in columns)} FROM {final} WHERE true"
        f" ORDER BY {', '.join(source[target] for target in key)}"
        f" ON CONFLICT ({', '.join(key)}) {action}"
    )
    written = cursor.rowcount
    cursor.execute(f"DROP TABLE {final}")
    inserted = distinct - updated
    changed = written - inserted if written is not None and written >= 0 else None
    return UpsertCounts(inserted, updated, changed=changed)
