"""The shape every importer shares: declared columns, row cleaning, apply.

An importer is a small declarative class: its registry name, the file-name
prefixes it claims, its :class:`Column` s (heading, aliases, value type,
whether blanks are allowed) and either a ``model`` + ``natural_key`` that
the generic set-based upsert here applies, or its own :meth:`apply` when a
row feeds several tables (books: authors, then books).
"""

import datetime
import operator
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_noop

from ..reasons import Deferred, Joined, Reason
from . import upsert


class FileRejected(Exception):
    """The whole file cannot be imported; the message says why, for people.

    The reason is a :class:`~ingest.reasons.Reason` (shown in each reader's
    language) or, from older code, plain text; ``str()`` gives its text in
    the active language.
    """

    def __init__(self, reason: "Reason | Joined | str") -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return str(self.reason)


@dataclass
class RejectedRow:
    """A row left out of an import: where it is, why, and what it held.

    ``last_line`` is set when the record spans several physical lines.
    """

    line: int
    column: str
    message: "Reason | str"
    raw: list[str]
    last_line: int = 0


class RowError(Exception):
    """One row is invalid; it is skipped and recorded.

    *message* is a :class:`~ingest.reasons.Reason` (or plain text from an
    importer of one's own), translated when shown; the value types pass a
    :class:`~ingest.reasons.Deferred` one, made into a reason only when
    :attr:`message` is read (most rejected rows of a big file are counted,
    not kept).
    """

    def __init__(self, column: str, message: "Reason | Deferred | str") -> None:
        super().__init__(column, message)
        self.column = column
        self._message = message

    @property
    def pending(self) -> "Reason | Deferred | str":
        """Return the message as given, a Deferred one not made yet."""
        return self._message

    @property
    def message(self) -> "Reason | str":
        if isinstance(self._message, Deferred):
            self._message = self._message.reason()
        return self._message

    def __str__(self) -> str:
        return str(self.message)


#: The reason of a blank value in a column that needs one.
EMPTY = gettext_noop("%(column)s is empty")


# --- Value types ------------------------------------------------------------
#
# A type's ``prepare`` returns the closure that cleans one value of a
# column: trim, refuse or fill a blank, check, convert. It raises RowError
# itself, so :meth:`Importer.clean` is one ``map`` over the row: this runs
# for every row of every file.


@dataclass(frozen=True)
class Text:
    """A string of at most *max_length* characters."""

    max_length: int
    sql_type: ClassVar[str] = "TEXT"

    def prepare(self, name: str, *, blank: bool) -> Callable[[str], str]:
        limit = self.max_length

        def parse(value: str) -> str:
            value = value.strip()
            if not value and not blank:
                raise RowError(name, Deferred(EMPTY, column=name))
            if len(value) > limit:
                raise RowError(
                    name,
                    Deferred(
                        gettext_noop(
                            "%(column)s is %(length)d characters; the limit is "
                            "%(limit)d"
                        ),
                        column=name,
                        length=len(value),
                        limit=limit,
                    ),
                )
            return value

        return parse


def this_year() -> int:
    """Return the current year: nobody alive was born later."""
    return datetime.date.today().year


def next_year() -> int:
    """Return next year: the latest plausible year of a dated record."""
    return this_year() + 1


@dataclass(frozen=True)
class Integer:
    """A whole number in ``minimum..maximum``; *maximum* may be a callable.

    A callable maximum (:func:`next_year`) is read once per file, so a
    worker running across New Year does not keep last year's limit. A blank
    value of a column that allows blanks is stored as NULL.
    """

    minimum: int
    maximum: int | Callable[[], int]
    sql_type: ClassVar[str] = "INTEGER"

    def prepare(self, name: str, *, blank: bool) -> Callable[[str], int | None]:
        low = self.minimum
        high = self.maximum() if callable(self.maximum) else self.maximum

        def parse(value: str) -> int | None:
            value = value.strip()
            try:
                number = int(value)
            except ValueError:
                if not value:
                    if blank:
                        return None
                    raise RowError(name, Deferred(EMPTY, column=name)) from None
                number = None
            if number is None or "_" in value:  # int() takes 1_000; people don't.
                raise RowError(
                    name,
                    Deferred(
                        gettext_noop("%(column)s %(value)s is not a whole number"),
                        column=name,
                        value=repr(value),
                    ),
                )
            if not low <= number <= high:
                raise RowError(
                    name,
                    Deferred(
                        gettext_noop(
                            "%(column)s %(value)d is outside %(low)d..%(high)d"
                        ),
                        column=name,
                        value=number,
                        low=low,
                        high=high,
                    ),
                )
            return number

        return parse


