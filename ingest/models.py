"""Catalogue models and the inbox-file ledger.

The ledger (:class:`InboxFile`) is the source of truth for every file the
scanner has seen; broker messages only ring the bell.
"""

from pathlib import Path

from django.db import models
from django.db.models import Q


class Author(models.Model):
    name = models.CharField(max_length=255, unique=True)
    # Database defaults too: the importers insert with set-based SQL that
    # names only the columns they have.
    birth_year = models.IntegerField(null=True, blank=True)
    country = models.CharField(max_length=100, blank=True, default="", db_default="")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Book(models.Model):
    #: Longest title accepted; also bounds the (title, author) index entry.
    TITLE_MAX_LENGTH = 500

    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="books")
    published_year = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                fields=["title", "author"], name="book_natural_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.author})"


class InboxFile(models.Model):
    """One file the scanner has seen, and everything that happened to it."""

    class State(models.TextChoices):
        DISCOVERED = "discovered", "Discovered"
        QUEUED = "queued", "Queued"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        DUPLICATE = "duplicate", "Duplicate"

    class Source(models.TextChoices):
        INBOX = "inbox", "Inbox"
        UPLOAD = "upload", "Upload"
        COMMAND = "command", "Command"

    class Notify(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "No recipients"

    FINAL_STATES = (State.DONE, State.FAILED, State.DUPLICATE)

    name = models.CharField(max_length=255, help_text="Original file name.")
    inbox = models.CharField(max_length=1024, help_text="Inbox folder it came from.")
    inbox_path = models.CharField(max_length=1024, help_text="Where it was found.")
    stored_path = models.CharField(
        max_length=1024, blank=True, help_text="Where it is now (or is being moved)."
    )
    source = models.CharField(
        max_length=16, choices=Source.choices, default=Source.INBOX
    )
    importer = models.CharField(max_length=64, default="books")
    size = models.BigIntegerField(default=0)
    mtime = models.FloatField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.DISCOVERED, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=255, blank=True, db_index=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    encoding = models.CharField(
        max_length=32, blank=True, help_text="Encoding the file was read in."
    )
    delimiter = models.CharField(max_length=8, blank=True)
    ignored_columns = models.JSONField(
        default=list, blank=True, help_text="Header columns no importer reads."
    )
    discovered_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    notify_state = models.CharField(
        max_length=16, choices=Notify.choices, default=Notify.PENDING, db_index=True
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    notify_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-discovered_at", "-id"]
        constraints = [
            # One pending sighting per inbox path: overlapping scans converge
            # on a single row instead of registering a file twice.
            models.UniqueConstraint(
                fields=["inbox_path"],
                condition=Q(state="discovered"),
                name="inboxfile_one_discovered_per_path",
            ),
            # A content can be importing or done once; a second copy of it
            # becomes a duplicate instead of a second import.
            models.UniqueConstraint(
                fields=["sha256"],
                condition=Q(state__in=["importing", "done"]) & ~Q(sha256=""),
                name="inboxfile_one_import_per_content",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name} ({self.state})"

    @property
    def processing_path(self) -> Path:
        """Return where the file waits between the inbox and its final folder."""
        return Path(self.inbox) / ".processing" / f"{self.pk}-{self.name}"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES

    @property
    def duration(self) -> float | None:
        """Return the import's wall time in seconds, once it has finished."""
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class RowRejection(models.Model):
    """A row of an inbox file that failed validation, and why."""

    file = models.ForeignKey(
        InboxFile, on_delete=models.CASCADE, related_name="rejections"
    )
    line = models.PositiveIntegerField(
        help_text="Line number in the file (1 = header)."
    )
    column = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500)
    raw = models.JSONField(default=list, help_text="The row's fields as read.")

    class Meta:
        ordering = ["file", "line"]

    def __str__(self) -> str:
        return f"{self.file.name}:{self.line} {self.message}"
