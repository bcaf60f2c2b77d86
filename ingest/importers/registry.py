"""Pick the importer for a file: by explicit name, else by file-name prefix."""

from .authors import AuthorsImporter
from .base import FileRejected, Importer
from .books import BooksImporter

#: Every importer, by its registry name.
IMPORTERS: dict[str, type[Importer]] = {
    importer.name: importer for importer in (BooksImporter, AuthorsImporter)
}


def importer_names() -> list[str]:
    """Return the registry names, sorted, for messages and validation."""
    return sorted(IMPORTERS)


def importer_for(*, name: str = "", filename: str = "") -> Importer:
    """Return a fresh importer named *name*, else the one whose prefix fits.

    A name is what a scheduled scan's ``importer`` kwarg (or an upload form)
    said; it wins over the file name. Raises :class:`FileRejected` for an
    unknown name or a file no importer claims: guessing would import rows
    into the wrong tables.
    """
    if name:
        try:
            return IMPORTERS[name]()
        except KeyError:
            raise FileRejected(
                f"Unknown importer {name!r}; known: {', '.join(importer_names())}."
            ) from None
    lowered = filename.lower()
    for importer_class in IMPORTERS.values():
        if lowered.startswith(importer_class.filename_prefixes):
            return importer_class()
    patterns = [
        f"{prefix}*.csv"
        for importer_class in IMPORTERS.values()
        for prefix in importer_class.filename_prefixes
    ]
    raise FileRejected(
        f"No importer handles {filename!r}: name the file "
        f"{' or '.join(patterns)}, or scan its folder with a schedule whose "
        f"kwargs name its importer (one of: {', '.join(importer_names())})."
    )
