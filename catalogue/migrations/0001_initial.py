"""Take over Author and Book from the ingest app, keeping their tables.

Until this release the example models lived in ``ingest``; their tables
(``ingest_author``, ``ingest_book``) and every row stay where they are: this
migration only tells Django's state that the models now belong here, and
moves their content types (so permissions and admin history follow).
``ingest.0007`` then drops them from the ingest app's state.
"""

import django.db.models.deletion
from django.db import migrations, models


def content_types_move(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("author", "book"):
        if not ContentType.objects.filter(app_label="catalogue", model=model).exists():
            ContentType.objects.filter(app_label="ingest", model=model).update(
                app_label="catalogue"
            )


def content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(
        app_label="catalogue", model__in=["author", "book"]
    ).update(app_label="ingest")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("ingest", "0006_inboxes_from_schedules"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    run_before = [("ingest", "0007_catalogue_moved")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Author",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "name",
                            models.CharField(
                                max_length=255, unique=True, verbose_name="name"
                            ),
                        ),
                        (
                            "birth_year",
                            models.IntegerField(
                                blank=True, null=True, verbose_name="birth year"
                            ),
                        ),
                        (
                            "country",
                            models.CharField(
                                blank=True,
                                db_default="",
                                default="",
                                max_length=100,
                                verbose_name="country",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "ingest_author",
                        "ordering": ["name"],
                        "verbose_name": "author",
                        "verbose_name_plural": "authors",
                    },
                ),
                migrations.CreateModel(
                    name="Book",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "title",
                            models.CharField(max_length=500, verbose_name="title"),
                        ),
                        (
                            "published_year",
                            models.IntegerField(
                                blank=True, null=True, verbose_name="published year"
                            ),
                        ),
                        (
                            "author",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="books",
                                to="catalogue.author",
                                verbose_name="author",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "ingest_book",
                        "ordering": ["title"],
                        "verbose_name": "book",
                        "verbose_name_plural": "books",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("title", "author"), name="book_natural_key"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_back),
    ]
