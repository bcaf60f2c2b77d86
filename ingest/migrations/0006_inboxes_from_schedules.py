"""Turn every scan schedule into an Inbox linked to its PeriodicTask.

Before this, an inbox was a ``PeriodicTask`` for ``ingest.tasks.scan_inbox``
whose JSON kwargs staff typed by hand (``{"inbox": "/path", "importer":
"authors"}``), and a folder's encoding was an ``INGEST_INBOX_ENCODINGS``
entry. Each such task becomes an Inbox keeping its name, schedule and
enabled flag, its kwargs become ``{"inbox_id": N}``, and the ledger rows
found in its folder are linked to it. A second schedule for a folder that
already has an inbox keeps its old kwargs (still accepted, with a warning).
"""

import json
from pathlib import Path

from django.db import migrations

from ingest import conf

SCAN_TASK = "ingest.tasks.scan_inbox"
DEFAULT_NAME = "Scan inbox"


def _resolved(path: str) -> str:
    return str(Path(path).resolve())


def _encodings() -> dict[str, str]:
    found = {}
    for entry in conf.setting("INGEST_INBOX_ENCODINGS"):
        path, _sep, encoding = entry.rpartition("=")
        if path and encoding.strip():
            found[_resolved(path)] = encoding.strip()
    return found


def forward(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    Inbox = apps.get_model("ingest", "Inbox")
    InboxFile = apps.get_model("ingest", "InboxFile")
    default_dir = str(conf.inbox_dir())
    encodings = _encodings()
    changed = False
    for task in PeriodicTask.objects.filter(task=SCAN_TASK).order_by("pk"):
        try:
            kwargs = json.loads(task.kwargs or "{}") or {}
        except ValueError:
            continue
        if not isinstance(kwargs, dict) or "inbox_id" in kwargs:
            continue
        given = kwargs.get("inbox") or ""
        resolved = _resolved(given) if given else default_dir
        folder = "" if resolved == default_dir else resolved
        if Inbox.objects.filter(folder=folder).exists():
            continue
        name = "default" if task.name == DEFAULT_NAME and not folder else task.name
        if Inbox.objects.filter(name=name[:100]).exists():
            name = f"{name[:90]} #{task.pk}"
        inbox = Inbox.objects.create(
            name=name[:100],
            folder=folder,
            importer=kwargs.get("importer") or "",
            enabled=task.enabled,
            encoding=encodings.get(resolved, ""),
            periodic_task=task,
        )
        task.kwargs = json.dumps({"inbox_id": inbox.pk})
        task.save(update_fields=["kwargs"])
        InboxFile.objects.filter(folder=resolved, inbox__isnull=True).update(
            inbox=inbox
        )
        changed = True
    if changed:
        # Historical models send no signals: tell running beats by hand.
        from django.utils import timezone

        PeriodicTasks.objects.update_or_create(
            ident=1, defaults={"last_update": timezone.now()}
        )


def backward(apps, schema_editor):
    Inbox = apps.get_model("ingest", "Inbox")
    for inbox in Inbox.objects.exclude(periodic_task=None).select_related(
        "periodic_task"
    ):
        kwargs = {}
        if inbox.folder:
            kwargs["inbox"] = inbox.folder
        if inbox.importer:
            kwargs["importer"] = inbox.importer
        task = inbox.periodic_task
        task.kwargs = json.dumps(kwargs)
        task.save(update_fields=["kwargs"])


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0005_inboxes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forward, backward)]
