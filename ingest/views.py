"""JSON status views: thin adapters over the selectors."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect

from . import selectors
from .models import InboxFile
from .services import file_summary

#: Ledger states mapped to the Celery-like states of the seed's JSON contract.
_TASK_STATES = {
    InboxFile.State.DISCOVERED: "PENDING",
    InboxFile.State.QUEUED: "PENDING",
    InboxFile.State.IMPORTING: "PROGRESS",
    InboxFile.State.DONE: "SUCCESS",
    InboxFile.State.DUPLICATE: "SUCCESS",
    InboxFile.State.FAILED: "FAILURE",
}


def _file_json(row: InboxFile) -> dict:
    data = file_summary(row)
    data.update(
        id=row.pk,
        state=row.state,
        source=row.source,
        task_id=row.task_id,
        attempts=row.attempts,
        discovered_at=row.discovered_at.isoformat(),
        started_at=row.started_at.isoformat() if row.started_at else None,
        finished_at=row.finished_at.isoformat() if row.finished_at else None,
        progress=selectors.file_progress(row=row),
    )
    return data


@staff_member_required
def home(request: HttpRequest):
    return redirect("admin:ingest_inboxfile_changelist")


@staff_member_required
def task_status(request: HttpRequest, task_id: str) -> JsonResponse:
    """Return a task's state through the ledger; 404 for ids it never issued."""
    row = selectors.file_by_task_id(task_id=task_id)
    if row is None:
        raise Http404("No import has this task id.")
    state = _TASK_STATES[row.state]
    if state == "SUCCESS":
        return JsonResponse({"state": state, "result": file_summary(row)})
    if state == "PROGRESS":
        progress = selectors.file_progress(row=row) or {
            "current": 0,
            "total": row.size,
            "percent": 0.0,
        }
        return JsonResponse({"state": state, **progress})
    if state == "FAILURE":
        return JsonResponse({"state": state, "status": row.error})
    return JsonResponse({"state": state, "status": row.get_state_display()})


@staff_member_required
def file_detail(request: HttpRequest, file_id: int) -> JsonResponse:
    return JsonResponse(_file_json(get_object_or_404(InboxFile, pk=file_id)))


@staff_member_required
def file_index(request: HttpRequest) -> JsonResponse:
    state = request.GET.get("state", "")
    rows = selectors.file_list(state=state, limit=200)
    return JsonResponse({"files": [_file_json(row) for row in rows]})