# --- Columns ----------------------------------------------------------------


def heading_normalize(heading: str) -> str:
    """Return *heading* lower-cased with runs of whitespace (and a BOM) folded."""
    return " ".join(heading.replace("\ufeff", " ").split()).casefold()


@dataclass(frozen=True)
class Column:
    """A CSV column an importer reads, under its name or any alias.

    Headings match case- and whitespace-insensitively; ``_`` and a space
    are the same (``Published Year`` finds ``published_year``).
    """

    name: str
    aliases: tuple[str, ...] = ()
    type: Text | Integer = Text(255)
    #: May the value be blank? Blank text stores "", a blank number NULL.
    blank: bool = False
    #: May the column be missing from the header altogether? A file without
    #: it leaves the field alone on existing records (new ones get the
    #: model's default); a file with it may still leave values blank only
    #: if *blank* allows.
    optional: bool = False
    #: Model field the value lands in (generic apply); defaults to ``name``.
    field: str = ""

    def keys(self) -> tuple[str, ...]:
        """Return the normalized headings this column answers to."""
        return tuple(heading_key(candidate) for candidate in (self.name, *self.aliases))

    def matches(self, heading: str) -> bool:
        return heading_key(heading) in self.keys()


def no_header_hint(header: Sequence[str]) -> Reason | str:
    """Return a sentence for a refused header that looks like data, or "".

    A year or a count where a heading should be means the file has no
    header line at all: "Missing column(s)" alone would not say so. Added
    to a reason (``reason + hint``), it follows it after a space.
    """
    if not any(heading.strip().isdigit() for heading in header):
        return ""
    return Reason(
        gettext_noop(
            "The header row holds a number, so it looks like data: the file "
            "seems to have no header line; add one."
        )
    )


def heading_key(heading: str) -> str:
    """Return *heading* as headings compare: ``Published Year`` → ``published year``."""
    return heading_normalize(heading).replace("_", " ")


@dataclass
class HeaderMatch:
    """How one importer reads one header: where its columns are, what is off.

    ``indexes`` has one entry per declared column (None: an optional column
    the header lacks); ``missing`` names the required columns it lacks;
    ``unknown`` the headings no column of this importer reads.
    """

    importer: type["Importer"]
    indexes: list[int | None]
    missing: list[str]
    unknown: list[str]

    @property
    def ok(self) -> bool:
        return not self.missing

    @property
    def used(self) -> int:
        """Return how many of the header's columns this importer reads."""
        return sum(index is not None for index in self.indexes)


# --- Importer ---------------------------------------------------------------


