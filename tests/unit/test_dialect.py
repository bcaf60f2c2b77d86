"""The dialect, header row and encoding come from the data, not the header alone."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from ingest.importers.base import FileRejected
from ingest.importers.dialect import dialect_detect
from ingest.importers.reader import csv_open

RUSSIAN = (
    "title,author,year\nВойна и мир,Лев Толстой,1869\nОбломов,Иван Гончаров,1859\n"
)
UKRAINIAN = (
    "title,author,year\nКобзар,Тарас Шевченко,1840\nЛісова пісня,Леся Українка,1911\n"
)


def detect(text: str, **overrides):
    return dialect_detect(text, complete=True, **overrides)


def opened(tmp_path: Path, data: bytes, **options) -> dict:
    path = tmp_path / "books.csv"
    path.write_bytes(data)
    with csv_open(path, **options) as source:
        rows = list(source.rows)
        return source.described() | {"rows": rows}


def test_the_delimiter_is_the_one_the_records_agree_on_not_the_headers():
    # A header written by hand with ";" over comma-separated data.
    dialect = detect("title;author;year\nA,B,2000\nC,D,2001\nE,F,2002\n")
    assert dialect.delimiter == ","
    assert (dialect.header_line, dialect.skipped) == (2, [(1, "title;author;year")])


def test_a_title_line_and_blank_lines_above_the_header_are_a_preamble():
    dialect = detect("Books, December\n\n\ntitle;author;year\nA;B;2000\nC;D;2001\n")
    assert (dialect.delimiter, dialect.header_line) == (";", 4)
    assert dialect.skipped == [(1, "Books, December")]


def test_an_excel_title_row_padded_with_delimiters_is_not_the_header():
    dialect = detect("Exported by 1C;;\r\n;;\r\ntitle;author;year\r\nA;B;1\r\n")
    assert (dialect.header_line, dialect.lineterminator) == (3, "CRLF")
    assert dialect.skipped == [(1, "Exported by 1C;;")]


def test_a_one_column_file_reads_each_line_whole_under_its_first_line(tmp_path):
    data = b"title\nKobzar\nLisova pisnia, a drama\nEneida\n"
    seen = opened(tmp_path, data)
    assert (seen["header"], seen["header_line"], seen["malformed"]) == (
        ["title"],
        1,
        0,
    )
    assert [fields for _line, fields in seen["rows"]] == [
        ["Kobzar"],
        ["Lisova pisnia, a drama"],
        ["Eneida"],
    ]


def test_fields_quoted_with_apostrophes_are_detected():
    dialect = detect("title,author,year\n'A, b','C',1\n'D, e','F',2\n")
    assert dialect.quotechar == "'"


def test_apostrophes_inside_words_do_not_make_them_the_quote_character():
    dialect = detect('title,author,year\nL\'Etranger,Camus,1942\n"A, b",C,1\n')
    assert dialect.quotechar == '"'


def test_backslash_escapes_are_detected_and_doubled_quotes_preferred_on_a_tie():
    assert detect('t,a,y\n"He said \\"hi\\", twice",A,1\nB,C,2\n').escapechar == "\\"
    assert detect('t,a,y\n"C:\\dir, x",A,1\nB,C,2\n').escapechar is None


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("a,b\n1,2\n", "LF"),
        ("a,b\r\n1,2\r\n", "CRLF"),
        ("a,b\r1,2\r", "CR"),
        ('a,b\r\n"x\ny",2\r\n3,4\r\n', "CRLF+LF"),
    ],
)
def test_the_record_terminator_is_recorded(text, label):
    assert detect(text).lineterminator == label


def test_a_cut_last_line_of_a_sample_is_not_surveyed():
    text = "title;author;year\nA;B;2000\n" * 3 + "C;D"
    assert dialect_detect(text, complete=False).delimiter == ";"


def test_overrides_replace_detection(tmp_path):
    data = b"Report\ntitle|author|year\nA|B|2000\n"
    seen = opened(tmp_path, data, delimiter="|", quotechar="'", header_line=2)
    assert (seen["delimiter"], seen["quotechar"], seen["header_line"]) == (
        "|",
        "'",
        2,
    )
    assert seen["rows"] == [(3, ["A", "B", "2000"])]
    assert seen["skipped_lines"] == [{"line": 1, "text": "Report"}]


def test_a_declared_header_row_is_used_even_where_detection_would_differ(tmp_path):
    data = b"title,author,year\nname,writer,when\nA,B,2000\n"
    seen = opened(tmp_path, data, header_line=2)
    assert seen["header"] == ["name", "writer", "when"]
    assert seen["rows"] == [(3, ["A", "B", "2000"])]


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        (UKRAINIAN, "koi8-u", "koi8-u"),
        (RUSSIAN, "koi8-r", "koi8-r"),
        (RUSSIAN, "cp866", "cp866"),
        (UKRAINIAN, "cp1251", "cp1251"),
        ("title,author,year\n“Cœur” — été,Émile Zola,1880\n", "cp1252", "cp1252"),
        ("title,author,year\nLes Misérables,Hugo,1862\n", "latin-1", "iso8859-1"),
    ],
)
def test_each_encoding_users_meet_is_detected(tmp_path, text, codec, expected):
    seen = opened(tmp_path, text.encode(codec))
    assert seen["encoding"] == expected
    assert seen["rows"][0][1] == text.splitlines()[1].split(",")


def test_detection_chooses_only_among_the_configured_encodings(tmp_path, settings):
    settings.INGEST_CSV_ENCODINGS = ["utf-8"]
    with pytest.raises(FileRejected, match=r"supported encoding \(utf-8\)"):
        opened(tmp_path, UKRAINIAN.encode("cp1251"))
    settings.INGEST_CSV_ENCODINGS = ["utf-8", "koi8-u"]
    assert opened(tmp_path, UKRAINIAN.encode("koi8-u"))["encoding"] == "koi8-u"


def test_an_unknown_configured_encoding_is_a_configuration_error(tmp_path, settings):
    settings.INGEST_CSV_ENCODINGS = ["utf-8", "klingon-8"]
    with pytest.raises(ImproperlyConfigured, match="klingon-8"):
        opened(tmp_path, UKRAINIAN.encode("cp1251"))
