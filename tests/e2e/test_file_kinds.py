"""Compressed CSVs, workbooks, archives and other kinds, through real processes.

A worker, beat's scan and the watcher on both setups (PostgreSQL + Redis,
and the embedded default): ``.csv.gz`` and ``.csv.bz2`` land as the books
inside, the same books compressed otherwise are a duplicate, an ``.xlsx``
with a title row above its header lands as its books, a ``.zip`` of two
CSVs becomes two ledger entries imported once each, and a ``report.pdf``
is refused with its reason and never left in the inbox.
"""

import bz2
import gzip
import io
import lzma
import os
import zipfile

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
    drop_bytes(stack.inbox, "каталог-грудень.xlsx", _workbook(12))
    parcel = io.BytesIO()
    with zipfile.ZipFile(parcel, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("partner/books-z1.csv", rows_csv("z1", 5))
        archive.writestr("partner/books-z2.csv", rows_csv("z2", 7))
    drop_bytes(stack.inbox, "partner-2026-12.zip", parcel.getvalue())

    def settled() -> bool:
        ledger = stack.ledger()
        return stack.done(
            "books-kinds.csv.gz",
            "books-other.csv.bz2",
            "каталог-грудень.xlsx",
            "partner-2026-12.zip",
            "books-z1.csv",
            "books-z2.csv",
        ) and [state for state, *_ in ledger.get("report.pdf", [])] == ["failed"]

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
    assert ledger["каталог-грудень.xlsx"] == [("done", 12, 12)]
    assert ledger["partner-2026-12.zip"] == [("done", 2, 0)]  # Its two members.
    assert ledger["books-z1.csv"] == [("done", 5, 5)]
    assert ledger["books-z2.csv"] == [("done", 7, 7)]
    ((error,),) = stack.query(
        "SELECT error FROM ingest_inboxfile WHERE name = 'report.pdf'"
    )
    assert error.startswith("Refused: 'report.pdf' is not a kind of file"), error
    assert (
        sorted(p.name for p in stack.inbox.iterdir() if not p.name.startswith("."))
        == []
    )


def _workbook(rows: int) -> bytes:
    """Return an .xlsx of *rows* books, a title row above the header."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Аркуш1"
    sheet.append(["Вивантаження 2026-12-01"])
    sheet.append(["title", "author", "year"])
    for n in range(rows):
        sheet.append([f"Книга {n}", "Автор аркуша", 1900 + n])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
