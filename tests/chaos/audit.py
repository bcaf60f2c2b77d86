"""Known datasets to drop, and the audit that proves none was lost or doubled.

Every scenario drops files whose books are all distinct, so the catalogue
must end with exactly the union of their rows, and each file with exactly
one ledger entry in a final state whose file sits in the archive (or in
``failed/`` when the scenario expects a failure).
"""

import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from catalogue.models import Author, Book
from ingest.models import InboxFile

State = InboxFile.State


@dataclass
class Dataset:
    """Files by name, and the catalogue they add up to."""

    files: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    books: set[tuple[str, str]] = field(default_factory=set)
    authors: set[str] = field(default_factory=set)

    def add(self, name: str, rows: int, *, authors: int = 50) -> str:
        """Add a file of *rows* new books by up to *authors* shared authors."""
        stem = name.rsplit(".", 1)[0]
        lines = ["title,author,year\n"]
        for i in range(rows):
            title, author = f"{stem} book {i}", f"Author {i % authors}"
            lines.append(f"{title},{author},{1900 + i % 120}\n")
            self.books.add((title, author))
            self.authors.add(author)
        self.files[name] = "".join(lines)
        self.rows[name] = rows
        return name

    def drop(
        self, inbox: Path, names: list[str] | None = None, age: float = 60
    ) -> None:
        """Write the files into *inbox*, atomically, as old as *age* seconds."""
        for name in names if names is not None else list(self.files):
            write_old(inbox / name, self.files[name], age=age)


