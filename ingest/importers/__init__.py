"""Dataset importers: read → validate → stage → apply, one module a dataset."""

from .base import FileRejected, Importer, RowError
from .registry import importer_get, importer_names
from .routing import Route, route_choose

__all__ = [
    "FileRejected",
    "Importer",
    "Route",
    "RowError",
    "importer_get",
    "importer_names",
    "route_choose",
]
