"""What a worker process keeps from one task to the next: its connections.

Celery's Django fixup closes every database connection before and after
every task unless ``CELERY_DB_REUSE_MAX`` is set (celery/celery#9824 went
back to that after ``close_if_unusable_or_obsolete`` let broken
connections through). For a 20 ms import that is a new PostgreSQL backend
process, its authentication and cold catalogue caches twice a task (the
``default`` and ``results`` aliases), and on SQLite the WAL pragmas again.
This project sets ``CELERY_DB_REUSE_MAX``, so the fixup keeps connections
(and recycles them every that many tasks); what it then no longer does is
done here, after every task: a connection is closed when its task did not
succeed (a retry after an outage, a time limit that may have interrupted a
query), when a database error other than a constraint's was seen on it, or
when it was left inside a transaction. The next task then connects afresh,
and nothing a connection holds for its session (an advisory lock, a
temporary table) outlives a task that went wrong.
"""

from celery import states
from celery.signals import task_postrun
from django.db import connections


@task_postrun.connect(dispatch_uid="ingest.worker.connections_check")
def connections_check(*, state: str | None = None, **_kwargs) -> None:
    """Close the connections the finished task may have left unusable."""
    failed = state != states.SUCCESS
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        if (
            failed
            or connection.errors_occurred
            or connection.in_atomic_block
            or connection.needs_rollback
            or not connection.get_autocommit()
        ):
            connection.close()
