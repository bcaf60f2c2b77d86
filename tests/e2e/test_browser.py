"""The dashboard in real headless Chromium against the real running service.

A web server, a Celery worker and beat run as subprocesses on the test's
PostgreSQL database and Redis. Chromium (Debian's ``/usr/bin/chromium``,
driven by Playwright; never a downloaded browser) logs in through the login
form, uploads a CSV of 1,000,000 rows with the keyboard, watches the progress
bar pass an intermediate percent and the row turn into its result without
a reload, and downloads the errors CSV. A second run asks for Ukrainian: the login
page, the dashboard, the row's result and the email are in Ukrainian, and
the switcher turns the page English. Screenshots land in
``artifacts/screenshots/`` (kept by CI as artifacts).
"""

import csv
import io
import itertools
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connections

from ingest import services as ingest_services
from ingest.models import InboxFile
from tests.e2e.harness import Mailbox, Services, Web, scan_schedule_set
from tests.services import IS_CI

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.timeout(900),
]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: The issue asks for ~50,000 rows, but here 50,000 import in about two
#: seconds, and reading them (the part the bar measures) takes well under
#: one: a once-a-second poll sees "queued", then "done". Twenty times as
#: many rows keep the same code path reading for several seconds, so the
#: page shows the bar in between on an idle machine too. Nothing is faked.
ROWS = 1_000_000
#: Every this-many-th row has a bad year, so the file has rejected rows.
BAD_EVERY = 50_000
UPLOAD_NAME = "books-1m.csv"
PASSWORD = "browser-test-pw-1"
#: Generous: two cores are shared with other test runs.
IMPORT_TIMEOUT = 300


def _need_browser() -> None:
    problem = ""
    if not Path(CHROMIUM).exists():
        problem = "needs Debian's chromium: apt-get install -y chromium"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "needs Playwright: pip install -r requirements-dev.txt"
    if problem:
        if IS_CI:
            pytest.fail(f"CI=true and {problem}")
        pytest.skip(problem)


@pytest.fixture
def stack(services: Services) -> Web:
    """Run worker, beat and web on the test database; return the web server."""
    _need_browser()
    scan_schedule_set(every=10)
    # Report progress often enough that a once-a-second poller sees it
    # move; the import itself is not slowed down.
    services.worker(concurrency=1, INGEST_PROGRESS_INTERVAL="0.2")
    services.beat()
    return services.web()


def books_csv(path: Path) -> int:
    """Write *ROWS* book rows, every *BAD_EVERY*-th with a bad year."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["title", "author", "year"])
    bad = 0
    for number in range(1, ROWS + 1):
        if number % BAD_EVERY == 0:
            writer.writerow([f"Book {number}", f"Author {number % 997}", "abc"])
            bad += 1
        else:
            writer.writerow(
                [f"Book {number}", f"Author {number % 997}", 1900 + number % 120]
            )
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return bad


#: Record each aria-valuenow the file's bar shows into window.__barValues.
OBSERVE_BAR = """id => {
    window.__barValues = [];
    const record = () => {
        const bar = document.querySelector(
            `tr[data-file-id="${id}"] [role="progressbar"]`);
        if (!bar) return;
        const value = parseFloat(bar.getAttribute("aria-valuenow"));
        const values = window.__barValues;
        if (values[values.length - 1] !== value) values.push(value);
    };
    new MutationObserver(record).observe(
        document.getElementById("files"),
        {subtree: true, childList: true, attributes: true});
    record();
}"""
#: Resolve with "intermediate" once the bar shows 0 < percent < 100, or with
#: "finished: <state>" if the import ends first.
FIRST_INTERMEDIATE_OR_FINISHED = """id => {
    const row = document.querySelector(`tr[data-file-id="${id}"]`);
    if (!row) return false;
    const bar = row.querySelector('[role="progressbar"]');
    if (bar) {
        const value = parseFloat(bar.getAttribute("aria-valuenow"));
        if (value > 0 && value < 100) return "intermediate";
    }
    const state = row.getAttribute("data-state");
    if (!["discovered", "queued", "importing"].includes(state)) {
        return "finished: " + state;
    }
    return false;
}"""


def choose_by_keyboard(page, file_input, path: Path) -> None:
    """Focus *file_input* and open its chooser with Space (or Enter)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    file_input.focus()
    assert page.evaluate("document.activeElement.type") == "file"
    for key in ("Space", "Enter", "Space"):
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press(key)
        except PlaywrightTimeout:
            file_input.focus()
            continue
        chooser.value.set_files(str(path))
        return
    raise AssertionError("The file input does not open from the keyboard.")


def cell_text(row, field: str) -> str:
    return row.locator(f'[data-field="{field}"]').inner_text()


