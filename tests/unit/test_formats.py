"""A file's formats: declared, else detected from its sample, else its language.

A day above 12 settles the date order, ``1 234,56`` the decimal separator;
what the sample leaves open follows the inbox's language; what anyone
declared (the importer, the inbox, a column) is never second-guessed.
"""

import datetime
import decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from ingest.importers import Boolean, Date, DateTime, Decimal, Importer, Integer
from ingest.importers.formats import (
    FALSE_WORDS,
    NULL_TOKENS,
    TRUE_WORDS,
    Formats,
    formats_detect,
    formats_summary,
    words_split,
)
from ingest.importers.types import prepared
from ingest.models import Inbox
from tests.testapp.price_importers import PriceListImporter

D = decimal.Decimal
UK = Formats(language="uk")
EN = Formats(language="en")


def detected(declared=UK, *, dates=None, numbers=None):
    return formats_detect(declared, dates=dates, numbers=numbers)


# --- Date order -------------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "order"),
    [
        (["25.11.2026"], "DMY"),
        (["01.02.2026", "13.02.2026"], "DMY"),  # One day above 12 is enough.
        (["25/11/2026"], "DMY"),
        (["11/25/2026"], "MDY"),
        (["02/01/2026", "02/13/2026"], "MDY"),
        ([" 11-25-2026 14:05"], "MDY"),  # A time after the date is allowed.
    ],
)
@pytest.mark.parametrize("declared", [UK, EN], ids=["uk", "en"])
def test_a_day_above_twelve_settles_the_date_order(dates, order, declared):
    formats, decided = detected(declared, dates=dates)
    assert formats.date_order == order
    assert decided == {"date_order": order, "date_order_from": "sample"}


def test_the_order_most_dates_show_wins():
    dates = ["25.11.2026", "26.11.2026", "11/13/2026"]
    assert detected(EN, dates=dates)[0].date_order == "DMY"
    dates = ["11/25/2026", "11/26/2026", "13.11.2026"]
    assert detected(UK, dates=dates)[0].date_order == "MDY"


@pytest.mark.parametrize(
    ("language", "order"),
    [("uk", "DMY"), ("en", "MDY"), ("en-us", "MDY"), ("en-gb", "DMY"), ("de", "DMY")],
)
def test_ambiguous_dates_follow_the_language(language, order):
    ambiguous = ["01.02.2026", "03.04.2026", "2026-11-25", "12.12.2026", "", "n/a"]
    formats, decided = detected(Formats(language=language), dates=ambiguous)
    assert formats.date_order == order
    assert decided == {"date_order": order, "date_order_from": "language"}


def test_iso_and_two_digit_years_cast_no_vote():
    assert detected(UK, dates=["2026-11-25", "25.11.26"])[1]["date_order_from"] == (
        "language"
    )


# --- Decimal separator ------------------------------------------------------


@pytest.mark.parametrize(
    ("numbers", "decimal"),
    [
        (["1 234,56"], ","),
        (["1\u00a0234,56"], ","),
        (["1.234,56"], ","),
        (["12,5"], ","),
        (["-12,5"], ","),
        (["1.234.567"], ","),  # Several dots are groups: the point is a comma.
        (["1,234.56"], "."),
        (["0.5"], "."),
        (["1,234,567"], "."),
        (["1 234.5"], "."),
        (["1,234", "12,50"], ","),  # The ambiguous one casts no vote.
    ],
)
@pytest.mark.parametrize("declared", [UK, EN], ids=["uk", "en"])
def test_a_number_that_shows_its_point_settles_the_decimal_separator(
    numbers, decimal, declared
):
    formats, decided = detected(declared, numbers=numbers)
    assert formats.decimal == decimal
    assert decided == {"decimal": decimal, "decimal_from": "sample"}


@pytest.mark.parametrize(
    ("language", "decimal"),
    [("uk", ","), ("de", ","), ("en", "."), ("en-gb", "."), ("ja", ".")],
)
def test_numbers_that_show_no_point_follow_the_language(language, decimal):
    ambiguous = ["1,234", "1.000", "1 234", "42", "12.50 ₴", "abc", ""]
    formats, decided = detected(Formats(language=language), numbers=ambiguous)
    assert formats.decimal == decimal
    assert decided == {"decimal": decimal, "decimal_from": "language"}


def test_english_defaults_are_month_first_and_a_decimal_point():
    formats, decided = detected(EN, dates=["01.02.2026"], numbers=["1,000"])
    assert (formats.date_order, formats.decimal) == ("MDY", ".")
    assert decided == {
        "date_order": "MDY",
        "date_order_from": "language",
        "decimal": ".",
        "decimal_from": "language",
    }


def test_ukrainian_defaults_are_day_first_and_a_decimal_comma():
    formats, _decided = detected(UK, dates=["01.02.2026"], numbers=["1,000"])
    assert (formats.date_order, formats.decimal) == ("DMY", ",")


# --- Declared formats win ---------------------------------------------------


