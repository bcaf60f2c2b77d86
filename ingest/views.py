"""The staff dashboard and the JSON status API: thin adapters over services.

Pages send anonymous visitors to the login page and refuse non-staff with
403. The API never redirects: it answers 401/403 JSON, and checks CSRF on
POST only after authentication, so a script gets a JSON reason either way.
"""

import json
from collections.abc import Callable
from functools import partial, wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import date as date_format
from django.template.defaultfilters import time as time_format
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from . import errors_csv, selectors, services
from .forms import (
    PreviewChangeForm,
    ReimportForm,
    StateInboxFilterForm,
    UploadForm,
    UploadLimitHandler,
    upload_refusal,
)
from .importers.reader import delimiter_name
from .models import Inbox, InboxFile
from .reasons import reason_text

#: Ledger states mapped to the Celery-like states of the seed's JSON contract.
_TASK_STATES = {
    InboxFile.State.DISCOVERED: "PENDING",
    InboxFile.State.QUEUED: "PENDING",
    InboxFile.State.IMPORTING: "PROGRESS",
    InboxFile.State.DONE: "SUCCESS",
    InboxFile.State.DUPLICATE: "SUCCESS",
    InboxFile.State.FAILED: "FAILURE",
    InboxFile.State.PREVIEW: "PENDING",
}
#: How far back the dashboard lists imports.
DASHBOARD_DAYS = 7
#: Imports per dashboard page.
DASHBOARD_PAGE_SIZE = 25
#: Rejected rows per page of a file's page.
REJECTIONS_PAGE_SIZE = 50
#: Most ids one poll of ``/files/?ids=`` may ask for.
POLL_MAX_IDS = 200

View = Callable[..., HttpResponse]


# --- Access ---------------------------------------------------------------


def _is_staff(user) -> bool:
    return user.is_active and user.is_staff


def staff_page(view: View) -> View:
    """Let staff in; send the anonymous to log in; refuse the others (403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not _is_staff(request.user):
            raise PermissionDenied(_("The dashboard is for staff."))
        return view(request, *args, **kwargs)

    return wrapper


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> str:
        return reason


def _csrf_problem(request: HttpRequest) -> str | None:
    """Return why *request* fails Django's CSRF check, or None if it passes."""
    check = _CsrfCheck(lambda _request: HttpResponse())
    check.process_request(request)
    return check.process_view(request, None, (), {})


def _json_error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def staff_api(view: View) -> View:
    """Answer 401/403 JSON instead of redirecting; check CSRF on unsafe methods."""

    @csrf_exempt  # Checked below, after authentication, to answer in JSON.
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            response = _json_error(_("Authentication required: log in first."), 401)
            response["WWW-Authenticate"] = 'Session realm="inbox-ingest"'
            return response
        if not _is_staff(request.user):
            return _json_error(_("Staff only."), 403)
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            problem = _csrf_problem(request)
            if problem:
                return _json_error(
                    _("CSRF check failed: %(problem)s") % {"problem": problem}, 403
                )
        return view(request, *args, **kwargs)

    return wrapper


def upload_limited(view: View, *, csrf: bool = True) -> View:
    """Put :class:`UploadLimitHandler` first, before anything reads the body.

    The CSRF check reads the body, so it moves inside: ``csrf=True`` runs
    Django's own after the handler is in place; the API checks CSRF itself.
    """
    inner = csrf_protect(view) if csrf else view

    @csrf_exempt  # Checked by *inner*, once the handler is in place.
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        request.upload_handlers.insert(0, UploadLimitHandler(request))
        return inner(request, *args, **kwargs)

    return wrapper


# --- JSON -----------------------------------------------------------------


def _file_json(row: InboxFile, *, full: bool = False) -> dict:
    """Return one ledger entry as JSON; lists (*full* False) skip preview rows."""
    data = services.file_summary(row)
    discovered = timezone.localtime(row.discovered_at)
    data.update(
        id=row.pk,
        # The reason in the reader's language; "error" stays as recorded.
        error_display=row.error_text,
        dataset_requested=row.importer_requested,
        state=row.state,
        state_display=row.get_state_display(),
        source=row.source,
        source_display=row.get_source_display(),
        chosen_by_display=row.get_importer_chosen_by_display(),
        # As the page writes it, in the reader's language (01.12.2026 14:05:03).
        discovered_display=f"{date_format(discovered, 'SHORT_DATE_FORMAT')} "
        f"{time_format(discovered, 'H:i:s')}",
        task_id=row.task_id,
        attempts=row.attempts,
        discovered_at=row.discovered_at.isoformat(),
        started_at=row.started_at.isoformat() if row.started_at else None,
        finished_at=row.finished_at.isoformat() if row.finished_at else None,
        progress=selectors.file_progress(row=row),
        dialect=row.dialect,
        url=reverse("ingest:file-page", args=[row.pk]),
        preview=row.preview
        if full
        else {k: v for k, v in row.preview.items() if k != "rows"},
        preview_url=reverse("ingest:preview-page", args=[row.pk])
        if row.state == InboxFile.State.PREVIEW
        else None,
    )
    return data


