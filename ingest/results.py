"""The django-db result backend: one statement a result, and outage-proof.

Storing a state through django-celery-results is a ``get_or_create`` and a
``save``: a SELECT, then an INSERT in its own transaction or an UPDATE, two
to four statements for every state of every task. Here a state is one
``INSERT … ON CONFLICT (task_id) DO UPDATE`` (PostgreSQL and SQLite alike),
with the same columns as upstream.

``CELERY_RESULT_BACKEND_ALWAYS_RETRY`` only retries what the backend calls
safe, and django-celery-results calls only ``InterfaceError`` safe, then
closes the ``default`` connection. Here results travel on their own
connection (:mod:`ingest.routers`), and a database that is down answers
with ``OperationalError``. Without this, every task started during an outage
fails before its body runs (storing STARTED fails), so its own
``autoretry_for`` never gets a chance.
"""

from celery import states
from django.db import (
    InterfaceError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.utils import timezone
from django_celery_results.backends.database import DatabaseBackend

#: The columns a stored state sets, as django-celery-results' own
#: ``TaskResult.objects.store_result`` sets them (``date_done`` is auto_now).
_UPDATED = (
    "status",
    "result",
    "traceback",
    "meta",
    "content_encoding",
    "content_type",
    "periodic_task_name",
    "task_name",
    "task_args",
    "task_kwargs",
    "worker",
    "date_done",
)


class RetryingDatabaseBackend(DatabaseBackend):
    """Store each state in one upsert; retry on a fresh connection in an outage."""

    def _store_result(
        self, task_id, result, status, traceback=None, request=None, using=None
    ):
        content_type, content_encoding, result = self.encode_content(result)
        meta = {
            **self._get_meta_from_request(request),
            "children": self.current_task_children(request),
        }
        _, _, encoded_meta = self.encode_content(meta)
        fields = {
            "content_encoding": content_encoding,
            "content_type": content_type,
            "meta": encoded_meta,
            "result": result,
            "status": status,
            "traceback": traceback,
            **self._get_extended_properties(request, traceback),
        }
        updated = list(_UPDATED)
        if status == states.STARTED:
            fields["date_started"] = timezone.now()
            updated.append("date_started")
        db = using or router.db_for_write(self.TaskModel) or "default"
        # Its own transaction, or a savepoint inside the caller's (on SQLite
        # a progress report shares the import's connection): a failed write
        # must not doom the import.
        with transaction.atomic(using=db):
            self.TaskModel._default_manager.db_manager(db).bulk_create(
                [self.TaskModel(task_id=task_id, **fields)],
                update_conflicts=True,
                unique_fields=["task_id"],
                update_fields=updated,
            )
        return result

    def exception_safe_to_retry(self, exc: Exception) -> bool:
        if not isinstance(exc, OperationalError | InterfaceError):
            return super().exception_safe_to_retry(exc)
        results = connections[router.db_for_write(self.TaskModel) or "default"]
        if results.in_atomic_block:
            # On SQLite results share the import's connection: never pull it
            # from under its transaction.
            return False
        results.close()
        return True