def _shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_a_staff_member_uploads_watches_progress_and_downloads_errors(
    stack, tmp_path, monkeypatch
):
    """Upload in Chromium; the bar moves, then the result shows in place."""
    from playwright.sync_api import sync_playwright

    User.objects.create_user("ops", password=PASSWORD, is_staff=True)
    upload = tmp_path / UPLOAD_NAME
    bad_rows = books_csv(upload)
    # Playwright's sync API runs an event loop in this thread; the ORM is
    # only used between its calls, never concurrently with it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            # The browser asks for English (the Ukrainian run is below).
            page = browser.new_page(
                viewport={"width": 1360, "height": 900},
                accept_downloads=True,
                locale="en-US",
            )
            page.set_default_timeout(60_000)
            polls: list[float] = []

            def count_poll(request) -> None:
                if "/files/?" in request.url and "ids=" in request.url:
                    polls.append(time.monotonic())

            page.on("request", count_poll)

            # The dashboard sends the anonymous to the login form.
            page.goto(f"{stack.url}/")
            assert "/accounts/login/" in page.url
            page.get_by_label("Username").fill("ops")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{stack.url}/")
            assert page.get_by_role("heading", name="Imports").is_visible()

            # Upload with the keyboard only: focus the labelled file input,
            # open the chooser with Space, submit with Enter.
            choose_by_keyboard(page, page.get_by_label("CSV files", exact=True), upload)
            page.get_by_role("button", name="Upload and import").focus()
            with page.expect_navigation():
                page.keyboard.press("Enter")
            # Only this document's polls count: the page left behind may have
            # seen the new file arrive (the live list) and polled for it just
            # before the navigation ended.
            polls.clear()
            message = page.locator(".message.success")
            assert f"{UPLOAD_NAME} uploaded as #" in message.inner_text()
            row = page.locator("tr[data-file-id]", has_text=UPLOAD_NAME)
            file_id = row.get_attribute("data-file-id")
            # Anything set now survives only if the page is never reloaded.
            page.evaluate("window.__sameDocument = 'yes'")

            # Record every value the bar shows, as the page changes it.
            page.evaluate(OBSERVE_BAR, file_id)

            # The bar shows an intermediate percent (or the test fails as
            # soon as the import finishes without one)...
            outcome = page.wait_for_function(
                FIRST_INTERMEDIATE_OR_FINISHED,
                arg=file_id,
                timeout=IMPORT_TIMEOUT * 1000,
            ).json_value()
            seen = page.evaluate("window.__barValues")
            assert outcome == "intermediate", (
                f"The progress bar never showed 0 < percent < 100 before the "
                f"import ended ({outcome}); values seen: {seen}"
            )
            selector = f'tr[data-file-id="{file_id}"] [role="progressbar"]'
            bar = page.locator(selector)
            percent = float(bar.get_attribute("aria-valuenow"))
            assert 0 < percent < 100
            assert bar.get_attribute("aria-valuemin") == "0"
            assert bar.get_attribute("aria-valuemax") == "100"
            progress_text = row.locator(".progress-text").inner_text()
            assert "% ·" in progress_text and "rows" in progress_text
            _shot(page, "dashboard-mid-import.png")

            # ...then the row turns into its result in place.
            final_state = page.wait_for_function(
                """id => {
                    const row = document.querySelector(`tr[data-file-id="${id}"]`);
                    const state = row && row.getAttribute("data-state");
                    return ["done", "failed", "duplicate"].includes(state) && state;
                }""",
                arg=file_id,
                timeout=IMPORT_TIMEOUT * 1000,
            ).json_value()
            assert final_state == "done", cell_text(row, "progress")
            assert page.evaluate("window.__sameDocument") == "yes"
            seen = page.evaluate("window.__barValues")
            assert seen == sorted(seen), f"The bar went backwards: {seen}"
            assert any(0 < value < 100 for value in seen), seen
            # Counts are grouped as the page's language groups them.
            assert cell_text(row, "imported") == f"{ROWS - bad_rows:,}"
            assert cell_text(row, "rejected") == f"{bad_rows:,}"
            assert cell_text(row, "state") == "Done"
            assert cell_text(row, "duration").endswith(" s")
            assert row.locator('[role="progressbar"]').count() == 0
            ledger = InboxFile.objects.get(pk=int(file_id))
            print(f"{ROWS} rows imported in {ledger.duration:.1f} s; bar: {seen}")
            # Beat kept scanning meanwhile: still one ledger row, imported once.
            assert InboxFile.objects.count() == 1
            assert (ledger.rows_imported, ledger.attempts) == (ROWS - bad_rows, 1)
            # Polls came at most once a second, and stop once nothing runs.
            gaps = [later - earlier for earlier, later in itertools.pairwise(polls)]
            assert gaps and min(gaps) >= 0.9, gaps
            polled = len(polls)
            page.wait_for_timeout(3_000)
            assert len(polls) <= polled + 1, "The page kept polling."
            _shot(page, "dashboard-after-import.png")

            # The file's page offers the errors CSV; it holds the bad rows.
            row.get_by_role("link", name=UPLOAD_NAME).click()
            page.wait_for_url(f"{stack.url}/imports/{file_id}/")
            with page.expect_download() as download_info:
                page.get_by_role("link", name="Download the errors CSV").click()
            download = download_info.value
            stem = UPLOAD_NAME.removesuffix(".csv")
            assert download.suggested_filename == f"{file_id}-{stem}.errors.csv"
            text = Path(download.path()).read_text("utf-8-sig")
            lines = list(csv.reader(io.StringIO(text)))
            assert lines[0] == [
                *("line", "column", "message"),
                *("field 1", "field 2", "field 3"),
            ]
            assert len(lines) == 1 + bad_rows
            assert lines[1][:2] == [str(BAD_EVERY + 1), "year"]
            assert lines[1][-1] == "abc"
            _shot(page, "file-page.png")
            download.save_as(str(SCREENSHOTS.parent / "errors.csv"))
        finally:
            browser.close()
            # Inside Playwright's event loop the ORM used connections of
            # their own; close them, or the test database cannot be dropped.
            connections.close_all()


