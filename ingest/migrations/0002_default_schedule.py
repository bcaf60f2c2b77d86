"""Create the "Scan inbox" periodic task (every 10 s) if it does not exist.

Staff own it afterwards: changing its interval, switching it to a crontab or
disabling it in the admin is never undone by a later migrate.
"""

import json

from django.conf import settings
from django.db import migrations

SCAN_TASK_NAME = "Scan inbox"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every = getattr(settings, "INGEST_SCAN_INTERVAL", 10)
    interval, _ = IntervalSchedule.objects.get_or_create(every=every, period="seconds")
    _task, created = PeriodicTask.objects.get_or_create(
        name=SCAN_TASK_NAME,
        defaults={
            "task": "ingest.tasks.scan_inbox",
            "interval": interval,
            "kwargs": json.dumps({}),
            # A scan that waited longer than this behind busy workers is
            # useless: a newer one is already on its way.
            "expire_seconds": 60,
            "description": "Register, queue and repair files of the default inbox.",
        },
    )
    if created:
        # Historical models send no signals: tell running beats by hand.
        from django.utils import timezone

        PeriodicTasks.objects.update_or_create(
            ident=1, defaults={"last_update": timezone.now()}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, migrations.RunPython.noop)]
