"""Value types: what each accepts, what it makes of it, and how it refuses.

Each type is prepared once with a file's formats and then cleans one value;
a refused value is a :class:`RowError` whose message names the column and
the value. Hypothesis writes accepted values every way a file may (each
separator, each date order, any case) and reads them back.
"""

import datetime
import decimal
import uuid
import zoneinfo

import hypothesis
import pytest
from django.core import validators
from django.db import connection, models
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from ingest.importers import (
    Boolean,
    Choice,
    Column,
    Converted,
    Date,
    DateTime,
    Decimal,
    Float,
    Importer,
    Integer,
    Lookup,
    RowError,
    Text,
)
from ingest.importers.formats import FALSE_WORDS, TRUE_WORDS, Formats
from ingest.importers.types import natural_fields, prepared, type_for_field
from tests.testapp.models import Category, PriceItem
from tests.testapp.price_importers import PriceListImporter

D = decimal.Decimal
#: Files writing a decimal point or comma, day first; and month first.
DOT = Formats(date_order="DMY", decimal=".")
COMMA = Formats(date_order="DMY", decimal=",")
MDY = Formats(date_order="MDY", decimal=".")
KYIV = zoneinfo.ZoneInfo("Europe/Kyiv")
CURRENCY = type_for_field(PriceItem._meta.get_field("currency"))
#: Property tests: quick, and no example database left in the work tree.
PROPERTY = hypothesis.settings(deadline=None, max_examples=100, database=None)


def reader(kind, name="col", *, blank=False, formats=DOT):
    """Return *kind*'s closure for a column *name* of a file in *formats*."""
    return prepared(kind, name, blank=blank, formats=formats)


def read(kind, value, *, blank=False, formats=DOT, name="col"):
    return reader(kind, name, blank=blank, formats=formats)(value)


def refused(kind, value, *, blank=False, formats=DOT, name="col", shown=None) -> str:
    """Return the message *kind* refuses *value* with, checking it names both.

    *shown* is how the message writes the value (its repr, trimmed, unless
    said otherwise).
    """
    with pytest.raises(RowError) as caught:
        read(kind, value, blank=blank, formats=formats, name=name)
    message = str(caught.value)
    assert caught.value.column == name
    assert message.startswith(name), message
    assert (repr(value.strip()) if shown is None else shown) in message, message
    return message


def empty(call) -> str:
    """Return the column *call* refuses as empty, checking the message says so."""
    with pytest.raises(RowError) as caught:
        call()
    assert str(caught.value) == f"{caught.value.column} is empty"
    return caught.value.column


# --- Integer ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "formats", "expected"),
    [
        ("1234", DOT, 1234),
        ("  1234 ", DOT, 1234),
        ("1 234", DOT, 1234),
        ("1 234", COMMA, 1234),
        ("1\u00a0234", COMMA, 1234),  # No-break space, as spreadsheets write.
        ("1\u202f234\u202f567", DOT, 1234567),  # Narrow no-break space.
        ("1'234", DOT, 1234),
        ("1,234", DOT, 1234),  # Comma groups where the point is a dot…
        ("1.234", COMMA, 1234),  # …and dots where it is a comma.
        ("1,234,567", DOT, 1234567),
        ("1234.0", DOT, 1234),  # Excel's whole numbers.
        ("1234,0", COMMA, 1234),
        ("-12", DOT, -12),
        ("+12", DOT, 12),
        ("\u221212", DOT, -12),  # A typographic minus.
        ("0", DOT, 0),
    ],
)
def test_integer_reads_whole_numbers_grouped_as_the_file_groups_them(
    value, formats, expected
):
    assert read(Integer(), value, formats=formats) == expected


