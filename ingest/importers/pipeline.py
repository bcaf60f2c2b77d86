"""One validation pipeline: CSV rows → importer.clean → a staging writer."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .base import Importer, RowError
from .reader import csv_open

#: Rows between two looks at the clock for progress reporting.
PROGRESS_EVERY = 1024

ProgressFn = Callable[..., None]


@dataclass
class RejectedRow:
    line: int
    column: str
    message: str
    raw: list[str]


@dataclass
class StageResult:
    """What streaming a file into staging saw."""

    total: int = 0
    rejected: int = 0
    #: The first rejected rows, up to the cap; ``rejected`` stays exact.
    errors: list[RejectedRow] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    #: How the file was read (codec name, delimiter), for the ledger.
    encoding: str = ""
    delimiter: str = ""


def rows_stage(
    *,
    importer: Importer,
    path: Path,
    write: Callable[[tuple], None],
    progress: ProgressFn,
    max_errors: int,
) -> StageResult:
    """Validate every row of *path* and stage the good ones through *write*.

    Streams: memory holds one row (plus the capped error list). Raises
    :class:`~ingest.importers.base.FileRejected` for file-level problems.
    """
    result = StageResult()
    with csv_open(path, encoding=importer.encoding) as source:
        result.encoding, result.delimiter = source.encoding, source.delimiter
        indexes = importer.column_indexes(source.header)
        result.extra_columns = [
            heading.strip()
            for i, heading in enumerate(source.header)
            if i not in indexes and heading.strip()
        ]
        width = max(indexes) + 1
        clean = importer.clean
        total = 0
        for line, fields in source.rows:
            total += 1
            try:
                if len(fields) < width:
                    raise RowError(
                        "", f"expected at least {width} fields, found {len(fields)}"
                    )
                row = clean([fields[i] for i in indexes])
            except RowError as exc:
                result.rejected += 1
                if len(result.errors) < max_errors:
                    result.errors.append(
                        RejectedRow(line, exc.column, exc.message, fields)
                    )
            else:
                write((line, *row))
            if not total % PROGRESS_EVERY:
                progress(source.bytes_read, source.size, total)
        result.total = total
        progress(source.size, source.size, total, force=True)
    return result
