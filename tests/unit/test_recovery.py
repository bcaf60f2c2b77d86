"""One bad record does not sink a file: it is rejected with its line, the rest read."""

import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.importers import importer_get, reader
from ingest.importers.base import FileRejected
from ingest.importers.pipeline import rows_stage
from ingest.importers.reader import csv_open
from tests.factories import issn
from tests.unit.test_fuzz import FUZZ

#: Journals, the title first: a quoted title opens its record, as a stray
#: quote does.
HEADER = "title,issn,year"


def write(tmp_path: Path, data: str | bytes, name: str = "journals.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def read(path: Path, **options) -> tuple[reader.CsvSource, list]:
    with csv_open(path, **options) as source:
        return source, list(source.rows)


def rejected(source: reader.CsvSource) -> list[tuple[int, str]]:
    return [(error.line, error.message) for error in source.malformed]


def stage(path: Path, **options):
    staged: list[tuple] = []
    result = rows_stage(
        importer=importer_get("journals"),
        path=path,
        write=staged.extend,
        progress=lambda *args, **kwargs: None,
        max_errors=options.pop("max_errors", 1000),
        **options,
    )
    return result, staged


def journals(count: int, *, quoted_every: int = 0) -> list[str]:
    """Return *count* valid record lines; every *quoted_every*-th title quoted."""
    return [
        (
            f'"Journal {i}, vol. 2"'
            if quoted_every and i % quoted_every == quoted_every - 1
            else f"Journal {i}"
        )
        + f",{issn(i)},{1900 + i % 120}\n"
        for i in range(count)
    ]


def test_a_stray_opening_quote_rejects_its_line_and_rereads_what_it_swallowed(
    tmp_path,
):
    records = journals(10, quoted_every=5)
    records.insert(1, '"Stray,9999-9999,2000\n')  # Line 3; closed on line 7.
    source, rows = read(write(tmp_path, f"{HEADER}\n" + "".join(records)))
    assert rejected(source) == [(3, "unbalanced quote")]
    assert [line for line, _fields in rows] == [2, *range(4, 13)]
    assert rows[4] == (7, ["Journal 4, vol. 2", issn(4), "1904"])
    assert source.malformed[0].raw == ['"Stray,9999-9999,2000']


def test_a_quote_inside_an_unquoted_field_is_literal_text(tmp_path):
    source, rows = read(write(tmp_path, 'title,issn,year\nA 5" floppy,Me,1990\n'))
    assert rows == [(2, ['A 5" floppy', "Me", "1990"])]
    assert source.malformed_count == 0


def test_a_quote_opened_and_never_closed_fails_naming_the_line_it_opened_on(
    tmp_path,
):
    data = f"{HEADER}\n" + "".join(journals(50)) + '"Open,B,2001\n' + "X,Y,1\n"
    with pytest.raises(FileRejected, match=r"quote \(\"\) opened on line 52 is never"):
        read(write(tmp_path, data))


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("Only,two", "2 fields, header has 3"),
        ("One,two,three,four,five", "5 fields, header has 3"),
        ("Lonely value", "1 fields, header has 3"),
    ],
)
def test_a_record_with_another_field_count_than_the_header_is_rejected(
    tmp_path, record, reason
):
    data = "title,issn,year\nA,B,2000\n" + record + "\nC,D,2001\n"
    source, rows = read(write(tmp_path, data))
    assert rejected(source) == [(3, reason)]
    assert [line for line, _fields in rows] == [2, 4]


def test_a_multiline_record_is_rejected_with_its_first_and_last_line(tmp_path):
    data = 'title,issn,year\n"Two\nlines",B,2000,extra\nC,D,2001\n'
    source, rows = read(write(tmp_path, data))
    (error,) = source.malformed
    assert (error.line, error.last_line) == (2, 3)
    assert error.message == "4 fields, header has 3 (the record runs to line 3)"
    assert rows == [(4, ["C", "D", "2001"])]


def test_empty_fields_after_the_last_heading_are_not_a_wrong_field_count(tmp_path):
    data = "title;issn;year;\nA;B;2000\nC;D;2001;\nE;F;2002;;\n"
    source, rows = read(write(tmp_path, data))
    assert source.malformed_count == 0
    assert [line for line, _fields in rows] == [2, 3, 4]


def test_a_header_repeated_mid_file_is_skipped_and_counted(tmp_path):
    data = "title,issn,year\nA,B,2000\ntitle,issn,year\nC,D,2001\n"
    source, rows = read(write(tmp_path, data))
    assert [line for line, _fields in rows] == [2, 4]
    assert source.described()["repeated_headers"] == 1
    assert source.malformed_count == 0


def test_short_lines_at_the_end_are_a_footer_not_rejected_rows(tmp_path):
    data = "title;issn;year\nA;B;2000\n\nTotal: 1 234\nEnd\n"
    source, rows = read(write(tmp_path, data))
    assert rows == [(2, ["A", "B", "2000"])]
    assert source.malformed_count == 0
    assert source.described()["skipped_lines"] == [
        {"line": 4, "text": "Total: 1 234"},
        {"line": 5, "text": "End"},
    ]