def test_declared_formats_are_kept_whatever_the_sample_shows():
    declared = UK.merged(date_order="MDY", decimal=".")
    formats, decided = detected(
        declared, dates=["25.11.2026"], numbers=["1 234,56", "12,5"]
    )
    assert (formats.date_order, formats.decimal) == ("MDY", ".")
    assert decided == {
        "date_order": "MDY",
        "date_order_from": "declared",
        "decimal": ".",
        "decimal_from": "declared",
    }


def test_only_what_the_file_has_columns_for_is_recorded():
    formats, decided = detected(UK, dates=["25.11.2026"], numbers=None)
    assert decided == {"date_order": "DMY", "date_order_from": "sample"}
    assert formats.decimal == ","  # Still decided, from the language.
    assert detected(UK)[1] == {}


def test_merged_applies_only_what_is_not_blank():
    base = Formats(date_order="DMY", decimal=",", time_zone="Europe/Kyiv")
    assert base.merged(date_order="", decimal=None, time_zone="") == base
    changed = base.merged(date_order="MDY", true_words="Так, Є", null_tokens="N/A, -")
    assert changed.date_order == "MDY"
    assert changed.decimal == ","
    assert changed.true_words == ("так", "є")
    assert changed.false_words == FALSE_WORDS
    assert changed.null_tokens == ("n/a", "-")
    assert base.merged(true_words=("ja",)).true_words == ("ja",)


def test_defaults_know_the_usual_words_and_blanks():
    formats = Formats()
    assert {"так", "yes", "1", "+", "true"} <= set(formats.true_words)
    assert {"ні", "no", "0", "-", "false"} <= set(formats.false_words)
    assert {"", "n/a", "null", "-"} <= set(formats.null_tokens)
    assert formats.true_words == TRUE_WORDS and formats.null_tokens == NULL_TOKENS


@pytest.mark.parametrize(
    ("formats", "groups"),
    [
        (Formats(decimal=","), " \u00a0\u202f'."),
        (Formats(decimal="."), " \u00a0\u202f',"),
        (Formats(decimal=",", thousands="'"), " \u00a0\u202f''"),
    ],
)
def test_digits_group_with_spaces_and_the_separator_the_point_leaves(formats, groups):
    assert formats.thousands_chars == groups


class Declaring(Importer):
    """A dataset whose partner always writes month first, with a decimal comma."""

    name = "formats-declaring"
    columns = ()
    date_order = "MDY"
    decimal_separator = ","
    thousands_separator = "."
    true_words = ("Ja",)
    false_words = ("Nein",)
    null_tokens = ("leer",)
    time_zone = "America/New_York"


def test_an_importers_declared_formats_and_an_inboxs_overrides_on_top(settings):
    settings.LANGUAGE_CODE = "uk"
    assert PriceListImporter.formats_declared() == Formats(language="uk")
    declared = Declaring.formats_declared()
    assert declared == Formats(
        date_order="MDY",
        decimal=",",
        thousands=".",
        # Words compare case-insensitively, so they are kept case-folded.
        true_words=("ja",),
        false_words=("nein",),
        null_tokens=("leer",),
        time_zone="America/New_York",
        language="uk",
    )
    # Blank overrides leave the importer's declaration alone.
    assert Declaring.formats_declared(date_order="", decimal="") == declared
    inbox = Inbox(
        name="partner",
        date_order="DMY",
        decimal_separator=".",
        true_words="Так, Є",
        time_zone="Europe/Kyiv",
        language="en",
    )
    overridden = Declaring.formats_declared(**inbox.formats_overrides())
    assert overridden == declared.merged(
        date_order="DMY",
        decimal=".",
        true_words=("так", "є"),
        time_zone="Europe/Kyiv",
        language="en",
    )
    # What is declared is never detected.
    formats, decided = formats_detect(overridden, dates=["11/25/2026"], numbers=["1,5"])
    assert (formats.date_order, formats.decimal) == ("DMY", ".")
    assert {decided["date_order_from"], decided["decimal_from"]} == {"declared"}


def test_a_blank_inbox_overrides_nothing_but_brings_the_sites_language(settings):
    settings.LANGUAGE_CODE = "en"
    overrides = Inbox(name="default").formats_overrides()
    assert Declaring.formats_declared(**overrides) == Declaring.formats_declared()
    assert PriceListImporter.formats_declared(**overrides).language == "en"
    uk = Inbox(name="kyiv", language="uk").formats_overrides()
    assert PriceListImporter.formats_declared(**uk).language == "uk"


def test_the_columns_that_settle_the_formats_are_the_dates_and_the_numbers():
    assert PriceListImporter.formats_read() == {"dates": [4], "numbers": [2]}


# --- words_split and formats_summary ----------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("так, yes, 1", ("так", "yes", "1")),
        (" Так ,YES,,  ", ("так", "yes")),
        ("N/A", ("n/a",)),
        ("", ()),
        (" , ", ()),
    ],
)
def test_words_split_trims_lowers_and_drops_blanks(text, words):
    assert words_split(text) == words


