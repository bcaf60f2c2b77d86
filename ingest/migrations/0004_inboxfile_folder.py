"""Rename the ledger's folder column: ``inbox`` becomes the Inbox it came from."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ingest", "0003_real_world_csv")]

    operations = [
        migrations.RenameField(
            model_name="inboxfile", old_name="inbox", new_name="folder"
        ),
    ]
