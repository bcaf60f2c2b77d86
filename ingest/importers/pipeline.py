"""One validation pipeline: CSV or sheet rows → importer.clean → a staging writer.

Rows travel in batches: the writer (COPY on PostgreSQL, ``executemany``
elsewhere) receives a list of staging tuples at a time, so the per-row work
is only reading, cleaning and one ``append``; the clock is read once a
batch, never per row.
"""

import itertools
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext_noop

from ..reasons import Deferred, Reason
from .base import Importer, RejectedRow, RowError, raw_fields_cap
from .formats import Formats, formats_detect
from .sources import source_open

__all__ = ["BATCH_ROWS", "RejectedRow", "StageResult", "rows_stage"]

#: Rows handed to the staging writer at a time; bounds the memory per batch.
BATCH_ROWS = 4096
#: Rows whose values settle the formats nobody declared (about the 64 KB
#: the dialect is detected from, for ordinary rows).
FORMATS_SAMPLE_ROWS = 1000

ProgressFn = Callable[..., None]
#: Stages a batch of ``(line, *cleaned values)`` tuples; may keep no reference.
WriteFn = Callable[[list[tuple]], None]


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
    #: Everything detected: dialect, header row, skipped lines, malformed
    #: records (see :meth:`~ingest.importers.reader.CsvSource.described`).
    dialect: dict = field(default_factory=dict)


def _picker(indexes: Sequence[int | None]) -> Callable[[list[str]], Sequence[str]]:
    """Return a C-speed function taking the importer's fields out of a row.

    An optional column the header lacks (index None) reads as blank.
    """
    if None in indexes:
        present = [i for i in indexes if i is not None]
        pick_present = _picker(present) if present else (lambda _fields: ())
        order, at = [], 0
        for index in indexes:
            order.append(None if index is None else at)
            at += index is not None

        def pick(fields: list[str]) -> tuple[str, ...]:
            values = pick_present(fields)
            return tuple("" if i is None else values[i] for i in order)

        return pick
    if len(indexes) == 1:
        (index,) = indexes
        return lambda fields: (fields[index],)
    return operator.itemgetter(*indexes)


def _formats_settle(
    importer: Importer,
    declared: Formats,
    rows: Iterator[tuple[int, list[str]]],
    indexes: Sequence[int | None],
) -> tuple[Iterator[tuple[int, list[str]]], dict]:
    """Decide the file's formats, prepare the importer with them.

    Reads ahead the first rows only when something is left to detect, and
    returns the rows to go on with (those included) and what was decided.
    """
    reads = importer.formats_read()
    wanted = {
        kind: [indexes[i] for i in columns if indexes[i] is not None]
        for kind, columns in reads.items()
    }
    undecided = (wanted["dates"] and not declared.date_order) or (
        wanted["numbers"] and not declared.decimal
    )
    sample: list[tuple[int, list[str]]] = []
    if undecided:
        sample = list(itertools.islice(rows, FORMATS_SAMPLE_ROWS))
        rows = itertools.chain(sample, rows)

    def values(kind: str) -> list[str] | None:
        if not wanted[kind]:
            return None
        return [
            fields[i]
            for _line, fields in sample
            for i in wanted[kind]
            if i < len(fields)
        ]

    chosen, decided = formats_detect(
        declared, dates=values("dates"), numbers=values("numbers")
    )
    importer.formats_use(chosen)
    return rows, decided


def rows_stage(
    *,
    importer: Importer,
    path: Path,
    write: WriteFn,
    progress: ProgressFn,
    max_errors: int,
    batch_rows: int = BATCH_ROWS,
    aliases: dict[str, str] | None = None,
    dialect: dict | None = None,
    formats: Formats | None = None,
) -> StageResult:
    """Validate every row of *path* and stage the good ones through *write*.

    Streams: memory holds one batch (plus the capped error list); *progress*
    hears bytes read once a batch, and 100% at the end of a file longer than
    one batch. A record the CSV grammar cannot read counts as a rejected
    row like one with a bad value. *aliases* are the inbox's heading
    renames; *dialect* overrides detection (``delimiter``, ``quotechar``,
    ``header_line``, a workbook's ``sheet``); *formats* are the declared
    ones (the importer's with the inbox's on top), what they leave open is
    detected from the first rows and recorded in the dialect under
    ``formats``. Raises :class:`~ingest.importers.base.FileRejected` for
    file-level problems.
    """
    result = StageResult()
    errors = result.errors
    overrides = {
        key: value
        for key, value in (dialect or {}).items()
        if key in ("delimiter", "quotechar", "header_line", "sheet") and value
    }
    with source_open(
        path, encoding=importer.encoding, max_rejected=max_errors, **overrides
    ) as source:
        result.encoding, result.delimiter = source.encoding, source.delimiter
        indexes = importer.column_indexes(source.header, aliases)
        result.extra_columns = [
            heading.strip()
            for i, heading in enumerate(source.header)
            if i not in indexes and heading.strip()
        ]
        pick = _picker(indexes)
        rows, decided = _formats_settle(
            importer, formats or importer.formats, source.rows, indexes
        )
        clean = importer.clean
        widest = max(i for i in indexes if i is not None)
        staged = rejected = 0
        reported = False
        batch: list[tuple] = []
        append = batch.append
        # The hot loop: everything per row is inlined on purpose.
        for line, fields in rows:
            try:
                append((line, *clean(pick(fields))))
            except RowError as exc:
                # Its reason is made only if the row is kept (see below).
                column, message = exc.column, exc.pending
            except IndexError:
                column = ""
                message = Reason(
                    gettext_noop(
                        "expected at least %(wanted)d fields, found %(found)d"
                    ),
                    wanted=widest + 1,
                    found=len(fields),
                )
            else:
                if len(batch) >= batch_rows:
                    write(batch)
                    staged += len(batch)
                    batch = []
                    append = batch.append
                    progress(source.bytes_read, source.size, staged + rejected)
                    reported = True
                continue
            rejected += 1
            if len(errors) < max_errors:
                if isinstance(message, Deferred):
                    message = message.reason()
                errors.append(
                    RejectedRow(line, column, message, raw_fields_cap(fields))
                )
            if not rejected % batch_rows:
                progress(source.bytes_read, source.size, staged + rejected)
                reported = True
        if batch:
            write(batch)
            staged += len(batch)
        if source.malformed_count:
            rejected += source.malformed_count
            errors[:] = sorted(errors + source.malformed, key=lambda e: e.line)
            del errors[max_errors:]
        result.total, result.rejected = staged + rejected, rejected
        result.dialect = source.described()
        if decided:
            result.dialect["formats"] = decided
        if reported:
            # A file read in one batch is done before anyone could look;
            # its task's own SUCCESS follows at once, without an extra write.
            progress(source.size, source.size, result.total, force=True)
    return result