def test_formats_summary_says_what_was_decided_and_why():
    decided = {
        "date_order": "DMY",
        "date_order_from": "sample",
        "decimal": ",",
        "decimal_from": "language",
    }
    with translation.override("en"):
        assert formats_summary(decided) == (
            "dates day.month.year (detected from the file); "
            "decimal comma (from the inbox's language)"
        )
        assert formats_summary(
            {"date_order": "MDY", "date_order_from": "declared"}
        ) == ("dates month/day/year (declared)")
        assert formats_summary({"decimal": ".", "decimal_from": "sample"}) == (
            "decimal point (detected from the file)"
        )
        assert formats_summary({}) == ""
    with translation.override("uk"):
        assert formats_summary(decided) == (
            "дати день.місяць.рік (визначено з файлу); "
            "десяткова кома (за мовою скриньки)"
        )


def test_formats_summary_of_what_detection_decided():
    _formats, decided = detected(EN, dates=["2026-11-25"], numbers=["1 234,56"])
    with translation.override("en"):
        assert formats_summary(decided) == (
            "dates month/day/year (from the inbox's language); "
            "decimal comma (detected from the file)"
        )


# --- A corpus: each format option, a sample, the decision and a value read ---

#: (case, declared, dates, numbers, decided, (type, value, expected)).
CORPUS = [
    (
        "uk price list, day above 12, space groups",
        UK,
        ["25.11.2026", "01.12.2026"],
        ["1 037,01", "12,5"],
        {"date_order": ("DMY", "sample"), "decimal": (",", "sample")},
        (Decimal(12, 2), "1 037,01", D("1037.01")),
    ),
    (
        "us export, month first, comma groups",
        UK,
        ["11/25/2026", "12/01/2026"],
        ["1,234.56"],
        {"date_order": ("MDY", "sample"), "decimal": (".", "sample")},
        (Date(), "12/01/2026", datetime.date(2026, 12, 1)),
    ),
    (
        "german, dot groups",
        EN,
        ["25.11.2026"],
        ["1.234,56", "7,5"],
        {"date_order": ("DMY", "sample"), "decimal": (",", "sample")},
        (Decimal(12, 2), "1.234,56", D("1234.56")),
    ),
    (
        "ambiguous, Ukrainian inbox",
        UK,
        ["01.02.2026"],
        ["1,250"],
        {"date_order": ("DMY", "language"), "decimal": (",", "language")},
        (Decimal(12, 2), "1,250", D("1.25")),
    ),
    (
        "ambiguous, English inbox",
        EN,
        ["01.02.2026"],
        ["1,250"],
        {"date_order": ("MDY", "language"), "decimal": (".", "language")},
        (Date(), "01.02.2026", datetime.date(2026, 1, 2)),
    ),
    (
        "ambiguous, English inbox, the number",
        EN,
        ["01.02.2026"],
        ["1,250"],
        {"date_order": ("MDY", "language"), "decimal": (".", "language")},
        (Decimal(12, 2), "1,250", D("1250")),
    ),
    (
        "year first declared",
        UK.merged(date_order="YMD"),
        ["25.11.2026"],
        None,
        {"date_order": ("YMD", "declared")},
        (Date(), "2026/11/25", datetime.date(2026, 11, 25)),
    ),
    (
        "thousands declared as an apostrophe",
        UK.merged(decimal=".", thousands="'"),
        None,
        ["1,5"],
        {"decimal": (".", "declared")},
        (Integer(), "1'234'567", 1234567),
    ),
    (
        "yes and no words declared",
        UK.merged(true_words="ja, oui", false_words="nein, non"),
        None,
        None,
        {},
        (Boolean(), "OUI", True),
    ),
    (
        "yes and no words declared, the usual ones gone",
        UK.merged(true_words="ja, oui", false_words="nein, non"),
        None,
        None,
        {},
        (Boolean(), "Non", False),
    ),
    (
        "blanks declared",
        UK.merged(null_tokens="leer, -"),
        None,
        ["1,5"],
        {"decimal": (",", "sample")},
        (Integer(), "leer", None),
    ),
]


@pytest.mark.parametrize(
    ("declared", "dates", "numbers", "expected", "reading"),
    [case[1:] for case in CORPUS],
    ids=[case[0] for case in CORPUS],
)
def test_corpus_decision_and_a_value_read_with_it(
    declared, dates, numbers, expected, reading
):
    formats, decided = formats_detect(declared, dates=dates, numbers=numbers)
    assert decided == {
        key: value
        for option, (choice, source) in expected.items()
        for key, value in ((option, choice), (f"{option}_from", source))
    }
    kind, value, parsed = reading
    blank = parsed is None
    assert prepared(kind, "col", blank=blank, formats=formats)(value) == parsed


def test_corpus_time_zone_declared_is_the_zone_of_times_without_offset():
    formats, _decided = formats_detect(
        UK.merged(time_zone="America/New_York"), dates=["25.11.2026 14:05"]
    )
    found = prepared(DateTime(), "at", blank=False, formats=formats)("25.11.2026 14:05")
    if found.tzinfo is None:  # SQLite: naive UTC.
        found = found.replace(tzinfo=datetime.UTC)
    assert found == datetime.datetime(
        2026, 11, 25, 14, 5, tzinfo=ZoneInfo("America/New_York")
    )
