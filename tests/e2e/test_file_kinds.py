"""Compressed CSVs and files of other kinds, through real processes.

A worker, beat's scan and the watcher on both setups (PostgreSQL + Redis,
and the embedded default): ``.csv.gz``, ``.csv.bz2`` and ``.csv.xz`` land
as the books inside, the same books compressed otherwise are a duplicate,
and a ``report.pdf`` is refused with its reason, moved to ``failed/`` and
never left in the inbox.
"""

import bz2
import gzip
import lzma
import os

import pytest

from tests.e2e.harness import wait_until
from tests.e2e.test_watcher import (  # noqa: F401 - fixtures, found by name.
    DEADLINE,
    embedded_stack,
    postgres_stack,
    rows_csv,
    sqlite_template,
    stack,
)

pytestmark = pytest.mark.e2e


def drop_bytes(inbox, name: str, content: bytes) -> None:
    hidden = inbox / f".{name}.part"
    hidden.write_bytes(content)
    os.rename(hidden, inbox / name)


def test_compressed_books_and_a_pdf_through_worker_beat_and_watcher(stack):  # noqa: F811
    stack.scan_on()
    stack.services.worker()
    stack.services.beat()
    stack.services.watcher()
    books = rows_csv("kinds", 12).encode()
    drop_bytes(stack.inbox, "books-kinds.csv.gz", gzip.compress(books))
    drop_bytes(
        stack.inbox, "books-other.csv.bz2", bz2.compress(rows_csv("bz", 10).encode())
    )
    drop_bytes(stack.inbox, "report.pdf", b"%PDF-1.7 a report, not data")

    def settled() -> bool:
        ledger = stack.ledger()
        return stack.done("books-kinds.csv.gz", "books-other.csv.bz2") and [
            state for state, *_ in ledger.get("report.pdf", [])
        ] == ["failed"]

    wait_until(
        settled, DEADLINE, message="three files settled", services=stack.services
    )
    # The same books, compressed another way: one content, a duplicate.
    drop_bytes(stack.inbox, "books-kinds-again.csv.xz", lzma.compress(books))
    wait_until(
        lambda: (
            [s for s, *_ in stack.ledger().get("books-kinds-again.csv.xz", [])]
            == ["duplicate"]
        ),
        DEADLINE,
        message="the .xz copy is a duplicate",
        services=stack.services,
    )
    ledger = stack.ledger()
    assert ledger["books-kinds.csv.gz"] == [("done", 12, 12)]
    assert ledger["books-other.csv.bz2"] == [("done", 10, 10)]
    ((error,),) = stack.query(
        "SELECT error FROM ingest_inboxfile WHERE name = 'report.pdf'"
    )
    assert error.startswith("Refused: 'report.pdf' is not a kind of file"), error
    assert (
        sorted(p.name for p in stack.inbox.iterdir() if not p.name.startswith("."))
        == []
    )
