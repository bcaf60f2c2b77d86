"""The scanner lists candidate files and nothing else."""

import os

from ingest.scanner import inbox_list, is_candidate_name


def test_csv_names_in_any_case_are_candidates():
    assert is_candidate_name("books.csv")
    assert is_candidate_name("BOOKS.CSV")
    assert is_candidate_name("Книги.Csv")


def test_hidden_temporary_and_other_names_are_ignored():
    for name in [
        ".books.csv",
        "books.csv~",
        "books.csv.part",
        "books.tmp",
        "notes.txt",
    ]:
        assert not is_candidate_name(name), name


def test_symlinks_are_reported_refused_and_never_followed(tmp_path):
    (tmp_path / "real.csv").write_text("title,author,year\n")
    os.symlink("/etc/passwd", tmp_path / "evil.csv")
    (tmp_path / "sub.csv").mkdir()
    found = {f.name: f for f in inbox_list(tmp_path)}
    assert set(found) == {"real.csv", "evil.csv"}
    assert found["real.csv"].refused == ""
    assert "symbolic link" in found["evil.csv"].refused
