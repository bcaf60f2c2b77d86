"""Pick the importer for a file: by explicit name, else by file-name prefix."""

from .base import FileRejected, Importer
from .books import BooksImporter

#: Every importer, by its registry name.
IMPORTERS: dict[str, type[Importer]] = {
    BooksImporter.name: BooksImporter,
}


def importer_for(*, name: str = "", filename: str = "") -> Importer:
    """Return a fresh importer named *name*, else the one whose prefix fits.

    A file that no importer claims falls back to ``books``, the reference
    dataset, as long as it is the only one registered.
    """
    if name:
        try:
            return IMPORTERS[name]()
        except KeyError:
            raise FileRejected(
                f"Unknown importer {name!r}; known: {', '.join(sorted(IMPORTERS))}."
            ) from None
    lowered = filename.lower()
    for importer_class in IMPORTERS.values():
        if lowered.startswith(importer_class.filename_prefixes):
            return importer_class()
    if len(IMPORTERS) == 1:
        return next(iter(IMPORTERS.values()))()
    raise FileRejected(
        f"No importer handles {filename!r}: name it "
        + " or ".join(
            f"{p}*.csv" for c in IMPORTERS.values() for p in c.filename_prefixes
        )
        + "."
    )
