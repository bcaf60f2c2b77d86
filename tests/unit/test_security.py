"""Hostile input: links out of the inbox, inboxes out of bounds, leaks, rights."""

import hashlib
import logging
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from ingest import services
from ingest.models import InboxFile
from ingest.tasks import scan_inbox
from tests.e2e.harness import free_port
from tests.factories import drop, issn, journals_csv
from tests.testapp.models import Journal, Publisher

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State
PASSWD = Path("/etc/passwd")


def _fingerprint(path: Path) -> tuple[str, float]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime


def _ledger_text(row: InboxFile) -> str:
    return " ".join(
        str(value)
        for value in InboxFile.objects.filter(pk=row.pk).values().get().values()
    )


@pytest.fixture
def evil_link(ingest_dirs) -> Path:
    """A CSV-looking symlink in the inbox pointing at /etc/passwd."""
    link = Path(ingest_dirs["INGEST_INBOX_DIR"]) / "evil.csv"
    os.symlink(PASSWD, link)
    return link


def test_a_symlink_to_etc_passwd_is_refused_through_the_scan_task(evil_link, eager):
    """The scheduled task path records the link, moves it aside and never reads it."""
    before = _fingerprint(PASSWD)
    result = scan_inbox.delay()
    assert result.get()["refused"] == 1
    row = InboxFile.objects.get()
    assert row.state == State.FAILED and "symbolic link" in row.error
    assert row.sha256 == "" and row.rows_total == 0
    assert os.path.islink(row.stored_path)
    assert os.readlink(row.stored_path) == str(PASSWD)
    assert _fingerprint(PASSWD) == before
    assert Journal.objects.count() == 0
    assert "root:" not in _ledger_text(row)
    (message,) = mail.outbox
    assert "root:" not in message.subject + message.body


def test_reimporting_a_refused_symlink_does_not_read_its_target(evil_link, eager):
    """An admin's "re-import" of the refused link fails again without opening it."""
    services.inbox_scan()
    row = InboxFile.objects.get()
    mail.outbox.clear()
    assert services.files_requeue(files=[row]) == 1
    row.refresh_from_db()
    assert row.state == State.FAILED
    assert "symbolic link" in row.error
    assert row.sha256 == ""
    assert "root:" not in _ledger_text(row)
    assert os.path.islink(row.stored_path)
    assert Journal.objects.count() == Publisher.objects.count() == 0
    assert all("root:" not in m.subject + m.body for m in mail.outbox)


def test_a_symlinked_processing_folder_is_refused(ingest_dirs, tmp_path, published):
    """A `.processing` link planted in the inbox would move files out of it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    inbox = Path(ingest_dirs["INGEST_INBOX_DIR"])
    os.symlink(outside, inbox / ".processing")
    path = drop("journals.csv", journals_csv(("A", "Alpha", 2000)))
    with pytest.raises(ImproperlyConfigured, match="symbolic link"):
        services.inbox_scan()
    assert path.exists()
    assert list(outside.iterdir()) == []
    assert InboxFile.objects.count() == 0


@pytest.mark.parametrize(
    "escape",
    ["/etc", "{inbox}/../../..", "{root}/link-to-etc"],
    ids=["absolute", "dot-dot", "symlink-in-allowed-root"],
)
def test_a_scheduled_scan_outside_the_allowed_roots_fails_clearly_once(
    escape, ingest_dirs, tmp_path, settings, monkeypatch
):
    """A PeriodicTask's `inbox` kwarg out of bounds: one recorded failure, no retry."""
    root = tmp_path / "partners"
    root.mkdir()
    os.symlink("/etc", root / "link-to-etc")
    settings.INGEST_ALLOWED_ROOTS = [str(root)]
    inbox = escape.format(inbox=ingest_dirs["INGEST_INBOX_DIR"], root=root)
    before = sorted(os.listdir("/etc"))
    retries = []
    monkeypatch.setattr(scan_inbox, "retry", lambda *a, **kw: retries.append(kw))
    # What beat sends for PeriodicTask(kwargs='{"inbox": ...}').
    result = scan_inbox.apply(kwargs={"inbox": inbox})
    assert result.state == "FAILURE"
    assert isinstance(result.result, ImproperlyConfigured)
    assert "outside INGEST_ALLOWED_ROOTS" in str(result.result)
    assert repr(inbox) in str(result.result)
    assert retries == []
    assert sorted(os.listdir("/etc")) == before
    assert InboxFile.objects.count() == 0


