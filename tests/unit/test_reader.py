"""Reading CSV files as people write them: encodings, delimiters, line ends."""

import codecs
from pathlib import Path

import charset_normalizer
import pytest

from ingest import services
from ingest.importers import reader
from ingest.importers.base import FileRejected
from ingest.importers.reader import csv_open, delimiter_detect
from ingest.models import InboxFile
from tests.factories import drop
from tests.testapp.models import Journal

ROWS = [["Кобзар", "Тарас Шевченко", "1840"], ["Лісова пісня", "Леся Українка", "1911"]]


def write(tmp_path: Path, data: bytes, name: str = "books.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read(path: Path, **options) -> tuple[reader.CsvSource, list]:
    with csv_open(path, **options) as source:
        return source, list(source.rows)


def text(rows, sep=",", end="\n", header="title,author,year") -> str:
    return header.replace(",", sep) + end + "".join(sep.join(r) + end for r in rows)


def test_cp1251_with_semicolons_is_detected_and_decoded(tmp_path):
    path = write(tmp_path, text(ROWS, sep=";", end="\r\n").encode("cp1251"))
    source, rows = read(path)
    assert (source.encoding, source.delimiter) == ("cp1251", ";")
    assert [fields for _line, fields in rows] == ROWS


def test_a_utf8_bom_never_reaches_the_first_heading(tmp_path):
    path = write(tmp_path, codecs.BOM_UTF8 + text(ROWS).encode())
    source, _rows = read(path)
    assert source.encoding == "utf-8-sig"
    assert source.header == ["title", "author", "year"]


def test_a_bom_is_stripped_even_when_utf8_is_declared(tmp_path, settings):
    settings.INGEST_CSV_ENCODING = "utf-8"
    source, _rows = read(write(tmp_path, codecs.BOM_UTF8 + text(ROWS).encode()))
    assert source.header[0] == "title"


def test_latin1_text_is_detected_as_latin1(tmp_path):
    rows = [["Les Misérables", "Victor Hugo", "1862"], ["L'Étranger", "Camus", "1942"]]
    rows += [["Cien años de soledad", "Gabriel García Márquez", "1967"]]
    source, read_rows = read(write(tmp_path, text(rows).encode("latin-1")))
    assert source.encoding == "iso8859-1"
    assert read_rows[0][1][0] == "Les Misérables"


def test_the_setting_declares_the_encoding_and_skips_detection(
    tmp_path, settings, monkeypatch
):
    settings.INGEST_CSV_ENCODING = "cp1251"

    def detector(*args, **kwargs):
        pytest.fail("a declared encoding must not be detected")

    monkeypatch.setattr(charset_normalizer, "from_bytes", detector)
    source, rows = read(write(tmp_path, text(ROWS).encode("cp1251")))
    assert source.encoding == "cp1251" and rows[0][1] == ROWS[0]


def test_the_importers_declared_encoding_wins_over_the_setting(tmp_path, settings):
    settings.INGEST_CSV_ENCODING = "cp1251"
    source, _rows = read(write(tmp_path, text(ROWS).encode()), encoding="utf-8")
    assert source.encoding == "utf-8"


def test_an_unknown_declared_encoding_is_refused_naming_it(tmp_path, settings):
    settings.INGEST_CSV_ENCODING = "klingon-8"
    with pytest.raises(FileRejected, match="Unknown encoding 'klingon-8'"):
        read(write(tmp_path, text(ROWS).encode()))


def test_detection_reads_only_a_sample_of_a_large_file(tmp_path, monkeypatch):
    seen = []
    real = charset_normalizer.from_bytes

    def spy(data, **options):
        seen.append(len(data))
        return real(data, **options)

    monkeypatch.setattr(charset_normalizer, "from_bytes", spy)
    many = [
        [f"Книга {i}", f"Автор {i % 9}", str(1900 + i % 100)] for i in range(20_000)
    ]
    path = write(tmp_path, text(many).encode("cp1251"))
    assert path.stat().st_size > 4 * reader.SAMPLE_SIZE
    source, rows = read(path)
    assert source.encoding == "cp1251" and len(rows) == 20_000
    assert seen and max(seen) <= reader.SAMPLE_SIZE


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_end_style_reads_the_same_rows(tmp_path, end):
    _source, rows = read(write(tmp_path, text(ROWS, end=end).encode()))
    assert rows == [(2, ROWS[0]), (3, ROWS[1])]


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_each_candidate_delimiter_is_detected_from_the_header(tmp_path, sep):
    source, rows = read(write(tmp_path, text(ROWS, sep=sep).encode()))
    assert source.delimiter == sep and rows[0][1] == ROWS[0]


def test_commas_in_data_do_not_sway_a_semicolon_file(tmp_path):
    data = "title;author;year\nOne, two, three, four;Me, Myself;2000\n"
    source, rows = read(write(tmp_path, data.encode()))
    assert source.delimiter == ";"
    assert rows == [(2, ["One, two, three, four", "Me, Myself", "2000"])]


def test_delimiters_inside_quoted_headings_are_not_counted():
    assert delimiter_detect('"a;b;c;d",title,author') == ","
    assert delimiter_detect("no delimiter at all") == ","


def test_line_numbers_are_where_each_record_starts_in_the_file(tmp_path):
    data = (
        "\n"
        "title,author,year\n"
        '"Two\nline title",A,2000\n'
        "\n"
        ",,\n"  # Excel's empty row.
        "Last,B,2001\n"
    )
    source, rows = read(write(tmp_path, data.encode()))
    assert source.header == ["title", "author", "year"]
    assert rows == [(3, ["Two\nline title", "A", "2000"]), (7, ["Last", "B", "2001"])]


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(FileRejected, match=r"empty \(0 bytes\)"):
        read(write(tmp_path, b""))


def test_nul_bytes_mean_binary(tmp_path):
    with pytest.raises(FileRejected, match="looks binary"):
        read(write(tmp_path, b"title,author,year\n\x00\x01\x02,x,1\n"))


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_bom_is_read(tmp_path, codec):
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    source, rows = read(write(tmp_path, bom + text(ROWS, end="\r\n").encode(codec)))
    assert source.encoding == "utf-16"
    assert source.header == ["title", "author", "year"]
    assert rows == [(2, ROWS[0]), (3, ROWS[1])]


def test_a_nul_character_in_utf16_text_is_refused_naming_its_line(tmp_path):
    data = "title,author,year\nA,B,2000\nC\x00,D,2001\n".encode("utf-16")
    with pytest.raises(FileRejected, match=r"NUL character \(line 3\)"):
        read(write(tmp_path, data))


def test_utf16_without_a_bom_is_refused_as_binary(tmp_path):
    with pytest.raises(FileRejected, match="looks binary"):
        read(write(tmp_path, text(ROWS).encode("utf-16-le")))


def test_an_undecodable_byte_after_the_sample_is_located_exactly(tmp_path):
    head = text([["Book", "Author", "2000"]] * 7000).encode()
    assert len(head) > reader.SAMPLE_SIZE
    path = write(tmp_path, head + "Кобзар,Шевченко,1840\n".encode("cp1251"))
    with pytest.raises(FileRejected) as caught:
        read(path)
    assert f"byte 0xca on line 7002 (offset {len(head)})" in str(caught.value)


def test_an_unclosed_quote_is_refused_naming_its_line(tmp_path):
    data = b'title,author,year\nA,B,2000\n"Open,B,2001\nC,D,2002\n'
    with pytest.raises(FileRejected, match="opened on line 3 is never closed"):
        read(write(tmp_path, data))


def test_text_after_a_closing_quote_rejects_that_record_only(tmp_path):
    data = b'title,author,year\n"A" and more,B,2000\nC,D,2001\n'
    source, rows = read(write(tmp_path, data))
    assert rows == [(3, ["C", "D", "2001"])]
    assert [(e.line, e.message, e.raw) for e in source.malformed] == [
        (2, "text after a closing quote", ['"A" and more,B,2000'])
    ]


def test_a_field_beyond_the_size_limit_rejects_that_record_only(tmp_path):
    huge = b"x" * (reader.FIELD_SIZE_LIMIT + 1)
    data = b'title,author,year\n"' + huge + b'",B,2000\nC,D,2001\n'
    source, rows = read(write(tmp_path, data))
    assert rows == [(3, ["C", "D", "2001"])]
    (error,) = source.malformed
    assert error.line == 2
    assert error.message == "a field longer than 1048576 characters"
    assert len(error.raw[0]) < 1100  # Capped for the ledger.


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_an_inbox_declared_encoding_is_used_for_its_files(eager, settings):
    inbox = services.inbox_default()
    inbox.encoding = "cp1251"
    inbox.save()
    rows = [["J1", "Les Misérables", "1862"]]
    drop("journals.csv", text(rows, header="issn,title,year").encode("latin-1"))
    services.inbox_scan()
    assert InboxFile.objects.get().encoding == "cp1251"
    # The operator said cp1251, so 0xE9 is "й", not the detector's "é".
    assert Journal.objects.get().title == "Les Misйrables"


def test_a_space_splits_only_where_no_other_delimiter_does_and_all_agree():
    from ingest.importers.dialect import dialect_detect

    spaced = dialect_detect("a b c\n1 2 3\n4  5  6\n", complete=True)
    assert (spaced.delimiter, spaced.skipinitialspace) == (" ", True)
    # One column of names: the header is one word, the names two.
    names = dialect_detect("name\nТарас Шевченко\nЛеся Українка\n", complete=True)
    assert names.delimiter == ","
    # Semicolons split: the spaces inside headings are not the delimiter.
    semi = dialect_detect("Ім'я;Рік народження\nІван Франко;1856\n", complete=True)
    assert semi.delimiter == ";"


def test_a_header_one_heading_short_is_the_header_not_a_title():
    from ingest.importers.dialect import dialect_detect

    short = dialect_detect("title,author\nКобзар,Шевченко,1840\n", complete=True)
    assert (short.header_line, short.header_short) == (1, True)
    # A title line above a real header stays a title line.
    titled = dialect_detect(
        "Export 2026\ntitle,author,year\nКобзар,Шевченко,1840\n", complete=True
    )
    assert (titled.header_line, titled.header_short) == (2, False)
