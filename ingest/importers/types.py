"""Value types: how one cell of a column becomes a value its field stores.

A type's :meth:`~ValueType.prepare` runs once per file and returns the
closure that cleans one value of a column: trim, refuse or fill a blank,
check, convert. The closure raises :class:`RowError` itself, so
:meth:`~ingest.importers.base.Importer.clean` is one ``map`` over the row:
it runs for every row of every file, so what can be decided per file (the
date order, the separators, the range) is decided in ``prepare``.

A column without a declared type gets one from its model field
(:func:`type_for_field`). A type of one's own is a small class with a
``sql_type`` (the staging column's SQL type) and a ``prepare``; see the
documentation's "Value types" page.
"""

import datetime
import decimal
import inspect
import re
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.conf import settings
from django.core import exceptions, validators
from django.db import connection, models
from django.utils import translation
from django.utils.translation import gettext_noop

from ..reasons import Deferred
from .formats import Formats

__all__ = [
    "Boolean",
    "Choice",
    "Converted",
    "Date",
    "DateTime",
    "Decimal",
    "Float",
    "Integer",
    "Lookup",
    "Text",
    "ValueType",
    "next_year",
    "this_year",
    "type_for_field",
]

#: The reason of a blank value in a column that needs one.
EMPTY = gettext_noop("%(column)s is empty")
#: Formats a type is prepared with when nobody said otherwise.
DEFAULT_FORMATS = Formats(date_order="DMY", decimal=".")


class RowError(Exception):
    """One row is invalid; it is skipped and recorded.

    *message* is a :class:`~ingest.reasons.Reason` (or plain text from an
    importer of one's own), translated when shown; the value types pass a
    :class:`~ingest.reasons.Deferred` one, made into a reason only when
    :attr:`message` is read (most rejected rows of a big file are counted,
    not kept).
    """

    def __init__(self, column: str, message) -> None:
        super().__init__(column, message)
        self.column = column
        self._message = message

    @property
    def pending(self):
        """Return the message as given, a Deferred one not made yet."""
        return self._message

    @property
    def message(self):
        if isinstance(self._message, Deferred):
            self._message = self._message.reason()
        return self._message

    def __str__(self) -> str:
        return str(self.message)


def _refuse(name: str, msgid: str, **params) -> RowError:
    return RowError(name, Deferred(msgid, column=name, **params))


def _blank(name: str, blank: bool, empty=None):
    """Return what a blank stores, or raise the "is empty" error."""
    if blank:
        return empty
    raise _refuse(name, EMPTY)


class ValueType:
    """What every value type has: a staging SQL type and a ``prepare``.

    A null token (``N/A``, ``-``) is a blank in a column that allows one;
    elsewhere it is refused as what it is not (``year 'n/a' is not a whole
    number``), which says more than "is empty" about a cell that is not.

    Subclasses are frozen dataclasses; ``prepare(name, *, blank, formats)``
    returns ``value -> stored value`` and raises :class:`RowError` naming
    *name*. A type of one's own may leave *formats* out of its signature.
    """

    sql_type: ClassVar[str] = "TEXT"
    #: Which of the file's formats the type reads: "dates", "numbers".
    reads: ClassVar[str] = ""

    def prepare(
        self, name: str, *, blank: bool, formats: Formats = DEFAULT_FORMATS
    ) -> Callable[[str], Any]:
        raise NotImplementedError

    def describe(self) -> str:
        """Return the type as the preview names it (``decimal(12,2)``)."""
        return type(self).__name__.lower()


def prepared(kind, name: str, *, blank: bool, formats: Formats) -> Callable[[str], Any]:
    """Return *kind*'s closure for a column, passing formats if it takes them."""
    if "formats" in inspect.signature(kind.prepare).parameters:
        return kind.prepare(name, blank=blank, formats=formats)
    return kind.prepare(name, blank=blank)


# --- Text -------------------------------------------------------------------