def write_old(path: Path, content: str, *, age: float) -> None:
    """Write a file through a hidden name so a scan never sees half of it."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(content, encoding="utf-8")
    past = time.time() - age
    os.utime(temporary, (past, past))
    os.rename(temporary, path)


def book_files(prefix: str, count: int, rows: int) -> Dataset:
    """Return *count* ``books-*.csv`` files of *rows* distinct books each."""
    dataset = Dataset()
    for index in range(count):
        dataset.add(f"books-{prefix}-{index:04d}.csv", rows)
    return dataset


@dataclass
class Audit:
    """What the ledger, the folders and the catalogue say after a scenario."""

    files: int
    lost: int = 0
    duplicated: int = 0
    problems: list[str] = field(default_factory=list)

    def lose(self, message: str) -> None:
        self.lost += 1
        self.problems.append(f"lost: {message}")

    def double(self, message: str, count: int = 1) -> None:
        self.duplicated += count
        self.problems.append(f"duplicated: {message}")


def _ledger_entries(audit: Audit, dataset: Dataset, *, using: str = "default"):
    """Yield (name, first ledger row) per file of *dataset*, auditing the count.

    A file with no entry is lost and not yielded; a second entry is a
    duplicate (the first is still yielded, for the caller's own checks).
    """
    entries = defaultdict(list)
    for row in InboxFile.objects.using(using).filter(name__in=list(dataset.files)):
        entries[row.name].append(row)
    for name in dataset.files:
        rows = entries.get(name, [])
        if not rows:
            audit.lose(f"{name} has no ledger entry")
            continue
        if len(rows) > 1:
            states = ", ".join(f"#{r.pk} {r.state}" for r in rows)
            audit.double(
                f"{name} has {len(rows)} ledger entries ({states})", len(rows) - 1
            )
        yield name, rows[0]


def ledger_audit(
    dataset: Dataset, *, failed: frozenset[str] = frozenset(), using: str = "default"
) -> Audit:
    """Compare the end state with *dataset*; *failed* names files meant to fail.

    Lost: a file with no ledger entry, one not in a final state, one whose
    file is neither archived nor in ``failed/``, or a book missing from the
    catalogue. Duplicated: a second ledger entry for a file, an import that
    found its own rows already there (``rows_updated``), or extra books.
    """
    audit = Audit(files=len(dataset.files))
    for name, row in _ledger_entries(audit, dataset, using=using):
        expected = State.FAILED if name in failed else State.DONE
        if row.state != expected:
            audit.lose(f"{name} #{row.pk} is {row.state}, not {expected}: {row.error}")
            continue
        where = "failed" if expected == State.FAILED else "archive"
        if not row.stored_path or not Path(row.stored_path).is_file():
            audit.lose(f"{name} #{row.pk} is not in {where}: {row.stored_path!r}")
        elif f"/{where}/" not in row.stored_path:
            audit.lose(f"{name} #{row.pk} is stored outside {where}: {row.stored_path}")
        if row.processing_path.exists() or Path(row.inbox_path).exists():
            audit.double(f"{name} #{row.pk} still has a copy in the inbox")
        if expected == State.DONE:
            if row.rows_updated:
                audit.double(f"{name} #{row.pk} found {row.rows_updated} rows present")
            if row.rows_imported != dataset.rows[name]:
                audit.lose(
                    f"{name} #{row.pk} imported {row.rows_imported} of "
                    f"{dataset.rows[name]} rows"
                )
    expected_books = {
        book
        for name, content in dataset.files.items()
        if name not in failed
        for book in _books_of(content)
    }
    present = set(
        Book.objects.using(using).values_list("title", "author__name").iterator()
    )
    if missing := expected_books - present:
        audit.lose(f"{len(missing)} books missing, e.g. {sorted(missing)[:3]}")
    if extra := present - expected_books:
        audit.double(f"{len(extra)} unexpected books, e.g. {sorted(extra)[:3]}")
    books = Book.objects.using(using).count()
    if books != len(present):
        audit.double(f"{books} book rows for {len(present)} distinct books")
    authors = set(Author.objects.using(using).values_list("name", flat=True))
    expected_authors = {author for _title, author in expected_books}
    if authors != expected_authors:
        audit.problems.append(
            f"authors: {len(authors)} present, {len(expected_authors)} expected"
        )
        audit.lost += len(expected_authors - authors)
        audit.duplicated += len(authors - expected_authors)
    return audit


def _books_of(content: str) -> set[tuple[str, str]]:
    return {
        tuple(line.split(",")[:2]) for line in content.splitlines()[1:] if line.strip()
    }


def remote_audit(dataset: Dataset, folder) -> Audit:
    """Compare a remote inbox's end state with *dataset* (every file done).

    *folder* is a test's remote folder (``tests.remote_servers``). Lost: no
    ledger entry, not done, not archived on the store, rows or books
    missing. Duplicated: a second entry, an object still under its inbox
    key, an import that found its rows present, extra books.
    """
    audit = Audit(files=len(dataset.files))
    keys = set(folder.keys())
    for name, row in _ledger_entries(audit, dataset):
        if row.state != State.DONE:
            audit.lose(f"{name} #{row.pk} is {row.state}: {row.error}")
            continue
        archived = row.stored_path.removeprefix(folder.url)
        if not archived.startswith("archive/") or archived not in keys:
            audit.lose(f"{name} #{row.pk} is not archived: {row.stored_path!r}")
        if name in keys:
            audit.double(f"{name} #{row.pk} is still under its inbox key")
        if row.rows_updated:
            audit.double(f"{name} #{row.pk} found {row.rows_updated} rows present")
        if row.rows_imported != dataset.rows[name]:
            audit.lose(f"{name} #{row.pk} imported {row.rows_imported} rows")
    expected = {
        book for content in dataset.files.values() for book in _books_of(content)
    }
    present = set(Book.objects.values_list("title", "author__name").iterator())
    if missing := expected - present:
        audit.lose(f"{len(missing)} books missing, e.g. {sorted(missing)[:3]}")
    if extra := present - expected:
        audit.double(f"{len(extra)} unexpected books, e.g. {sorted(extra)[:3]}")
    if (books := Book.objects.count()) != len(present):
        audit.double(f"{books} book rows for {len(present)} distinct books")
    return audit
