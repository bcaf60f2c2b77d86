"""The shape every importer shares: declared columns, row cleaning, apply.

An importer is a small declarative class: its registry name, the file-name
prefixes it claims, its :class:`Column` s (heading, aliases, value type,
whether blanks are allowed) and either a ``model`` + ``natural_key`` that
the generic set-based upsert here applies, or its own :meth:`apply` when a
row feeds several tables (books: authors, then books).
"""

import dataclasses
import datetime
import operator
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.utils.translation import gettext_noop

from ..reasons import Joined, Reason
from . import upsert
from .formats import Formats
from .types import (
    EMPTY,
    Boolean,
    Choice,
    Date,
    DateTime,
    Decimal,
    Integer,
    Lookup,
    RowError,
    Text,
    ValueType,
    next_year,
    prepared,
    this_year,
    type_for_field,
)

__all__ = [
    "EMPTY",
    "Column",
    "FileRejected",
    "Importer",
    "Integer",
    "RejectedRow",
    "RowError",
    "Text",
    "next_year",
    "this_year",
]


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


# --- Value types ------------------------------------------------------------
#
# They live in :mod:`.types`; ``Text``, ``Integer`` and ``RowError`` are
# imported from here by older importers, so they stay importable here.

# --- Columns ----------------------------------------------------------------


def heading_normalize(heading: str) -> str:
    """Return *heading* lower-cased with runs of whitespace (and a BOM) folded."""
    return " ".join(heading.replace("\ufeff", " ").split()).casefold()


@dataclass(frozen=True)
class Column:
    """A CSV column an importer reads, under its name or any alias.

    Headings match case- and whitespace-insensitively; ``_`` and a space
    are the same (``Published Year`` finds ``published_year``). A column of
    an importer with a ``model`` takes its type and whether it may be blank
    from the field it lands in unless it declares them.
    """

    name: str
    aliases: tuple[str, ...] = ()
    #: How a value is read; None: from the model field (else ``Text(255)``).
    type: ValueType | None = None
    #: May the value be blank? Blank text stores "", a blank number NULL.
    #: None: as the model field allows (``blank`` for text, else ``null``).
    blank: bool | None = None
    #: May the column be missing from the header altogether? A file without
    #: it leaves the field alone on existing records (new ones get the
    #: model's default); a file with it may still leave values blank only
    #: if *blank* allows.
    optional: bool = False
    #: Model field the value lands in (generic apply); defaults to ``name``.
    #: ``category__code`` is a foreign key looked up by the target's
    #: ``code``; several columns naming one foreign key make a key of
    #: several fields.
    field: str = ""
    #: The target field a foreign key is looked up by (``category__<lookup>``).
    lookup: str = ""
    #: Make the target of a foreign key lookup when no record has the value.
    create: bool = False
    #: Values read as blank in this column, replacing the file's.
    null_tokens: tuple[str, ...] = ()

    def keys(self) -> tuple[str, ...]:
        """Return the normalized headings this column answers to."""
        return tuple(heading_key(candidate) for candidate in (self.name, *self.aliases))

    def matches(self, heading: str) -> bool:
        return heading_key(heading) in self.keys()

    @property
    def field_path(self) -> tuple[str, str]:
        """Return (model field, looked-up target field or "")."""
        path = self.field or self.name
        field_name, _, target = path.partition("__")
        return field_name, target or self.lookup


def column_resolve(column: Column, model: type[models.Model] | None) -> Column:
    """Return *column* with its type and blank filled in from *model*.

    A field that does not exist, or that no type stores into, leaves the
    column as declared (``Text(255)``): the system checks say what is wrong.
    """
    kind, blank = column.type, column.blank
    model_field = None
    if model is not None:
        field_name, target = column.field_path
        try:
            model_field = model._meta.get_field(field_name)
        except FieldDoesNotExist:
            model_field = None
        if model_field is not None and kind is None:
            try:
                kind = type_for_field(model_field, lookup=target, create=column.create)
            except (TypeError, FieldDoesNotExist):
                kind = None
    if blank is None:
        if model_field is None:
            blank = False
        elif isinstance(kind, Text | Choice) and kind.sql_type == "TEXT":
            blank = bool(model_field.blank)
        else:
            blank = bool(model_field.null)
    return dataclasses.replace(column, type=kind or Text(255), blank=blank)


