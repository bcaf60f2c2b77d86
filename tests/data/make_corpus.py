"""Write the real-world CSV corpus and its table of expected outcomes.

Run from the repository root after changing a case, and commit the output:

    .venv/bin/python tests/data/make_corpus.py

Files are built from bytes here (not typed into an editor) so encodings,
BOMs and line ends are exactly what each case says. The output is
deterministic; ``tests/catalogue/test_corpus.py`` checks the committed files
match this script. The table format is described in ``tests/data/README.md``.
"""

import csv
import io
import random
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
TABLE = HERE / "expected.csv"
COLUMNS = [
    "file",
    "importer",
    "before",
    "env",
    "state",
    "dataset",
    "chosen_by",
    "total",
    "imported",
    "updated",
    "rejected",
    "encoding",
    "error",
    "first_line",
    "first_reason",
    "dialect",
]

UKRAINIAN = [
    ("Кобзар", "Тарас Шевченко", 1840),
    ("Лісова пісня", "Леся Українка", 1911),
    ("Intermezzo", "Михайло Коцюбинський", 1908),
    ("Енеїда", "Іван Котляревський", 1798),
    ("Тигролови", "Іван Багряний", 1944),
]
WESTERN = [
    ("Les Misérables", "Victor Hugo", 1862),
    ("L'Étranger", "Albert Camus", 1942),
    ("Cien años de soledad", "Gabriel García Márquez", 1967),
    ("Der Prozeß", "Franz Kafka", 1925),
    ("À la recherche du temps perdu", "Marcel Proust", 1913),
    ("Niños en el tejado", "Élise Müller-Françoise", 1999),
]


@dataclass
class Case:
    file: str
    content: bytes
    state: str
    total: int = 0
    imported: int = 0
    updated: int = 0
    rejected: int = 0
    encoding: str = ""
    error: str = ""
    importer: str = ""
    before: str = ""
    env: str = ""
    #: The dataset the ledger records and how it was chosen; by default
    #: the inbox's (*importer*), else books or authors by the header.
    dataset: str | None = None
    chosen_by: str | None = None
    #: False for a file refused before its header was read (so no dataset).
    routed: bool = True
    #: The first rejected row's line and a substring of its reason.
    first_line: int | str = ""
    first_reason: str = ""
    #: What the reader must detect, ``key=value`` space-separated.
    dialect: str = ""

    def __post_init__(self) -> None:
        if not self.routed:
            self.dataset, self.chosen_by = "", ""
        if self.dataset is None:
            self.dataset = self.importer or (
                "authors" if self.file.startswith("authors") else "books"
            )
        if self.chosen_by is None:
            self.chosen_by = "inbox" if self.importer else "header"


