"""Previews: a ledger state nothing imports and "preview first" inboxes.

This migration once also created the hourly "Expire previews" task;
``manage.py ingest_setup`` creates it now (``migrate`` creates no schedule),
and a database migrated before keeps the one it has. The no-op stays in
place of that step so the operations keep their order.
"""

from django.db import migrations, models


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
        migrations.RunPython(
            migrations.RunPython.noop, migrations.RunPython.noop, elidable=True
        ),
    ]
