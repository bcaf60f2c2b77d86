"""The inbox-file ledger, the inboxes it comes from, and rejected rows.

The ledger (:class:`InboxFile`) is the source of truth for every file the
scanner has seen; broker messages only ring the bell.
"""

from pathlib import Path

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .reasons import reason_text


class Inbox(models.Model):
    """A folder files arrive in, how to read them, and who hears about them.

    Its scan schedule is one django-celery-beat ``PeriodicTask`` kept in
    step by :mod:`ingest.services.inboxes`; staff edit both on one admin
    page. A blank *folder* is the default inbox, ``INGEST_INBOX_DIR``.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    folder = models.CharField(
        _("folder"),
        max_length=1024,
        unique=True,
        blank=True,
        help_text=_(
            "Absolute path under INGEST_ALLOWED_ROOTS, s3://bucket/prefix/ or "
            "sftp://user@host:port/path/; blank = the default inbox "
            "(INGEST_INBOX_DIR)."
        ),
    )
    importer = models.CharField(
        _("dataset"),
        max_length=64,
        blank=True,
        help_text=_("Dataset of every file here; blank = chosen by each header."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    preview_first = models.BooleanField(
        _("preview first"),
        default=False,
        help_text=_(
            "Hold each file found here in preview until a person confirms it "
            "on the dashboard."
        ),
    )
    notify_emails = models.TextField(
        _("email recipients"),
        blank=True,
        help_text=_(
            "Comma- or newline-separated; blank = INGEST_NOTIFY_EMAILS (else ADMINS)."
        ),
    )
    encoding = models.CharField(
        _("encoding"),
        max_length=32,
        blank=True,
        help_text=_("e.g. cp1251; blank = detect per file."),
    )
    delimiter = models.CharField(
        _("delimiter"),
        max_length=1,
        blank=True,
        choices=[
            (",", _("comma")),
            (";", _("semicolon")),
            ("\t", _("tab")),
            ("|", _("pipe")),
        ],
        help_text=_("Blank = detected per file from its records."),
    )
    quotechar = models.CharField(
        _("quote character"),
        max_length=1,
        blank=True,
        choices=[('"', _('double quote (")')), ("'", _("single quote (')"))],
        help_text=_("Blank = detected per file."),
    )
    header_line = models.PositiveIntegerField(
        _("header line"),
        null=True,
        blank=True,
        help_text=_(
            "Line of the file the header is on (1 = the first); the lines above "
            "it are skipped. Blank = detected per file."
        ),
    )
    sheet = models.CharField(
        _("sheet"),
        max_length=100,
        blank=True,
        help_text=_(
            "The sheet read in spreadsheets (.xlsx, .ods…): its name, or its "
            "position counted from 1. Blank = the first sheet with data."
        ),
    )
    min_file_age = models.FloatField(
        _("minimum file age"),
        null=True,
        blank=True,
        help_text=_("Seconds a file must be unchanged; blank = INGEST_MIN_FILE_AGE."),
    )
    max_reject_rate = models.FloatField(
        _("maximum reject rate"),
        null=True,
        blank=True,
        help_text=_(
            "Share of invalid rows (0.1 = 10%) above which a file imports "
            "nothing; blank = INGEST_MAX_REJECT_RATE."
        ),
    )
    column_aliases = models.JSONField(
        _("column aliases"),
        default=dict,
        blank=True,
        help_text=_('Header text → dataset column, e.g. {"Назва книги": "title"}.'),
    )
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        verbose_name=_("scan schedule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ingest_inbox",
    )
    webhook_url = models.URLField(
        _("webhook URL"),
        blank=True,
        help_text=_("Receives a signed JSON POST when each file is finished."),
    )
    webhook_secret = models.CharField(
        _("webhook secret"),
        max_length=200,
        blank=True,
        help_text=_("Key of the HMAC-SHA256 signature of each webhook body."),
    )
    # How to reach a remote folder; blank = the library's defaults (boto3:
    # AWS_* variables and ~/.aws/; SFTP: the host's known_hosts).
    endpoint_url = models.CharField(
        _("S3 endpoint URL"),
        max_length=300,
        blank=True,
        help_text=_("e.g. http://minio:9000; blank = AWS or AWS_ENDPOINT_URL."),
    )
    region = models.CharField(
        _("S3 region"),
        max_length=64,
        blank=True,
        help_text=_("Blank = AWS_DEFAULT_REGION or ~/.aws/config."),
    )
    access_key = models.CharField(
        _("S3 access key ID"),
        max_length=200,
        blank=True,
        help_text=_("Blank = AWS_ACCESS_KEY_ID or ~/.aws/credentials."),
    )
    secret = models.CharField(
        _("secret"),
        max_length=500,
        blank=True,
        help_text=_(
            "S3 secret access key, or SFTP password (or the private key's "
            "passphrase). Never shown back; leave blank to keep it."
        ),
    )
    ssh_key = models.TextField(
        _("SSH private key"),
        blank=True,
        help_text=_(
            "For sftp:// folders: the private key (OpenSSH or PEM). Never "
            "shown back; leave blank to keep it."
        ),
    )
    known_hosts = models.TextField(
        _("SSH known hosts"),
        blank=True,
        help_text=_(
            "known_hosts lines of the SFTP server (ssh-keyscan host); blank = "
            "INGEST_SFTP_KNOWN_HOSTS. An unknown host key is refused."
        ),
    )
    archive_folder = models.CharField(
        _("archive folder"),
        max_length=1024,
        blank=True,
        help_text=_(
            "For s3:// and sftp:// folders: where imported files go, on the same "
            "bucket or server; blank = archive/ inside the folder."
        ),
    )
    failed_folder = models.CharField(
        _("failed folder"),
        max_length=1024,
        blank=True,
        help_text=_(
            "For s3:// and sftp:// folders: where files that could not be "
            "imported go; blank = failed/ inside the folder."
        ),
    )
    #: Why the last scan could not list the folder; "" once one could.
    last_scan_error = models.TextField(_("last scan error"), blank=True)
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        help_text=_(
            "Language of this inbox's emails and failure notes; blank = the "
            "site's (DJANGO_LANGUAGE_CODE)."
        ),
    )
    # How files write dates, numbers, booleans and blanks; blank = the
    # importer's declaration, else detected per file (see importers.formats).
    date_order = models.CharField(
        _("date order"),
        max_length=3,
        blank=True,
        choices=[
            ("DMY", _("day.month.year (25.11.2026)")),
            ("MDY", _("month/day/year (11/25/2026)")),
            ("YMD", _("year-month-day (2026-11-25)")),
        ],
        help_text=_("Blank = as the importer says, else detected from the file."),
    )
    decimal_separator = models.CharField(
        _("decimal separator"),
        max_length=1,
        blank=True,
        choices=[(",", _("comma (12,5)")), (".", _("dot (12.5)"))],
        help_text=_("Blank = as the importer says, else detected from the file."),
    )
    thousands_separator = models.CharField(
        _("thousands separator"),
        max_length=1,
        blank=True,
        help_text=_(
            "Besides spaces, which always group digits; blank = the one the "
            "decimal separator leaves."
        ),
    )
    true_words = models.CharField(
        _("words for yes"),
        max_length=200,
        blank=True,
        help_text=_("Comma-separated, e.g. так, yes, 1; blank = the usual ones."),
    )
    false_words = models.CharField(
        _("words for no"),
        max_length=200,
        blank=True,
        help_text=_("Comma-separated, e.g. ні, no, 0; blank = the usual ones."),
    )
    null_tokens = models.CharField(
        _("values meaning blank"),
        max_length=200,
        blank=True,
        help_text=_(
            "Comma-separated, e.g. N/A, NULL, -; blank = the usual ones. Text "
            "columns treat only an empty value as blank."
        ),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        help_text=_(
            "Of times written without an offset, e.g. Europe/Kyiv; blank = "
            "the site's (TIME_ZONE)."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    #: Set by every finished scan (one UPDATE); /readyz and /metrics read it.
    last_scanned_at = models.DateTimeField(_("last scanned"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("inbox")
        verbose_name_plural = _("inboxes")

    def __str__(self) -> str:
        return self.name

    @property
    def is_default(self) -> bool:
        return not self.folder

    @property
    def is_remote(self) -> bool:
        """Return True for an s3:// or sftp:// folder (see :mod:`ingest.stores`)."""
        from .stores import is_remote

        return is_remote(self.folder)

    @property
    def path(self) -> Path:
        """Return the folder scanned: the configured one or the default.

        Local inboxes only; a remote one's folder is its URL.
        """
        from . import conf

        return Path(self.folder).resolve() if self.folder else conf.inbox_dir()

    def dialect_overrides(self) -> dict:
        """Return how this inbox's files are read where staff said so."""
        overrides = {
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "header_line": self.header_line,
            "sheet": self.sheet,
        }
        return {key: value for key, value in overrides.items() if value}

    def formats_overrides(self) -> dict:
        """Return the formats staff set on this inbox (blank ones left out).

        With its language, which decides what a file's sample leaves open.
        """
        from django.conf import settings

        return {
            "date_order": self.date_order,
            "decimal": self.decimal_separator,
            "thousands": self.thousands_separator,
            "true_words": self.true_words,
            "false_words": self.false_words,
            "null_tokens": self.null_tokens,
            "time_zone": self.time_zone,
            "language": self.language or settings.LANGUAGE_CODE,
        }

    def recipients(self) -> list[str]:
        """Return who hears about this inbox's files; [] = the global default."""
        return [
            address.strip()
            for address in self.notify_emails.replace("\n", ",").split(",")
            if address.strip()
        ]


