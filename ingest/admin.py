"""Admin for the inboxes, the inbox-file ledger and rejected rows."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.http import (
    Http404,
    HttpRequest,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.urls import path, reverse
from django.utils.html import format_html

from . import services
from .errors_csv import errors_csv_response
from .forms import InboxForm, importer_choices
from .importers import importer_names
from .models import Inbox, InboxFile, RowRejection


@admin.register(Inbox)
class InboxAdmin(admin.ModelAdmin):
    """An inbox and its scan schedule, edited on one page."""

    form = InboxForm
    list_display = [
        "name",
        "folder_display",
        "dataset_display",
        "enabled",
        "schedule_display",
        "files_link",
    ]
    list_filter = ["enabled"]
    search_fields = ["name", "folder"]
    actions = ["scan_now"]
    fieldsets = [
        (None, {"fields": ["name", "folder", "importer", "enabled", "preview_first"]}),
        ("Schedule", {"fields": ["scan_every", "scan_crontab"]}),
        (
            "Reading files",
            {
                "fields": [
                    "encoding",
                    ("delimiter", "quotechar", "header_line"),
                    "column_aliases",
                    "min_file_age",
                    "max_reject_rate",
                ]
            },
        ),
        (
            "Telling people",
            {"fields": ["notify_emails", "webhook_url", "webhook_secret"]},
        ),
        (
            "Remote folder (s3://, sftp://)",
            {
                "description": (
                    "Blank fields use boto3's standard settings (AWS_* variables, "
                    "~/.aws/) or the host's known_hosts. Secrets are never shown "
                    "back; leave them blank to keep them."
                ),
                "fields": [
                    "endpoint_url",
                    "region",
                    "access_key",
                    "secret",
                    "ssh_key",
                    "known_hosts",
                    "last_scan_error",
                ],
            },
        ),
    ]
    readonly_fields = ["last_scan_error"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("periodic_task__interval", "periodic_task__crontab")
        )

    @admin.display(description="Folder")
    def folder_display(self, obj: Inbox) -> str:
        if obj.is_remote:
            return obj.folder
        return str(obj.path) + (" (default)" if obj.is_default else "")

    @admin.display(description="Dataset")
    def dataset_display(self, obj: Inbox) -> str:
        return obj.importer or "by header"

    @admin.display(description="Schedule")
    def schedule_display(self, obj: Inbox) -> str:
        return str(services.inbox_schedule(inbox=obj))

    @admin.display(description="Files")
    def files_link(self, obj: Inbox) -> str:
        url = reverse("admin:ingest_inboxfile_changelist")
        return format_html('<a href="{}?inbox__id__exact={}">files</a>', url, obj.pk)

    def save_model(self, request, obj: Inbox, form, change) -> None:
        services.inbox_save(inbox=obj, schedule=form.schedule())

    def delete_model(self, request, obj: Inbox) -> None:
        services.inbox_delete(inbox=obj)

    def delete_queryset(self, request, queryset) -> None:
        for inbox in queryset:
            services.inbox_delete(inbox=inbox)

    @admin.action(description="Scan selected inboxes now", permissions=["change"])
    def scan_now(self, request: HttpRequest, queryset) -> None:
        asked = [services.inbox_scan_request(inbox=inbox) for inbox in queryset]
        if all(asked):
            self.message_user(request, f"Scan of {len(asked)} inbox(es) queued.")
        else:
            self.message_user(
                request,
                "The broker is unreachable: scans run on schedule once it is back.",
                messages.WARNING,
            )


class ReimportActionForm(ActionForm):
    """The action bar's extra field: the dataset re-imported files go to."""

    importer = forms.ChoiceField(
        label="Dataset", required=False, choices=importer_choices
    )


#: Rejected rows shown inline on a ledger entry; the rest are linked.
INLINE_REJECTIONS = 50


