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
from django.utils import formats
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

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
        (_("Schedule"), {"fields": ["scan_every", "scan_crontab"]}),
        (
            _("Reading files"),
            {
                "fields": [
                    "encoding",
                    ("delimiter", "quotechar", "header_line"),
                    "sheet",
                    "column_aliases",
                    "min_file_age",
                    "max_reject_rate",
                ]
            },
        ),
        (
            _("Dates, numbers and yes/no"),
            {
                "description": _(
                    "How this inbox's files write values; blank = as the "
                    "importer declares, else detected from each file (the "
                    "choice is shown on the file's page)."
                ),
                "fields": [
                    ("date_order", "time_zone"),
                    ("decimal_separator", "thousands_separator"),
                    ("true_words", "false_words"),
                    "null_tokens",
                ],
            },
        ),
        (
            _("Telling people"),
            {"fields": ["notify_emails", "language", "webhook_url", "webhook_secret"]},
        ),
        (
            _("Remote folder (s3://, sftp://)"),
            {
                "description": _(
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
                    "archive_folder",
                    "failed_folder",
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

    @admin.display(description=_("Folder"))
    def folder_display(self, obj: Inbox) -> str:
        if obj.is_remote:
            return obj.folder
        if obj.is_default:
            return gettext("%(folder)s (default)") % {"folder": obj.path}
        return str(obj.path)

    @admin.display(description=_("Dataset"))
    def dataset_display(self, obj: Inbox) -> str:
        return obj.importer or gettext("by header")

    @admin.display(description=_("Schedule"))
    def schedule_display(self, obj: Inbox) -> str:
        return str(services.inbox_schedule(inbox=obj))

    @admin.display(description=_("Files"))
    def files_link(self, obj: Inbox) -> str:
        url = reverse("admin:ingest_inboxfile_changelist")
        return format_html(
            '<a href="{}?inbox__id__exact={}">{}</a>', url, obj.pk, gettext("files")
        )

    def save_model(self, request, obj: Inbox, form, change) -> None:
        services.inbox_save(inbox=obj, schedule=form.schedule())

    def delete_model(self, request, obj: Inbox) -> None:
        services.inbox_delete(inbox=obj)

    def delete_queryset(self, request, queryset) -> None:
        for inbox in queryset:
            services.inbox_delete(inbox=inbox)

    @admin.action(description=_("Scan selected inboxes now"), permissions=["change"])
    def scan_now(self, request: HttpRequest, queryset) -> None:
        asked = [services.inbox_scan_request(inbox=inbox) for inbox in queryset]
        if all(asked):
            self.message_user(request, scans_queued(len(asked)))
        else:
            self.message_user(request, broker_down(), messages.WARNING)


def scans_queued(count: int) -> str:
    return ngettext(
        "Scan of %(count)d inbox queued.", "Scan of %(count)d inboxes queued.", count
    ) % {"count": count}


def broker_down() -> str:
    return gettext("The broker is unreachable: scans run on schedule once it is back.")


class ReimportActionForm(ActionForm):
    """The action bar's extra field: the dataset re-imported files go to."""

    importer = forms.ChoiceField(
        label=_("Dataset"), required=False, choices=importer_choices
    )


#: Rejected rows shown inline on a ledger entry; the rest are linked.
INLINE_REJECTIONS = 50


class RowRejectionInline(admin.TabularInline):
    model = RowRejection
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    fields = ["line", "column", "message_display", "raw"]
    readonly_fields = fields
    verbose_name_plural = format_lazy(
        _("Rejected rows (the first {count}; “Row errors” above links to all of them)"),
        count=INLINE_REJECTIONS,
    )

    @admin.display(description=_("problem"))
    def message_display(self, obj: RowRejection) -> str:
        return obj.message_text

    def get_queryset(self, request):
        # Inlines are not paged: show the first rows, link to the paged list.
        queryset = super().get_queryset(request)
        ids = queryset.values_list("pk", flat=True)[:INLINE_REJECTIONS]
        return queryset.filter(pk__in=list(ids))


@admin.register(RowRejection)
class RowRejectionAdmin(admin.ModelAdmin):
    """Read-only, paged list of rejected rows (``?file__id__exact=<id>``)."""

    list_display = ["file", "line", "column", "message_display", "raw"]
    list_select_related = ["file"]
    list_per_page = 100
    search_fields = ["message", "column"]

    @admin.display(description=_("problem"), ordering="message")
    def message_display(self, obj: RowRejection) -> str:
        return obj.message_text

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ArchiveMemberInline(admin.TabularInline):
    """An archive's members, each a ledger entry of its own (linked)."""

    model = InboxFile
    fk_name = "archive"
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = ["member", "state", "rows_imported", "rows_updated", "rows_rejected"]
    readonly_fields = fields
    verbose_name = _("file in the archive")
    verbose_name_plural = _("files in the archive")


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
        ("archive", admin.EmptyFieldListFilter),
        "discovered_at",
    ]
    list_select_related = ["inbox"]
    action_form = ReimportActionForm
    search_fields = ["name", "inbox_path", "stored_path", "sha256", "task_id"]
    date_hierarchy = "discovered_at"
    readonly_fields = [f.name for f in InboxFile._meta.fields] + [
        "error_display",
        "dataset_display",
        "duration_display",
        "task_link",
        "errors_links",
    ]
    inlines = [ArchiveMemberInline, RowRejectionInline]
    actions = ["reimport"]
    change_list_template = "admin/ingest/inboxfile/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("Error"))
    def error_display(self, obj: InboxFile) -> str:
        return obj.error_text or "-"

    @admin.display(description=_("Dataset"))
    def dataset_display(self, obj: InboxFile) -> str:
        if not obj.importer:
            return "-"
        how = obj.get_importer_chosen_by_display() if obj.importer_chosen_by else ""
        return f"{obj.importer} ({how.lower()})" if how else obj.importer

    @admin.display(description=_("Duration"))
    def duration_display(self, obj: InboxFile) -> str:
        if obj.duration is None:
            return "-"
        return gettext("%(seconds)s s") % {
            "seconds": formats.number_format(obj.duration, 1, use_l10n=True)
        }

    @admin.display(description=_("Task result"))
    def task_link(self, obj: InboxFile) -> str:
        if not obj.task_id:
            return "-"
        url = reverse("admin:django_celery_results_taskresult_changelist")
        return format_html(
            '<a href="{}?q={}">{}</a>', url, obj.task_id, obj.task_id[:8]
        )

    @admin.display(description=_("Row errors"))
    def errors_links(self, obj: InboxFile) -> str:
        if not obj.rows_rejected:
            return "-"
        recorded = obj.rejections.count()
        listing = reverse("admin:ingest_rowrejection_changelist")
        download = reverse("admin:ingest_inboxfile_errors_csv", args=[obj.pk])
        return format_html(
            '{}: <a href="{}?file__id__exact={}">{}</a> · <a href="{}">{}</a>',
            gettext("%(rejected)s rejected, %(recorded)s recorded")
            % {"rejected": obj.rows_rejected, "recorded": recorded},
            listing,
            obj.pk,
            gettext("view all"),
            download,
            gettext("download CSV"),
        )

    @admin.action(description=_("Re-import selected files"), permissions=["change"])
    def reimport(self, request: HttpRequest, queryset) -> None:
        """Queue the files again, as the dataset chosen beside the action."""
        importer = request.POST.get("importer", "")
        if importer and importer not in importer_names():
            self.message_user(
                request,
                gettext("Unknown dataset %(name)s.") % {"name": repr(importer)},
                messages.ERROR,
            )
            return
        count = services.files_requeue(files=queryset, importer=importer)
        if importer:
            text = ngettext(
                "%(count)d file queued for import as %(dataset)s.",
                "%(count)d files queued for import as %(dataset)s.",
                count,
            )
        else:
            text = ngettext(
                "%(count)d file queued for import.",
                "%(count)d files queued for import.",
                count,
            )
        self.message_user(request, text % {"count": count, "dataset": importer})

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
            raise Http404(gettext("No such file."))
        row = InboxFile.objects.filter(pk=file_id).first()
        if row is None:
            raise Http404(gettext("No such file."))
        return errors_csv_response(row)

    def scan_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """Queue one scan of every enabled inbox now (POST only)."""
        changelist = reverse("admin:ingest_inboxfile_changelist")
        if request.method != "POST" or not self.has_change_permission(request):
            self.message_user(
                request, gettext("Scanning needs a POST by staff."), messages.ERROR
            )
            return HttpResponseRedirect(changelist)
        inboxes = services.inboxes_enabled()
        if all([services.inbox_scan_request(inbox=inbox) for inbox in inboxes]):
            self.message_user(request, scans_queued(len(inboxes)))
        else:
            self.message_user(request, broker_down(), messages.WARNING)
        return HttpResponseRedirect(changelist)
