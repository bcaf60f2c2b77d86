"""Ukrainian and English: the pages, the emails, the reasons and the numbers.

The language comes from the switcher's cookie, else the browser's
Accept-Language, else ``LANGUAGE_CODE`` (pinned to English here); a reason
recorded once reads in whichever language its reader has.
"""

import datetime
import html
import json

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from ingest import services
from ingest.models import InboxFile, RowRejection
from tests.factories import drop, journals_csv, ledger_row

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State
UK = {"HTTP_ACCEPT_LANGUAGE": "uk"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
NBSP = "\xa0"
#: A header no dataset fits: its reason is built from several parts.
NO_DATASET = "colour,size\nzebra-striped,3\n"
#: Three good rows and one bad year: rejected, the file imported.
ONE_BAD = journals_csv(
    ("0028-0836", "Nature", 1869),
    ("0036-8075", "Science", 1880),
    ("1234-5678", "Всесвіт", 1925),
    ("8765-4321", "Поганий", "abc"),
)


@pytest.fixture(autouse=True)
def english_site(settings):
    """The site's language is English whatever DJANGO_LANGUAGE_CODE says."""
    settings.LANGUAGE_CODE = "en"
    settings.INGEST_MAX_REJECT_RATE = 0.5


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_user("ops", password="pw", is_staff=True))
    return client


def error_shown(response) -> str:
    """Return the reason of a file page (its "Error" fact), unescaped."""
    text = response.content.decode()
    start = text.index('<dd class="error-text" id="error">') + len(
        '<dd class="error-text" id="error">'
    )
    return html.unescape(text[start : text.index("</dd>", start)])


def imported(name: str, content: str) -> InboxFile:
    """Drop one file and scan eagerly (import and email inline)."""
    drop(name, content)
    services.inbox_scan()
    return InboxFile.objects.get(name=name)


# --- Choosing the language ------------------------------------------------


def test_the_dashboard_speaks_the_browsers_language(staff):
    english = staff.get(reverse("ingest:home"), **EN).content.decode()
    ukrainian = staff.get(reverse("ingest:home"), **UK).content.decode()
    assert '<html lang="en">' in english
    assert "Upload and import" in english and "Import CSV files" in english
    assert '<html lang="uk">' in ukrainian
    assert "Завантажити й почати імпорт" in ukrainian
    assert "Імпорт файлів CSV" in ukrainian
    assert "Upload and import" not in ukrainian


