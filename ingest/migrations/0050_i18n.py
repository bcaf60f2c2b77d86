"""Translatable labels; reasons kept as message ids; an inbox's language."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0040_preview"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="inboxfile",
            options={
                "ordering": ["-discovered_at", "-id"],
                "verbose_name": "inbox file",
                "verbose_name_plural": "inbox files",
            },
        ),
        migrations.AlterModelOptions(
            name="rowrejection",
            options={
                "ordering": ["file", "line"],
                "verbose_name": "rejected row",
                "verbose_name_plural": "rejected rows",
            },
        ),
        migrations.AddField(
            model_name="inbox",
            name="language",
            field=models.CharField(
                blank=True,
                help_text="Language of this inbox's emails and failure notes; blank = the site's (DJANGO_LANGUAGE_CODE).",
                max_length=16,
                verbose_name="language",
            ),
        ),
        migrations.AddField(
            model_name="inboxfile",
            name="error_reason",
            field=models.JSONField(
                blank=True, default=dict, verbose_name="error (message id)"
            ),
        ),
        migrations.AddField(
            model_name="rowrejection",
            name="reason",
            field=models.JSONField(
                blank=True, default=dict, verbose_name="problem (message id)"
            ),
        ),
        migrations.AlterField(
            model_name="inbox",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="created"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="attempts",
            field=models.PositiveIntegerField(default=0, verbose_name="attempts"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="delimiter",
            field=models.CharField(blank=True, max_length=8, verbose_name="delimiter"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="dialect",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="How the file was read, as detected.",
                verbose_name="dialect",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="discovered_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="seen"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="dispatched_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="dispatched"
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="duplicate_of",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="ingest.inboxfile",
                verbose_name="duplicate of",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="encoding",
            field=models.CharField(
                blank=True,
                help_text="Encoding the file was read in.",
                max_length=32,
                verbose_name="encoding",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="error",
            field=models.TextField(
                blank=True,
                help_text="The reason, as written in the site's language.",
                verbose_name="error",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="finished_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="finished"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="folder",
            field=models.CharField(
                help_text="Inbox folder it came from (its processing home).",
                max_length=1024,
                verbose_name="folder",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="ignored_columns",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Header columns no importer reads.",
                verbose_name="ignored columns",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="importer",
            field=models.CharField(
                blank=True,
                help_text="The dataset the file was imported as.",
                max_length=64,
                verbose_name="dataset",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="importer_chosen_by",
            field=models.CharField(
                blank=True,
                choices=[
                    ("person", "Chosen by a person"),
                    ("inbox", "The inbox's dataset"),
                    ("header", "Matched by the header"),
                    ("name", "Header tie broken by the file name"),
                ],
                max_length=16,
                verbose_name="dataset chosen by",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="importer_requested",
            field=models.CharField(
                blank=True,
                help_text="The dataset a person chose for this file; blank = none.",
                max_length=64,
                verbose_name="dataset requested",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="inbox_path",
            field=models.CharField(
                help_text="Where it was found.",
                max_length=1024,
                verbose_name="found at",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="mtime",
            field=models.FloatField(default=0, verbose_name="modification time"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="name",
            field=models.CharField(
                help_text="Original file name.", max_length=255, verbose_name="name"
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="notified_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="emailed"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="notify_error",
            field=models.TextField(blank=True, verbose_name="email error"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="notify_state",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("failed", "Failed"),
                    ("skipped", "No recipients"),
                ],
                db_index=True,
                default="pending",
                max_length=16,
                verbose_name="email",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="preview",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="What the import would do, as a preview read it: counts, header mapping, first rows.",
                verbose_name="preview",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="queued_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="queued"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="rows_imported",
            field=models.PositiveIntegerField(default=0, verbose_name="rows imported"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="rows_rejected",
            field=models.PositiveIntegerField(default=0, verbose_name="rows rejected"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="rows_total",
            field=models.PositiveIntegerField(default=0, verbose_name="rows read"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="rows_updated",
            field=models.PositiveIntegerField(default=0, verbose_name="rows updated"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="sha256",
            field=models.CharField(
                blank=True, db_index=True, max_length=64, verbose_name="SHA-256"
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="size",
            field=models.BigIntegerField(default=0, verbose_name="size"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="source",
            field=models.CharField(
                choices=[
                    ("inbox", "Inbox"),
                    ("upload", "Upload"),
                    ("command", "Command"),
                ],
                default="inbox",
                max_length=16,
                verbose_name="source",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="started"),
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
                verbose_name="state",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="stored_path",
            field=models.CharField(
                blank=True,
                help_text="Where it is now (or is being moved).",
                max_length=1024,
                verbose_name="stored at",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="task_id",
            field=models.CharField(
                blank=True, db_index=True, max_length=255, verbose_name="task id"
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="webhook_error",
            field=models.TextField(blank=True, verbose_name="webhook error"),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="webhook_state",
            field=models.CharField(
                blank=True,
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("failed", "Failed"),
                    ("skipped", "No recipients"),
                ],
                db_index=True,
                max_length=16,
                verbose_name="webhook",
            ),
        ),
        migrations.AlterField(
            model_name="inboxfile",
            name="webhooked_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="webhook sent"
            ),
        ),
        migrations.AlterField(
            model_name="rowrejection",
            name="column",
            field=models.CharField(blank=True, max_length=64, verbose_name="column"),
        ),
        migrations.AlterField(
            model_name="rowrejection",
            name="file",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="rejections",
                to="ingest.inboxfile",
                verbose_name="file",
            ),
        ),
        migrations.AlterField(
            model_name="rowrejection",
            name="line",
            field=models.PositiveIntegerField(
                help_text="Line number in the file (1 = header).", verbose_name="line"
            ),
        ),
        migrations.AlterField(
            model_name="rowrejection",
            name="message",
            field=models.CharField(
                help_text="The reason, as written in the site's language.",
                max_length=500,
                verbose_name="problem",
            ),
        ),
        migrations.AlterField(
            model_name="rowrejection",
            name="raw",
            field=models.JSONField(
                default=list,
                help_text="The row's fields as read.",
                verbose_name="row as read",
            ),
        ),
    ]
