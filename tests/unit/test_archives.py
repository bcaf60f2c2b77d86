"""A .zip's members become ledger entries of their own, each imported once.

Dropped into the inbox and scanned with eager tasks: the archive's good
members import, its hostile ones (a path out of the archive, an archive in
the archive, a kind not read) are refused members with a reason, the
archive's one email summarizes them all, and an expansion cut half-way
and run again registers no member twice and skips none.
"""

import io
import zipfile

import pytest
from django.core import mail

from ingest import services
from ingest.models import InboxFile
from ingest.services import archives
from tests.factories import drop, journals_csv

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State
FIRST = journals_csv(("0028-0836", "Nature", 1869), ("0036-8075", "Science", 1880))
SECOND = journals_csv(("0140-6736", "The Lancet", 1823))


def zipped(members: dict[str, str | bytes], *, folders: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder in folders:
            archive.writestr(zipfile.ZipInfo(folder), "")
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def imported(name: str, content: bytes) -> InboxFile:
    drop(name, content)
    services.inbox_scan()
    return InboxFile.objects.filter(name=name, archive=None).latest("pk")


def test_each_member_is_a_ledger_entry_imported_once_and_one_email_tells_all(
    eager,
):
    archive = imported(
        "partner-2026-12.zip",
        zipped(
            {
                "december/journals-1.csv": FIRST,
                "december/journals-2.csv": SECOND,
                "december/report.pdf": b"%PDF-1.7",
                "inner.zip": zipped({"x.csv": SECOND}),
                "../escape.csv": FIRST,
            },
            folders=("december/",),
        ),
    )
    assert (archive.state, archive.rows_total) == (State.DONE, 5)
    members = {m.member: m for m in archive.members.all()}
    assert set(members) == {
        "december/journals-1.csv",
        "december/journals-2.csv",
        "december/report.pdf",
        "inner.zip",
        "../escape.csv",
    }
    first, second = (
        members["december/journals-1.csv"],
        members["december/journals-2.csv"],
    )
    assert (first.name, first.state, first.rows_imported) == (
        "journals-1.csv",
        State.DONE,
        2,
    )
    assert (second.state, second.rows_imported) == (State.DONE, 1)
    assert members["december/report.pdf"].state == State.FAILED
    assert (
        "is not a kind of file this service reads"
        in members["december/report.pdf"].error
    )
    assert "archives are not unpacked within archives" in members["inner.zip"].error
    assert "points outside the archive" in members["../escape.csv"].error
    assert {m.notify_state for m in members.values()} == {InboxFile.Notify.ARCHIVE}
    # One email, the archive's, once its last member was final.
    (message,) = mail.outbox
    assert message.subject == (
        "Archive finished: partner-2026-12.zip — 5 files: 3 imported, 0 updated, "
        "0 rejected rows, 3 files failed"
    )
    assert f"december/journals-1.csv (#{first.pk}, Done): 2 imported" in message.body
    assert "inner.zip" in message.body
    archive.refresh_from_db()
    assert archive.notify_state == InboxFile.Notify.SENT


def test_the_same_archive_again_is_a_duplicate_and_unpacks_nothing(eager):
    content = zipped({"journals.csv": FIRST})
    first = imported("a.zip", content)
    again = imported("b.zip", content)
    assert (again.state, again.duplicate_of_id) == (State.DUPLICATE, first.pk)
    assert not again.members.exists()
    assert InboxFile.objects.filter(archive__isnull=False).count() == 1


def test_an_expansion_cut_half_way_registers_no_member_twice_and_skips_none(
    eager, monkeypatch
):
    """The worker dies after taking out the first member (as a SIGKILL would:
    nothing of the engine runs after it); the scan hands the archive on
    again and the second run finishes the job."""
    real = archives._extract
    calls = []

    def dying(*args):
        calls.append(args)
        if len(calls) == 2:
            raise SystemExit("killed between members")
        return real(*args)

    monkeypatch.setattr(archives, "_extract", dying)
    drop("parcel.zip", zipped({"one.csv": FIRST, "two.csv": SECOND}))
    with pytest.raises(SystemExit):
        services.inbox_scan()
    archive = InboxFile.objects.get(name="parcel.zip")
    assert archive.state == State.IMPORTING
    assert archive.members.count() == 2
    monkeypatch.setattr(archives, "_extract", real)

    services.inbox_scan()  # The repair requeues the dead worker's archive...
    archive.refresh_from_db()
    if archive.state == State.QUEUED:
        # ...and a worker takes the message. Eager on SQLite, the repair's
        # own look at the lock still holds it while the doorbell rings
        # inline; on PostgreSQL the inline import has run already.
        services.file_import(file_id=archive.pk, task_id=archive.task_id)
        archive.refresh_from_db()
    members = {m.member: m for m in archive.members.all()}
    assert archive.state == State.DONE
    assert {name: (m.state, m.rows_imported) for name, m in members.items()} == {
        "one.csv": (State.DONE, 2),
        "two.csv": (State.DONE, 1),
    }
    assert InboxFile.objects.filter(archive__isnull=False).count() == 2
    assert len(mail.outbox) == 1


def test_too_many_members_or_too_many_bytes_refuse_the_archive_whole(eager, settings):
    settings.INGEST_MAX_ARCHIVE_MEMBERS = 2
    many = imported("many.zip", zipped({f"{n}.csv": FIRST for n in range(3)}))
    assert many.state == State.FAILED
    assert "holds 3 files, more than the 2 allowed" in many.error
    assert not many.members.exists()

    settings.INGEST_MAX_UNCOMPRESSED_BYTES = 100
    big = imported("big.zip", zipped({"journals.csv": FIRST * 5}))
    assert big.state == State.FAILED
    assert "INGEST_MAX_UNCOMPRESSED_BYTES" in big.error
    assert not big.members.exists()


def test_a_zip_bomb_is_refused_by_its_ratio(eager, settings, monkeypatch):
    monkeypatch.setattr(archives.filekinds, "RATIO_GRACE_BYTES", 0)
    settings.INGEST_MAX_COMPRESSION_RATIO = 20
    bomb = imported(
        "bomb.zip", zipped({"zeros.csv": "issn,title,year\n" + "0" * 200_000})
    )
    assert bomb.state == State.FAILED
    assert "inflates more than 20 times its size" in bomb.error
    assert "decompression bomb" in bomb.error


def test_a_corrupt_zip_fails_with_a_reason(eager):
    row = imported("broken.zip", b"PK\x03\x04 not really a zip")
    assert row.state == State.FAILED
    assert row.error.startswith("Refused: the file is not a readable .zip archive")


def test_the_file_pages_link_an_archive_and_its_members(eager, client):
    from django.contrib.auth.models import User
    from django.urls import reverse

    client.force_login(User.objects.create_user("ops", password="pw", is_staff=True))
    archive = imported("parcel.zip", zipped({"in/journals.csv": FIRST}))
    (member,) = archive.members.all()
    page = client.get(reverse("ingest:file-page", args=[archive.pk])).content.decode()
    assert 'id="members"' in page
    assert (
        f'href="{reverse("ingest:file-page", args=[member.pk])}">in/journals.csv</a>'
        in page
    )
    assert "2 imported, 0 updated, 0 rejected" in page
    page = client.get(reverse("ingest:file-page", args=[member.pk])).content.decode()
    assert (
        f'href="{reverse("ingest:file-page", args=[archive.pk])}">#{archive.pk}</a>'
        in page
    )