@pytest.mark.parametrize(
    ("value", "formats"),
    [
        ("12.5", DOT),
        ("12,5", COMMA),
        ("1.234", DOT),  # A dot is this file's decimal point: 1.234 is not whole.
        ("1,234", COMMA),
        ("12 34", DOT),  # Groups are of three digits.
        ("1_000", DOT),  # Python's int() takes it; people do not write it.
        ("1e3", DOT),
        ("twelve", DOT),
        ("N/A", DOT),  # A null token where no blank is allowed is no number.
    ],
)
def test_integer_refuses_what_is_not_a_whole_number(value, formats):
    message = refused(Integer(), value, formats=formats, name="year")
    assert "is not a whole number" in message


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (Integer(0, 10), "11"),
        (Integer(0, 10), "-1"),
        (Integer(1000, 2026), "1 999 999"),
        (Integer(maximum=lambda: 2026), "2027"),  # A callable limit is read per file.
    ],
)
def test_integer_refuses_a_value_outside_its_range(kind, value):
    number = str(read(Integer(), value))
    message = refused(kind, value, name="year", shown=number)
    high = kind.maximum() if callable(kind.maximum) else kind.maximum
    assert f"is outside {'' if kind.minimum is None else kind.minimum}..{high}" in (
        message
    )


def test_integer_blanks_are_null_where_allowed_and_refused_elsewhere():
    assert read(Integer(), "", blank=True) is None
    assert read(Integer(), " n/a ", blank=True) is None
    assert read(Integer(), "NULL", blank=True) is None
    assert empty(lambda: read(Integer(), "  ", name="year")) == "year"


@given(
    number=st.integers(-(10**15), 10**15),
    style=st.sampled_from(
        [
            ("", DOT),
            (" ", DOT),
            ("\u00a0", COMMA),
            ("\u202f", DOT),
            ("'", COMMA),
            (",", DOT),
            (".", COMMA),
            ("excel", DOT),
            ("excel", COMMA),
        ]
    ),
)
@PROPERTY
def test_every_whole_number_reads_back_however_its_digits_are_grouped(number, style):
    separator, formats = style
    if separator == "excel":
        text = f"{number}{formats.decimal}0"
    else:
        text = f"{number:,}".replace(",", separator)
    assert read(Integer(), text, formats=formats) == number


@given(
    low=st.integers(-1000, 1000),
    span=st.integers(0, 1000),
    number=st.integers(-3000, 3000),
)
@PROPERTY
def test_an_integer_is_kept_exactly_when_it_is_in_range(low, span, number):
    kind = Integer(low, low + span)
    if low <= number <= low + span:
        assert read(kind, f"{number:,}") == number
    else:
        refused(kind, f"{number:,}", name="qty", shown=str(number))


# --- Decimal ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "formats", "expected"),
    [
        (Decimal(12, 2), "1 234,56", COMMA, D("1234.56")),
        (Decimal(12, 2), "1\u00a0234,56", COMMA, D("1234.56")),
        (Decimal(12, 2), "1,234.56", DOT, D("1234.56")),
        (Decimal(12, 2), "1.234,56", COMMA, D("1234.56")),
        (Decimal(12, 2), "1 234 567,8", COMMA, D("1234567.8")),
        (Decimal(12, 2), "-12,5", COMMA, D("-12.5")),
        (Decimal(12, 2), "\u221212.5", DOT, D("-12.5")),
        (Decimal(12, 2), "+0.5", DOT, D("0.5")),
        (Decimal(12, 2), ",5", COMMA, D("0.5")),
        (Decimal(12, 2), "12", COMMA, D("12")),
        (Decimal(12, 2), "12.500", DOT, D("12.50")),  # Zeros beyond the places go.
        (Decimal(12, 2, currency=True), "12.50 ₴", DOT, D("12.50")),
        (Decimal(12, 2, currency=True), "$12.50", DOT, D("12.50")),
        (Decimal(12, 2, currency=True), "UAH 1 234,56", COMMA, D("1234.56")),
        (Decimal(12, 2, currency=True), "-1 037,01 грн.", COMMA, D("-1037.01")),
        # A column's own separators beat the file's.
        (Decimal(12, 2, decimal_separator=","), "12,5", DOT, D("12.5")),
        (
            Decimal(12, 2, decimal_separator=",", thousands_separator="."),
            "1.234,5",
            DOT,
            D("1234.5"),
        ),
        (Decimal(), "123456789012345.123456", DOT, D("123456789012345.123456")),
    ],
)
def test_decimal_reads_numbers_written_with_the_files_separators(
    kind, value, formats, expected
):
    found = read(kind, value, formats=formats)
    assert isinstance(found, D)
    assert found == expected


