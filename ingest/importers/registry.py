"""Every importer by its registry name, and the importer for a name."""

from .authors import AuthorsImporter
from .base import FileRejected, Importer
from .books import BooksImporter

#: Every importer, by its registry name.
IMPORTERS: dict[str, type[Importer]] = {
    importer.name: importer for importer in (BooksImporter, AuthorsImporter)
}


def importer_classes() -> list[type[Importer]]:
    """Return every registered importer class, in registry-name order."""
    return [IMPORTERS[name] for name in importer_names()]


def importer_names() -> list[str]:
    """Return the registry names, sorted, for messages and validation."""
    return sorted(IMPORTERS)


def importer_get(name: str) -> Importer:
    """Return a fresh importer named *name*; FileRejected for an unknown one."""
    try:
        return IMPORTERS[name]()
    except KeyError:
        raise FileRejected(
            f"Unknown dataset {name!r}; known: {', '.join(importer_names())}."
        ) from None