@dataclass(frozen=True)
class LookupGroup:
    """One foreign key the generic apply fills by joining staged key values.

    *parts* pair each staging column with the target's field it matches.
    """

    field: models.ForeignKey
    parts: tuple[tuple[str, models.Field], ...]
    create: bool

    @property
    def model(self) -> type[models.Model]:
        return self.field.related_model

    def on(self, alias: str, staged: str) -> str:
        """Return the join condition of target *alias* to staged rows *staged*."""
        quote = connection.ops.quote_name
        return " AND ".join(
            f"{alias}.{quote(target.column)} = {staged}.{quote(column)}"
            for column, target in self.parts
        )


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

    #: How the dataset's files write dates, numbers, booleans and blanks
    #: (blank: detected per file, else the inbox's language); an inbox may
    #: override each, a column's type too (``Date(order="MDY")``).
    date_order: ClassVar[str] = ""
    decimal_separator: ClassVar[str] = ""
    thousands_separator: ClassVar[str] = ""
    true_words: ClassVar[tuple[str, ...]] = ()
    false_words: ClassVar[tuple[str, ...]] = ()
    null_tokens: ClassVar[tuple[str, ...]] = ()
    #: Zone of datetimes written without an offset; blank: ``TIME_ZONE``.
    time_zone: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "columns" in cls.__dict__ or "model" in cls.__dict__:
            cls.columns = tuple(
                column_resolve(column, cls.model)
                for column in cls.__dict__.get("columns", getattr(cls, "columns", ()))
            )
        if "columns" in cls.__dict__ and "staging_columns" not in cls.__dict__:
            cls.staging_columns = tuple((c.name, c.type.sql_type) for c in cls.columns)

    def __init__(self, formats: Formats | None = None) -> None:
        #: Columns the current file has; all until :meth:`column_indexes`.
        self.present = frozenset(column.name for column in self.columns)
        self.formats_use(formats or self.formats_declared())

    @classmethod
    def formats_declared(cls, **overrides) -> Formats:
        """Return the formats this importer declares, an inbox's *overrides* on top."""
        declared = Formats(language=settings.LANGUAGE_CODE).merged(
            date_order=cls.date_order,
            decimal=cls.decimal_separator,
            thousands=cls.thousands_separator,
            true_words=tuple(cls.true_words),
            false_words=tuple(cls.false_words),
            null_tokens=tuple(cls.null_tokens),
            time_zone=cls.time_zone,
        )
        return declared.merged(**overrides)

    def formats_use(self, formats: Formats) -> None:
        """Read the coming file with *formats*: prepare every column's closure."""
        self.formats = formats
        self._parsers = tuple(
            prepared(
                column.type,
                column.name,
                blank=column.blank,
                formats=formats.merged(null_tokens=column.null_tokens),
            )
            for column in self.columns
        )

    @classmethod
    def formats_read(cls) -> dict[str, list[int]]:
        """Return which columns' values settle the date order and the separators."""
        reads: dict[str, list[int]] = {"dates": [], "numbers": []}
        for index, column in enumerate(cls.columns):
            kind = getattr(column.type, "reads", "")
            if kind in reads:
                reads[kind].append(index)
        return reads

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
        values = [_sample_value(column, rng, pool) for column in self.columns]
        for number in range(rows):
            yield [
                keys[column.name](number) if column.name in keys else value()
                for column, value in zip(self.columns, values, strict=True)
            ]

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

    @classmethod
    def lookup_groups(cls, names: Sequence[str] | None = None) -> list[LookupGroup]:
        """Return the foreign keys the columns *names* (all) fill by lookup."""
        if cls.model is None:
            return []
        meta = cls.model._meta
        groups: dict[str, tuple[models.Field, list, bool]] = {}
        for column in cls.columns:
            if not isinstance(column.type, Lookup):
                continue
            if names is not None and column.name not in names:
                continue
            field_name, _target = column.field_path
            model_field = meta.get_field(field_name)
            target = model_field.related_model._meta.get_field(column.type.to)
            entry = groups.setdefault(field_name, (model_field, [], False))
            entry[1].append((column.name, target))
            groups[field_name] = (model_field, entry[1], entry[2] or column.type.create)
        return [
            LookupGroup(model_field, tuple(parts), create)
            for model_field, parts, create in groups.values()
        ]

    def lookups_reject(
        self, cursor, staging_table: str, *, limit: int
    ) -> tuple[int, list[RejectedRow]]:
        """Take out staged rows whose foreign key value no record has.

        One anti-join per foreign key, whatever the file's size; returns how
        many rows went and the first *limit* of them as rejected rows, each
        naming its column and value. Lookups that create their target
        refuse nothing.
        """
        count, kept = 0, []
        quote = connection.ops.quote_name
        for group in self.lookup_groups(sorted(self.present)):
            if group.create:
                continue
            table = quote(group.model._meta.db_table)
            columns = [column for column, _target in group.parts]
            where = " AND ".join(
                f"{staging_table}.{quote(c)} IS NOT NULL" for c in columns
            )
            where += (
                f" AND NOT EXISTS (SELECT 1 FROM {table} AS t"
                f" WHERE {group.on('t', staging_table)})"
            )
            staged = [name for name, _type in self.staging_columns]
            cursor.execute(
                f"SELECT line, {', '.join(map(quote, staged))} FROM {staging_table}"
                f" WHERE {where} ORDER BY line LIMIT {int(limit)}"
            )
            for line, *row in cursor.fetchall():
                as_read = dict(zip(staged, row, strict=True))
                values = [as_read[column] for column in columns]
                kept.append(
                    RejectedRow(
                        line,
                        columns[0],
                        Reason(
                            gettext_noop(
                                "%(column)s %(value)s is unknown: no %(model)s has "
                                "this %(field)s"
                            ),
                            column=", ".join(columns),
                            value=", ".join(repr(str(v)) for v in values),
                            model=str(group.model._meta.verbose_name),
                            field=", ".join(t.name for _c, t in group.parts),
                        ),
                        # The row as staged: every column, not only the key.
                        ["" if v is None else str(v) for v in row],
                    )
                )
            cursor.execute(f"DELETE FROM {staging_table} WHERE {where}")
            count += cursor.rowcount
        kept.sort(key=lambda row: row.line)
        return count, kept[:limit]

    def lookups_create(self, cursor, staging_table: str) -> None:
        """Insert the targets of ``create=True`` lookups no record has yet.

        Sorted, so concurrent imports lock shared keys in the same order and
        cannot deadlock each other; only the key fields are written, the
        rest take their database defaults.
        """
        quote = connection.ops.quote_name
        for group in self.lookup_groups(sorted(self.present)):
            if not group.create:
                continue
            columns = [quote(column) for column, _target in group.parts]
            targets = [quote(target.column) for _column, target in group.parts]
            present = " AND ".join(f"{c} IS NOT NULL" for c in columns)
            table = quote(group.model._meta.db_table)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(targets)})"
                f" SELECT DISTINCT {', '.join(columns)} FROM {staging_table}"
                f" WHERE {present} ORDER BY {', '.join(columns)}"
                f" ON CONFLICT ({', '.join(targets)}) DO NOTHING"
            )

    def apply(self, cursor, staging_table: str) -> tuple[int, int]:
        """Upsert the staged rows into :attr:`model`; return (imported, updated).

        Runs inside the import's transaction. Foreign keys given by their
        natural key are joined in once per file (their targets made first
        where the column says ``create``). Rows repeating a natural key
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
        quote = connection.ops.quote_name
        present = [c for c in self.columns if c.name in self.present]
        groups = self.lookup_groups([c.name for c in present])
        looked_up = {column: g for g in groups for column, _t in g.parts}
        self.lookups_create(cursor, staging_table)
        select, pairs, joins = [], [], []
        target: dict[str, str] = {}
        for column in present:
            if column.name in looked_up:
                target[column.name] = looked_up[column.name].field.column
                continue
            field_name, _ = column.field_path
            target[column.name] = meta.get_field(field_name).column
            select.append(f"s.{quote(column.name)}")
            pairs.append((target[column.name], quote(column.name)))
        for number, group in enumerate(groups):
            alias, fk = f"k{number}", group.field
            joins.append(
                f"LEFT JOIN {quote(group.model._meta.db_table)} AS {alias}"
                f" ON {group.on(alias, 's')}"
            )
            select.append(
                f"{alias}.{quote(fk.target_field.column)} AS {quote(fk.column)}"
            )
            pairs.append((fk.column, quote(fk.column)))
        final = f"{staging_table}_final"
        distinct = upsert.latest_rows(
            cursor,
            staging=staging_table,
            final=final,
            key=self.natural_key,
            select=select,
            join=" ".join(joins),
        )
        return upsert.rows_upsert(
            cursor,
            table=quote(meta.db_table),
            final=final,
            columns=pairs,
            key=list(dict.fromkeys(target[name] for name in self.natural_key)),
            distinct=distinct,
        )

    @classmethod
    def columns_described(cls) -> list[tuple[str, str]]:
        """Return each column's name and type as the preview shows them."""
        return [(c.name, c.type.describe()) for c in cls.columns]