@pytest.mark.parametrize(
    ("kind", "value", "formats", "problem"),
    [
        (Decimal(12, 2), "12.50 ₴", DOT, "is not a number"),  # No currency allowed.
        (Decimal(12, 2), "1,5", DOT, "is not a number"),
        (Decimal(12, 2), "1.234,56", DOT, "is not a number"),
        (Decimal(12, 2), "1,234.56", COMMA, "is not a number"),
        (Decimal(12, 2), "1.2.3", DOT, "is not a number"),
        (Decimal(12, 2), "1e5", DOT, "is not a number"),
        (Decimal(12, 2), "NaN", DOT, "is not a number"),
        (Decimal(12, 2), "Infinity", DOT, "is not a number"),
        (Decimal(12, 2), "n/a", DOT, "is not a number"),  # No blank allowed.
        (Decimal(12, 2), "1.234", DOT, "has more than 2 decimal places"),
        (Decimal(12, 2), "0,005", COMMA, "has more than 2 decimal places"),
        (Decimal(4, 2), "123.4", DOT, "has more than 2 digits before the decimal"),
        (Decimal(12, 2), "12 345 678 901", COMMA, "more than 10 digits before"),
        (Decimal(5, 0), "-123456", DOT, "has more than 5 digits before"),
    ],
)
def test_decimal_refuses_what_it_cannot_store_exactly(kind, value, formats, problem):
    message = refused(kind, value, formats=formats, name="price")
    assert problem in message


def test_decimal_blanks_are_null_where_allowed():
    assert read(Decimal(12, 2), "", blank=True) is None
    assert read(Decimal(12, 2), "—", blank=True) is None
    assert empty(lambda: read(Decimal(12, 2), "", name="price")) == "price"


#: How a file may write a number: digit groups joined by, then the point.
NUMBER_STYLES = [
    ("", "."),
    ("", ","),
    (" ", ","),
    ("\u00a0", ","),
    (".", ","),
    (",", "."),
    (" ", "."),
    ("'", "."),
]


def number_written(value: D, places: int, groups: str, point: str) -> str:
    """Return *value* as a file in this style writes it, all *places* shown."""
    sign = "-" if value < 0 else ""
    whole, _, fraction = f"{abs(value):.{places}f}".partition(".")
    if groups:
        whole = f"{int(whole):,}".replace(",", groups)
    return sign + whole + (point + fraction if fraction else "")


@st.composite
def decimals_that_fit(draw):
    """Draw (max_digits, places, a Decimal that fits them)."""
    digits = draw(st.integers(1, 20))
    places = draw(st.integers(0, min(digits, 8)))
    units = draw(st.integers(-(10**digits - 1), 10**digits - 1))
    return digits, places, D(units).scaleb(-places)


@given(fitting=decimals_that_fit(), style=st.sampled_from(NUMBER_STYLES))
@PROPERTY
def test_every_decimal_that_fits_reads_back_in_every_style(fitting, style):
    digits, places, value = fitting
    groups, point = style
    text = number_written(value, places, groups, point)
    found = read(Decimal(digits, places), text, formats=Formats(decimal=point))
    assert found == value, text


@given(fitting=decimals_that_fit(), style=st.sampled_from(NUMBER_STYLES))
@PROPERTY
def test_a_decimal_with_one_place_too_many_is_refused_never_rounded(fitting, style):
    digits, places, value = fitting
    groups, point = style
    text = number_written(value, places, groups, point) + (
        "5" if places else point + "5"
    )
    message = refused(
        Decimal(digits + 1, places), text, formats=Formats(decimal=point), name="sum"
    )
    assert f"has more than {places} decimal places" in message


@given(fitting=decimals_that_fit(), style=st.sampled_from(NUMBER_STYLES))
@PROPERTY
def test_a_decimal_with_too_many_whole_digits_is_refused(fitting, style):
    digits, places, value = fitting
    hypothesis.assume(places < digits and abs(value) >= 1)
    whole = len(str(int(abs(value))))
    hypothesis.assume(whole > 1)
    groups, point = style
    text = number_written(value, places, groups, point)
    narrow = Decimal(places + whole - 1, places)
    message = refused(narrow, text, formats=Formats(decimal=point), name="sum")
    assert f"has more than {whole - 1} digits before the decimal point" in message


