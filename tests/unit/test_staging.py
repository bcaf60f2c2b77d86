"""The staging table: kept on a connection for the next small import, never stale."""

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from ingest.importers import importer_get, staging
from ingest.importers.staging import Staging

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def staged_rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT line, issn FROM {table} ORDER BY line")
        return cursor.fetchall()


def stage(rows: list[tuple]) -> Staging:
    with Staging(importer_get("journals")) as table:
        with table.writer() as write:
            write(rows)
        assert staged_rows(table.table) == [(line, key) for line, key, *_ in rows]
    return table


def test_a_small_import_leaves_its_table_to_the_next_which_starts_empty():
    first = stage(
        [(2, "0001-0001", "One", 2000, ""), (3, "0001-0002", "Two", 2001, "")]
    )
    with CaptureQueriesContext(connection) as captured:
        second = stage([(2, "0001-0003", "Three", 2002, "")])
    assert second.table == first.table
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert "DROP TABLE" not in sql and "CREATE TEMP TABLE IF NOT EXISTS" in sql
    assert staged_rows(second.table) == [(2, "0001-0003")]  # Kept, for next time.


def test_a_large_import_drops_its_table(monkeypatch):
    monkeypatch.setattr(staging, "KEEP_MAX_ROWS", 2)
    table = stage(
        [(2, "0001-0001", "One", 2000, ""), (3, "0001-0002", "Two", 2001, "")]
    )
    with connection.cursor() as cursor, pytest.raises(DatabaseError):
        cursor.execute(f"SELECT 1 FROM {table.table}")


def test_an_import_that_failed_drops_its_table():
    with pytest.raises(RuntimeError), Staging(importer_get("journals")) as table:
        with table.writer() as write:
            write([(2, "0001-0001", "One", 2000, "")])
        raise RuntimeError("the import failed")
    assert table.staged == 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM sqlite_temp_master WHERE name = %s"
            if connection.vendor == "sqlite"
            else "SELECT COUNT(*) FROM pg_class WHERE relname = %s"
            " AND relpersistence = 't' AND pg_table_is_visible(oid)",
            [table.table],
        )
        assert cursor.fetchone()[0] == 0


def test_other_columns_get_another_table():
    journals = Staging(importer_get("journals"))
    publishers = Staging(importer_get("publishers"))
    assert journals.table != publishers.table
    assert journals.table.startswith("ingest_stage_") and len(journals.table) < 64
