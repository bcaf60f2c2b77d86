"""Once created the "Scan inbox" periodic task; now does nothing.

``manage.py ingest_setup`` creates the default inbox and its schedule, so a
project that installs the engine gets from ``migrate`` no schedule it did
not ask for. A database migrated before keeps the task this made (staff own
it). The migration stays, empty, so the graph does not change.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(
            migrations.RunPython.noop, migrations.RunPython.noop, elidable=True
        )
    ]