class Importer:
    """Base class of a dataset importer.

    Subclasses declare their columns; :meth:`clean` turns each row's fields
    into a staging tuple, and :meth:`apply` moves staged rows into the real
    tables with set-based SQL. The pipeline (:mod:`ingest.importers.pipeline`)
    owns the reading and the streaming. Importers hold no state between
    files: the registry builds a fresh one per file.
    """

    #: Registry name, stored on the ledger.
    name: ClassVar[str]
    #: Columns in the order :meth:`clean` receives their values.
    columns: ClassVar[tuple[Column, ...]]
    #: File-name prefixes this importer claims (``books`` → ``books*.csv``).
    filename_prefixes: ClassVar[tuple[str, ...]] = ()
    #: Encoding every file of this dataset is in; None = detect per file.
    #: An instance may override it for one file (an inbox's declaration).
    encoding: str | None = None
    #: Staging columns after ``line``: (name, SQL type); from the columns.
    staging_columns: ClassVar[tuple[tuple[str, str], ...]]
    #: The generic :meth:`apply`'s target model and its unique natural key
    #: (column names). Importers writing several tables override apply.
    model: ClassVar[type[models.Model] | None] = None
    natural_key: ClassVar[tuple[str, ...]] = ()
    #: Models the importer writes, those pointing at others first; the
    #: benchmark counts them and removes what it added. Default: (model,).
    writes: ClassVar[tuple[type[models.Model], ...]] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "columns" in cls.__dict__ and "staging_columns" not in cls.__dict__:
            cls.staging_columns = tuple((c.name, c.type.sql_type) for c in cls.columns)

    def __init__(self) -> None:
        #: Columns the current file has; all until :meth:`column_indexes`.
        self.present = frozenset(column.name for column in self.columns)
        self._parsers = tuple(
            column.type.prepare(column.name, blank=column.blank)
            for column in self.columns
        )

    @classmethod
    def header_match(
        cls, header: Sequence[str], aliases: dict[str, str] | None = None
    ) -> HeaderMatch:
        """Return where this importer's columns sit in *header*.

        *aliases* (an inbox's: heading → column name) rename headings
        first. The first heading that matches a column wins; a heading is
        read by one column at most.
        """
        keys = [heading_key(heading) for heading in header]
        if aliases:
            renames = {heading_key(k): str(v) for k, v in aliases.items() if v}
            keys = [heading_key(renames.get(key, key)) for key in keys]
        taken: set[int] = set()
        indexes: list[int | None] = []
        missing: list[str] = []
        for column in cls.columns:
            wanted = column.keys()
            position = next(
                (i for i, key in enumerate(keys) if key in wanted and i not in taken),
                None,
            )
            if position is None and not column.optional:
                missing.append(column.name)
            if position is not None:
                taken.add(position)
            indexes.append(position)
        unknown = [
            heading.replace("\ufeff", "").strip()
            for i, heading in enumerate(header)
            if i not in taken and heading.replace("\ufeff", "").strip()
        ]
        return HeaderMatch(cls, indexes, missing, unknown)

    @classmethod
    def models_written(cls) -> tuple[type[models.Model], ...]:
        """Return the models this importer writes (see :attr:`writes`)."""
        return cls.writes or ((cls.model,) if cls.model is not None else ())

    def sample_rows(self, *, rows: int, pool: int, seed: int) -> Iterator[list[str]]:
        """Yield *rows* rows of plausible values, for the benchmark.

        Deterministic for a *seed*. Natural-key columns get distinct values,
        other text columns one of *pool* values each, numbers a value in
        their column's range. An importer whose data has a shape worth
        measuring (the catalogue's books) yields its own.
        """
        rng = random.Random(seed)
        keys = {
            column.name: _sample_key_spelling(column, seed=seed, rows=rows)
            for column in self.columns
            if column.name in self.natural_key and isinstance(column.type, Text)
        }
        for number in range(rows):
            row = []
            for column in self.columns:
                if isinstance(column.type, Integer):
                    high = column.type.maximum
                    high = high() if callable(high) else high
                    row.append(str(rng.randint(column.type.minimum, high)))
                elif column.name in keys:
                    row.append(keys[column.name](number))
                else:
                    text = f"{column.name} {rng.randrange(max(1, pool))}"
                    row.append(text[: column.type.max_length])
            yield row

    def column_indexes(
        self, header: Sequence[str], aliases: dict[str, str] | None = None
    ) -> list[int | None]:
        """Return where each declared column sits in *header* (None: absent).

        Remembers which columns the file has, so :meth:`apply` leaves the
        fields of absent optional columns alone. Raises
        :class:`FileRejected` naming what is missing.
        """
        match = self.header_match(header, aliases)
        if match.missing:
            found = [heading.replace("\ufeff", "").strip() for heading in header]
            found_text = ", ".join(h for h in found if h)
            raise FileRejected(
                Reason(
                    gettext_noop(
                        "Missing column(s): %(missing)s; expected: %(expected)s; "
                        "found: %(found)s."
                    ),
                    missing=", ".join(match.missing),
                    expected=", ".join(c.name for c in self.columns),
                    found=found_text or Reason(gettext_noop("(nothing)")),
                )
                + no_header_hint(header)
            )
        self.present = frozenset(
            column.name
            for column, index in zip(self.columns, match.indexes, strict=True)
            if index is not None
        )
        return match.indexes

    def clean(self, values: list[str]) -> tuple:
        """Return the staging tuple for one row, or raise :class:`RowError`.

        Values are trimmed; a blank one is refused unless its column allows
        blanks; the rest go through the column's type (length, range).
        """
        return tuple(map(operator.call, self._parsers, values))

    def apply(self, cursor, staging_table: str) -> tuple[int, int]:
        """Upsert the staged rows into :attr:`model`; return (imported, updated).

        Runs inside the import's transaction. Rows repeating a natural key
        inside one file collapse to the last one; an existing record counts
        as updated (its changed fields rewritten, unchanged ones left alone).
        Rows are inserted in key order so concurrent imports lock in the
        same order and cannot deadlock.
        """
        if self.model is None or not self.natural_key:
            raise NotImplementedError(
                f"{type(self).__name__} declares no model/natural_key; override apply."
            )
        meta = self.model._meta
        present = [c for c in self.columns if c.name in self.present]
        target = {c.name: meta.get_field(c.field or c.name).column for c in present}
        final = f"{staging_table}_final"
        distinct = upsert.latest_rows(
            cursor,
            staging=staging_table,
            final=final,
            key=self.natural_key,
            select=[c.name for c in present],
        )
        return upsert.rows_upsert(
            cursor,
            table=meta.db_table,
            final=final,
            columns=[(target[c.name], c.name) for c in present],
            key=[target[name] for name in self.natural_key],
            distinct=distinct,
        )