@staff_api
@require_GET
def task_status(request: HttpRequest, task_id: str) -> JsonResponse:
    """Return a task's state through the ledger; 404 for ids it never issued."""
    row = selectors.file_by_task_id(task_id=task_id)
    if row is None:
        raise Http404(_("No import has this task id."))
    state = _TASK_STATES[row.state]
    if state == "SUCCESS":
        return JsonResponse({"state": state, "result": services.file_summary(row)})
    if state == "PROGRESS":
        progress = selectors.file_progress(row=row) or {
            "current": 0,
            "total": row.size,
            "percent": 0.0,
        }
        return JsonResponse({"state": state, **progress})
    if state == "FAILURE":
        return JsonResponse({"state": state, "status": row.error_text})
    return JsonResponse({"state": state, "status": row.get_state_display()})


@staff_api
@require_GET
def file_detail(request: HttpRequest, file_id: int) -> JsonResponse:
    """Return one ledger entry with its progress."""
    row = get_object_or_404(InboxFile, pk=file_id)
    return JsonResponse(_file_json(row, full=True))


@staff_api
@require_GET
def file_index(request: HttpRequest) -> JsonResponse:
    """List ledger entries: ``?state=`` filters, ``?ids=1,2`` is a dashboard poll.

    ``?since=<cursor>`` (with ``ids``, ``state`` and ``inbox`` optional)
    adds the files that arrived after the cursor, newest first, and answers
    the cursor to send next (see :func:`ingest.selectors.file_arrivals`).
    """
    try:
        ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.strip()]
    except ValueError:
        return _json_error(_("ids must be comma-separated whole numbers."), 400)
    state = request.GET.get("state", "")
    if state and state not in InboxFile.State.values:
        return _json_error(
            _("Unknown state %(state)r.") % {"state": state},
            400,
            states=InboxFile.State.values,
        )
    if "since" in request.GET:
        return _file_poll(request, ids=ids, state=state)
    if "ids" in request.GET:
        rows = selectors.file_by_ids(ids=ids[:POLL_MAX_IDS])
    else:
        rows = selectors.file_list(state=state, limit=200)
    return JsonResponse({"files": [_file_json(row) for row in rows]})


def _file_poll(request: HttpRequest, *, ids: list[int], state: str) -> JsonResponse:
    """Answer a live list's poll: its rows by id, and the arrivals."""
    since, inbox_id = request.GET["since"], request.GET.get("inbox", "")
    if not since.isdigit() or (inbox_id and not inbox_id.isdigit()):
        return _json_error(_("since and inbox must be whole numbers."), 400)
    inbox = Inbox.objects.filter(pk=inbox_id).first() if inbox_id else None
    if inbox_id and inbox is None:
        return _json_error(_("No such inbox."), 400)
    arrived, cursor = selectors.file_arrivals(
        since=int(since), limit=POLL_MAX_IDS, state=state, inbox=inbox
    )
    known = {row.pk for row in arrived}
    wanted = [i for i in ids[:POLL_MAX_IDS] if i not in known]
    rows = [*arrived, *selectors.file_by_ids(ids=wanted).select_related("inbox")]
    return JsonResponse({"files": [_file_json(row) for row in rows], "cursor": cursor})


def _uploads_store(
    form: UploadForm, *, preview: bool = False
) -> tuple[list[InboxFile], list[str]]:
    """Hand each upload to the service; collect the stored rows and refusals."""
    rows, errors = [], []
    for upload in form.cleaned_data["file"]:
        try:
            rows.append(
                services.file_upload(
                    name=upload.name,
                    chunks=upload.chunks(),
                    importer=form.cleaned_data["importer"],
                    inbox=form.cleaned_data["inbox"],
                    preview=preview,
                )
            )
        except services.UploadRejected as exc:
            errors.append(
                _("%(name)s: %(reason)s") % {"name": upload.name, "reason": exc}
            )
    return rows, errors