# --- Float ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "formats", "expected"),
    [
        (Float(), "1 234,5", COMMA, 1234.5),
        (Float(), "1,234.5", DOT, 1234.5),
        (Float(), "-0.25", DOT, -0.25),
        (Float(), "3", DOT, 3.0),
        (Float(currency=True), "€ 9,99", COMMA, 9.99),
    ],
)
def test_float_reads_the_files_separators(kind, value, formats, expected):
    found = read(kind, value, formats=formats)
    assert isinstance(found, float)
    assert found == expected


@pytest.mark.parametrize("value", ["abc", "nan", "inf", "1e5", "1,5", "9,99 €"])
def test_float_refuses_what_is_not_a_number(value):
    assert "is not a number" in refused(Float(), value, name="weight")


def test_float_blanks_are_null_where_allowed():
    assert read(Float(), " ", blank=True) is None
    assert read(Float(), "NA", blank=True) is None


@given(
    number=st.floats(-1e12, 1e12, allow_nan=False), style=st.sampled_from(NUMBER_STYLES)
)
@PROPERTY
def test_every_float_reads_back_to_its_written_digits(number, style):
    groups, point = style
    value = D(repr(number)).quantize(D("0.000001"))
    text = number_written(value, 6, groups, point)
    assert read(Float(), text, formats=Formats(decimal=point)) == float(value)


# --- Date -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "formats", "expected"),
    [
        (Date(), "2026-11-25", DOT, datetime.date(2026, 11, 25)),
        (Date(), "2026-11-25", MDY, datetime.date(2026, 11, 25)),
        (Date(), "2026/11/25", MDY, datetime.date(2026, 11, 25)),  # Year first.
        (Date(), "25.11.2026", DOT, datetime.date(2026, 11, 25)),
        (Date(), "25/11/2026", DOT, datetime.date(2026, 11, 25)),
        (Date(), "5.1.2026", DOT, datetime.date(2026, 1, 5)),
        (Date(), "11/25/2026", MDY, datetime.date(2026, 11, 25)),
        (Date(), "1/5/2026", MDY, datetime.date(2026, 1, 5)),
        # The file's order reads an ambiguous date; it is never guessed per row.
        (Date(), "01.02.2026", DOT, datetime.date(2026, 2, 1)),
        (Date(), "01.02.2026", MDY, datetime.date(2026, 1, 2)),
        (Date(order="MDY"), "01.02.2026", DOT, datetime.date(2026, 1, 2)),
        (Date(), "46351", DOT, datetime.date(2026, 11, 25)),  # Excel's serial days.
        (Date(), "46351.0", DOT, datetime.date(2026, 11, 25)),
        (Date(), "2026-11-25 00:00", DOT, datetime.date(2026, 11, 25)),
        (Date(), "25.11.2026 00:00:00", DOT, datetime.date(2026, 11, 25)),
    ],
)
def test_date_reads_iso_the_files_order_and_excel_days(kind, value, formats, expected):
    assert read(kind, value, formats=formats) == expected


@pytest.mark.parametrize(
    ("value", "formats", "example"),
    [
        ("25.11.2026", MDY, "11/25/2026"),  # No 25th month.
        ("11/25/2026", DOT, "25.11.2026"),
        ("31.02.2026", DOT, "25.11.2026"),
        ("2026-13-01", DOT, "25.11.2026"),
        ("25.11.26", DOT, "25.11.2026"),  # A two-digit year is a guess.
        ("2026-11-25 14:00", DOT, "25.11.2026"),  # A time is no date.
        ("46351.5", DOT, "25.11.2026"),  # Noon of an Excel day.
        ("tomorrow", DOT, "25.11.2026"),
        ("n/a", DOT, "25.11.2026"),
    ],
)
def test_date_refuses_what_is_no_date_in_the_files_order(value, formats, example):
    message = refused(Date(), value, formats=formats, name="valid_from")
    assert f"is not a date (dates here read like {example})" in message


def test_date_blanks_are_null_where_allowed():
    assert read(Date(), "", blank=True) is None
    assert read(Date(), "-", blank=True) is None
    assert empty(lambda: read(Date(), "", name="valid_from")) == "valid_from"


def date_written(day: datetime.date, order: str, separator: str, padded: bool) -> str:
    d, m = (f"{day.day:02d}", f"{day.month:02d}") if padded else (day.day, day.month)
    y = f"{day.year:04d}"
    parts = {"DMY": (d, m, y), "MDY": (m, d, y), "YMD": (y, m, d)}[order]
    return separator.join(str(part) for part in parts)


