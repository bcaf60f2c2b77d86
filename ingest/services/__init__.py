"""The write side of ingest: scan, queue, import, upload, requeue.

Every service here is safe to call twice and from several processes at
once. Ledger state moves only by conditional UPDATEs
(``filter(state=…).update(…)``: the database decides who won), files only
by exclusive moves (:mod:`ingest.storage`), and an import runs under its
file's liveness lock (:mod:`ingest.locks`). Broker messages are doorbells:
losing one delays a file until the next scan, delivering one twice changes
nothing.

- :mod:`.scan` — register stable inbox files, queue them, repair the ledger;
- :mod:`.dispatch` — queue files and publish their messages after commit;
- :mod:`.imports` — claim, stage, apply, archive or fail one file;
- :mod:`.uploads` — files that arrive by upload or ``ingest_file``;
- :mod:`.inboxes` — inboxes and their django-celery-beat schedules;
- :mod:`.previews` — read a file without writing, confirm or cancel it;
- :mod:`.retention` — delete stored files and ledger entries kept long enough.
"""

from .dispatch import files_requeue
from .imports import file_failure_paragraph, file_import, file_summary
from .inboxes import (
    Schedule,
    crontab_parse,
    importer_column_names,
    inbox_default,
    inbox_delete,
    inbox_folder_clean,
    inbox_get,
    inbox_legacy,
    inbox_save,
    inbox_scan_request,
    inbox_schedule,
    inboxes_enabled,
)
from .previews import (
    PreviewRefused,
    file_preview,
    file_preview_cancel,
    file_preview_change,
    file_preview_confirm,
    previews_expire,
    previews_schedule_ensure,
)
from .retention import retention_apply, retention_schedule_ensure
from .scan import inbox_scan
from .uploads import (
    UPLOAD_NAME_MAX_BYTES,
    UploadRejected,
    file_register_path,
    file_upload,
    upload_name,
)

__all__ = [
    "UPLOAD_NAME_MAX_BYTES",
    "PreviewRefused",
    "Schedule",
    "UploadRejected",
    "crontab_parse",
    "file_failure_paragraph",
    "file_import",
    "file_preview",
    "file_preview_cancel",
    "file_preview_change",
    "file_preview_confirm",
    "file_register_path",
    "file_summary",
    "file_upload",
    "files_requeue",
    "importer_column_names",
    "inbox_default",
    "inbox_delete",
    "inbox_folder_clean",
    "inbox_get",
    "inbox_legacy",
    "inbox_save",
    "inbox_scan",
    "inbox_scan_request",
    "inbox_schedule",
    "inboxes_enabled",
    "previews_expire",
    "previews_schedule_ensure",
    "retention_apply",
    "retention_schedule_ensure",
    "upload_name",
]
