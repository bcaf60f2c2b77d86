"""How a file writes its dates, numbers, booleans and blanks.

People know some of it (a partner's export always writes ``25.11.2026``),
so it is declared on the importer, overridden per inbox and per column;
what nobody declared is detected from the file's first rows, like its
dialect: a day above 12 settles the date order, ``1 234,56`` the decimal
separator. A sample that settles nothing falls back to the inbox's
language (Ukrainian writes ``25.11.2026`` and ``12,5``; English ``12.5``).
The choice is made once per file, never per row, and recorded with the
dialect so the file page and the preview can say how the file was read.
"""

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

#: Date orders a file may use: day-month-year, month-day-year, year-month-day.
DATE_ORDERS = ("DMY", "MDY", "YMD")
#: Decimal separators a file may use.
DECIMAL_SEPARATORS = (",", ".")
#: Words read as true and false (case-insensitive) unless declared otherwise.
TRUE_WORDS = ("1", "true", "t", "yes", "y", "так", "т", "да", "+", "x", "✓")
FALSE_WORDS = ("0", "false", "f", "no", "n", "ні", "н", "нет", "-")
#: Values read as "no value" in typed columns (case-insensitive); text
#: columns treat only the empty string so.
NULL_TOKENS = ("", "null", "none", "n/a", "na", "-", "—", "–")
#: Languages whose numbers put a dot before the fraction; the others (uk,
#: ru, de, fr, …) write a comma.
DOT_DECIMAL_LANGUAGES = ("en", "zh", "ja", "ko", "he", "th", "hi")
#: Languages whose ambiguous dates are month first (``11/12/2026`` is
#: November 12th); every other language reads day first.
MONTH_FIRST_LANGUAGES = ("en-us", "en")

_DAY_MONTH = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-](\d{4})\b")
_NUMBER_SHAPE = re.compile(r"^[-+−]?[\d\s\u00a0\u202f',.]*\d[\d\s\u00a0\u202f',.]*$")


@dataclass(frozen=True)
class Formats:
    """The formats one file is read with; blank fields are not decided yet.

    *date_order* is one of :data:`DATE_ORDERS`; *decimal* ``,`` or ``.``;
    *thousands* the separator of digit groups besides spaces (``""``: the
    one the decimal separator leaves, ``.`` or ``,``); *time_zone* the zone
    of datetimes written without an offset (blank: ``TIME_ZONE``).
    *language* decides what the sample leaves open.
    """

    date_order: str = ""
    decimal: str = ""
    thousands: str = ""
    true_words: tuple[str, ...] = TRUE_WORDS
    false_words: tuple[str, ...] = FALSE_WORDS
    null_tokens: tuple[str, ...] = NULL_TOKENS
    time_zone: str = ""
    language: str = ""

    def merged(self, **overrides) -> "Formats":
        """Return these formats with every non-blank override applied."""
        given = {key: value for key, value in overrides.items() if value}
        for key in ("true_words", "false_words", "null_tokens"):
            if key in given and isinstance(given[key], str):
                given[key] = words_split(given[key])
            elif key in given:  # Declared in code: compared case-insensitively.
                given[key] = tuple(word.strip().casefold() for word in given[key])
        return dataclasses.replace(self, **given)

    @property
    def thousands_chars(self) -> str:
        """Return the characters a number may group its digits with."""
        other = self.thousands or ("." if self.decimal == "," else ",")
        return " \u00a0\u202f'" + other


def words_split(text: str) -> tuple[str, ...]:
    """Return the comma-separated words of *text*, trimmed and lower-cased."""
    return tuple(word.strip().casefold() for word in text.split(",") if word.strip())


def _language_decimal(language: str) -> str:
    base = language.lower().split("-")[0]
    return "." if base in DOT_DECIMAL_LANGUAGES else ","


def _language_date_order(language: str) -> str:
    return "MDY" if language.lower() in MONTH_FIRST_LANGUAGES else "DMY"


def _date_votes(values: Iterable[str]) -> Counter:
    votes: Counter = Counter()
    for value in values:
        match = _DAY_MONTH.match(value)
        if match:
            first, second = int(match[1]), int(match[2])
            if first > 12 >= second:
                votes["DMY"] += 1
            elif second > 12 >= first:
                votes["MDY"] += 1
    return votes


def _decimal_vote(value: str) -> str:
    """Return the decimal separator *value* shows, or "" if it shows none."""
    value = value.strip()
    if not _NUMBER_SHAPE.match(value):
        return ""
    comma, dot = value.rfind(","), value.rfind(".")
    if comma >= 0 and dot >= 0:
        return "," if comma > dot else "."
    for mark in (",", "."):
        at = value.rfind(mark)
        if at < 0:
            continue
        # ``1,234`` may be either; ``12,5``, ``1 234,56``, ``1,2,3`` may not.
        if value.count(mark) > 1:
            return "." if mark == "," else ","
        if len(value) - at - 1 != 3 or any(c in value for c in " \u00a0\u202f"):
            return mark
    return ""


def formats_detect(
    declared: Formats,
    *,
    dates: Sequence[str] | None = None,
    numbers: Sequence[str] | None = None,
) -> tuple[Formats, dict]:
    """Return the formats to read a file with, and how each was decided.

    *dates* and *numbers* are the sample's values of the date and number
    columns (None: the importer has none, so nothing is recorded). What
    *declared* leaves blank is taken from them, else from its language.
    The second value is for the ledger: ``{"date_order": "DMY",
    "date_order_from": "sample", …}`` (``declared``, ``sample`` or
    ``language``).
    """
    decided: dict = {}
    order, order_from = declared.date_order, "declared"
    if not order:
        votes = _date_votes(dates or ())
        if votes:
            order, order_from = votes.most_common(1)[0][0], "sample"
        else:
            order, order_from = _language_date_order(declared.language), "language"
    decimal, decimal_from = declared.decimal, "declared"
    if not decimal:
        votes = Counter(v for v in map(_decimal_vote, numbers or ()) if v)
        if votes:
            decimal, decimal_from = votes.most_common(1)[0][0], "sample"
        else:
            decimal, decimal_from = _language_decimal(declared.language), "language"
    formats = dataclasses.replace(declared, date_order=order, decimal=decimal)
    if dates is not None:
        decided.update(date_order=order, date_order_from=order_from)
    if numbers is not None:
        decided.update(decimal=decimal, decimal_from=decimal_from)
    return formats, decided


def formats_summary(decided: dict) -> str:
    """Return what :func:`formats_detect` decided, as a sentence for people.

    ``dates day.month.year (detected from the file); decimal comma (from
    the inbox's language)``, in the active language.
    """
    sources = {
        "declared": _("declared"),
        "sample": _("detected from the file"),
        "language": _("from the inbox's language"),
    }
    orders = {
        "DMY": _("day.month.year"),
        "MDY": _("month/day/year"),
        "YMD": _("year-month-day"),
    }
    marks = {",": _("decimal comma"), ".": _("decimal point")}
    parts = []
    if decided.get("date_order"):
        parts.append(
            _("dates %(order)s (%(source)s)")
            % {
                "order": orders.get(decided["date_order"], decided["date_order"]),
                "source": sources.get(decided.get("date_order_from"), ""),
            }
        )
    if decided.get("decimal"):
        parts.append(
            _("%(mark)s (%(source)s)")
            % {
                "mark": marks.get(decided["decimal"], decided["decimal"]),
                "source": sources.get(decided.get("decimal_from"), ""),
            }
        )
    return "; ".join(parts)
