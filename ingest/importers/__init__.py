"""Dataset importers: read → validate → stage → apply, one module a dataset."""

from .base import FileRejected, Importer, RowError
from .registry import importer_for

__all__ = ["FileRejected", "Importer", "RowError", "importer_for"]
