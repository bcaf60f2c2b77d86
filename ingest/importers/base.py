"""The shape every importer shares: columns, row validation, set-based apply."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar


class FileRejected(Exception):
    """The whole file cannot be imported; the message says why, for people."""


class RowError(Exception):
    """One row is invalid; it is skipped and recorded."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True)
class Column:
    """A CSV column an importer reads, under its name or any alias."""

    name: str
    aliases: tuple[str, ...] = ()

    def matches(self, heading: str) -> bool:
        heading = " ".join(heading.split()).lower()
        return heading == self.name or heading in self.aliases


class Importer:
    """Base class of a dataset importer.

    Subclasses declare their columns and the staging table, turn each row's
    fields into a staging tuple in :meth:`clean`, and move staged rows into
    the real tables in :meth:`apply` with set-based SQL. The pipeline
    (:mod:`ingest.importers.pipeline`) owns the reading and the streaming.
    """

    #: Registry name, stored on the ledger.
    name: ClassVar[str]
    #: Columns in the order :meth:`clean` receives their values.
    columns: ClassVar[tuple[Column, ...]]
    #: File-name prefixes this importer claims (``books`` → ``books*.csv``).
    filename_prefixes: ClassVar[tuple[str, ...]] = ()
    #: Staging columns after ``line``: (name, SQL type).
    staging_columns: ClassVar[tuple[tuple[str, str], ...]]

    def column_indexes(self, header: Sequence[str]) -> list[int]:
        """Return where each declared column sits in *header*."""
        indexes, missing = [], []
        for column in self.columns:
            position = next(
                (i for i, heading in enumerate(header) if column.matches(heading)),
                None,
            )
            if position is None:
                missing.append(column.name)
            else:
                indexes.append(position)
        if missing:
            raise FileRejected(
                f"Missing column(s): {', '.join(missing)}; expected: "
                f"{', '.join(c.name for c in self.columns)}; found: "
                f"{', '.join(h.strip() for h in header) or '(nothing)'}."
            )
        return indexes

    def clean(self, values: list[str]) -> tuple:
        """Return the staging tuple for one row, or raise :class:`RowError`."""
        raise NotImplementedError

    def apply(self, cursor, staging_table: str) -> tuple[int, int]:
        """Upsert the staged rows; return (imported, updated). Runs in a txn."""
        raise NotImplementedError
