"""The importer seam: declare columns, the engine reads, stages and upserts.

A team's app declares an :class:`Importer` subclass in its own
``importers.py``; :mod:`.registry` finds it, :mod:`.routing` sends files to
it, :mod:`.pipeline` streams them through it.
"""

from .base import (
    Column,
    FileRejected,
    Importer,
    Integer,
    RowError,
    Text,
    next_year,
    this_year,
)
from .registry import importer_get, importer_names
from .routing import Route, route_choose

__all__ = [
    "Column",
    "FileRejected",
    "Importer",
    "Integer",
    "Route",
    "RowError",
    "Text",
    "importer_get",
    "importer_names",
    "next_year",
    "route_choose",
    "this_year",
]