@given(
    day=st.dates(),
    order=st.sampled_from(["DMY", "MDY", "YMD"]),
    separator=st.sampled_from([".", "/", "-"]),
    padded=st.booleans(),
)
@PROPERTY
def test_every_date_reads_back_in_its_order(day, order, separator, padded):
    text = date_written(day, order, separator, padded)
    assert read(Date(), text, formats=Formats(date_order=order)) == day


@given(day=st.dates(min_value=datetime.date(1900, 3, 1)))
@PROPERTY
def test_every_excel_serial_day_reads_back(day):
    serial = (day - datetime.date(1899, 12, 30)).days
    assert read(Date(), str(serial)) == day


# --- DateTime ---------------------------------------------------------------


def stored_aware(value: datetime.datetime) -> datetime.datetime:
    """Return a stored datetime as an aware one (SQLite keeps naive UTC)."""
    if connection.features.supports_timezones:
        assert value.tzinfo is not None, "a database that keeps zones got naive"
        return value
    assert value.tzinfo is None, "SQLite stores naive UTC, as Django does"
    return value.replace(tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("kind", "value", "formats", "expected"),
    [
        (
            DateTime(),
            "2026-11-25 14:05",
            Formats(time_zone="Europe/Kyiv"),
            datetime.datetime(2026, 11, 25, 14, 5, tzinfo=KYIV),
        ),
        (
            DateTime(),
            "2026-11-25 14:05",
            Formats(time_zone="UTC"),
            datetime.datetime(2026, 11, 25, 14, 5, tzinfo=datetime.UTC),
        ),
        (
            DateTime(time_zone="America/New_York"),  # The column's zone wins.
            "2026-11-25 14:05",
            Formats(time_zone="UTC"),
            datetime.datetime(
                2026, 11, 25, 14, 5, tzinfo=zoneinfo.ZoneInfo("America/New_York")
            ),
        ),
        (
            DateTime(),
            "25.11.2026 14:05:30",
            Formats(date_order="DMY", time_zone="Europe/Kyiv"),
            datetime.datetime(2026, 11, 25, 14, 5, 30, tzinfo=KYIV),
        ),
        (
            DateTime(),
            "11/25/2026 14:05",
            Formats(date_order="MDY", time_zone="Europe/Kyiv"),
            datetime.datetime(2026, 11, 25, 14, 5, tzinfo=KYIV),
        ),
        (
            DateTime(),
            "2026-11-25 14:05:30.25",
            Formats(time_zone="Europe/Kyiv"),
            datetime.datetime(2026, 11, 25, 14, 5, 30, 250000, tzinfo=KYIV),
        ),
        (
            DateTime(),
            "2026-11-25T14:05:00+00:00",  # An offset beats the file's zone.
            Formats(time_zone="Europe/Kyiv"),
            datetime.datetime(2026, 11, 25, 14, 5, tzinfo=datetime.UTC),
        ),
        (
            DateTime(),
            "25.11.2026",  # A date alone is its midnight.
            Formats(time_zone="Europe/Kyiv"),
            datetime.datetime(2026, 11, 25, tzinfo=KYIV),
        ),
    ],
)
def test_datetime_is_read_in_the_files_zone_and_stored_aware(
    kind, value, formats, expected
):
    assert stored_aware(read(kind, value, formats=formats)) == expected


def test_datetime_in_kyiv_is_two_hours_ahead_of_utc_in_november():
    found = stored_aware(
        read(DateTime(), "2026-11-25 14:05", formats=Formats(time_zone="Europe/Kyiv"))
    )
    assert found.astimezone(datetime.UTC).replace(tzinfo=None) == datetime.datetime(
        2026, 11, 25, 12, 5
    )


def test_datetime_without_use_tz_is_naive_local_time(settings):
    settings.USE_TZ = False
    found = read(
        DateTime(),
        "2026-11-25T12:05:00+00:00",
        formats=Formats(time_zone="Europe/Kyiv"),
    )
    assert found == datetime.datetime(2026, 11, 25, 14, 5)
    assert found.tzinfo is None


@pytest.mark.parametrize(
    "value", ["25.11.2026 25:00", "25.11.2026 14:5", "soon", "14:05", "25.11.26 14:05"]
)
def test_datetime_refuses_what_is_no_date_and_time(value):
    message = refused(DateTime(), value, name="seen_at")
    assert "is not a date and time" in message


