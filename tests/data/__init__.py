"""The real-world CSV corpus and its table of expected outcomes.

Shared by the eager corpus test (tests/catalogue/test_corpus.py) and any suite
that runs the corpus through real workers. Format: tests/data/README.md.
"""

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parent
CORPUS = DATA / "corpus"
TABLE = DATA / "expected.csv"
#: Table columns compared with the ledger's ``rows_<name>``.
COUNTS = ("total", "imported", "updated", "rejected")


def corpus_cases() -> list[dict[str, str]]:
    """Return the table's rows, in file order, as column → text."""
    with TABLE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def case_env(case: dict[str, str]) -> dict[str, str]:
    """Return a case's setting overrides (also valid as environment variables)."""
    return dict(item.split("=", 1) for item in case["env"].split())


def case_dialect(case: dict[str, str]) -> dict[str, str]:
    """Return what the reader must detect for a case, as key → text."""
    return dict(item.split("=", 1) for item in case["dialect"].split())


def dialect_problems(case: dict[str, str], detected: dict) -> list[str]:
    """Return how *detected* (``CsvSource.described()``) differs from the case.

    ``delimiter`` is compared by name (``tab``), ``skipped`` as the
    comma-separated line numbers of the skipped lines, the rest as text.
    """
    from ingest.importers.reader import delimiter_name

    shown = {
        **{key: str(value) for key, value in detected.items()},
        "delimiter": delimiter_name(detected.get("delimiter", "")),
        "skipped": ",".join(str(s["line"]) for s in detected.get("skipped_lines", [])),
    }
    return [
        f"{key}: {shown.get(key)!r} != {value!r}"
        for key, value in case_dialect(case).items()
        if shown.get(key) != value
    ]


def first_rejection_problems(case: dict[str, str], first) -> list[str]:
    """Return how the first rejected row (a RowRejection or None) differs."""
    if not case["first_line"]:
        return []
    if first is None:
        return [f"no rejected row; expected line {case['first_line']}"]
    problems = []
    if first.line != int(case["first_line"]):
        problems.append(f"first rejected line {first.line} != {case['first_line']}")
    if case["first_reason"] not in first.message:
        problems.append(f"reason {first.message!r} lacks {case['first_reason']!r}")
    return problems