class RowRejectionInline(admin.TabularInline):
    model = RowRejection
    fields = ["line", "column", "message", "raw"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = (
        f"Rejected rows (the first {INLINE_REJECTIONS}; "
        "\u201cRow errors\u201d above links to all of them)"
    )

    def get_queryset(self, request):
        # Inlines are not paged: show the first rows, link to the paged list.
        queryset = super().get_queryset(request)
        ids = queryset.values_list("pk", flat=True)[:INLINE_REJECTIONS]
        return queryset.filter(pk__in=list(ids))


@admin.register(RowRejection)
class RowRejectionAdmin(admin.ModelAdmin):
    """Read-only, paged list of rejected rows (``?file__id__exact=<id>``)."""

    list_display = ["file", "line", "column", "message", "raw"]
    list_select_related = ["file"]
    list_per_page = 100
    search_fields = ["message", "column"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(InboxFile)
class InboxFileAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "inbox",
        "state",
        "dataset_display",
        "rows_imported",
        "rows_updated",
        "rows_rejected",
        "duration_display",
        "attempts",
        "source",
        "discovered_at",
        "task_link",
    ]
    list_filter = [
        "state",
        "inbox",
        "source",
        "importer",
        "importer_chosen_by",
        "notify_state",
        "discovered_at",
    ]
    list_select_related = ["inbox"]
    action_form = ReimportActionForm
    search_fields = ["name", "inbox_path", "stored_path", "sha256", "task_id"]
    date_hierarchy = "discovered_at"
    readonly_fields = [f.name for f in InboxFile._meta.fields] + [
        "dataset_display",
        "duration_display",
        "task_link",
        "errors_links",
    ]
    inlines = [RowRejectionInline]
    actions = ["reimport"]
    change_list_template = "admin/ingest/inboxfile/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Dataset")
    def dataset_display(self, obj: InboxFile) -> str:
        if not obj.importer:
            return "-"
        how = obj.get_importer_chosen_by_display() if obj.importer_chosen_by else ""
        return f"{obj.importer} ({how.lower()})" if how else obj.importer

    @admin.display(description="Duration")
    def duration_display(self, obj: InboxFile) -> str:
        return "-" if obj.duration is None else f"{obj.duration:.1f} s"

    @admin.display(description="Task result")
    def task_link(self, obj: InboxFile) -> str:
        if not obj.task_id:
            return "-"
        url = reverse("admin:django_celery_results_taskresult_changelist")
        return format_html(
            '<a href="{}?q={}">{}</a>', url, obj.task_id, obj.task_id[:8]
        )

    @admin.display(description="Row errors")
    def errors_links(self, obj: InboxFile) -> str:
        if not obj.rows_rejected:
            return "-"
        recorded = obj.rejections.count()
        listing = reverse("admin:ingest_rowrejection_changelist")
        download = reverse("admin:ingest_inboxfile_errors_csv", args=[obj.pk])
        return format_html(
            '{} rejected, {} recorded: <a href="{}?file__id__exact={}">view all'
            '</a> · <a href="{}">download CSV</a>',
            obj.rows_rejected,
            recorded,
            listing,
            obj.pk,
            download,
        )

    @admin.action(description="Re-import selected files", permissions=["change"])
    def reimport(self, request: HttpRequest, queryset) -> None:
        """Queue the files again, as the dataset chosen beside the action."""
        importer = request.POST.get("importer", "")
        if importer and importer not in importer_names():
            self.message_user(request, f"Unknown dataset {importer!r}.", messages.ERROR)
            return
        count = services.files_requeue(files=queryset, importer=importer)
        into = f" as {importer}" if importer else ""
        self.message_user(request, f"{count} file(s) queued for import{into}.")

    def get_urls(self):
        scan = path(
            "scan/",
            self.admin_site.admin_view(self.scan_view),
            name="ingest_inboxfile_scan",
        )
        errors = path(
            "<int:file_id>/errors.csv",
            self.admin_site.admin_view(self.errors_csv_view),
            name="ingest_inboxfile_errors_csv",
        )
        return [scan, errors, *super().get_urls()]

    def errors_csv_view(
        self, request: HttpRequest, file_id: int
    ) -> StreamingHttpResponse:
        """Download a file's recorded row errors as an Excel-safe CSV."""
        if not self.has_view_permission(request):
            raise Http404("No such file.")
        row = InboxFile.objects.filter(pk=file_id).first()
        if row is None:
            raise Http404("No such file.")
        return errors_csv_response(row)

    def scan_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """Queue one scan of every enabled inbox now (POST only)."""
        changelist = reverse("admin:ingest_inboxfile_changelist")
        if request.method != "POST" or not self.has_change_permission(request):
            self.message_user(
                request, "Scanning needs a POST by staff.", messages.ERROR
            )
            return HttpResponseRedirect(changelist)
        inboxes = services.inboxes_enabled()
        if all([services.inbox_scan_request(inbox=inbox) for inbox in inboxes]):
            self.message_user(request, f"Scan of {len(inboxes)} inbox(es) queued.")
        else:
            self.message_user(
                request,
                "The broker is unreachable: scans run on schedule once it is back.",
                messages.WARNING,
            )
        return HttpResponseRedirect(changelist)