#: A small file with one bad row: its result shows quickly.
UK_BOOKS = (
    "title,author,year\n"
    "Кобзар,Тарас Шевченко,1840\n"
    "Лісова пісня,Леся Українка,1911\n"
    "Захар Беркут,Іван Франко,1883\n"
    "Погана,Хтось,abc\n"
)
UK_NAME = "книги.csv"


def test_a_ukrainian_staff_member_sees_the_dashboard_and_email_in_ukrainian(
    stack, mailbox: Mailbox, tmp_path, monkeypatch
):
    """A browser asking for Ukrainian gets it; the inbox's email is Ukrainian."""
    from playwright.sync_api import sync_playwright

    User.objects.create_user("ops", password=PASSWORD, is_staff=True)
    inbox = ingest_services.inbox_default()
    inbox.language = "uk"
    inbox.max_reject_rate = 0.5  # One bad row in four is imported, not refused.
    inbox.save(update_fields=["language", "max_reject_rate"])
    upload = tmp_path / UK_NAME
    upload.write_text(UK_BOOKS, encoding="utf-8")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(
                viewport={"width": 1360, "height": 900}, locale="uk-UA"
            )
            page.set_default_timeout(60_000)
            page.goto(f"{stack.url}/")
            assert page.locator("html").get_attribute("lang") == "uk"
            page.get_by_label("Ім’я користувача").fill("ops")
            page.get_by_label("Пароль").fill(PASSWORD)
            page.get_by_role("button", name="Увійти").click()
            page.wait_for_url(f"{stack.url}/")
            assert page.get_by_role("heading", name="Імпорти").is_visible()
            assert page.get_by_role("heading", name="Імпорт файлів CSV").is_visible()
            page.get_by_label("Файли CSV", exact=True).set_input_files(str(upload))
            with page.expect_navigation():
                page.get_by_role("button", name="Завантажити й почати імпорт").click()
            assert "завантажено як #" in page.locator(".message.success").inner_text()
            row = page.locator("tr[data-file-id]", has_text=UK_NAME)
            file_id = row.get_attribute("data-file-id")
            final_state = page.wait_for_function(
                """id => {
                    const row = document.querySelector(`tr[data-file-id="${id}"]`);
                    const state = row && row.getAttribute("data-state");
                    return ["done", "failed", "duplicate"].includes(state) && state;
                }""",
                arg=file_id,
                timeout=IMPORT_TIMEOUT * 1000,
            ).json_value()
            assert final_state == "done", cell_text(row, "progress")
            # Filled in by the page's script from the Ukrainian catalogs.
            assert cell_text(row, "state") == "Готово"
            assert cell_text(row, "progress") == "прочитано 4 рядки"
            assert cell_text(row, "duration").endswith(" с")
            _shot(page, "dashboard-uk.png")

            # The file's page gives the rejected row's reason in Ukrainian.
            row.get_by_role("link", name=UK_NAME).click()
            page.wait_for_url(f"{stack.url}/imports/{file_id}/")
            problem = page.locator("#rejections tbody tr").first.inner_text()
            assert "year 'abc' — не ціле число" in problem
            _shot(page, "file-page-uk.png")

            # The inbox's email is Ukrainian.
            deadline = time.monotonic() + 60
            while not mailbox.about(UK_NAME) and time.monotonic() < deadline:
                time.sleep(0.2)
            (message,) = mailbox.about(UK_NAME)
            subject = mailbox.subject(message)
            assert subject.startswith(
                f"Імпорт завершено: {UK_NAME} — успішно імпортовано 3, оновлено 0, "
                "відхилено рядків: 1, "
            ), subject

            # The switcher overrides the browser's language.
            page.goto(f"{stack.url}/")
            with page.expect_navigation():
                page.get_by_label("Мова").select_option("en")
            assert page.locator("html").get_attribute("lang") == "en"
            assert page.get_by_role("heading", name="Imports").is_visible()
        finally:
            browser.close()
            connections.close_all()
