"""Author and Book left the engine for the example ``catalogue`` app.

State only: the tables stay (``catalogue.0001`` owns them now, same names).
A project that does not install ``catalogue`` gets the two tables from
``0001``/``0003`` all the same; they are dropped here if they are empty,
and left alone (with their rows) if not.
"""

from django.apps import apps as global_apps
from django.db import migrations


def tables_drop_unowned(apps, schema_editor):
    if global_apps.is_installed("catalogue"):
        return
    connection = schema_editor.connection
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in ("ingest_book", "ingest_author"):
            if table not in existing:
                continue
            cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")
            if cursor.fetchone() is None:
                cursor.execute(f"DROP TABLE {table}")


class Migration(migrations.Migration):
    dependencies = [("ingest", "0006_inboxes_from_schedules")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Book"),
                migrations.DeleteModel(name="Author"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(tables_drop_unowned, migrations.RunPython.noop),
    ]