@given(stamp=st.datetimes(min_value=datetime.datetime(1900, 1, 1)))
@PROPERTY
def test_every_datetime_reads_back_in_day_first_order(stamp):
    text = f"{stamp:%d.%m.%Y %H:%M:%S.%f}"
    found = read(DateTime(), text, formats=Formats(date_order="DMY", time_zone="UTC"))
    assert stored_aware(found) == stamp.replace(tzinfo=datetime.UTC)


def test_a_datetime_beyond_the_calendar_after_conversion_is_a_rejected_row(settings):
    settings.USE_TZ = False
    refused(
        DateTime(),
        "0001-01-01T00:00:00+05:00",
        formats=Formats(time_zone="Europe/Kyiv"),
        name="seen_at",
    )


# --- Boolean ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("0", False),
        ("true", True),
        ("FALSE", False),
        ("True", True),
        ("yes", True),
        ("No", False),
        ("y", True),
        ("N", False),
        ("так", True),
        ("ТАК", True),
        ("Ні", False),
        ("ні", False),
        ("+", True),
        ("-", False),  # Also a null token: the word wins.
        (" x ", True),
        ("✓", True),
    ],
)
def test_boolean_reads_the_usual_words_in_any_case(value, expected):
    assert read(Boolean(), value) is expected
    assert read(Boolean(), value, blank=True) is expected


@pytest.mark.parametrize("value", ["можливо", "maybe", "2", "yess", "так?"])
def test_boolean_refuses_other_words_listing_the_ones_it_knows(value):
    message = refused(Boolean(), value, name="in_stock")
    assert "is not yes or no (" in message
    assert "так" in message and "ні" in message


def test_boolean_words_declared_replace_the_usual_ones():
    kind = Boolean(true=("Ja",), false=("Nein",))
    assert read(kind, "JA") is True
    assert read(kind, "nein") is False
    assert "(ja / nein)" in refused(kind, "yes", name="aktiv")
    # The file's words, as an importer or an inbox declares them.
    formats = DOT.merged(true_words="є, Наявний", false_words="немає")
    assert read(Boolean(), "Є", formats=formats) is True
    assert read(Boolean(), "наявний", formats=formats) is True
    assert read(Boolean(), "НЕМАЄ", formats=formats) is False
    refused(Boolean(), "так", formats=formats, name="in_stock")


def test_boolean_blanks():
    assert read(Boolean(), "", blank=True) is None
    assert read(Boolean(), "n/a", blank=True) is None
    assert read(Boolean(empty=False), "") is False  # Only the yes rows marked.
    assert empty(lambda: read(Boolean(), "", name="in_stock")) == "in_stock"
    refused(Boolean(), "n/a", name="in_stock")


def any_case(word: str):
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda upper: "".join(
            c.upper() if up else c for c, up in zip(word, upper, strict=True)
        )
    )


@given(
    pair=st.sampled_from(
        [(w, True) for w in TRUE_WORDS] + [(w, False) for w in FALSE_WORDS]
    ).flatmap(lambda pair: st.tuples(any_case(pair[0]), st.just(pair[1]))),
    pad=st.sampled_from(["", " ", "  ", "\t"]),
)
@PROPERTY
def test_every_yes_and_no_word_reads_back_in_any_case(pair, pad):
    word, expected = pair
    assert read(Boolean(), pad + word + pad) is expected


WORD = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzабвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    min_size=1,
    max_size=8,
)


@given(
    true=st.lists(WORD, min_size=1, max_size=4, unique=True),
    false=st.lists(WORD, min_size=1, max_size=4, unique=True),
    data=st.data(),
)
@PROPERTY
def test_declared_words_read_back_and_others_are_refused(true, false, data):
    hypothesis.assume(not set(true) & set(false))
    kind = Boolean(true=tuple(true), false=tuple(false))
    word = data.draw(st.sampled_from(true + false))
    assert read(kind, data.draw(any_case(word))) is (word in true)
    other = data.draw(WORD.filter(lambda w: w not in true and w not in false))
    refused(kind, other, name="flag")