def _form_errors(form: UploadForm) -> list[str]:
    return [message for field in form.errors.values() for message in field]


@partial(upload_limited, csrf=False)
@staff_api
@require_POST
def file_import(request: HttpRequest) -> JsonResponse:
    """Store uploaded CSVs (field ``file``) and queue them; answer their task ids."""
    form = UploadForm(request.POST, request.FILES)
    if refusal := upload_refusal(request):
        return _json_error(refusal, 413)
    if not form.is_valid():
        errors = _form_errors(form)
        return _json_error(errors[0], 400, errors=errors)
    rows, errors = _uploads_store(form)
    if not rows:
        return _json_error(errors[0], 400, errors=errors)
    files = [
        {
            "file_id": r.pk,
            "task_id": r.task_id,
            "name": r.name,
            # "preview" when the inbox previews files first: confirm it then.
            "state": r.state,
            "inbox": r.inbox.name if r.inbox_id else "",
            # A person's choice is known now; otherwise the header decides
            # at import time (GET /files/<id>/ names it then).
            "dataset": r.importer_requested or None,
        }
        for r in rows
    ]
    body = {"file_id": files[0]["file_id"], "task_id": files[0]["task_id"]}
    body["files"] = files
    if errors:
        body["errors"] = errors
    return JsonResponse(body, status=202)


@partial(upload_limited, csrf=False)
@staff_api
@require_POST
def file_preview_create(request: HttpRequest) -> JsonResponse:
    """Store uploaded CSVs (field ``file``) for preview; nothing is imported yet.

    Answers 202 with each file's id, its preview's task id and the URLs to
    poll (``GET /files/<id>/``: ``preview.status`` turns ``ready``) and to
    confirm (``POST /files/<id>/confirm/``).
    """
    form = UploadForm(request.POST, request.FILES)
    if refusal := upload_refusal(request):
        return _json_error(refusal, 413)
    if not form.is_valid():
        errors = _form_errors(form)
        return _json_error(errors[0], 400, errors=errors)
    rows, errors = _uploads_store(form, preview=True)
    if not rows:
        return _json_error(errors[0], 400, errors=errors)
    files = [
        {
            "file_id": r.pk,
            "task_id": r.task_id,
            "name": r.name,
            "state": r.state,
            "url": reverse("ingest:file-detail", args=[r.pk]),
            "confirm_url": reverse("ingest:file-confirm", args=[r.pk]),
            "preview_url": reverse("ingest:preview-page", args=[r.pk]),
        }
        for r in rows
    ]
    body = {"file_id": files[0]["file_id"], "task_id": files[0]["task_id"]}
    body["files"] = files
    if errors:
        body["errors"] = errors
    return JsonResponse(body, status=202)


@staff_api
@require_POST
def file_confirm(request: HttpRequest, file_id: int) -> JsonResponse:
    """Queue a previewed file for import (``version``: the preview seen).

    202 with the import's task id; 409 if the preview is not ready, was
    recomputed, or the file changed since it was previewed.
    """
    get_object_or_404(InboxFile, pk=file_id)
    try:
        row = services.file_preview_confirm(
            file_id=file_id, version=request.POST.get("version", "")
        )
    except services.PreviewRefused as exc:
        return _json_error(str(exc), 409)
    return JsonResponse(
        {"file_id": row.pk, "task_id": row.task_id, "state": row.state}, status=202
    )


# --- Pages ----------------------------------------------------------------


def _with_progress(rows) -> list[tuple[InboxFile, dict | None]]:
    return [(row, selectors.file_progress(row=row)) for row in rows]


@staff_page
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: recent imports with live progress, upload and scan."""
    filter_form = StateInboxFilterForm(request.GET or None)
    valid = filter_form.is_valid()
    state = filter_form.cleaned_data["state"] if valid else ""
    inbox = filter_form.cleaned_data["inbox"] if valid else None
    files = selectors.file_recent(days=DASHBOARD_DAYS, state=state, inbox=inbox)
    page = Paginator(files, DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
    return render(
        request,
        "ingest/dashboard.html",
        {
            "page": page,
            "rows": _with_progress(page),
            "filter_form": filter_form,
            "state": state,
            "query": f"{query}&" if query else "",
            "upload_form": UploadForm(),
            "schedules": [
                (schedule, _seconds_until(schedule.next_run), _timing(schedule))
                for schedule in selectors.scan_schedules()
            ],
            "days": DASHBOARD_DAYS,
            "active_states": list(selectors.ACTIVE_STATES),
            # Arrivals go on top of the first page only: on a later page
            # they belong to the pages before it.
            "live_cursor": selectors.file_cursor() if page.number == 1 else None,
            "live_inbox": inbox.pk if inbox else "",
        },
    )


def _timing(schedule: selectors.ScanSchedule) -> str:
    """Return how often an inbox is scanned, in the reader's language."""
    current = services.inbox_schedule(inbox=schedule.inbox)
    if current.crontab:
        return _("crontab %(line)s") % {"line": current.crontab}
    if current.every:
        return ngettext(
            "every %(count)d second", "every %(count)d seconds", current.every
        ) % {"count": current.every}
    return str(schedule.task.scheduler) if schedule.task else ""