def _sample_key_spelling(
    column: Column, *, seed: int, rows: int
) -> Callable[[int], str]:
    """Return how the benchmark spells natural-key value *number* of *column*.

    Readable (``name 7-42``) when the longest of the *rows* keys fits the
    column, else seed and number in base 36 (``7-wi``): a nine-character
    ISSN holds millions. One spelling per file keeps the keys distinct; a
    key is never cut to fit, since a cut key would repeat another.
    """
    readable = f"{column.name} {seed}-{{}}".format
    if len(readable(max(rows - 1, 0))) <= column.type.max_length:
        return readable
    prefix = f"{_base36(seed)}-"
    return lambda number: prefix + _base36(number)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if not number:
            return text


#: A rejected row keeps at most this many fields of this many characters:
#: ten thousand rows of megabyte fields must not be held in memory.
RAW_MAX_FIELDS, RAW_MAX_CHARS = 50, 1000


def raw_fields_cap(fields: list[str]) -> list[str]:
    """Return a rejected row's fields cut to a size worth keeping and showing."""
    if len(fields) <= RAW_MAX_FIELDS and all(len(f) <= RAW_MAX_CHARS for f in fields):
        return fields
    return [
        f[:RAW_MAX_CHARS] + "…" if len(f) > RAW_MAX_CHARS else f
        for f in fields[:RAW_MAX_FIELDS]
    ]


def _percent(rate: float) -> int | float:
    """Return *rate* as a percentage, whole when it is (0.1 → 10, not 10.000…2)."""
    percent = float(f"{rate * 100:g}")
    return int(percent) if percent.is_integer() else percent


def rejected_share_check(
    *,
    total: int,
    rejected: int,
    max_rate: float,
    first_errors: Sequence["Reason | str"] = (),
) -> None:
    """Refuse a file with no data rows or too large a share of invalid ones.

    Raises :class:`FileRejected` whose message names the counts, the limit
    and the first few errors, so the reason file alone explains the refusal.
    """
    if total == 0:
        raise FileRejected(
            Reason(gettext_noop("The file has a header but no data rows."))
        )
    if rejected / total <= max_rate:
        return
    parts: list = [
        Reason(
            gettext_noop(
                "%(rejected)d of %(total)d rows (%(share)s%%) are invalid, more "
                "than the %(limit)s%% allowed (INGEST_MAX_REJECT_RATE), so "
                "nothing from the file was imported."
            ),
            rejected=rejected,
            total=total,
            share=round(rejected / total * 100, 1),
            limit=_percent(max_rate),
        )
    ]
    if first_errors:
        parts.append(
            Reason(
                gettext_noop("First errors: %(errors)s."),
                errors=Joined(first_errors, sep="; "),
            )
        )
    parts.append(Reason(gettext_noop("Fix the rows and drop the file again.")))
    raise FileRejected(Joined(parts, sep=" "))
