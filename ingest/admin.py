"""Admin for the catalogue and the inbox-file ledger."""

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from . import services
from .models import Author, Book, InboxFile, RowRejection
from .tasks import scan_inbox


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "published_year"]
    search_fields = ["title", "author__name"]
    list_select_related = ["author"]
    autocomplete_fields = ["author"]


class RowRejectionInline(admin.TabularInline):
    model = RowRejection
    fields = ["line", "column", "message", "raw"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        # Inlines are not paged: show the first hundred rejections.
        queryset = super().get_queryset(request)
        ids = queryset.values_list("pk", flat=True)[:100]
        return queryset.filter(pk__in=list(ids))


@admin.register(InboxFile)
class InboxFileAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "state",
        "rows_imported",
        "rows_updated",
        "rows_rejected",
        "duration_display",
        "attempts",
        "source",
        "discovered_at",
        "task_link",
    ]
    list_filter = ["state", "source", "importer", "notify_state", "discovered_at"]
    search_fields = ["name", "inbox_path", "stored_path", "sha256", "task_id"]
    date_hierarchy = "discovered_at"
    readonly_fields = [f.name for f in InboxFile._meta.fields] + [
        "duration_display",
        "task_link",
    ]
    inlines = [RowRejectionInline]
    actions = ["reimport"]
    change_list_template = "admin/ingest/inboxfile/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

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

    @admin.action(description="Re-import selected files", permissions=["change"])
    def reimport(self, request: HttpRequest, queryset) -> None:
        count = services.files_requeue(files=queryset)
        self.message_user(request, f"{count} file(s) queued for import.")

    def get_urls(self):
        scan = path(
            "scan/",
            self.admin_site.admin_view(self.scan_view),
            name="ingest_inboxfile_scan",
        )
        return [scan, *super().get_urls()]

    def scan_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """Queue one scan of the default inbox now (POST only)."""
        changelist = reverse("admin:ingest_inboxfile_changelist")
        if request.method != "POST" or not self.has_change_permission(request):
            self.message_user(
                request, "Scanning needs a POST by staff.", messages.ERROR
            )
            return HttpResponseRedirect(changelist)
        scan_inbox.delay()
        self.message_user(request, "Scan of the inbox queued.")
        return HttpResponseRedirect(changelist)