def _seconds_until(moment) -> int | None:
    if moment is None:
        return None
    return max(0, round((moment - timezone.now()).total_seconds()))


def _uploads_from_page(
    request: HttpRequest, *, preview: bool
) -> tuple[list[InboxFile], list[str]]:
    """Store the page form's uploads; return the rows and the refusals.

    A request refused as a whole (over the size limit, an invalid form) adds
    its reasons to *errors* and stores nothing.
    """
    form = UploadForm(request.POST, request.FILES)
    if refusal := upload_refusal(request):
        return [], [refusal]
    if not form.is_valid():
        return [], _form_errors(form)
    return _uploads_store(form, preview=preview)


@staff_page
@upload_limited
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """Store the uploaded CSVs and queue them, then show the dashboard."""
    rows, errors = _uploads_from_page(request, preview=False)
    for row in rows:
        if row.state == InboxFile.State.PREVIEW:
            # Its inbox holds files for a person to confirm ("preview first").
            messages.success(
                request,
                _(
                    "%(name)s uploaded as #%(id)s; its inbox previews files "
                    "first: confirm it to import."
                )
                % {"name": row.name, "id": row.pk},
            )
            continue
        messages.success(
            request,
            _("%(name)s uploaded as #%(id)s; import queued.")
            % {"name": row.name, "id": row.pk},
        )
    for error in errors:
        messages.error(request, error)
    return redirect("ingest:home")


@staff_page
@require_POST
def scan(request: HttpRequest) -> HttpResponse:
    """Queue one scan of an inbox (``inbox`` = its id; none = the default)."""
    inbox_id = request.POST.get("inbox", "")
    if inbox_id:
        inbox = get_object_or_404(Inbox, pk=inbox_id) if inbox_id.isdigit() else None
        if inbox is None:
            raise Http404(_("No such inbox."))
    else:
        inbox = services.inbox_default()
    if services.inbox_scan_request(inbox=inbox):
        messages.success(
            request, _("Scan of inbox %(name)s queued.") % {"name": inbox.name}
        )
    else:
        messages.error(request, _("Could not queue a scan: the broker is unreachable."))
    return redirect("ingest:home")


@staff_page
@upload_limited
@require_POST
def preview_upload(request: HttpRequest) -> HttpResponse:
    """Store the uploaded CSVs for preview; show the preview of the first."""
    rows, errors = _uploads_from_page(request, preview=True)
    for row in rows:
        messages.success(
            request,
            _("%(name)s uploaded as #%(id)s for preview; nothing is imported yet.")
            % {"name": row.name, "id": row.pk},
        )
    for error in errors:
        messages.error(request, error)
    if len(rows) == 1:
        return redirect("ingest:preview-page", file_id=rows[0].pk)
    return redirect("ingest:home")


