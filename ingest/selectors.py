"""Read queries shared by views, admin, commands and emails."""

import json

from django.db.models import QuerySet
from django_celery_results.models import TaskResult

from .models import InboxFile


def file_list(*, state: str = "", limit: int | None = None) -> QuerySet[InboxFile]:
    """Return ledger entries, newest first, optionally of one state."""
    files = InboxFile.objects.all()
    if state:
        files = files.filter(state=state)
    return files[:limit] if limit else files


def file_by_task_id(*, task_id: str) -> InboxFile | None:
    """Return the ledger entry that issued *task_id*, or None if none did."""
    return InboxFile.objects.filter(task_id=task_id).order_by("-pk").first()


def task_result(*, task_id: str) -> TaskResult | None:
    return TaskResult.objects.filter(task_id=task_id).first()


def file_progress(*, row: InboxFile) -> dict | None:
    """Return the last progress report of a running import, if any."""
    if row.state != InboxFile.State.IMPORTING or not row.task_id:
        return None
    result = task_result(task_id=row.task_id)
    if result is None or result.status != "PROGRESS":
        return None
    try:
        meta = json.loads(result.result or "null")
    except ValueError:
        return None
    return meta if isinstance(meta, dict) else None
