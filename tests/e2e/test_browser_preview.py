"""Preview and the live list in real headless Chromium, against real processes.

Same stack as :mod:`tests.e2e.test_browser` (web, Celery worker and beat on
the test's PostgreSQL and Redis; Debian's Chromium through Playwright), with
small files so each flow takes seconds. Screenshots go to
``artifacts/screenshots/``.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections

from catalogue.models import Author, Book
from ingest.models import InboxFile
from tests.e2e.harness import Services, Web, scan_schedule_set
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, _need_browser, _shot
from tests.factories import books_csv, drop

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.timeout(300),
]

PASSWORD = "browser-test-pw-2"
#: Generous: two cores are shared with other test runs.
TIMEOUT_MS = 60_000
BOOKS = books_csv(
    ("Кобзар", "Тарас Шевченко", 1840),
    ("Лісова пісня", "Леся Українка", 1911),
    ("Захар Беркут", "Іван Франко", 1883),
    ("Погана", "Хтось", "abc"),
)
#: Wait until a row of the dashboard has this state.
ROW_STATE = """([name, state]) => {
    const row = [...document.querySelectorAll("tr[data-file-id]")]
        .find(r => r.querySelector('[data-field="name"]').textContent.trim() === name);
    return row && row.getAttribute("data-state") === state;
}"""


@pytest.fixture
def stack(services: Services) -> Web:
    _need_browser()
    scan_schedule_set(every=2)
    # One bad row in four must not refuse the whole file here.
    services.worker(concurrency=1, INGEST_MAX_REJECT_RATE="0.5")
    services.beat()
    return services.web()


@pytest.fixture
def browser_page(stack, monkeypatch):
    """Yield a logged-in staff page on the dashboard."""
    from playwright.sync_api import sync_playwright

    User.objects.create_user("ops", password=PASSWORD, is_staff=True)
    # Playwright's sync API runs an event loop in this thread; the ORM is
    # only used between its calls, never concurrently with it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            # The browser asks for English; test_browser has the Ukrainian run.
            page = browser.new_page(
                viewport={"width": 1360, "height": 900}, locale="en-US"
            )
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{stack.url}/")
            page.get_by_label("Username").fill("ops")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{stack.url}/")
            yield page
        finally:
            browser.close()
            # Inside Playwright's event loop the ORM used connections of
            # their own; close them, or the test database cannot be dropped.
            connections.close_all()


def preview_upload(page, path: Path) -> None:
    """Choose *path* on the dashboard, press Preview, wait for the result."""
    page.get_by_label("CSV files", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Preview", exact=True).click()
    page.wait_for_url("**/imports/*/preview/")
    # The page reloads itself once the worker has recorded the preview.
    page.locator("#preview-counts").wait_for()


def count(page, name: str) -> str:
    return page.locator(f'[data-count="{name}"]').inner_text()


def test_preview_change_the_dataset_confirm_and_cancel(stack, browser_page, tmp_path):
    """Preview, read as another dataset, import; preview another, cancel it."""
    page = browser_page
    upload = tmp_path / "export.csv"
    upload.write_text(BOOKS, encoding="utf-8")

    preview_upload(page, upload)
    assert page.locator("#preview-dataset").inner_text().startswith("books")
    assert (count(page, "new"), count(page, "rejected")) == ("3", "1")
    assert page.locator("#preview-rows tbody tr").count() == 3
    assert "Погана" in page.locator("#preview-rejections").inner_text()
    _shot(page, "preview-books.png")
    assert Book.objects.count() == 0 and Author.objects.count() == 0

    # Read as authors instead: the author column becomes the name.
    page.get_by_label("Dataset").select_option("authors")
    page.get_by_role("button", name="Preview again").click()
    page.locator("#preview-counts").wait_for()
    assert page.locator("#preview-dataset").inner_text().startswith("authors")
    mapping = page.locator("#preview-mapping").inner_text()
    assert "author\tname" in mapping and "title\tignored" in mapping
    assert (count(page, "new"), count(page, "rejected")) == ("4", "0")
    _shot(page, "preview-authors.png")
    assert Author.objects.count() == 0

    # Import it: back on the dashboard, the row turns done in place.
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url(f"{stack.url}/")
    page.evaluate("window.__sameDocument = 'yes'")
    page.wait_for_function(ROW_STATE, arg=["export.csv", "done"])
    assert page.evaluate("window.__sameDocument") == "yes"
    row = InboxFile.objects.get(name="export.csv")
    assert (row.state, row.importer, row.rows_imported) == ("done", "authors", 4)
    assert Author.objects.count() == 4 and Book.objects.count() == 0
    _shot(page, "preview-confirmed-done.png")

    # Preview another file and cancel it: the row and the file are gone.
    other = tmp_path / "books-other.csv"
    other.write_text(books_csv(("Енеїда", "Котляревський", 1798)), encoding="utf-8")
    preview_upload(page, other)
    cancelled = InboxFile.objects.get(name="books-other.csv")
    stored = cancelled.processing_path
    assert stored.exists()
    page.get_by_role("button", name="Cancel").click()
    assert "cancelled" in page.locator(".message.success").inner_text()
    assert not InboxFile.objects.filter(pk=cancelled.pk).exists()
    assert not stored.exists()
    assert Book.objects.count() == 0
    _shot(page, "preview-cancelled.png")


def test_a_file_dropped_into_the_inbox_appears_in_the_open_dashboard(browser_page):
    """Without a reload, the new file shows on top and turns done."""
    page = browser_page
    page.evaluate("window.__sameDocument = 'yes'")
    assert page.locator("tr[data-file-id]").count() == 0

    drop("books-live.csv", BOOKS, inbox=Path(settings.INGEST_INBOX_DIR))

    page.wait_for_function(ROW_STATE, arg=["books-live.csv", "done"])
    first = page.locator("tbody tr").first
    assert first.locator('[data-field="name"]').inner_text() == "books-live.csv"
    assert first.locator('[data-field="imported"]').inner_text() == "3"
    assert page.evaluate("window.__sameDocument") == "yes"
    _shot(page, "dashboard-live-arrival.png")
