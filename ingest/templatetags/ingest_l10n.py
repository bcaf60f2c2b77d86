"""Template filters that write numbers the way the reader's language does."""

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def grouped(value):
    """Return *value* with the active language's digit grouping.

    ``1000000`` reads ``1,000,000`` in English and ``1 000 000`` in
    Ukrainian, without turning on ``USE_THOUSAND_SEPARATOR`` for every
    number of the site (ids in URLs and attributes must stay plain).
    """
    if value is None or value == "":
        return value
    return formats.number_format(value, use_l10n=True, force_grouping=True)


@register.filter
def formats_read(decided):
    """Return how a file's dates and numbers were read, in the reader's language."""
    from ..importers.formats import formats_summary

    return formats_summary(decided or {})