@dataclass(frozen=True)
class Text(ValueType):
    """A string of at most *max_length* characters; *validators* then run.

    Only the empty string is blank: ``N/A`` in a text column is text.
    """

    max_length: int = 255
    validators: tuple[Callable[[str], None], ...] = ()
    sql_type: ClassVar[str] = "TEXT"

    def describe(self) -> str:
        return f"text({self.max_length})"

    def prepare(
        self, name: str, *, blank: bool, formats: Formats = DEFAULT_FORMATS
    ) -> Callable[[str], str]:
        limit, checks = self.max_length, self.validators

        def parse(value: str) -> str:
            value = value.strip()
            if not value:
                return _blank(name, blank, "")
            if len(value) > limit:
                raise _refuse(
                    name,
                    gettext_noop(
                        "%(column)s is %(length)d characters; the limit is %(limit)d"
                    ),
                    length=len(value),
                    limit=limit,
                )
            for check in checks:
                _validate(check, name, value)
            return value

        return parse


def _validate(check: Callable, name: str, value) -> None:
    try:
        check(value)
    except exceptions.ValidationError as error:
        raise _refuse(
            name,
            gettext_noop("%(column)s %(value)s: %(problem)s"),
            value=repr(value),
            problem=" ".join(str(m) for m in error.messages),
        ) from None


# --- Numbers ----------------------------------------------------------------


def this_year() -> int:
    """Return the current year: nobody alive was born later."""
    return datetime.date.today().year


def next_year() -> int:
    """Return next year: the latest plausible year of a dated record."""
    return this_year() + 1


_MINUS = "\u2212"
#: What a column allowing a currency strips around the number: symbols,
#: codes and words before it, anything that is not a digit after it.
_CURRENCY = re.compile(r"^[^\d+\-\u2212.,]+|(?<=\d)[^\d]+$")


def _number_reader(formats: Formats, currency: bool) -> Callable[[str], str | None]:
    """Return a function giving a value as plain ``-1234.5`` text, or None.

    Digits are grouped by threes with a space (plain, no-break, narrow) or
    the file's thousands separator (``1 234``, ``1.234,5``); anything else
    (``1,5`` in a dot-decimal file, ``1e5``, ``NaN``) is no number.
    """
    point = formats.decimal or "."
    groups = "".join(re.escape(c) for c in formats.thousands_chars)
    shape = re.compile(
        rf"[+\-\u2212]?(?:\d{{1,3}}(?:[{groups}]\d{{3}})+|\d+)"
        rf"(?:{re.escape(point)}\d*)?|[+\-\u2212]?{re.escape(point)}\d+"
    )
    table = {ord(c): None for c in formats.thousands_chars}
    table[ord(point)] = "."
    table[ord(_MINUS)] = "-"
    match, strip = shape.fullmatch, _CURRENCY.sub

    def read(value: str) -> str | None:
        if currency:
            value = strip("", value).strip()
        return value.translate(table) if match(value) else None

    return read


def _not_number(name: str, value: str) -> RowError:
    return _refuse(
        name, gettext_noop("%(column)s %(value)s is not a number"), value=repr(value)
    )


@dataclass(frozen=True)
class Integer(ValueType):
    """A whole number in ``minimum..maximum``; *maximum* may be a callable.

    A callable maximum (:func:`next_year`) is read once per file, so a
    worker running across New Year does not keep last year's limit. A blank
    value (or a null token, ``N/A``) of a column that allows blanks is
    stored as NULL. ``1 234`` and the file's thousands separator group
    digits; Excel's ``1234.0`` is 1234.
    """

    minimum: int | None = None
    maximum: int | Callable[[], int] | None = None
    sql_type: str = "INTEGER"
    reads: ClassVar[str] = "numbers"

    def describe(self) -> str:
        high = self.maximum() if callable(self.maximum) else self.maximum
        if self.minimum is None and high is None:
            return "integer"
        low = "" if self.minimum is None else self.minimum
        return f"integer({low}..{'' if high is None else high})"

    def prepare(
        self, name: str, *, blank: bool, formats: Formats = DEFAULT_FORMATS
    ) -> Callable[[str], int | None]:
        low = self.minimum
        high = self.maximum() if callable(self.maximum) else self.maximum
        nulls = frozenset(formats.null_tokens) | {""}
        read = _number_reader(formats, False)

        def whole(value: str) -> int:
            text = read(value)
            if text is not None:
                number = decimal.Decimal(text)
                if number == number.to_integral_value():
                    return int(number)
            raise _refuse(
                name,
                gettext_noop("%(column)s %(value)s is not a whole number"),
                value=repr(value),
            )

        def parse(value: str) -> int | None:
            value = value.strip()
            try:
                number = int(value)
                if "_" in value:  # int() takes 1_000; people don't.
                    raise ValueError(value)
            except ValueError:
                if (blank or not value) and value.casefold() in nulls:
                    return _blank(name, blank)
                number = whole(value)
            if (low is not None and number < low) or (
                high is not None and number > high
            ):
                raise _refuse(
                    name,
                    gettext_noop("%(column)s %(value)d is outside %(low)s..%(high)s"),
                    value=number,
                    low="" if low is None else low,
                    high="" if high is None else high,
                )
            return number

        return parse


