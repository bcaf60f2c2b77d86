"""A database outage in the middle of an import retries; it never fails the file."""

import pytest
from django.db import OperationalError, connection

from ingest import services
from ingest.models import InboxFile
from ingest.services import imports
from tests.factories import drop, journals_csv

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_a_driver_error_mid_copy_propagates_for_a_retry_and_keeps_the_file(
    published, monkeypatch
):
    """The staging writer's raw driver error is a database outage, not a bad file."""
    drop("journals.csv", journals_csv(("A", "Alpha", 2000)))
    services.inbox_scan()
    row = InboxFile.objects.get()

    def lost_connection(**kwargs):
        # What psycopg raises from COPY when the server goes away: the
        # driver's own exception, which Django's cursor wrapper never saw.
        raise connection.Database.OperationalError("server closed the connection")

    monkeypatch.setattr(imports, "rows_stage", lost_connection)
    with pytest.raises(OperationalError):
        services.file_import(file_id=row.pk, task_id=row.task_id)
    row.refresh_from_db()
    assert row.state == InboxFile.State.IMPORTING  # The retry takes it from here.
    assert row.error == ""
    assert row.processing_path.exists()

    monkeypatch.undo()
    summary = services.file_import(file_id=row.pk, task_id=row.task_id)
    assert summary["status"] == InboxFile.State.DONE and summary["imported"] == 1
