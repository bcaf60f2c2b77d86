"""Previews: a ledger state nothing imports, "preview first" inboxes, and
the hourly task that removes previews nobody confirmed.

The schedule is created once; staff own it afterwards (as the scan's).
"""

from django.db import migrations, models

EXPIRE_TASK_NAME = "Expire previews"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    _task, created = PeriodicTask.objects.get_or_create(
        name=EXPIRE_TASK_NAME,
        defaults={
            "task": "ingest.tasks.expire_previews",
            "interval": interval,
            "kwargs": "{}",
            "expire_seconds": 600,
            "description": "Remove previews not confirmed within INGEST_PREVIEW_KEEP.",
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
        ("ingest", "0010_inbox_dialect"),
        ("ingest", "0020_inbox_last_scanned_at"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="inbox",
            name="preview_first",
            field=models.BooleanField(
                default=False,
                help_text="Hold each file found here in preview until a person confirms it on the dashboard.",
                verbose_name="preview first",
            ),
        ),
        migrations.AddField(
            model_name="inboxfile",
            name="preview",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="What the import would do, as a preview read it: counts, header mapping, first rows.",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="state",
            field=models.CharField(
                choices=[
                    ("discovered", "Discovered"),
                    ("queued", "Queued"),
                    ("importing", "Importing"),
                    ("done", "Done"),
                    ("failed", "Failed"),
                    ("duplicate", "Duplicate"),
                    ("preview", "Preview"),
                ],
                db_index=True,
                default="discovered",
                max_length=16,
            ),
        ),
        migrations.RunPython(create_schedule, migrations.RunPython.noop),
    ]