# --- Choice -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("UAH", "UAH"),
        ("uah", "UAH"),
        (" USD ", "USD"),
        ("hryvnia", "UAH"),
        ("Hryvnia", "UAH"),
        ("гривня", "UAH"),  # The Ukrainian label, whatever language is active.
        ("ГРИВНЯ", "UAH"),
        ("долар США", "USD"),
        ("євро", "EUR"),
        ("euro", "EUR"),
    ],
)
@pytest.mark.parametrize("language", ["en", "uk"])
def test_choice_reads_a_value_or_its_label_in_any_language(value, expected, language):
    with translation.override(language):
        assert read(CURRENCY, value, name="currency") == expected


@pytest.mark.parametrize("value", ["XYZ", "hrn", "долар", "U A H"])
def test_choice_refuses_others_listing_the_choices(value):
    message = refused(CURRENCY, value, name="currency")
    assert message.endswith("is not one of: UAH, USD, EUR")


def test_choice_blank_is_empty_text_or_refused():
    assert read(CURRENCY, "", blank=True) == ""
    assert empty(lambda: read(CURRENCY, " ", name="currency")) == "currency"
    numbers = Choice(((1, "one"), (2, "two")), Integer())
    assert read(numbers, "Two") == 2
    assert read(numbers, "1") == 1
    assert read(numbers, "", blank=True) is None
    assert "is not one of: 1, 2" in refused(numbers, "3", name="rank")


@given(data=st.data())
@PROPERTY
def test_every_choice_reads_back_by_value_or_label_in_any_case(data):
    spellings = [("UAH", "UAH"), ("USD", "USD"), ("EUR", "EUR")]
    spellings += [("hryvnia", "UAH"), ("US dollar", "USD"), ("euro", "EUR")]
    spellings += [("гривня", "UAH"), ("долар США", "USD"), ("євро", "EUR")]
    text, expected = data.draw(st.sampled_from(spellings))
    assert read(CURRENCY, data.draw(any_case(text))) == expected


# --- Text -------------------------------------------------------------------


def test_text_is_trimmed_and_kept_as_written():
    assert read(Text(20), "  Кобзар \t") == "Кобзар"
    assert read(Text(20), "N/A") == "N/A"  # Text has no null tokens.
    assert read(Text(20), "", blank=True) == ""
    assert empty(lambda: read(Text(20), "   ", name="name")) == "name"


def test_text_over_its_length_is_refused_with_both_lengths():
    with pytest.raises(RowError) as caught:
        read(Text(5), " Кобзар ", name="sku")
    assert caught.value.column == "sku"
    # The value itself is not repeated: it may be a megabyte; the row keeps it.
    assert str(caught.value) == "sku is 6 characters; the limit is 5"


@pytest.mark.parametrize(
    ("model_field", "value", "problem"),
    [
        (
            models.EmailField(max_length=50),
            "not-an-email",
            "Enter a valid email address.",
        ),
        (models.URLField(), "not a url", "Enter a valid URL."),
        (models.SlugField(), "два слова", "Enter a valid “slug”"),
    ],
)
def test_text_runs_the_fields_validators_and_refuses_with_their_message(
    model_field, value, problem
):
    kind = type_for_field(model_field)
    message = refused(kind, value, name="contact")
    assert problem in message


def test_text_of_an_email_field_accepts_an_address():
    kind = type_for_field(models.EmailField(max_length=50))
    assert read(kind, " reader@example.com ") == "reader@example.com"
    with pytest.raises(RowError) as caught:
        read(kind, "a" * 40 + "@example.com", name="contact")
    assert str(caught.value) == "contact is 52 characters; the limit is 50"


@given(text=st.text(max_size=40))
@PROPERTY
def test_text_reads_back_trimmed_up_to_its_limit(text):
    kept = text.strip()
    parse = reader(Text(30), "name", blank=True)
    if len(kept) <= 30:
        assert parse(text) == kept
    else:
        with pytest.raises(RowError) as caught:
            parse(text)
        assert str(caught.value) == f"name is {len(kept)} characters; the limit is 30"


# --- Converted and lookups --------------------------------------------------


def test_converted_uses_the_fields_own_parsing():
    kind = type_for_field(models.UUIDField())
    assert isinstance(kind, Converted)
    key = uuid.uuid4()
    assert read(kind, f" {key} ") == str(key)
    assert "is not a valid UUID" in refused(kind, "not-a-uuid", name="ref")
    json = type_for_field(models.JSONField())
    assert read(json, '{"a": [1, 2]}') == '{"a": [1, 2]}'
    assert "Expecting property name" in refused(json, "{oops", name="extra")