@staff_page
@require_GET
def preview_page(request: HttpRequest, file_id: int) -> HttpResponse:
    """A file in preview: how it was read, what the import would do, actions."""
    row = get_object_or_404(InboxFile.objects.select_related("inbox"), pk=file_id)
    if row.state != InboxFile.State.PREVIEW:
        return redirect("ingest:file-page", file_id=row.pk)
    rejections = Paginator(
        selectors.file_rejections(row=row), REJECTIONS_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    preview = row.preview or {}
    return render(
        request,
        "ingest/preview.html",
        {
            "row": row,
            "preview": preview,
            # Recorded as message ids too: shown in the reader's language.
            "preview_reason": reason_text(
                preview.get("reason_id"), preview.get("reason", "")
            ),
            "preview_refusal": reason_text(
                preview.get("refusal_id"), preview.get("refusal", "")
            ),
            "computing": preview.get("status") in ("pending", "running", None),
            "progress": selectors.file_progress(row=row),
            "delimiter_name": delimiter_name(preview["delimiter"])
            if preview.get("delimiter")
            else "",
            "chosen_by": InboxFile.ChosenBy(preview["chosen_by"]).label
            if preview.get("chosen_by") in InboxFile.ChosenBy.values
            else "",
            "rejections": rejections,
            "change_form": PreviewChangeForm(
                initial={"importer": row.importer_requested, "inbox": row.inbox}
            ),
        },
    )


@staff_page
@require_POST
def preview_change(request: HttpRequest, file_id: int) -> HttpResponse:
    """Preview a file again as another dataset or inbox."""
    get_object_or_404(InboxFile, pk=file_id)
    form = PreviewChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(_form_errors(form)))
        return redirect("ingest:preview-page", file_id=file_id)
    try:
        services.file_preview_change(
            file_id=file_id,
            importer=form.cleaned_data["importer"],
            inbox=form.cleaned_data["inbox"],
        )
    except services.PreviewRefused as exc:
        messages.error(request, str(exc))
        return redirect("ingest:file-page", file_id=file_id)
    messages.success(request, _("Previewing again."))
    return redirect("ingest:preview-page", file_id=file_id)


@staff_page
@require_POST
def preview_confirm(request: HttpRequest, file_id: int) -> HttpResponse:
    """Import a previewed file as it was previewed; back to the dashboard."""
    row = get_object_or_404(InboxFile, pk=file_id)
    try:
        services.file_preview_confirm(
            file_id=file_id, version=request.POST.get("version", "")
        )
    except services.PreviewRefused as exc:
        messages.error(request, str(exc))
        return redirect("ingest:preview-page", file_id=file_id)
    messages.success(
        request, _("%(name)s confirmed; import queued.") % {"name": row.name}
    )
    return redirect("ingest:home")


@staff_page
@require_POST
def preview_cancel(request: HttpRequest, file_id: int) -> HttpResponse:
    """Delete a preview and its file; back to the dashboard."""
    row = get_object_or_404(InboxFile, pk=file_id)
    if services.file_preview_cancel(file_id=file_id):
        messages.success(
            request,
            _("Preview of %(name)s cancelled; the file was deleted.")
            % {"name": row.name},
        )
    else:
        messages.error(request, _("The file is no longer waiting in preview."))
    return redirect("ingest:home")


@staff_page
@require_GET
def file_page(request: HttpRequest, file_id: int) -> HttpResponse:
    """One file: summary, timings, task state and result, rejected rows."""
    row = get_object_or_404(InboxFile.objects.select_related("inbox"), pk=file_id)
    if row.state == InboxFile.State.PREVIEW:
        return redirect("ingest:preview-page", file_id=row.pk)
    rejections = Paginator(
        selectors.file_rejections(row=row), REJECTIONS_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    result = selectors.task_result(task_id=row.task_id) if row.task_id else None
    return render(
        request,
        "ingest/file_detail.html",
        {
            "row": row,
            "progress": selectors.file_progress(row=row),
            "delimiter_name": delimiter_name(row.delimiter) if row.delimiter else "",
            "rejections": rejections,
            "task_result": result,
            "task_result_json": _pretty_json(result.result if result else None),
            "reimport_form": ReimportForm(initial={"importer": row.importer}),
            "active_states": list(selectors.ACTIVE_STATES),
        },
    )


def _pretty_json(text: str | None) -> str:
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


@staff_page
@require_POST
def file_requeue(request: HttpRequest, file_id: int) -> HttpResponse:
    """Queue a failed file for another import, as the dataset chosen."""
    row = get_object_or_404(InboxFile, pk=file_id)
    form = ReimportForm(request.POST)
    if row.state != InboxFile.State.FAILED:
        messages.error(request, _("Only failed files can be re-imported."))
    elif not form.is_valid():
        messages.error(request, "; ".join(_form_errors(form)))
    elif services.files_requeue(files=[row], importer=form.cleaned_data["importer"]):
        messages.success(
            request, _("%(name)s queued for another import.") % {"name": row.name}
        )
    else:
        messages.error(
            request,
            _("%(name)s changed state meanwhile; not queued.") % {"name": row.name},
        )
    return redirect("ingest:file-page", file_id=row.pk)


@staff_page
@require_GET
def file_errors(request: HttpRequest, file_id: int) -> StreamingHttpResponse:
    """Download a file's rejected rows as a spreadsheet-safe CSV."""
    return errors_csv.errors_csv_response(get_object_or_404(InboxFile, pk=file_id))
