"""Write the real-world CSV corpus and its table of expected outcomes.

Run from the repository root after changing a case, and commit the output:

    .venv/bin/python tests/data/make_corpus.py

Files are built from bytes here (not typed into an editor) so encodings,
BOMs and line ends are exactly what each case says. The output is
deterministic; ``tests/unit/test_corpus.py`` checks the committed files
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
            "failed",
            error="UTF-16",
            routed=False,
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
            error="opened on line 3 is never closed",
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
            4,
            0,
            0,
            4,
            encoding="utf-8",
            error="4 of 4 rows (100.0%) are invalid",
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