@dataclass(frozen=True)
class Decimal(ValueType):
    """A decimal number of at most *max_digits* digits, *places* after the point.

    ``1 234,56``, ``1,234.56`` and ``1.234,56`` per the file's separators;
    with *currency*, ``12.50 ₴`` and ``$12.50`` too. Trailing zeros beyond
    *places* are dropped (``12.500`` is 12.50); more real places are a
    rejected row, never rounded.
    """

    max_digits: int | None = None
    places: int | None = None
    currency: bool = False
    #: This column's separators, overriding the file's (``","``, ``" "``).
    decimal_separator: str = ""
    thousands_separator: str = ""
    sql_type: ClassVar[str] = "NUMERIC"
    reads: ClassVar[str] = "numbers"

    def describe(self) -> str:
        if self.max_digits is None:
            return "decimal"
        return f"decimal({self.max_digits},{self.places})"

    def prepare(
        self, name: str, *, blank: bool, formats: Formats = DEFAULT_FORMATS
    ) -> Callable[[str], decimal.Decimal | None]:
        formats = formats.merged(
            decimal=self.decimal_separator, thousands=self.thousands_separator
        )
        nulls = frozenset(formats.null_tokens) | {""}
        read = _number_reader(formats, self.currency)
        places, digits = self.places, self.max_digits
        quantum = None if places is None else decimal.Decimal(1).scaleb(-places)
        whole_digits = None if digits is None else digits - (places or 0)
        make = decimal.Decimal
        point = formats.decimal or "."
        # Most values are plain (``-123.45``) and fit: one match and two
        # string searches, not the grouping pattern and Decimal's tuples.
        plain = re.compile(rf"-?\d+(?:{re.escape(point)}\d+)?").fullmatch
        most_places = 99 if places is None else places
        most_whole = 99 if whole_digits is None else whole_digits

        def parse(value: str) -> decimal.Decimal | None:
            value = value.strip()
            if plain(value):
                at = value.find(point)
                whole = (at if at >= 0 else len(value)) - (value[0] == "-")
                if whole <= most_whole and (
                    at < 0 or len(value) - at - 1 <= most_places
                ):
                    return make(value if point == "." else value.replace(point, "."))
            text = read(value)
            if text is None:
                if (blank or not value) and value.casefold() in nulls:
                    return _blank(name, blank)
                raise _not_number(name, value)
            number = make(text)
            exponent = number.as_tuple().exponent
            if quantum is not None and -exponent > places:
                fitted = number.quantize(quantum)
                if fitted != number:
                    raise _refuse(
                        name,
                        gettext_noop(
                            "%(column)s %(value)s has more than %(places)d "
                            "decimal places"
                        ),
                        value=repr(value),
                        places=places,
                    )
                number = fitted
            if whole_digits is not None and number.adjusted() >= whole_digits:
                raise _refuse(
                    name,
                    gettext_noop(
                        "%(column)s %(value)s has more than %(digits)d digits "
                        "before the decimal point"
                    ),
                    value=repr(value),
                    digits=whole_digits,
                )
            return number

        return parse


