"""URLs of the ingest app."""

from django.urls import path

from . import views

app_name = "ingest"

urlpatterns = [
    path("", views.home, name="home"),
    path("task/<str:task_id>/", views.task_status, name="task-status"),
    path("files/", views.file_index, name="file-index"),
    path("files/<int:file_id>/", views.file_detail, name="file-detail"),
]
