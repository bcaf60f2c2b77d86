"""URLs of the ingest app: the dashboard pages and the JSON API.

Only the engine's own views: the host project mounts them
(``path("ingest/", include("ingest.urls"))``) and owns its login page
(``LOGIN_URL``); pages send the anonymous there.
"""

from django.urls import path
from django.views.i18n import JavaScriptCatalog

from . import ops, views

app_name = "ingest"

urlpatterns = [
    # Pages
    path("", views.home, name="home"),
    path("upload/", views.upload, name="upload"),
    path("scan/", views.scan, name="scan"),
    path("imports/<int:file_id>/", views.file_page, name="file-page"),
    path("imports/<int:file_id>/errors.csv", views.file_errors, name="file-errors"),
    path("imports/<int:file_id>/reimport/", views.file_requeue, name="file-requeue"),
    path("preview/", views.preview_upload, name="preview-upload"),
    path("imports/<int:file_id>/preview/", views.preview_page, name="preview-page"),
    path(
        "imports/<int:file_id>/preview/again/",
        views.preview_change,
        name="preview-change",
    ),
    path(
        "imports/<int:file_id>/confirm/", views.preview_confirm, name="preview-confirm"
    ),
    path("imports/<int:file_id>/cancel/", views.preview_cancel, name="preview-cancel"),
    # JSON API
    path("task/<str:task_id>/", views.task_status, name="task-status"),
    path("files/", views.file_index, name="file-index"),
    path("files/<int:file_id>/", views.file_detail, name="file-detail"),
    path("import/", views.file_import, name="import"),
    path("import/preview/", views.file_preview_create, name="import-preview"),
    path("files/<int:file_id>/confirm/", views.file_confirm, name="file-confirm"),
    # The texts of the dashboard's scripts, in the request's language
    # (gettext() in the browser; the djangojs catalog of this app only).
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["ingest"]),
        name="jsi18n",
    ),
    # Operations: Prometheus and the probes (no trailing slash, as they expect)
    path("metrics", ops.metrics, name="metrics"),
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
]