@dataclass(frozen=True)
class Float(ValueType):
    """A floating-point number, written with the file's separators."""

    currency: bool = False
    sql_type: ClassVar[str] = "DOUBLE PRECISION"
    reads: ClassVar[str] = "numbers"

    def prepare(
        self, name: str, *, blank: bool, formats: Formats = DEFAULT_FORMATS
    ) -> Callable[[str], float | None]:
        nulls = frozenset(formats.null_tokens) | {""}
        read = _number_reader(formats, self.currency)

        def parse(value: str) -> float | None:
            value = value.strip()
            text = read(value)
            if text is None:
                if (blank or not value) and value.casefold() in nulls:
                    return _blank(name, blank)
                raise _not_number(name, value)
            return float(text)

        return parse


# --- Dates ------------------------------------------------------------------

_DATE = re.compile(r"(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?")
#: Excel's day 0 (it counts 1900 as a leap year, so serials from March 1900
#: on land right from here).
_EXCEL_EPOCH = datetime.datetime(1899, 12, 30)
#: Serial days from 1 (1900-01-01) to 2958465 (9999-12-31).
_EXCEL_SERIAL = re.compile(r"\d{1,7}(?:[.,]\d+)?")


def _date_parts(text: str, order: str) -> datetime.date | None:
    """Return the date *text* writes in *order*, or None if it writes none."""
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    a, b, c = match.groups()
    if len(a) == 4:
        year, month, day = a, b, c
    elif len(c) != 4:
        return None  # Two-digit years are a guess; nobody should rely on one.
    elif order == "MDY":
        month, day, year = a, b, c
    else:
        day, month, year = a, b, c
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None


def _excel(text: str) -> datetime.datetime | None:
    if not _EXCEL_SERIAL.fullmatch(text):
        return None
    days = float(text.replace(",", "."))
    if not 1 <= days < 2958466:
        return None
    return _EXCEL_EPOCH + datetime.timedelta(days=days)


def _order_example(order: str) -> str:
    return {"MDY": "11/25/2026", "YMD": "2026-11-25"}.get(order, "25.11.2026")


@dataclass(frozen=True)
class Date(ValueType):
    """A date: ISO, ``25.11.2026`` or ``11/25/2026`` per the order, Excel days.

    *order* (``DMY``, ``MDY``) overrides the file's; a four-digit first
    part is always year-month-day. A midnight time (``2026-11-25 00:00``,
    as spreadsheets export dates) is allowed; another time is refused.
    """

    order: str = ""
    sql_type: ClassVar[str] = "DATE"
    reads: ClassVar[str] = "dates"

    def prepare(
        self, name: str, *, blank: bool, formats: Formats = DEFAULT_FORMATS
    ) -> Callable[[str], datetime.date | None]:
        order = self.order or formats.date_order or "DMY"
        nulls = frozenset(formats.null_tokens) | {""}
        iso = datetime.date.fromisoformat

        def parse(value: str) -> datetime.date | None:
            value = value.strip()
            if len(value) == 10 and value[4] == "-":
                try:
                    return iso(value)
                except ValueError:
                    pass
            found = _date_parts(value, order)
            if found is not None:
                return found
            if (blank or not value) and value.casefold() in nulls:
                return _blank(name, blank)
            stamp = _excel(value) or _datetime_parts(value, order)
            if stamp is not None and stamp.time() == datetime.time():
                return stamp.date()
            raise _refuse(
                name,
                gettext_noop(
                    "%(column)s %(value)s is not a date (dates here read like "
                    "%(example)s)"
                ),
                value=repr(value),
                example=_order_example(order),
            )

        return parse


