"""The benchmark's data: a CSV of the chosen importer's own columns.

The rows come from the importer (:meth:`~ingest.importers.base.Importer.sample_rows`):
the engine knows no dataset's data, only its declared columns.
"""

import csv
import io
from pathlib import Path

from ..importers import Importer

#: Rows in each file of the small-files and latency modes.
SMALL_FILE_ROWS = 20


def csv_generate(
    path: Path, *, importer: Importer, rows: int, pool: int, seed: int
) -> None:
    """Write a deterministic CSV of *rows* rows of *importer*'s columns."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([column.name for column in importer.columns])
        writer.writerows(importer.sample_rows(rows=rows, pool=pool, seed=seed))


def small_csv(importer: Importer, *, number: int, pool: int = 200) -> str:
    """Return small file *number*: :data:`SMALL_FILE_ROWS` rows, its own seed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([column.name for column in importer.columns])
    # Seeds far apart: one file's natural keys are never another's.
    rows = importer.sample_rows(rows=SMALL_FILE_ROWS, pool=pool, seed=10_000 + number)
    writer.writerows(rows)
    return out.getvalue()