def lines(rows, *, sep=",", end="\n", header=("title", "author", "year")) -> str:
    """Return CSV text: *header* then *rows*, quoting only where needed."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator=end)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def numbered(count: int, *, bad: dict[int, tuple] | None = None) -> list[tuple]:
    """Return *count* valid book rows, with rows replaced by *bad* (by index)."""
    rows = [(f"Book {i:03d}", f"Author {i % 7}", 1900 + i) for i in range(count)]
    for index, row in (bad or {}).items():
        rows[index] = row
    return rows


RUSSIAN = [
    ("Война и мир", "Лев Толстой", 1869),
    ("Мёртвые души", "Николай Гоголь", 1842),
    ("Отцы и дети", "Иван Тургенев", 1862),
    ("Обломов", "Иван Гончаров", 1859),
]


def with_record(count: int, at: int, record: str, *, quoted: bool = False) -> str:
    """Return a books file of *count* good rows with raw *record* as row *at*.

    The record lands on line ``at + 2``. With *quoted*, every fifth title is
    quoted (it holds a comma), as in real exports: a stray quote upstream
    is then closed by one of them rather than by the end of the file.
    """
    rows = []
    for i in range(count):
        title = f'"Book {i:03d}, vol. 2"' if quoted and i % 5 == 4 else f"Book {i:03d}"
        rows.append(f"{title},Author {i % 7},{1900 + i}\n")
    rows.insert(at, record + "\n")
    return "title,author,year\n" + "".join(rows)


def binary_junk() -> bytes:
    rng = random.Random(4)
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(
        rng.randrange(256) for _ in range(2000)
    )


def binary_without_nul() -> bytes:
    rng = random.Random(44)
    return bytes(rng.randrange(1, 256) for _ in range(4000))


def mixed_encoding() -> bytes:
    """Plain ASCII beyond the detection sample, then one cp1251 row."""
    head = lines(numbered(3000)).encode("ascii")
    assert len(head) > 64 * 1024
    return head + "Кобзар,Тарас Шевченко,1840\n".encode("cp1251")


def cases() -> list[Case]:
    basic = lines(UKRAINIAN[:3]).encode()
    authors = lines(
        [
            ("Тарас Шевченко", 1814, "Україна"),
            ("Леся Українка", 1871, "Україна"),
            ("Victor Hugo", "", "France"),
        ],
        header=("name", "birth_year", "country"),
    ).encode()
    return [
        # --- Encodings ---------------------------------------------------
        Case("books-basic.csv", basic, "done", 3, 3, encoding="utf-8"),
        Case(
            "books-cp1251-semicolon.csv",
            lines(UKRAINIAN, sep=";", end="\r\n").encode("cp1251"),
            "done",
            5,
            5,
            encoding="cp1251",
        ),
        Case(
            "books-utf8-bom.csv",
            b"\xef\xbb\xbf" + lines(UKRAINIAN[:4]).encode(),
            "done",
            4,
            4,
            encoding="utf-8-sig",
        ),
        Case(
            "books-latin1.csv",
            lines(WESTERN).encode("latin-1"),
            "done",
            6,
            6,
            encoding="iso8859-1",
        ),
        Case(
            "books-cp1251-1c-export.csv",
            (
                '"Назва";"Автор";"Рік";\r\n'
                + "".join(f'"{t}";"{a}";"{y}";\r\n' for t, a, y in UKRAINIAN)
            ).encode("cp1251"),
            "done",
            5,
            5,
            encoding="cp1251",
        ),
        Case(
            "books-utf16.csv",
            "\ufeff".encode("utf-16-le") + lines(UKRAINIAN).encode("utf-16-le"),
            "done",
            5,
            5,
            encoding="utf-16",
        ),
        Case(
            "books-binary.csv",
            binary_junk(),
            "failed",
            error="looks binary",
            routed=False,
        ),
        Case(
            "books-binary-no-nul.csv",
            binary_without_nul(),
            "failed",
            error="not text in a supported encoding",
            routed=False,
        ),
        Case(
            "books-mixed-encoding.csv",
            mixed_encoding(),
            "failed",
            error="not valid utf-8 text: undecodable byte 0xca on line 3002",
        ),
        # --- Line ends, quoting, blank lines -----------------------------
        Case(
            "books-crlf.csv",
            lines(UKRAINIAN[:3], end="\r\n").encode(),
            "done",
            3,
            3,
            encoding="utf-8",
        ),
        Case(
            "books-cr-only.csv",
            lines(UKRAINIAN[:3], end="\r").encode(),
            "done",
            3,
            3,
            encoding="utf-8",
        ),
        Case(
            "books-quoted-newline.csv",
            lines(
                [
                    ("A title\nwith a second line", "Author One", 2001),
                    ("Second, with a comma", "Author Two", 2002),
                    ('He said "hello"', "Author Three", 2003),
                ]
            ).encode(),
            "done",
            3,
            3,
            encoding="utf-8",
        ),
        Case(
            "books-trailing-blank-lines.csv",
            (lines(UKRAINIAN[:3]) + "\n\n   \n\n").encode(),
            "done",
            3,
            3,
            encoding="utf-8",
        ),
        Case(
            "books-blank-lines-before-header.csv",
            ("\n\n" + lines(UKRAINIAN[:2])).encode(),
            "done",
            2,
            2,
            encoding="utf-8",
        ),
        Case(
            "books-excel-empty-rows.csv",
            (
                lines(UKRAINIAN[:2], sep=";", end="\r\n")
                + ";;\r\n"
                + lines(UKRAINIAN[2:4], sep=";", end="\r\n").split("\r\n", 1)[1]
                + ";;\r\n;;\r\n"
            ).encode("cp1251"),
            "done",
            4,
            4,
            encoding="cp1251",
        ),
        Case(
            "books-unclosed-quote.csv",
            b'title,author,year\nGood,Author,2000\n"Never closed,Author,2001\n'
            b"Next,Author,2002\n",
            "failed",
            error='A quote (") opened on line 3 is never closed',
        ),
        # --- Delimiters --------------------------------------------------
        Case(
            "books-tab.csv",
            lines(UKRAINIAN[:3], sep="\t").encode(),
            "done",
            3,
            3,
            encoding="utf-8",
        ),
        Case(
            "books-pipe.csv",
            lines(UKRAINIAN[:3], sep="|").encode(),
            "done",
            3,
            3,
            encoding="utf-8",
        ),
        Case(
            "books-wrong-delimiter.csv",
            b"title;author;year\nA,B,2000\nC,D,2001\nE,F,2002\nG,H,2003\n",
            "failed",
            dataset="",
            chosen_by="",
            # The records agree on commas; the ";" header is a title line.
            error='Header "A, B, 2000" matches no dataset',
            dialect="delimiter=comma header_line=2 skipped=1",
        ),
        Case(
            "books-colon-delimiter.csv",
            b"title:author:year\nA:B:2000\n",
            "failed",
            dataset="",
            chosen_by="",
            error='Header "title:author:year" matches no dataset: authors needs '
            "name (missing: name); books needs title, author, year (missing: "
            "title, author, year).",
        ),
        # --- Headers -----------------------------------------------------
        Case(
            "books-ukrainian-headers.csv",
            lines(UKRAINIAN[:3], header=("Назва", "Автор", "Рік")).encode(),
            "done",
            3,
            3,
            encoding="utf-8",
        ),
        Case(
            "BOOKS-UPPERCASE.CSV",
            lines(UKRAINIAN[:2], header=("TITLE", "AUTHOR", "YEAR")).encode(),
            "done",
            2,
            2,
            encoding="utf-8",
        ),
        Case(
            "books-header-aliases.csv",
            lines(
                UKRAINIAN[:3],
                header=("  Book  Title ", "Author Name", "Published_Year"),
            ).encode(),
            "done",
            3,
            3,
            encoding="utf-8",
        ),
        Case(
            "books-extra-column.csv",
            lines(
                [(t, a, y, f"isbn-{y}", "note") for t, a, y in UKRAINIAN[:3]],
                header=("title", "author", "year", "isbn", "notes"),
            ).encode(),
            "done",
            3,
            3,
            encoding="utf-8",
        ),
        Case(
            "books-missing-column.csv",
            b"title,author\nA,B\n",
            "failed",
            dataset="",
            chosen_by="",
            error='Header "title, author" is closest to books, which also needs '
            "year: authors needs name (matched); books needs title, author, "
            "year (missing: year).",
        ),
        Case(
            "books-header-only.csv",
            b"title,author,year\n",
            "failed",
            encoding="utf-8",
            error="a header but no data rows",
        ),
        Case("books-empty.csv", b"", "failed", error="empty (0 bytes)", routed=False),
        Case(
            "books-only-blank-lines.csv",
            b"\n\n  \n",
            "failed",
            error="no header line",
            routed=False,
        ),
        # --- Row validation ----------------------------------------------
        Case(
            "books-year-abc.csv",
            lines(numbered(20, bad={4: ("Bad year", "X", "abc")})).encode(),
            "done",
            20,
            19,
            0,
            1,
            encoding="utf-8",
            first_line=6,
            first_reason="year 'abc' is not a whole number",
        ),
        Case(
            "books-year-negative.csv",
            lines(numbered(20, bad={7: ("Negative", "X", -5)})).encode(),
            "done",
            20,
            19,
            0,
            1,
            encoding="utf-8",
            first_line=9,
            first_reason="year -5 is outside",
        ),
        Case(
            "books-year-out-of-range.csv",
            lines(
                numbered(30, bad={1: ("Future", "X", 3000), 2: ("Zero", "X", 0)})
            ).encode(),
            "done",
            30,
            28,
            0,
            2,
            encoding="utf-8",
            first_line=3,
            first_reason="year 3000 is outside",
        ),
        Case(
            "books-long-title.csv",
            lines(numbered(20, bad={0: ("T" * 10_000, "X", 2000)})).encode(),
            "done",
            20,
            19,
            0,
            1,
            encoding="utf-8",
            first_line=2,
            first_reason="title is 10000 characters",
        ),
        Case(
            "books-empty-fields.csv",
            lines(
                numbered(20, bad={3: ("", "X", 2000), 9: ("T", "   ", 2000)})
            ).encode(),
            "done",
            20,
            18,
            0,
            2,
            encoding="utf-8",
            first_line=5,
            first_reason="title is empty",
        ),
        Case(
            "books-short-row.csv",
            (lines(numbered(20)) + "Only two,fields\n").encode(),
            "done",
            21,
            20,
            0,
            1,
            encoding="utf-8",
            first_line=22,
            first_reason="2 fields, header has 3",
        ),
        Case(
            "books-whitespace-values.csv",
            b"title,author,year\n  Padded title  ,  Padded author ,  2001 \n",
            "done",
            1,
            1,
            encoding="utf-8",
        ),
        Case(
            "books-duplicate-rows.csv",
            lines(
                [
                    ("A", "X", 2000),
                    ("B", "X", 2001),
                    ("A", "X", 2002),
                    ("C", "Y", 2003),
                    ("A", "X", 2004),
                ]
            ).encode(),
            "done",
            5,
            3,
            encoding="utf-8",
        ),
        # --- The error-rate policy (10% by default) ----------------------
        Case(
            "books-9pct-bad.csv",
            lines(
                numbered(100, bad={i * 11: ("Bad", "X", "n/a") for i in range(9)})
            ).encode(),
            "done",
            100,
            91,
            0,
            9,
            encoding="utf-8",
            first_line=2,
            first_reason="year 'n/a' is not a whole number",
        ),
        Case(
            "books-10pct-bad.csv",
            lines(
                numbered(100, bad={i * 10: ("Bad", "X", "n/a") for i in range(10)})
            ).encode(),
            "done",
            100,
            90,
            0,
            10,
            encoding="utf-8",
            first_line=2,
            first_reason="year 'n/a' is not a whole number",
        ),
        Case(
            "books-11pct-bad.csv",
            lines(
                numbered(100, bad={i * 9: ("Bad", "X", "n/a") for i in range(11)})
            ).encode(),
            "failed",
            100,
            0,
            0,
            11,
            encoding="utf-8",
            first_line=2,
            first_reason="year 'n/a' is not a whole number",
            error="11 of 100 rows (11.0%) are invalid, more than the 10% allowed",
        ),
        Case(
            "books-9pct-bad-strict.csv",
            lines(
                numbered(100, bad={i * 11: ("Bad", "X", "n/a") for i in range(9)})
            ).encode()
            + b"Strict,X,2000\n",
            "failed",
            101,
            0,
            0,
            9,
            encoding="utf-8",
            first_line=2,
            first_reason="year 'n/a' is not a whole number",
            env="INGEST_MAX_REJECT_RATE=0.05",
            error="more than the 5% allowed",
        ),
        # --- Ledger history: updates, duplicates, size -------------------
        Case(
            "books-update.csv",
            lines(
                [
                    ("Кобзар", "Тарас Шевченко", 1860),
                    ("Лісова пісня", "Леся Українка", 1912),
                    ("Енеїда", "Іван Котляревський", 1798),
                ]
            ).encode(),
            "done",
            3,
            1,
            2,
            encoding="utf-8",
            before="books-basic.csv",
        ),
        Case(
            "books-basic-copy.csv",
            basic,
            "duplicate",
            before="books-basic.csv",
            error="Same content as file",
            routed=False,
        ),
        Case(
            "books-too-big.csv",
            lines(numbered(10)).encode(),
            "failed",
            env="INGEST_MAX_FILE_SIZE=100",
            error="more than the 100 allowed (INGEST_MAX_FILE_SIZE)",
            routed=False,
        ),
        # --- Which importer ----------------------------------------------
        Case("authors-basic.csv", authors, "done", 3, 3, encoding="utf-8"),
        Case(
            "authors-cp1251.csv",
            lines(
                [("Іван Франко", 1856, "Україна"), ("Ольга Кобилянська", 1863, "")],
                sep=";",
                end="\r\n",
                header=("Ім'я", "Рік народження", "Країна"),
            ).encode("cp1251"),
            "done",
            2,
            2,
            encoding="cp1251",
        ),
        Case(
            "authors-update.csv",
            authors,
            "done",
            3,
            1,
            2,
            encoding="utf-8",
            before="books-basic.csv",
        ),
        Case(
            "authors-bad-year.csv",
            lines(
                [(f"Author {i}", 1800 + i, "") for i in range(19)]
                + [("Later", "next year", "")],
                header=("name", "birth_year", "country"),
            ).encode(),
            "done",
            20,
            19,
            0,
            1,
            encoding="utf-8",
            first_line=21,
            first_reason="birth_year 'next year' is not a whole number",
        ),
        Case(
            # Optional columns may be missing from the header altogether.
            "authors-without-birth-year.csv",
            b"name,country\nA,B\n",
            "done",
            total=1,
            imported=1,
            encoding="utf-8",
        ),
        Case(
            "catalogue.csv",
            authors,
            "done",
            3,
            3,
            encoding="utf-8",
            importer="authors",
        ),
        Case(
            # The inbox says authors: its author column is read as names.
            "books-as-authors.csv",
            basic,
            "done",
            total=3,
            imported=3,
            encoding="utf-8",
            importer="authors",
        ),
        Case(
            "titles-as-authors.csv",
            lines([("Кобзар", 1840)], header=("title", "year")).encode(),
            "failed",
            importer="authors",
            error="Missing column(s): name; expected: name, birth_year, country; "
            "found: title, year.",
        ),
        # --- Routed by the header, whatever the file is called -----------
        Case("notes.csv", basic, "done", total=3, imported=3, encoding="utf-8"),
        Case("export.csv", basic, "done", total=3, imported=3, encoding="utf-8"),
        Case(
            "Каталог 2026.csv",
            lines(UKRAINIAN, sep=";", end="\r\n").encode("cp1251"),
            "done",
            total=5,
            imported=5,
            encoding="cp1251",
        ),
        Case(
            "data (1).csv",
            authors,
            "done",
            total=3,
            imported=3,
            encoding="utf-8",
            dataset="authors",
        ),
        Case(
            "ADDRESSBOOK.CSV",
            b"NAME,COUNTRY\r\nIvan Franko,UA\r\nLesya Ukrainka,UA\r\n",
            "done",
            total=2,
            imported=2,
            encoding="utf-8",
            dataset="authors",
        ),
        Case(
            # Named like the other dataset: the header decides, not the name.
            "authors-2026-11.csv",
            basic,
            "done",
            total=3,
            imported=3,
            encoding="utf-8",
            dataset="books",
        ),
        Case(
            "contacts.csv",
            b"email,phone\na@example.com,1\n",
            "failed",
            dataset="",
            chosen_by="",
            error='Header "email, phone" matches no dataset: authors needs name '
            "(missing: name); books needs title, author, year (missing: title, "
            "author, year).",
        ),
        *recovery_cases(),
    ]


def recovery_cases() -> list[Case]:
    """Damaged files that still import: malformed records, dialects, layout."""
    book_rows = numbered(12)
    return [
        # --- Fewer or more fields than the header ------------------------
        Case(
            "books-fewer-fields.csv",
            with_record(20, 5, "Only two,fields").encode(),
            "done",
            21,
            20,
            0,
            1,
            encoding="utf-8",
            first_line=7,
            first_reason="2 fields, header has 3",
            dialect="malformed=1",
        ),
        Case(
            "books-more-fields.csv",
            with_record(20, 9, "Book, with comma,Author,2000").encode(),
            "done",
            21,
            20,
            0,
            1,
            encoding="utf-8",
            first_line=11,
            first_reason="4 fields, header has 3",
        ),
        Case(
            "books-delimiter-in-field.csv",
            with_record(20, 3, "Part one; part two,Author,1999")
            .replace(",", ";")
            .encode(),
            "done",
            21,
            20,
            0,
            1,
            encoding="utf-8",
            first_line=5,
            first_reason="4 fields, header has 3",
            dialect="delimiter=semicolon",
        ),
        Case(
            "books-multiline-wrong-count.csv",
            with_record(10, 2, '"A title\nover two lines",Author,2000,extra').encode(),
            "done",
            11,
            10,
            0,
            1,
            encoding="utf-8",
            first_line=4,
            first_reason="4 fields, header has 3 (the record runs to line 5)",
        ),
        Case(
            "books-trailing-delimiter.csv",
            "".join(
                f"{row},\r\n" if n else f"{row}\r\n"
                for n, row in enumerate(lines(book_rows).splitlines())
            ).encode(),
            "done",
            12,
            12,
            encoding="utf-8",
            dialect="lineterminator=CRLF malformed=0",
        ),
        Case(
            "books-blank-heading-1c.csv",
            (
                "Назва;Автор;Рік;;\r\n"
                + "".join(f"{t};{a};{y}\r\n" for t, a, y in UKRAINIAN)
            ).encode("cp1251"),
            "done",
            5,
            5,
            encoding="cp1251",
            dialect="delimiter=semicolon malformed=0",
        ),
        Case(
            "books-malformed-5pct.csv",
            with_record(95, 10, '"Stray quote,Author,2000', quoted=True)
            .replace("Book 040,", "Book 040,extra,")
            .replace("Book 060,", '"Book 060" ,')
            .replace("Book 070,Author 0,1970", "Book 070,Author 0")
            .replace("Book 080,", "Book, 080,")
            .encode(),
            "done",
            96,
            91,
            0,
            5,
            encoding="utf-8",
            first_line=12,
            first_reason="unbalanced quote",
            dialect="malformed=5",
        ),
        Case(
            "books-malformed-20pct.csv",
            lines(numbered(40))
            .replace("0,Author", "0,,Author")
            .replace("5,Author", "5,,Author")
            .encode(),
            "failed",
            40,
            0,
            0,
            8,
            encoding="utf-8",
            first_line=2,
            first_reason="4 fields, header has 3",
            error="8 of 40 rows (20.0%) are invalid",
        ),
        # --- Stray quotes ------------------------------------------------
        Case(
            "books-stray-quote-start.csv",
            with_record(
                20, 6, '"Stray opening quote,Author,2001', quoted=True
            ).encode(),
            "done",
            21,
            20,
            0,
            1,
            encoding="utf-8",
            first_line=8,
            first_reason="unbalanced quote",
        ),
        Case(
            "books-stray-quote-swallows-lines.csv",
            with_record(30, 10, 'Fine,"Stray in author,2001', quoted=True).encode(),
            "done",
            31,
            30,
            0,
            1,
            encoding="utf-8",
            first_line=12,
            first_reason="unbalanced quote",
        ),
        Case(
            "books-stray-quote-middle.csv",
            with_record(10, 4, 'A 5" floppy disk,Author,1990').encode(),
            "done",
            11,
            11,
            encoding="utf-8",
            dialect="malformed=0",
        ),
        Case(
            "books-stray-quote-end.csv",
            with_record(10, 4, 'Ends in a quote",Author",1990').encode(),
            "done",
            11,
            11,
            encoding="utf-8",
        ),
        Case(
            "books-text-after-quote.csv",
            with_record(10, 3, '"Quoted" then more,Author,1990').encode(),
            "done",
            11,
            10,
            0,
            1,
            encoding="utf-8",
            first_line=5,
            first_reason="text after a closing quote",
        ),
        Case(
            "books-unclosed-quote-late.csv",
            with_record(30, 30, '"Never closed,Author,2001', quoted=True).encode(),
            "failed",
            error='A quote (") opened on line 32 is never closed',
        ),
        # --- Quote characters and escapes --------------------------------
        Case(
            "books-single-quotes.csv",
            (
                "title,author,year\n"
                + "".join(f"'{t}, vol. 1','{a}',{y}\n" for t, a, y in WESTERN[2:])
            ).encode(),
            "done",
            4,
            4,
            encoding="utf-8",
            dialect="quotechar=' malformed=0",
        ),
        Case(
            "books-apostrophes.csv",
            lines(
                [
                    ("L'Étranger", "Albert Camus", 1942),
                    ("'Tis Pity She's a Whore", "John Ford", 1633),
                    ("Ulysses, again", "James Joyce", 1922),
                ]
            ).encode(),
            "done",
            3,
            3,
            encoding="utf-8",
            dialect='quotechar=" malformed=0',
        ),
        Case(
            "books-backslash-escapes.csv",
            (
                b"title,author,year\n"
                b'"He said \\"yes\\", then left",Author One,2001\n'
                b'"The \\"Quoted\\" Book",Author Two,2002\n'
                b"Plain,Author Three,2003\n"
            ),
            "done",
            3,
            3,
            encoding="utf-8",
            dialect="escapechar=\\ malformed=0",
        ),
        # --- Line ends ---------------------------------------------------
        Case(
            "books-mixed-line-ends.csv",
            (
                b"title,author,year\r\n"
                b"Alpha,Author,2001\n"
                b"Beta,Author,2002\r"
                b"Gamma,Author,2003\r\n"
                b"Delta,Author,2004\n"
            ),
            "done",
            4,
            4,
            encoding="utf-8",
        ),
        Case(
            "books-crlf-with-lf-in-quotes.csv",
            (b'title,author,year\r\n"Two\nlines",Author,2001\r\nPlain,Author,2002\r\n'),
            "done",
            2,
            2,
            encoding="utf-8",
            dialect="lineterminator=CRLF+LF",
        ),
        # --- Preamble, footer, repeated header ---------------------------
        Case(
            "books-title-line.csv",
            ("Book export\n\n" + lines(UKRAINIAN[:3])).encode(),
            "done",
            3,
            3,
            encoding="utf-8",
            dialect="header_line=3 skipped=1",
        ),
        Case(
            "books-1c-preamble.csv",
            (
                "Exported 2026-11-30 by 1C;;\r\n;;\r\n"
                + lines(UKRAINIAN, sep=";", end="\r\n")
            ).encode("cp1251"),
            "done",
            5,
            5,
            encoding="cp1251",
            dialect="delimiter=semicolon header_line=3 skipped=1",
        ),
        Case(
            "books-footer-total.csv",
            (lines(book_rows, sep=";") + "Total: 1 234\n").encode(),
            "done",
            12,
            12,
            encoding="utf-8",
            dialect="skipped=14 malformed=0",
        ),
        Case(
            "books-preamble-and-footer.csv",
            (
                "Catalogue\tDecember\n"
                + lines(book_rows, sep="\t")
                + "\nRows: 12\nEnd of report\n"
            ).encode(),
            "done",
            12,
            12,
            encoding="utf-8",
            dialect="delimiter=tab header_line=2 skipped=1,16,17",
        ),
        Case(
            "books-short-line-not-footer.csv",
            with_record(10, 5, "Just a note").encode(),
            "done",
            11,
            10,
            0,
            1,
            encoding="utf-8",
            first_line=7,
            first_reason="1 fields, header has 3",
        ),
        Case(
            "books-repeated-header.csv",
            (lines(numbered(5)) + lines(numbered(10)[5:])).encode(),
            "done",
            10,
            10,
            encoding="utf-8",
            dialect="repeated_headers=1 malformed=0",
        ),
        Case(
            "books-concatenated-exports.csv",
            (
                "Export 1\n"
                + lines(numbered(4), sep=";")
                + "Export 2\n"
                + lines(numbered(8)[4:], sep=";")
            ).encode(),
            "done",
            8,
            8,
            encoding="utf-8",
            dialect="header_line=2 repeated_headers=1 skipped=1,7",
        ),
        # --- Headers -----------------------------------------------------
        Case(
            "books-no-header.csv",
            lines(UKRAINIAN[1:], header=UKRAINIAN[0]).encode(),
            "failed",
            dataset="",
            chosen_by="",
            error="seems to have no header line",
        ),
        Case(
            "books-two-row-header.csv",
            lines(book_rows, header=("Book", "", "Published"))
            .replace("\n", "\ntitle,author,year\n", 1)
            .encode(),
            "failed",
            dataset="",
            chosen_by="",
            error='Header "Book, Published" matches no dataset',
        ),
        Case(
            "books-one-column.csv",
            lines([(t,) for t, _a, _y in UKRAINIAN], header=("title",)).encode(),
            "failed",
            dataset="",
            chosen_by="",
            error='Header "title" matches no dataset: authors needs name '
            "(missing: name); books needs title, author, year (missing: author, "
            "year).",
        ),
        Case(
            "books-title-over-semicolon-header.csv",
            ("Books\n" + lines(UKRAINIAN[:4], sep=";")).encode(),
            "done",
            4,
            4,
            encoding="utf-8",
            dialect="delimiter=semicolon header_line=2 skipped=1",
        ),
        # --- Encodings ---------------------------------------------------
        Case(
            "books-utf16-be.csv",
            "\ufeff".encode("utf-16-be")
            + lines(UKRAINIAN, end="\r\n", sep="\t").encode("utf-16-be"),
            "done",
            5,
            5,
            encoding="utf-16",
            dialect="delimiter=tab",
        ),
        Case(
            "books-koi8u.csv",
            lines(UKRAINIAN).encode("koi8-u"),
            "done",
            5,
            5,
            encoding="koi8-u",
        ),
        Case(
            "books-koi8r.csv",
            lines(RUSSIAN, sep=";").encode("koi8-r"),
            "done",
            4,
            4,
            encoding="koi8-r",
        ),
        Case(
            "books-cp866-dos.csv",
            lines(RUSSIAN, end="\r\n").encode("cp866"),
            "done",
            4,
            4,
            encoding="cp866",
        ),
        Case(
            "books-cp1252-smart-quotes.csv",
            lines(
                [
                    ("“Quoted” — a novel", "Émile Zola", 1880),
                    ("Cœur simple", "Gustave Flaubert", 1877),
                    ("Price: 5 €", "Anonyme", 1999),
                ]
            ).encode("cp1252"),
            "done",
            3,
            3,
            encoding="cp1252",
        ),
        Case(
            "books-excel-utf8-bom-semicolon.csv",
            b"\xef\xbb\xbf" + lines(UKRAINIAN, sep=";", end="\r\n").encode(),
            "done",
            5,
            5,
            encoding="utf-8-sig",
            dialect="delimiter=semicolon lineterminator=CRLF",
        ),
        *harder_cases(),
    ]


def harder_cases() -> list[Case]:
    """Headers a field off the data, spaces as separators, apostrophe quotes."""
    body = lines(UKRAINIAN).split("\n", 1)[1]
    return [
        Case(
            # A trailing delimiter after the last heading only.
            "books-header-trailing-comma.csv",
            ("title,author,year,\n" + body).encode(),
            "done",
            5,
            5,
            dialect="header_line=1 header_short=False",
        ),
        Case(
            # The export left the year's heading out: the year column is
            # unnamed, so the books' year is missing and the file refused
            # by its header, never row by row.
            "books-header-missing-last.csv",
            ("title,author\n" + body).encode(),
            "failed",
            error="missing: year",
            dataset="",
            chosen_by="",
            dialect="header_line=1 header_short=True",
        ),
        Case(
            # Country's heading is missing: read, the country ignored.
            "authors-header-missing-last.csv",
            "name,born\nТарас Шевченко,1814,Україна\nЛеся Українка,1871,Україна\n".encode(),
            "done",
            2,
            2,
            dialect="header_line=1 header_short=True",
        ),
        Case(
            "books-space-separated.csv",
            (
                "title author year\n"
                "Кобзар Шевченко 1840\n"
                'Енеїда "Іван Котляревський" 1798\n'
                "Intermezzo   Коцюбинський   1908\n"
            ).encode(),
            "done",
            3,
            3,
            dialect="delimiter=space skipinitialspace=True",
        ),
        Case(
            "books-comma-space.csv",
            (
                "title, author, year\n"
                'Кобзар, "Шевченко, Тарас", 1840\n'
                '"Енеїда, частина 1", Іван Котляревський, 1798\n'
            ).encode(),
            "done",
            2,
            2,
            dialect='delimiter=comma quotechar=" skipinitialspace=True',
        ),
        Case(
            "books-apostrophe-quoted.csv",
            (
                "title,author,year\n"
                "'Кобзар, том 1',Тарас Шевченко,1840\n"
                "'Лісова пісня',Леся Українка,1911\n"
            ).encode(),
            "done",
            2,
            2,
            dialect="delimiter=comma quotechar=' skipinitialspace=False",
        ),
    ]


def main(out: Path = HERE) -> int:
    corpus, table = out / "corpus", out / "expected.csv"
    corpus.mkdir(parents=True, exist_ok=True)
    all_cases = cases()
    names = [case.file for case in all_cases]
    assert len(names) == len(set(names)), "duplicate file names"
    for stale in corpus.iterdir():
        if stale.name not in names:
            stale.unlink()
    for case in all_cases:
        (corpus / case.file).write_bytes(case.content)
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for case in all_cases:
            writer.writerow({column: getattr(case, column) for column in COLUMNS})
    print(f"Wrote {len(all_cases)} files to {corpus} and {table}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE))
