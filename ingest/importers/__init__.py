"""The importer seam: declare columns, the engine reads, stages and upserts.

A team's app declares an :class:`Importer` subclass in its own
``importers.py``; :mod:`.registry` finds it, :mod:`.routing` sends files to
it, :mod:`.pipeline` streams them through it.
"""

from .base import Column, FileRejected, Importer
from .formats import Formats
from .registry import importer_get, importer_names
from .routing import Route, route_choose
from .types import (
    Boolean,
    Choice,
    Converted,
    Date,
    DateTime,
    Decimal,
    Float,
    Integer,
    Lookup,
    RowError,
    Text,
    ValueType,
    next_year,
    this_year,
)

__all__ = [
    "Boolean",
    "Choice",
    "Column",
    "Converted",
    "Date",
    "DateTime",
    "Decimal",
    "FileRejected",
    "Float",
    "Formats",
    "Importer",
    "Integer",
    "Lookup",
    "Route",
    "RowError",
    "Text",
    "ValueType",
    "importer_get",
    "importer_names",
    "next_year",
    "route_choose",
    "this_year",
]
