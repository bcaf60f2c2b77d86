"""URLs of the ingest app: the dashboard pages and the JSON API.

Only the engine's own views: the host project mounts them
(``path("ingest/", include("ingest.urls"))``) and owns its login page
(``LOGIN_URL``); pages send the anonymous there.
"""

from django.urls import path

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
    # JSON API
    path("task/<str:task_id>/", views.task_status, name="task-status"),
    path("files/", views.file_index, name="file-index"),
    path("files/<int:file_id>/", views.file_detail, name="file-detail"),
    path("import/", views.file_import, name="import"),
    # Operations: Prometheus and the probes (no trailing slash, as they expect)
    path("metrics", ops.metrics, name="metrics"),
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
]