def _datetime_parts(text: str, order: str) -> datetime.datetime | None:
    """Return the naive or aware datetime *text* writes, or None."""
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        pass
    day_part, _, time_part = text.replace("T", " ").partition(" ")
    day = _date_parts(day_part, order)
    if day is None:
        return None
    time_part = time_part.strip()
    if not time_part:
        return datetime.datetime(day.year, day.month, day.day)
    match = _TIME.fullmatch(time_part)
    if match is None:
        return None
    hour, minute, second, fraction = match.groups()
    try:
        return datetime.datetime(
            day.year,
            day.month,
            day.day,
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError:
        return None


@dataclass(frozen=True)
class DateTime(ValueType):
    """A date and time; one without an offset is in the file's time zone.

    The zone is the inbox's (``TIME_ZONE`` unless staff chose one) or
    *time_zone*. Under ``USE_TZ`` the value is stored aware (as UTC on
    databases that keep no zone), as Django's own DateTimeField does.
    """

    order: str = ""
    time_zone: str = ""
    reads: ClassVar[str] = "dates"

    @property
    def sql_type(self) -> str:
        return "TIMESTAMP WITH TIME ZONE" if settings.USE_TZ else "TIMESTAMP"

    def prepare(
        self, name: str, *, blank: bool, formats: Formats = DEFAULT_FORMATS
    ) -> Callable[[str], datetime.datetime | None]:
        order = self.order or formats.date_order or "DMY"
        zone = zoneinfo.ZoneInfo(
            self.time_zone or formats.time_zone or settings.TIME_ZONE
        )
        use_tz = settings.USE_TZ
        # SQLite keeps no zone: Django stores naive UTC there, so do we.
        as_utc = use_tz and not connection.features.supports_timezones
        nulls = frozenset(formats.null_tokens) | {""}

        def refused(value: str) -> RowError:
            return _refuse(
                name,
                gettext_noop(
                    "%(column)s %(value)s is not a date and time (they "
                    "read here like %(example)s 14:05)"
                ),
                value=repr(value),
                example=_order_example(order),
            )

        def parse(value: str) -> datetime.datetime | None:
            value = value.strip()
            stamp = _datetime_parts(value, order) or _excel(value)
            if stamp is None:
                if (blank or not value) and value.casefold() in nulls:
                    return _blank(name, blank)
                raise refused(value)
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=zone)
            try:
                if not use_tz:
                    return stamp.astimezone(zone).replace(tzinfo=None)
                if as_utc:
                    return stamp.astimezone(datetime.UTC).replace(tzinfo=None)
            except OverflowError:  # 0001-01-01 00:00+05:00 has no UTC time.
                raise refused(value) from None
            return stamp

        return parse


# --- Booleans and choices ---------------------------------------------------


@dataclass(frozen=True)
class Boolean(ValueType):
    """Yes or no: ``1/0``, ``true/false``, ``так/ні``, ``+/-`` and the like.

    *true* and *false* replace the file's words (case-insensitive). *empty*
    is what a blank means where a file marks only the yes rows (``x`` or
    nothing): ``Boolean(empty=False)``; by default a blank is NULL, or
    refused when the column allows no blanks.
    """

    true: tuple[str, ...] = ()
    false: tuple[str, ...] = ()
    empty: bool | None = None
    sql_type: ClassVar[str] = "BOOLEAN"

    def prepare(
        self, name: str, *, blank: bool, formats: Formats = DEFAULT_FORMATS
    ) -> Callable[[str], bool | None]:
        yes = frozenset(w.casefold() for w in self.true or formats.true_words)
        no = frozenset(w.casefold() for w in self.false or formats.false_words)
        nulls = frozenset(formats.null_tokens) | {""}
        empty = self.empty
        allowed = ", ".join(sorted(yes)) + " / " + ", ".join(sorted(no))

        def parse(value: str) -> bool | None:
            key = value.strip().casefold()
            if key in yes:
                return True
            if key in no:
                return False
            if key in nulls and (blank or empty is not None or not key):
                if empty is not None:
                    return empty
                return _blank(name, blank)
            raise _refuse(
                name,
                gettext_noop("%(column)s %(value)s is not yes or no (%(words)s)"),
                value=repr(value.strip()),
                words=allowed,
            )

        return parse