def test_a_lookup_stages_its_key_as_the_target_field_reads_it():
    kind = type_for_field(PriceItem._meta.get_field("category"))
    assert read(kind, "  Книги ") == "Книги"
    assert read(kind, "", blank=True) is None
    assert empty(lambda: read(kind, "", name="category")) == "category"


# --- Refusals name the column and the value, whatever arrives ---------------

GARBAGE = st.text(
    alphabet=list("0123456789 .,-+:/T₴$eа\u00a0'Zx"), min_size=1, max_size=20
)


@pytest.mark.parametrize(
    "kind",
    [
        Integer(),
        Decimal(12, 2, currency=True),
        Float(),
        Date(),
        Boolean(),
        CURRENCY,
    ],
    ids=lambda kind: type(kind).__name__,
)
@given(value=GARBAGE.filter(str.strip), formats=st.sampled_from([DOT, COMMA, MDY]))
@PROPERTY
def test_any_value_is_read_or_refused_naming_its_column_and_value(kind, value, formats):
    try:
        read(kind, value, formats=formats, name="колонка")
    except RowError as error:
        assert error.column == "колонка"
        assert str(error).startswith("колонка ")
        assert repr(value.strip()) in str(error)


# --- From a model field -----------------------------------------------------


def test_type_for_field_gives_each_price_item_field_its_type_and_limits():
    field = PriceItem._meta.get_field
    assert type_for_field(field("sku")) == Text(32)
    assert type_for_field(field("name")) == Text(200)
    assert type_for_field(field("price")) == Decimal(12, 2)
    assert type_for_field(field("currency")) == Choice(
        (("UAH", "hryvnia"), ("USD", "US dollar"), ("EUR", "euro")), Text(3)
    )
    assert type_for_field(field("valid_from")) == Date()
    assert type_for_field(field("in_stock")) == Boolean()
    assert type_for_field(field("category")) == Lookup(Category, "name", Text(100))
    assert type_for_field(field("category"), create=True).create is True
    assert type_for_field(field("category"), lookup="name").to == "name"
    with pytest.raises(TypeError):
        type_for_field(field("id"))
    assert natural_fields(PriceItem) == ("sku",)
    assert natural_fields(Category) == ("name",)


def test_type_for_field_takes_integer_limits_from_the_database_and_validators():
    low, high = connection.ops.integer_field_range("IntegerField")
    assert type_for_field(models.IntegerField()) == Integer(low, high)
    bounded = models.PositiveSmallIntegerField(
        validators=[validators.MaxValueValidator(100)]
    )
    assert type_for_field(bounded) == Integer(0, 100)
    assert type_for_field(models.BigIntegerField()).sql_type == "BIGINT"
    assert type_for_field(models.FloatField()) == Float()
    assert type_for_field(models.DateTimeField()) == DateTime()
    with pytest.raises(TypeError):
        type_for_field(models.ManyToManyField(Category))


def test_the_price_list_importer_reads_each_column_as_its_field_says():
    described = dict(PriceListImporter.columns_described())
    assert described == {
        "sku": "text(32)",
        "name": "text(200)",
        "price": "decimal(12,2)",
        "currency": "choice(UAH, USD, EUR)",
        "valid_from": "date",
        "in_stock": "boolean",
        "category": "lookup(testapp.Category.name)",
    }
    assert all(column.blank is False for column in PriceListImporter.columns)
    cleaned = PriceListImporter(COMMA).clean(
        ["A-1", " Кобзар ", "1 037,01", "гривня", "25.11.2026", "так", "Книги"]
    )
    assert cleaned == (
        "A-1",
        "Кобзар",
        D("1037.01"),
        "UAH",
        datetime.date(2026, 11, 25),
        True,
        "Книги",
    )


def test_a_columns_declared_null_tokens_match_in_any_case():
    class Survey(Importer):
        name = "survey-null-tokens"
        columns = (Column("year", type=Integer(), blank=True, null_tokens=("N/A",)),)

    assert Survey().clean(["N/A"]) == (None,)
    assert Survey().clean(["n/a"]) == (None,)
