"""The django-db result backend, made to ride out a database outage.

``CELERY_RESULT_BACKEND_ALWAYS_RETRY`` only retries what the backend calls
safe, and django-celery-results calls only ``InterfaceError`` safe, then
closes the ``default`` connection. Here results travel on their own
connection (:mod:`ingest.routers`), and a database that is down answers
with ``OperationalError``. Without this, every task started during an outage
fails before its body runs (storing STARTED fails), so its own
``autoretry_for`` never gets a chance.
"""

from django.db import InterfaceError, OperationalError, connections, router
from django_celery_results.backends.database import DatabaseBackend


class RetryingDatabaseBackend(DatabaseBackend):
    """Retry result writes on a fresh connection while the database is away."""

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
