"""The scanner lists candidate files and nothing else."""

import os

from ingest.scanner import inbox_list, is_candidate_name


def test_csv_names_in_any_case_are_candidates():
    assert is_candidate_name("books.csv")
    assert is_candidate_name("BOOKS.CSV")
    assert is_candidate_name("Книги.Csv")


def test_hidden_and_temporary_names_are_ignored():
    for name in [
        ".books.csv",
        "books.csv~",
        "books.csv.part",
        "books.tmp",
        "books.csv.gz.crdownload",
    ]:
        assert not is_candidate_name(name), name


def test_other_kinds_of_file_are_listed_refused_with_what_is_read(tmp_path):
    for name in ["books.csv", "export.csv.gz", "a.CSV.BZ2", "b.csv.xz", "report.pdf"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("hello")
    found = {f.name: f for f in inbox_list(tmp_path)}
    assert set(found) == {
        "books.csv",
        "export.csv.gz",
        "a.CSV.BZ2",
        "b.csv.xz",
        "report.pdf",
        "notes.txt",
    }
    readable = {name for name, f in found.items() if not f.refused}
    assert readable == {"books.csv", "export.csv.gz", "a.CSV.BZ2", "b.csv.xz"}
    assert str(found["report.pdf"].refused) == (
        "Refused: 'report.pdf' is not a kind of file this service reads (it "
        "reads .csv, .csv.gz, .csv.bz2, .csv.xz, .xlsx, .xlsm, .xls, .ods, .zip); export "
        "the data as CSV and "
        "drop that instead."
    )


def test_symlinks_are_reported_refused_and_never_followed(tmp_path):
    (tmp_path / "real.csv").write_text("title,author,year\n")
    os.symlink("/etc/passwd", tmp_path / "evil.csv")
    (tmp_path / "sub.csv").mkdir()
    found = {f.name: f for f in inbox_list(tmp_path)}
    assert set(found) == {"real.csv", "evil.csv"}
    assert found["real.csv"].refused == ""
    assert "symbolic link" in found["evil.csv"].refused