def test_a_short_line_followed_by_data_is_a_rejected_row_not_a_footer(tmp_path):
    data = "title;issn;year\nA;B;2000\nTotal: 1\nC;D;2001\n"
    source, rows = read(write(tmp_path, data))
    assert rejected(source) == [(3, "1 fields, header has 3")]
    assert [line for line, _fields in rows] == [2, 4]
    assert source.described()["skipped_lines"] == []


def test_kept_malformed_records_are_capped_and_their_count_exact(tmp_path):
    data = "title,issn,year\n" + "x,y\nA,B,2000\n" * 50
    source, rows = read(write(tmp_path, data), max_rejected=7)
    assert len(source.malformed) == 7 and source.malformed_count == 50
    assert len(rows) == 50


def test_raw_lines_kept_for_recovery_stay_bounded_on_a_long_file(tmp_path):
    """The tee behind recovery is trimmed: memory does not grow with the file."""
    records = journals(100_000, quoted_every=10)
    records[50_000] = '"Stray,9999-9999,2000\n'
    path = write(tmp_path, f"{HEADER}\n" + "".join(records))
    assert path.stat().st_size > 2_500_000
    tracemalloc.start()
    try:
        with csv_open(path) as source:
            count = sum(1 for _row in source.rows)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 99_999 and rejected(source) == [(50_002, "unbalanced quote")]
    assert peak < 2_000_000


def test_malformed_records_are_rejected_rows_in_line_order_with_bad_values(
    tmp_path,
):
    data = 'title,issn,year\nA,B,abc\n"C" x,D,2000\nE,F,2001\nG,H\n'
    result, staged = stage(write(tmp_path, data))
    assert [(e.line, e.message) for e in result.errors] == [
        (2, "year 'abc' is not a whole number"),
        (3, "text after a closing quote"),
        (5, "2 fields, header has 3"),
    ]
    assert (result.total, result.rejected, len(staged)) == (4, 3, 1)
    assert result.dialect["malformed"] == 2


def test_the_error_list_is_capped_across_both_kinds_of_rejection(tmp_path):
    data = "title,issn,year\n" + "A,B,abc\nx,y\n" * 10
    result, _staged = stage(write(tmp_path, data), max_errors=5)
    assert result.rejected == 20
    assert [e.line for e in result.errors] == [2, 3, 4, 5, 6]


def test_the_stage_result_records_everything_detected(tmp_path):
    data = "Export of 2026-11-30\r\ntitle;issn;year\r\nA;B;2000\r\nRows: 1\r\n"
    result, _staged = stage(write(tmp_path, data.encode("cp1251")))
    assert result.dialect == {
        "encoding": "utf-8",
        "delimiter": ";",
        "quotechar": '"',
        "escapechar": "",
        "skipinitialspace": False,
        "header_short": False,
        "lineterminator": "CRLF",
        "header_line": 2,
        "header": ["title", "issn", "year"],
        "skipped_lines": [
            {"line": 1, "text": "Export of 2026-11-30"},
            {"line": 4, "text": "Rows: 1"},
        ],
        "repeated_headers": 0,
        "malformed": 0,
        # Whole years only: the separators come from the site's language.
        "formats": {"decimal": ".", "decimal_from": "language"},
    }


MALFORMED = {
    "unbalanced quote": '"Stray title,9999-9999,2000',
    "text after a closing quote": '"Quoted" more,9999-9999,2000',
    "4 fields, header has 3": "Too,many,fields,here",
    "2 fields, header has 3": "Too few,2000",
}


@settings(parent=FUZZ, max_examples=60)
@given(
    count=st.integers(min_value=5, max_value=300),
    data=st.data(),
    kind=st.sampled_from(sorted(MALFORMED)),
    ending=st.sampled_from(["\n", "\r\n"]),
)
def test_one_malformed_record_anywhere_costs_only_that_record(
    tmp_path_factory, count, data, kind, ending
):
    """Every other row imports; exactly the inserted one is rejected, by line."""
    # A stray quote needs a later quote to close it, else it swallows the
    # rest of the file and fails it (tested above): every title is quoted.
    last = count - 1 if kind == "unbalanced quote" else count
    at = data.draw(st.integers(min_value=0, max_value=last), label="position")
    records = [r.replace("\n", ending) for r in journals(count, quoted_every=1)]
    records.insert(at, MALFORMED[kind] + ending)
    path = write(
        tmp_path_factory.mktemp("prop"),
        HEADER + ending + "".join(records),
    )
    result, staged = stage(path)
    assert [(e.line, e.message) for e in result.errors] == [(at + 2, kind)]
    assert (result.total, result.rejected) == (count + 1, 1)
    assert [row[0] for row in staged] == [
        line for line in range(2, count + 3) if line != at + 2
    ]
    # Staged in the importer's column order: line, issn, title, year, …
    assert [row[2] for row in staged] == [f"Journal {i}, vol. 2" for i in range(count)]
