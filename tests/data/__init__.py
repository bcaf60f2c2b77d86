"""The real-world CSV corpus and its table of expected outcomes.

Shared by the eager corpus test (tests/unit/test_corpus.py) and any suite
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