@dataclass(frozen=True)
class Choice(ValueType):
    """One of *choices*, given as its stored value or its label.

    Labels match case-insensitively in every language of ``LANGUAGES``
    (``гривня`` and ``hryvnia`` both give ``UAH``); *inner* reads the
    stored values (an IntegerField's choices are numbers).
    """

    choices: tuple[tuple[Any, Any], ...] = ()
    inner: ValueType = field(default_factory=lambda: Text(255))

    @property
    def sql_type(self) -> str:
        return self.inner.sql_type

    def describe(self) -> str:
        return "choice(" + ", ".join(str(v) for v, _ in self.choices) + ")"

    def prepare(
        self, name: str, *, blank: bool, formats: Formats = DEFAULT_FORMATS
    ) -> Callable[[str], Any]:
        known: dict[str, Any] = {}
        languages = [code for code, _ in settings.LANGUAGES] or [settings.LANGUAGE_CODE]
        for code in languages:
            with translation.override(code):
                for stored, label in self.choices:
                    known.setdefault(str(label).strip().casefold(), stored)
        for stored, _label in self.choices:
            known[str(stored).strip().casefold()] = stored
        empty = "" if self.inner.sql_type == "TEXT" else None
        valid = ", ".join(str(stored) for stored, _ in self.choices)

        def parse(value: str) -> Any:
            key = value.strip().casefold()
            try:
                return known[key]
            except KeyError:
                if not key:
                    return _blank(name, blank, empty)
                raise _refuse(
                    name,
                    gettext_noop("%(column)s %(value)s is not one of: %(choices)s"),
                    value=repr(value.strip()),
                    choices=valid,
                ) from None

        return parse


# --- Lookups and the rest ---------------------------------------------------


@dataclass(frozen=True)
class Lookup(ValueType):
    """A foreign key given by the target's natural key, not its id.

    The column stages the key value (read by *inner*, the target field's
    type); the importer's apply joins the staged values against *model*
    once per file. A value no record has is a rejected row, unless
    *create* makes the record (books create their authors).
    """

    model: Any = None
    to: str = ""
    inner: ValueType = field(default_factory=lambda: Text(255))
    create: bool = False

    @property
    def sql_type(self) -> str:
        return self.inner.sql_type

    @property
    def reads(self) -> str:
        return self.inner.reads

    def describe(self) -> str:
        target = self.model._meta.label if self.model is not None else "?"
        made = ", create" if self.create else ""
        return f"lookup({target}.{self.to}{made})"

    def prepare(
        self, name: str, *, blank: bool, formats: Formats = DEFAULT_FORMATS
    ) -> Callable[[str], Any]:
        inner = prepared(self.inner, name, blank=blank, formats=formats)

        def parse(value: str) -> Any:
            found = inner(value)
            return None if found == "" else found

        return parse


@dataclass(frozen=True)
class Converted(ValueType):
    """Whatever the model field's own ``to_python`` makes of the text.

    UUIDs, IP addresses and JSON: the field knows its format best.
    """

    model_field: Any = None
    sql_type_name: str = "TEXT"

    @property
    def sql_type(self) -> str:
        return self.sql_type_name

    def describe(self) -> str:
        return self.model_field.get_internal_type() if self.model_field else "text"

    def prepare(
        self, name: str, *, blank: bool, formats: Formats = DEFAULT_FORMATS
    ) -> Callable[[str], Any]:
        model_field = self.model_field
        json = isinstance(model_field, models.JSONField)
        encoder = model_field.encoder if json else None
        import json as json_module

        def parse(value: str) -> Any:
            value = value.strip()
            if not value:
                return _blank(name, blank)
            try:
                if json:
                    return json_module.dumps(json_module.loads(value), cls=encoder)
                found = model_field.to_python(value)
                model_field.run_validators(found)
            except (exceptions.ValidationError, ValueError) as error:
                problem = (
                    " ".join(str(m) for m in error.messages)
                    if isinstance(error, exceptions.ValidationError)
                    else str(error)
                )
                raise _refuse(
                    name,
                    gettext_noop("%(column)s %(value)s: %(problem)s"),
                    value=repr(value),
                    problem=problem,
                ) from None
            return str(found)

        return parse


# --- From a model field -----------------------------------------------------