class InboxFile(models.Model):
    """One file the scanner has seen, and everything that happened to it."""

    class State(models.TextChoices):
        DISCOVERED = "discovered", _("Discovered")
        QUEUED = "queued", _("Queued")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        DUPLICATE = "duplicate", _("Duplicate")
        #: Read without writing, waiting for a person: nothing imports it.
        PREVIEW = "preview", _("Preview")

    class Source(models.TextChoices):
        INBOX = "inbox", _("Inbox")
        UPLOAD = "upload", _("Upload")
        COMMAND = "command", _("Command")

    class ChosenBy(models.TextChoices):
        """How the file's dataset was chosen, most authoritative first."""

        PERSON = "person", _("Chosen by a person")
        INBOX = "inbox", _("The inbox's dataset")
        HEADER = "header", _("Matched by the header")
        NAME = "name", _("Header tie broken by the file name")

    class Notify(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", pgettext_lazy("email or webhook", "Failed")
        SKIPPED = "skipped", _("No recipients")
        #: A member of an archive: told in the archive's email, not its own.
        ARCHIVE = "archive", _("In the archive's email")

    FINAL_STATES = (State.DONE, State.FAILED, State.DUPLICATE)

    name = models.CharField(
        _("name"), max_length=255, help_text=_("Original file name.")
    )
    inbox = models.ForeignKey(
        Inbox,
        verbose_name=_("inbox"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="files",
    )
    folder = models.CharField(
        _("folder"),
        max_length=1024,
        help_text=_("Inbox folder it came from (its processing home)."),
    )
    inbox_path = models.CharField(
        _("found at"), max_length=1024, help_text=_("Where it was found.")
    )
    stored_path = models.CharField(
        _("stored at"),
        max_length=1024,
        blank=True,
        help_text=_("Where it is now (or is being moved)."),
    )
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.INBOX
    )
    importer = models.CharField(
        _("dataset"),
        max_length=64,
        blank=True,
        help_text=_("The dataset the file was imported as."),
    )
    importer_requested = models.CharField(
        _("dataset requested"),
        max_length=64,
        blank=True,
        help_text=_("The dataset a person chose for this file; blank = none."),
    )
    importer_chosen_by = models.CharField(
        _("dataset chosen by"), max_length=16, choices=ChosenBy.choices, blank=True
    )
    size = models.BigIntegerField(_("size"), default=0)
    mtime = models.FloatField(_("modification time"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, db_index=True)
    #: A remote file's version as listed (S3: ETag and upload second; SFTP:
    #: size and mtime); blank for local files. A new version is a new file.
    version = models.CharField(_("version"), max_length=200, blank=True)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=State.choices,
        default=State.DISCOVERED,
        db_index=True,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    task_id = models.CharField(_("task id"), max_length=255, blank=True, db_index=True)
    #: The archive (a .zip) this file was taken out of; each member is a
    #: file of its own, imported once, with its own outcome.
    archive = models.ForeignKey(
        "self",
        verbose_name=_("archive"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="members",
    )
    member = models.CharField(
        _("member"),
        max_length=1024,
        blank=True,
        help_text=_("Its path inside the archive it came in."),
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rows_total = models.PositiveIntegerField(_("rows read"), default=0)
    rows_imported = models.PositiveIntegerField(_("rows imported"), default=0)
    rows_updated = models.PositiveIntegerField(_("rows updated"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    error = models.TextField(
        _("error"),
        blank=True,
        help_text=_("The reason, as written in the site's language."),
    )
    #: The reason as message id and values (:mod:`ingest.reasons`), shown
    #: in each reader's language; {} for rows older than it, or no reason.
    error_reason = models.JSONField(_("error (message id)"), default=dict, blank=True)
    encoding = models.CharField(
        _("encoding"),
        max_length=32,
        blank=True,
        help_text=_("Encoding the file was read in."),
    )
    delimiter = models.CharField(_("delimiter"), max_length=8, blank=True)
    ignored_columns = models.JSONField(
        _("ignored columns"),
        default=list,
        blank=True,
        help_text=_("Header columns no importer reads."),
    )
    dialect = models.JSONField(
        _("dialect"),
        default=dict,
        blank=True,
        help_text=_("How the file was read, as detected."),
    )
    preview = models.JSONField(
        _("preview"),
        default=dict,
        blank=True,
        help_text=_(
            "What the import would do, as a preview read it: counts, header "
            "mapping, first rows."
        ),
    )
    discovered_at = models.DateTimeField(_("seen"), auto_now_add=True)
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    notify_state = models.CharField(
        _("email"),
        max_length=16,
        choices=Notify.choices,
        default=Notify.PENDING,
        db_index=True,
    )
    notified_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    notify_error = models.TextField(_("email error"), blank=True)
    webhook_state = models.CharField(
        _("webhook"), max_length=16, choices=Notify.choices, blank=True, db_index=True
    )
    webhooked_at = models.DateTimeField(_("webhook sent"), null=True, blank=True)
    webhook_error = models.TextField(_("webhook error"), blank=True)

    class Meta:
        ordering = ["-discovered_at", "-id"]
        verbose_name = _("inbox file")
        verbose_name_plural = _("inbox files")
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
            # A remote object is registered once per version, whatever state
            # its row is in: the scan that lists it after the import (before
            # the archive's delete) finds its row instead of a new file.
            # An archive's member is registered once, however often the
            # archive's expansion runs (a worker killed half-way through).
            models.UniqueConstraint(
                fields=["archive", "member"],
                condition=Q(archive__isnull=False),
                name="inboxfile_one_row_per_member",
            ),
            models.UniqueConstraint(
                fields=["inbox_path", "version"],
                condition=~Q(version=""),
                name="inboxfile_one_row_per_remote_version",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name} ({self.state})"

    @property
    def processing_path(self) -> Path:
        """Return where the file waits between the inbox and its final folder."""
        return Path(self.folder) / ".processing" / f"{self.pk}-{self.name}"

    @property
    def is_remote(self) -> bool:
        """Return True for a file of an s3:// or sftp:// inbox."""
        from .stores import is_remote

        return is_remote(self.folder)

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES

    @classmethod
    def unfinished_members(cls) -> Exists:
        """Return a filter: an archive with a member not final yet.

        Its email waits for them: ``exclude(InboxFile.unfinished_members())``.
        """
        return Exists(
            cls.objects.filter(archive=OuterRef("pk")).exclude(
                state__in=cls.FINAL_STATES
            )
        )

    @property
    def error_text(self) -> str:
        """Return the reason in the active language (the stored text if none)."""
        return reason_text(self.error_reason, self.error)

    @property
    def duration(self) -> float | None:
        """Return the import's wall time in seconds, once it has finished."""
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class RowRejection(models.Model):
    """A row of an inbox file that failed validation, and why."""

    file = models.ForeignKey(
        InboxFile,
        verbose_name=_("file"),
        on_delete=models.CASCADE,
        related_name="rejections",
    )
    line = models.PositiveIntegerField(
        _("line"), help_text=_("Line number in the file (1 = header).")
    )
    column = models.CharField(_("column"), max_length=64, blank=True)
    message = models.CharField(
        _("problem"),
        max_length=500,
        help_text=_("The reason, as written in the site's language."),
    )
    #: The reason as message id and values (:mod:`ingest.reasons`).
    reason = models.JSONField(_("problem (message id)"), default=dict, blank=True)
    raw = models.JSONField(
        _("row as read"), default=list, help_text=_("The row's fields as read.")
    )

    class Meta:
        ordering = ["file", "line"]
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")

    def __str__(self) -> str:
        return f"{self.file.name}:{self.line} {self.message_text}"

    @property
    def message_text(self) -> str:
        """Return the reason in the active language (the stored text if none)."""
        return reason_text(self.reason, self.message)