def _sample_value(column: Column, rng: random.Random, pool: int) -> Callable[[], str]:
    """Return a maker of plausible values of *column*, as PostgreSQL reads them.

    The benchmark's SQL floor COPYs the same file straight into typed
    columns, so numbers, dates and booleans are written the way it reads.
    """
    kind = column.type
    if isinstance(kind, Lookup):
        kind = kind.inner
    if isinstance(kind, Integer):
        low = kind.minimum if kind.minimum is not None else 0
        high = kind.maximum() if callable(kind.maximum) else kind.maximum
        high = min(high if high is not None else 10**6, low + 10**6)
        return lambda: str(rng.randint(low, high))
    if isinstance(kind, Decimal):
        places = kind.places if kind.places is not None else 2
        whole = 10 ** min(6, (kind.max_digits or 8) - places) - 1
        return lambda: f"{rng.randint(0, whole)}.{rng.randrange(10**places):0{places}d}"
    if isinstance(kind, DateTime):
        start = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
        return lambda: (
            start + datetime.timedelta(minutes=rng.randrange(10**7))
        ).isoformat()
    if isinstance(kind, Date):
        start = datetime.date(2000, 1, 1)
        return lambda: (
            start + datetime.timedelta(days=rng.randrange(10_000))
        ).isoformat()
    if isinstance(kind, Boolean):
        return lambda: rng.choice(("true", "false"))
    if isinstance(kind, Choice):
        stored = [str(value) for value, _label in kind.choices]
        return lambda: rng.choice(stored)
    limit = getattr(kind, "max_length", 255)
    return lambda: f"{column.name} {rng.randrange(max(1, pool))}"[:limit]


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