def test_a_browser_asking_for_neither_language_gets_the_sites(staff, settings):
    assert (
        "Upload and import"
        in staff.get(reverse("ingest:home"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    )
    settings.LANGUAGE_CODE = "uk"
    page = staff.get(reverse("ingest:home"), HTTP_ACCEPT_LANGUAGE="de")
    assert "Завантажити й почати імпорт" in page.content.decode()


def test_the_switcher_overrides_the_browser(staff):
    page = staff.get(reverse("ingest:home"), **EN).content.decode()
    assert f'action="{reverse("set_language")}"' in page
    assert '<option value="uk" lang="uk">Українська</option>' in page
    answer = staff.post(
        reverse("set_language"),
        {"language": "uk", "next": reverse("ingest:home")},
        **EN,
    )
    assert answer.status_code == 302 and answer["Location"] == reverse("ingest:home")
    assert staff.cookies[settings.LANGUAGE_COOKIE_NAME].value == "uk"
    # The browser still asks for English; the choice wins.
    page = staff.get(reverse("ingest:home"), **EN).content.decode()
    assert '<html lang="uk">' in page and "Завантажити й почати імпорт" in page
    assert '<option value="uk" lang="uk" selected>Українська</option>' in page


def test_the_login_page_is_translated_before_anyone_logs_in(client):
    page = client.get(reverse("login"), **UK).content.decode()
    assert "Панель імпорту — для співробітників." in page
    assert 'name="language"' in page


def test_the_scripts_texts_come_from_the_engines_catalog(client):
    def escaped(text: str) -> str:
        return json.dumps(text)[1:-1]  # As the catalog writes it.

    ukrainian = client.get(reverse("ingest:jsi18n"), **UK).content.decode()
    assert escaped("Надійшли нові файли.") in ukrainian
    assert escaped("прочитано %(rows)s рядків") in ukrainian
    english = client.get(reverse("ingest:jsi18n"), **EN).content.decode()
    assert escaped("Надійшли") not in english


# --- Numbers and dates ----------------------------------------------------


def test_numbers_and_dates_follow_the_readers_locale(staff):
    row = ledger_row("big.csv", rows_total=1_000_000, rows_imported=1_000_000)
    moment = timezone.make_aware(datetime.datetime(2026, 12, 1, 14, 5, 3))
    InboxFile.objects.filter(pk=row.pk).update(discovered_at=moment)
    ukrainian = staff.get(reverse("ingest:home"), **UK).content.decode()
    assert f">1{NBSP}000{NBSP}000<" in ukrainian
    assert "01.12.2026 14:05:03" in ukrainian
    english = staff.get(reverse("ingest:home"), **EN).content.decode()
    assert ">1,000,000<" in english
    assert "12/01/2026 14:05:03" in english
    # Ids in attributes and links stay plain numbers in either language.
    assert f'data-file-id="{row.pk}"' in ukrainian


def test_the_poll_answers_in_the_readers_language(staff):
    row = ledger_row("late.csv", state=State.QUEUED)
    answer = staff.get(reverse("ingest:file-index"), {"ids": row.pk}, **UK).json()
    (file,) = answer["files"]
    assert file["state"] == "queued" and file["state_display"] == "У черзі"
    assert file["source_display"] == "Скринька"


# --- Reasons, recorded once, read in each reader's language ---------------


def test_the_same_failed_file_reads_in_english_and_in_ukrainian(staff, eager):
    row = imported("export.csv", NO_DATASET)
    assert row.state == State.FAILED
    assert row.error.startswith('Header "colour, size" matches no dataset: ')
    assert row.error_reason["join"][0]["msgid"].startswith("Header ")
    page = reverse("ingest:file-page", args=[row.pk])
    english = error_shown(staff.get(page, **EN))
    ukrainian = error_shown(staff.get(page, **UK))
    assert english.startswith('Header "colour, size" matches no dataset: ')
    assert ukrainian.startswith("Заголовок «colour, size» не відповідає жодному ")
    assert "бракує: issn, title" in ukrainian
    assert "matches" not in ukrainian and "needs" not in ukrainian
    detail = reverse("ingest:file-detail", args=[row.pk])
    assert "не відповідає" in staff.get(detail, **UK).json()["error_display"]
    # The machine-readable field keeps the text recorded, in the site's language.
    assert staff.get(detail, **UK).json()["error"] == row.error


def test_a_reason_recorded_during_a_ukrainian_request_is_stored_in_the_sites(eager):
    with translation.override("uk"):
        row = imported("export.csv", NO_DATASET)
    assert "matches no dataset" in row.error
    with translation.override("uk"):
        assert "не відповідає" in row.error_text


def test_rejected_rows_read_in_each_readers_language(staff, eager):
    row = imported("journals.csv", ONE_BAD)
    assert row.state == State.DONE and row.rows_rejected == 1
    rejection = RowRejection.objects.get(file=row)
    assert rejection.message == "year 'abc' is not a whole number"
    page = reverse("ingest:file-page", args=[row.pk])
    english = html.unescape(staff.get(page, **EN).content.decode())
    assert "year 'abc' is not a whole number" in english
    ukrainian = html.unescape(staff.get(page, **UK).content.decode())
    assert "year 'abc' — не ціле число" in ukrainian
    assert "is not a whole number" not in ukrainian
    csv_url = reverse("ingest:file-errors", args=[row.pk])
    english_csv = b"".join(staff.get(csv_url, **EN).streaming_content).decode()
    ukrainian_csv = b"".join(staff.get(csv_url, **UK).streaming_content).decode()
    assert english_csv.startswith('\ufeff"line","column","message"')
    assert ukrainian_csv.startswith('\ufeff"рядок","стовпець","повідомлення"')
    assert "year 'abc' — не ціле число" in ukrainian_csv


def test_a_row_recorded_before_reasons_were_kept_shows_its_text(staff):
    row = ledger_row("old.csv", state=State.FAILED, error="An old English reason.")
    page = staff.get(reverse("ingest:file-page", args=[row.pk]), **UK)
    assert "An old English reason." in page.content.decode()


def test_the_failure_note_beside_the_file_is_in_its_inboxs_language(eager):
    inbox = services.inbox_default()
    inbox.language = "uk"
    inbox.save(update_fields=["language"])
    row = imported("export.csv", NO_DATASET)
    note = row.stored_path + ".error.txt"
    text = open(note, encoding="utf-8").read()
    assert "не імпортовано" in text and "не відповідає жодному набору даних" in text
    # The ledger keeps the site's language for its own text.
    assert "matches no dataset" in row.error


# --- Emails ---------------------------------------------------------------


def test_emails_use_the_sites_language_by_default(eager):
    imported("journals.csv", ONE_BAD)
    (message,) = mail.outbox
    assert message.subject.startswith("Import finished: journals.csv — 3 imported")
    html = message.alternatives[0][0]
    assert '<html lang="en">' in html


def test_emails_use_the_inboxs_language(eager):
    inbox = services.inbox_default()
    inbox.language = "uk"
    inbox.save(update_fields=["language"])
    imported("journals.csv", ONE_BAD)
    (message,) = mail.outbox
    assert message.subject.startswith(
        "Імпорт завершено: journals.csv — успішно імпортовано 3, оновлено 0, "
        "відхилено рядків: 1, "
    )
    assert message.subject.endswith(" с")
    assert "Рядки:" in message.body
    assert "прочитано 4, імпортовано 3, оновлено 0, відхилено 1" in message.body
    assert "year 'abc' — не ціле число" in message.body
    html = message.alternatives[0][0]
    assert '<html lang="uk">' in html and "Відхилені рядки" in html
    (_name, attachment, _kind) = message.attachments[0]
    assert attachment.startswith('\ufeff"рядок","стовпець","повідомлення"')


def test_an_email_about_a_failure_is_in_the_inboxs_language(eager):
    inbox = services.inbox_default()
    inbox.language = "uk"
    inbox.save(update_fields=["language"])
    imported("export.csv", NO_DATASET)
    (message,) = mail.outbox
    assert message.subject.startswith("Імпорт не вдався: export.csv — Заголовок")


def test_the_site_language_sets_the_emails_of_inboxes_without_one(eager, settings):
    settings.LANGUAGE_CODE = "uk"
    imported("journals.csv", ONE_BAD)
    (message,) = mail.outbox
    assert message.subject.startswith("Імпорт завершено: journals.csv")


# --- Forms, admin, commands -----------------------------------------------


def test_the_inbox_admin_offers_the_language_of_its_emails(admin_client):
    inbox = services.inbox_default()
    url = reverse("admin:ingest_inbox_change", args=[inbox.pk])
    page = admin_client.get(url, **UK).content.decode()
    assert 'name="language"' in page
    assert "Мова сайту" in page and "Українська" in page
    assert "Спершу попередній перегляд" in page or "спершу попередній перегляд" in page


def test_the_ledger_admin_is_translated(admin_client, eager):
    row = imported("export.csv", NO_DATASET)
    listing = admin_client.get(reverse("admin:ingest_inboxfile_changelist"), **UK)
    text = listing.content.decode()
    assert "Файли скриньок" in text or "файли скриньок" in text
    assert "Імпортувати вибрані файли повторно" in text
    change = admin_client.get(
        reverse("admin:ingest_inboxfile_change", args=[row.pk]), **UK
    ).content.decode()
    assert "не відповідає жодному набору даних" in change


def test_command_output_is_in_the_sites_language(tmp_path, settings):
    settings.LANGUAGE_CODE = "uk"
    with translation.override("uk"), pytest.raises(CommandError) as caught:
        call_command("ingest_file", str(tmp_path / "nowhere.csv"))
    assert "— не файл." in str(caught.value)


@pytest.mark.parametrize("code", ["fr", "xx-yy"])
def test_a_language_code_outside_the_languages_is_refused(code, monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import myproject.settings as project_settings

    monkeypatch.setenv("DJANGO_LANGUAGE_CODE", code)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_LANGUAGE_CODE"):
        importlib.reload(project_settings)
    monkeypatch.delenv("DJANGO_LANGUAGE_CODE")
    importlib.reload(project_settings)