def _integer_range(model_field) -> tuple[int | None, int | None]:
    low, high = connection.ops.integer_field_range(model_field.get_internal_type())
    for check in model_field.validators:
        if isinstance(check, validators.MinValueValidator) and not callable(
            check.limit_value
        ):
            low = check.limit_value if low is None else max(low, check.limit_value)
        if isinstance(check, validators.MaxValueValidator) and not callable(
            check.limit_value
        ):
            high = check.limit_value if high is None else min(high, check.limit_value)
    return low, high


#: Validators Text runs beside its own length check (which covers these).
_LENGTH_VALIDATORS = (
    validators.MaxLengthValidator,
    validators.ProhibitNullCharactersValidator,
)


def natural_fields(model) -> tuple[str, ...]:
    """Return the one unique non-primary field of *model*, or () if not one.

    A single-field unique constraint counts; a model with two such fields
    must say which one a lookup uses (``Column(..., lookup="code")``).
    """
    meta = model._meta
    unique = [f.name for f in meta.concrete_fields if f.unique and not f.primary_key]
    for constraint in meta.total_unique_constraints:
        if len(constraint.fields) == 1 and constraint.fields[0] not in unique:
            unique.append(constraint.fields[0])
    return (unique[0],) if len(unique) == 1 else ()


def type_for_field(model_field, *, lookup: str = "", create: bool = False) -> ValueType:
    """Return the value type that stores into *model_field*, with its limits.

    Raises TypeError for a field no type here can fill (a ManyToManyField);
    the system checks report that as ``ingest.E007``.
    """
    if model_field.is_relation:
        if not (model_field.many_to_one or model_field.one_to_one):
            raise TypeError(f"{model_field} is not a value or a foreign key")
        target_model = model_field.related_model
        declared = model_field.to_fields[0] if model_field.to_fields else None
        if declared == target_model._meta.pk.name:
            declared = None  # Django fills in the primary key when none is given.
        to = lookup or declared or ""
        if not to:
            found = natural_fields(target_model)
            to = found[0] if found else ""
        if not to:
            raise TypeError(
                f"{target_model._meta.label} has no one unique field to look up by"
            )
        target = target_model._meta.get_field(to)
        return Lookup(
            model=target_model, to=to, inner=type_for_field(target), create=create
        )
    if model_field.choices:
        inner = type_for_field(_without_choices(model_field))
        return Choice(tuple(model_field.flatchoices), inner)
    kind = model_field.get_internal_type()
    if isinstance(model_field, models.BooleanField):
        return Boolean()
    if kind in ("DecimalField",):
        return Decimal(model_field.max_digits, model_field.decimal_places)
    if kind == "FloatField":
        return Float()
    if kind in (
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    ):
        low, high = _integer_range(model_field)
        return Integer(low, high, "BIGINT" if "Big" in kind else "INTEGER")
    if kind == "DateTimeField":
        return DateTime()
    if kind == "DateField":
        return Date()
    if kind in ("UUIDField", "GenericIPAddressField", "IPAddressField"):
        sql = {"UUIDField": "UUID"}.get(kind, "INET")
        if connection.vendor != "postgresql":
            sql = "TEXT"
        return Converted(model_field, sql)
    if kind == "JSONField":
        return Converted(
            model_field, "JSONB" if connection.vendor == "postgresql" else "TEXT"
        )
    if kind in ("CharField", "TextField", "SlugField", "EmailField", "URLField"):
        limit = model_field.max_length or 1_000_000_000
        checks = tuple(
            v for v in model_field.validators if not isinstance(v, _LENGTH_VALIDATORS)
        )
        return Text(limit, checks)
    raise TypeError(f"no value type stores into a {kind}")


def _without_choices(model_field):
    clone = model_field.clone()
    clone.choices = None
    clone.model = model_field.model
    return clone


#: What each value type can store into: a field of one of these kinds.
STORES_INTO: dict[type, Sequence[str]] = {
    Text: ("CharField", "TextField", "SlugField", "EmailField", "URLField"),
    Integer: (
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "DecimalField",
        "FloatField",
        "ForeignKey",
    ),
    Decimal: ("DecimalField", "FloatField"),
    Float: ("FloatField", "DecimalField"),
    Date: ("DateField",),
    DateTime: ("DateTimeField",),
    Boolean: ("BooleanField", "NullBooleanField"),
}