def _login_with(client, username: str, model, actions: set[str]) -> None:
    """Log in a staff user holding only the *actions* permissions on *model*."""
    user = User.objects.create_user(username, password="pw-123456", is_staff=True)
    opts = model._meta
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label=opts.app_label,
            codename__in=[f"{action}_{opts.model_name}" for action in actions],
        )
    )
    client.force_login(user)


def test_every_admin_action_needs_the_permission_it_declares(client, published):
    """An action (delete included) does nothing for staff lacking its permission.

    The catalogue's admin is held to the same (tests/catalogue/test_admin.py).
    """
    victim = InboxFile.objects.create(
        name="x.csv", folder="/in", inbox_path="/in/x.csv", state=State.FAILED
    )
    admin_actions_check(client, InboxFile, victim)
    assert [c for c in published if c["task"] == "ingest.tasks.import_file"] == []


def admin_actions_check(client, model, victim) -> None:
    """Run each admin action of *model* on *victim* as staff lacking its permission.

    Each user holds every other permission on the model, so only the one
    the action declares is missing; no action may change any row.
    """
    modeladmin = admin.site._registry[model]
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    actions = modeladmin._get_base_actions()
    assert actions, f"{model.__name__} has no admin actions to check"
    before = list(model.objects.values())
    for func, name, _description in actions:
        required = set(getattr(func, "allowed_permissions", ()))
        assert required, f"admin action {name!r} declares no permission"
        _login_with(
            client, f"no-{name}", model, {"view", "add", "change", "delete"} - required
        )
        response = client.post(
            url,
            {"action": name, "_selected_action": [victim.pk], "post": "yes"},
        )
        assert response.status_code in (200, 302, 403), name
        assert list(model.objects.values()) == before, name


SECRET_KEY = "sk-test-7f3a9c-never-print-me"
MAIL_PASSWORD = "mail-pw-91b2-never-print-me"
GOOD_ROW = ("4711-4711", "Private Title 4711", 1999)


def _secrets() -> list[str]:
    found = [SECRET_KEY, MAIL_PASSWORD]
    for alias in settings.DATABASES.values():
        if alias.get("PASSWORD"):
            found.append(alias["PASSWORD"])
    return found


def test_logs_and_emails_carry_no_secrets_or_imported_row_values(
    settings, eager, caplog
):
    """The summary is all that leaves: no secret, no value of a good row."""
    settings.SECRET_KEY = SECRET_KEY
    settings.EMAIL_HOST_PASSWORD = MAIL_PASSWORD
    with caplog.at_level(logging.DEBUG):
        good = [(issn(i), f"Journal {i}", 2000) for i in range(20)]
        drop("journals.csv", journals_csv(GOOD_ROW, *good, ("", "Nobody", 2000)))
        services.inbox_scan()
        # The same with the mail server down: the error is recorded, not the secret.
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
        settings.EMAIL_HOST_USER = "ingest"
        drop("journals-2.csv", journals_csv(("B", "Other", 2001)))
        services.inbox_scan()
    rows = list(InboxFile.objects.order_by("pk"))
    assert [r.state for r in rows] == [State.DONE, State.DONE]
    assert rows[1].notify_state == InboxFile.Notify.FAILED and rows[1].notify_error
    outputs = [caplog.text]
    outputs += [_ledger_text(r) for r in rows]
    for message in mail.outbox:
        outputs.append(message.subject + message.body)
        outputs += [str(content) for _name, content, _type in message.attachments]
    everything = "\n".join(outputs)
    for secret in _secrets():
        assert secret not in everything
    for value in GOOD_ROW[:2]:  # The year is too short to be told from a timing.
        assert value not in everything
