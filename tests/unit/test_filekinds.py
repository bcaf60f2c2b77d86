"""Compressed files are read as the file inside; other kinds are refused aloud.

Dropped into the inbox and scanned with eager tasks: ``.csv.gz``,
``.csv.bz2`` and ``.csv.xz`` import like the CSV they hold (the same data
compressed or not is one content, so a duplicate); a corrupt or inflating
file and a ``report.pdf`` each get a ledger row that says why, a move to
``failed/`` and an email.
"""

import bz2
import gzip
import lzma
import os

import pytest
from django.core import mail

from ingest import conf, filekinds, services
from ingest.models import InboxFile
from tests.factories import drop, journals_csv

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State
CONTENT = journals_csv(
    ("0028-0836", "Nature", 1869),
    ("0036-8075", "Science", 1880),
    ("0140-6736", "The Lancet", 1823),
).encode()
COMPRESS = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}


def imported(name: str, content: bytes) -> InboxFile:
    drop(name, content)
    services.inbox_scan()
    return InboxFile.objects.filter(name=name).latest("pk")


@pytest.mark.parametrize("suffix", ["gz", "bz2", "xz"])
def test_a_compressed_csv_imports_as_the_csv_inside(eager, suffix):
    compressed = COMPRESS[suffix](CONTENT)
    row = imported(f"journals.csv.{suffix}", compressed)
    assert (row.state, row.rows_imported, row.rows_rejected) == (State.DONE, 3, 0)
    assert row.size == len(compressed)
    assert row.dialect["header"] == ["issn", "title", "year"]
    archived = [p for p in conf.archive_dir().rglob("*") if p.is_file()]
    assert [p.name for p in archived] == [f"{row.pk}-journals.csv.{suffix}"]
    assert archived[0].read_bytes() == compressed  # Kept as it came.


def test_the_same_data_compressed_or_not_is_a_duplicate(eager):
    plain = imported("journals.csv", CONTENT)
    again = imported("journals-again.csv.gz", gzip.compress(CONTENT))
    assert plain.state == State.DONE
    assert (again.state, again.duplicate_of_id) == (State.DUPLICATE, plain.pk)
    assert again.sha256 == plain.sha256


def test_progress_counts_the_compressed_bytes(tmp_path):
    from ingest.importers.reader import csv_open

    path = tmp_path / "big.csv.gz"
    rows = b"".join(b"%04d-%04d,Title %d,1900\n" % (n, n, n) for n in range(20000))
    path.write_bytes(gzip.compress(b"issn,title,year\n" + rows))
    with csv_open(path) as source:
        assert sum(1 for _ in source.rows) == 20000
        assert source.bytes_read == source.size == os.path.getsize(path)


def test_a_corrupt_compressed_file_fails_with_a_reason(eager):
    row = imported("journals.csv.gz", b"this is not gzip data at all\n")
    assert row.state == State.FAILED
    assert row.error.startswith(
        "Refused: the file is not readable as .gz compressed data"
    ), row.error
    assert (conf.failed_dir() / f"{row.pk}-journals.csv.gz").exists()


def test_a_file_that_inflates_past_the_limit_is_refused(eager, settings):
    settings.INGEST_MAX_UNCOMPRESSED_BYTES = 1000
    content = CONTENT + b"".join(b"%08d,Filler,1900\n" % n for n in range(200))
    row = imported("journals.csv.xz", lzma.compress(content))
    assert row.state == State.FAILED
    assert row.error.startswith("Refused: the file inflates to more than 1"), row.error
    assert row.error.endswith(
        " bytes (INGEST_MAX_UNCOMPRESSED_BYTES); split it into smaller files."
    )
    assert row.rows_imported == 0


def test_a_decompression_bomb_is_refused_by_its_ratio(eager, settings, monkeypatch):
    monkeypatch.setattr(filekinds, "RATIO_GRACE_BYTES", 0)
    settings.INGEST_MAX_COMPRESSION_RATIO = 50
    bomb = gzip.compress(b"issn,title,year\n" + b"0000-0000,A,1900\n" * 50_000)
    row = imported("bomb.csv.gz", bomb)
    assert row.state == State.FAILED
    assert "inflates more than 50 times its compressed size" in row.error
    assert "decompression bomb" in row.error


def test_another_kind_of_file_is_recorded_refused_moved_and_mailed(eager):
    row = imported("report.pdf", b"%PDF-1.7 not data")
    assert row.state == State.FAILED
    assert row.error == (
        "Refused: 'report.pdf' is not a kind of file this service reads (it "
        "reads .csv, .csv.gz, .csv.bz2, .csv.xz, .xlsx, .xlsm, .xls, .ods, .zip); export "
        "the data as CSV and "
        "drop that instead."
    )
    assert not (conf.inbox_dir() / "report.pdf").exists()
    assert (conf.failed_dir() / f"{row.pk}-report.pdf").read_bytes() == (
        b"%PDF-1.7 not data"
    )
    assert [m.subject for m in mail.outbox] == [
        f"Import failed: report.pdf — {row.error}"[:200]
    ]
    # A second scan finds nothing new: the refusal is recorded once.
    services.inbox_scan()
    assert InboxFile.objects.filter(name="report.pdf").count() == 1


def test_names_say_the_kind_and_the_compression():
    assert filekinds.inner_name("export.CSV.GZ") == "export.CSV"
    assert filekinds.readable_ending("export.CSV.GZ") == ".CSV.GZ"
    assert filekinds.is_readable("a.csv.bz2") and filekinds.is_readable("b.Csv")
    for name in ["a.gz", "a.zip.gz", "a.txt", "a.csv.gz.bak", "csv"]:
        assert not filekinds.is_readable(name), name


def test_a_compressed_upload_is_taken_as_binary_and_imported(eager):
    row = services.file_upload(
        name="export.csv.gz", chunks=[gzip.compress(CONTENT)], importer="journals"
    )
    row.refresh_from_db()
    assert (row.name, row.state, row.rows_imported) == ("export.csv.gz", State.DONE, 3)
