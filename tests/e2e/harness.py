"""Run real worker, beat and web processes for end-to-end tests.

The end-to-end suites start the very commands an operator runs (``celery
worker``, ``celery beat`` with the DatabaseScheduler, ``manage.py
runserver``, ``bin/serve``) as subprocesses, drop real files, and poll the
database, the folders and a file-based mailbox until the outcome shows or a
deadline passes. Eager mode is no substitute: it hides serialisation,
separate connections, the broker and the scheduler.

The pieces, most used first:

* :class:`Services` starts and stops a set of processes sharing one
  environment (usually the ``services`` fixture of ``tests/e2e/conftest.py``);
  :meth:`Services.worker`, :meth:`Services.beat`, :meth:`Services.watcher`
  and :meth:`Services.web` return once the process is ready. Every process writes to a log file that
  is attached to the report of a failed test.
* :func:`process_env` builds that environment from the test database and
  the test's folders; :func:`database_url` turns Django connection settings
  back into a ``DATABASE_URL``.
* :func:`wait_until` polls a predicate until it holds or a deadline passes,
  failing early when a watched process has died.
* :class:`WebSession` (``Services.web().session()``) logs into the admin
  of a started web server and fetches pages, cookies and CSRF included.
* :class:`Mailbox` reads what ``EmailBackend`` of
  ``django.core.mail.backends.filebased`` wrote, from any process.
* :func:`scan_schedule_set` points the default inbox's schedule at a short
  interval; :func:`form_fields` reads an HTML form as a browser would submit
  it (for admin change forms).
* :func:`broker_flush` empties the configured Redis database or RabbitMQ
  queue, and only that.

Processes run in their own sessions and are stopped with SIGTERM, then
SIGKILL for whatever is left of them after a grace period, always.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path
from typing import TypeVar
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener, urlopen

import psutil

#: The project root: the working directory of every process started here.
ROOT = Path(__file__).resolve().parents[2]
#: Seconds a process gets to stop after SIGTERM before it is killed.
STOP_GRACE = 15.0
#: Seconds a process gets to say it is ready.
START_TIMEOUT = 90.0
#: Characters of each log attached to a failure report.
LOG_TAIL = 20_000

T = TypeVar("T")
_LOG_NUMBERS = itertools.count(1)


# --- Waiting --------------------------------------------------------------


class Deadline(AssertionError):
    """A condition did not hold in time (or a process it needed died)."""


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 60.0,
    interval: float = 0.25,
    *,
    message: str = "",
    services: Services | None = None,
) -> T:
    """Call *predicate* until it returns something truthy; return that value.

    Raises :class:`Deadline` after *timeout* seconds, or at once when one of
    *services*' processes has exited: waiting on a dead worker is a waste
    of the whole deadline. Exceptions from *predicate* propagate.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if services is not None:
            services.check_alive()
        if time.monotonic() >= deadline:
            what = message or getattr(predicate, "__name__", repr(predicate))
            raise Deadline(f"Timed out after {timeout:.0f} s waiting for: {what}")
        time.sleep(interval)


# --- Environment ----------------------------------------------------------


def database_url(settings_dict: Mapping) -> str:
    """Return a ``DATABASE_URL`` for Django connection *settings_dict*.

    Pass ``django.db.connection.settings_dict`` inside a test that uses the
    database: pytest-django has then swapped in the test database's name,
    so the subprocesses share the test database. An in-memory SQLite
    database cannot be shared and raises ``ValueError``.
    """
    engine, name = settings_dict["ENGINE"], str(settings_dict["NAME"])
    if engine == "django.db.backends.sqlite3":
        if not name or name == ":memory:" or "mode=memory" in name:
            raise ValueError(
                "The test database is in-memory SQLite; another process cannot "
                "see it. Run these tests on PostgreSQL or give SQLite a TEST NAME."
            )
        return f"sqlite:///{Path(name).resolve()}"
    if engine != "django.db.backends.postgresql":
        raise ValueError(f"No URL form known for the {engine} backend.")
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = settings_dict.get("HOST") or ""
    host = f"[{host}]" if ":" in host else quote(host, safe="")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    options = {
        key: value
        for key, value in (settings_dict.get("OPTIONS") or {}).items()
        if isinstance(value, str | int)
    }
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{credentials}{host}{port}/{quote(name, safe='')}{query}"


def process_env(
    *,
    database: Mapping,
    broker_url: str,
    folders: Mapping[str, Path],
    var_dir: Path,
    mail_dir: Path,
    notify: str = "ops@example.com",
    **overrides: str,
) -> dict[str, str]:
    """Return the environment of the processes a test starts.

    *database* is a connection's ``settings_dict`` (see
    :func:`database_url`); *folders* maps ``INGEST_INBOX_DIR`` and friends
    to paths (the ``ingest_dirs`` fixture). Email goes to files under
    *mail_dir*; files may be taken one second after their last change; beat
    re-reads its schedule every second. *overrides* win over all of that.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        # A variable of the test run must not switch a worker to eager mode
        # or to another database.
        if key not in {"CELERY_TASK_ALWAYS_EAGER", "DATABASE_URL"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "myproject.settings",
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": database_url(database),
            "CELERY_BROKER_URL": broker_url,
            "INGEST_VAR_DIR": str(var_dir),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            "INGEST_NOTIFY_EMAILS": notify,
            "INGEST_MIN_FILE_AGE": "1",
            "CELERY_BEAT_MAX_LOOP_INTERVAL": "1",
        }
    )
    env.update({name: str(path) for name, path in folders.items()})
    env.update(overrides)
    return env


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_flush(url: str) -> bool:
    """Empty the Redis database *url* names (only that one); False if not Redis.

    Leftover messages of an earlier run would otherwise be delivered to this
    run's worker, for ledger rows that no longer exist.
    """
    if not url.startswith(("redis://", "rediss://")):
        return False
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return True


def broker_flush(url: str) -> bool:
    """Empty the test broker's default queue; False if it is neither Redis
    nor RabbitMQ.

    Redis: the database *url* names (see :func:`redis_flush`). RabbitMQ: the
    ``celery`` queue of the vhost *url* names, purged if it exists.
    """
    if redis_flush(url):
        return True
    if not url.startswith(("amqp://", "pyamqp://")):
        return False
    from amqp.exceptions import NotFound
    from kombu import Connection

    with Connection(url, connect_timeout=5) as broker:
        try:
            broker.default_channel.queue_purge("celery")
        except NotFound:
            pass  # Never declared on this vhost: nothing to purge.
    return True


# --- Processes ------------------------------------------------------------


@dataclass
class Stopped:
    """How a process ended when it was stopped."""

    returncode: int | None
    #: Descendants still running once the process itself had exited; the
    #: harness killed them, but a well-behaved process leaves none.
    leftovers: list[str] = field(default_factory=list)


class Service:
    """One started process, its log file, and how to stop it."""

    def __init__(
        self,
        name: str,
        args: list[str],
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path = ROOT,
    ) -> None:
        self.name = name
        self.args = args
        self.log_path = log_path
        #: Set when the test kills or stops it on purpose, so that
        #: :meth:`Services.check_alive` does not report its exit.
        self.expect_exit = False
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            self.popen = subprocess.Popen(
                args,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: its group can be killed without ours.
                start_new_session=True,
            )
        self.pid = self.popen.pid
        self.stopped: Stopped | None = None
        self._family: list[psutil.Process] | None = None

    def __repr__(self) -> str:
        return f"<Service {self.name} pid={self.pid}>"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        """Return the whole log so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_count(self, text: str) -> int:
        """Return how many times *text* occurs in the log so far."""
        return self.log().count(text)

    def wait_for_log(self, text: str, timeout: float = START_TIMEOUT) -> None:
        """Wait until *text* appears in the log; fail if the process dies first."""

        def logged() -> bool:
            if text in self.log():
                return True
            if not self.alive():
                raise Deadline(
                    f"{self.name} exited with {self.popen.returncode} before "
                    f"logging {text!r}; log: {self.log_path}"
                )
            return False

        wait_until(logged, timeout, 0.2, message=f"{self.name} to log {text!r}")

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM to it alone); do not wait.

        It shuts down its own children as in production (a warm Celery
        shutdown lets running tasks finish). :meth:`stop` waits and cleans up.
        """
        if self._family is not None:
            return  # Asked already: a second SIGTERM may mean "hurry" to it.
        self._family = self.descendants()
        if self.alive():
            self._signal(signal.SIGTERM)

    def stop(self, grace: float = STOP_GRACE) -> Stopped:
        """Stop the process: SIGTERM, then SIGKILL after *grace*; idempotent.

        Whatever is left once the process has exited, in its process group
        or among the descendants it had, is killed and reported.
        """
        if self.stopped is not None:
            return self.stopped
        self.terminate()
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.popen.wait(10)
        _, alive = psutil.wait_procs(self._family or [], timeout=2)
        leftovers = [f"{p.pid} {' '.join(_cmdline(p))}" for p in alive]
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for process in alive:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=5)
        self.stopped = Stopped(self.popen.returncode, leftovers)
        return self.stopped

    def _signal(self, signum: int) -> None:
        try:
            self.popen.send_signal(signum)
        except ProcessLookupError:
            pass


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return ["?"]


class Services:
    """Start processes with one environment; stop them all at the end.

    *env* is typically :func:`process_env`'s result; each start may add
    overrides. Logs go to ``<log_dir>/<name>.log``.
    """

    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.started: list[Service] = []

    def start(
        self,
        name: str,
        args: list[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> Service:
        """Start *args* in *cwd* (the project root) and return it at once."""
        service = Service(
            name,
            args,
            {**self.env, **(env or {})},
            self.log_dir / f"{name}-{next(_LOG_NUMBERS)}.log",
            cwd=cwd,
        )
        self.started.append(service)
        return service

    def worker(
        self,
        *,
        concurrency: int = 2,
        name: str = "worker",
        events: bool = False,
        **env: str,
    ) -> Service:
        """Start ``celery worker`` and return once it is ready for tasks.

        *events* sends task events (``-E``), for a monitor such as Flower: a
        worker without heartbeats ignores a monitor's ``enable_events``.
        """
        service = self.start(
            name,
            [
                *_celery(),
                "worker",
                "--loglevel=INFO",
                f"--concurrency={concurrency}",
                "--pool=prefork",
                f"--hostname={name}-{uuid.uuid4().hex[:8]}@%h",
                # Nothing to talk to: other workers are not part of the test.
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                *(["--task-events"] if events else []),
            ],
            env=env,
        )
        service.wait_for_log(" ready.")
        return service

    def beat(self, *, name: str = "beat", **env: str) -> Service:
        """Start ``celery beat`` (the DatabaseScheduler of the settings)."""
        service = self.start(name, [*_celery(), "beat", "--loglevel=INFO"], env=env)
        service.wait_for_log("beat: Starting...")
        return service

    def watcher(self, *, name: str = "watcher", **env: str) -> Service:
        """Start ``manage.py ingest_watch``; return once it watches its inboxes."""
        service = self.start(
            name, [sys.executable, "manage.py", "ingest_watch"], env=env
        )
        service.wait_for_log("ingest_watch ready")
        return service

    def web(self, *, name: str = "web", port: int | None = None, **env: str) -> Web:
        """Start ``manage.py runserver --noreload``; return once it answers."""
        port = port or free_port()
        service = self.start(
            name,
            [
                sys.executable,
                "manage.py",
                "runserver",
                f"127.0.0.1:{port}",
                "--noreload",
                "--insecure",
            ],
            env=env,
        )
        web = Web(service, f"http://127.0.0.1:{port}")
        wait_until(
            web.answers,
            START_TIMEOUT,
            0.2,
            message=f"{name} to answer on port {port}",
            services=self,
        )
        return web

    def check_alive(self) -> None:
        """Raise :class:`Deadline` if a process that should run has exited."""
        for service in self.started:
            if service.stopped is None and not service.expect_exit:
                if not service.alive():
                    raise Deadline(
                        f"{service.name} exited with {service.popen.returncode}; "
                        f"log: {service.log_path}"
                    )

    def stop_all(self) -> list[Stopped]:
        """Stop every process, even if one of them fails to; all at once."""
        for service in reversed(self.started):
            service.terminate()
        return [service.stop() for service in reversed(self.started)]

    def logs(self) -> Iterable[tuple[str, str]]:
        """Yield (title, tail of log) for each process, for failure reports."""
        for service in self.started:
            text = service.log()
            if len(text) > LOG_TAIL:
                text = "[…]\n" + text[-LOG_TAIL:]
            yield f"{service.name} (pid {service.pid}) {service.log_path}", text


def _celery() -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "myproject"]


@dataclass
class Web:
    """A started web server and its base URL."""

    service: Service
    url: str

    def answers(self) -> bool:
        try:
            # An http:// URL this harness built, never user input.
            with urlopen(f"{self.url}/admin/login/", timeout=2):  # noqa: S310
                return True
        except (URLError, OSError):
            return False

    def session(self) -> WebSession:
        """Return a cookie-keeping HTTP client of this server."""
        return WebSession(self.url)


class WebSession:
    """A minimal browser for a server under test: cookies, forms, redirects.

    ``get`` and ``post`` return ``(status, final URL, body text)``; error
    statuses are returned, not raised, so tests can assert on them.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = CookieJar()
        self._opener = build_opener(HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> tuple[int, str, str]:
        return self._open(path)

    def post(
        self, path: str, data: Mapping[str, str | list[str]]
    ) -> tuple[int, str, str]:
        return self._open(path, urlencode(data, doseq=True).encode())

    def login(self, username: str, password: str) -> None:
        """Log in through the admin login form, CSRF token included."""
        path = "/admin/login/?next=/admin/"
        status, _, page = self.get(path)
        assert status == 200, f"login page answered {status}"
        fields = form_fields(page, form_id="login-form")
        fields.update(username=username, password=password)
        status, url, page = self.post(path, fields)
        assert status == 200 and not url.split("?")[0].endswith("/login/"), (
            f"login as {username!r} failed ({status}, {url})"
        )

    def _open(self, path: str, body: bytes | None = None) -> tuple[int, str, str]:
        if not self.base_url.startswith("http://"):
            raise ValueError(f"Not a local http:// server: {self.base_url}")
        request = Request(self.base_url + path, data=body)  # noqa: S310
        try:
            with self._opener.open(request, timeout=30) as response:
                return response.status, response.url, _text(response.read())
        except HTTPError as error:
            return error.code, error.url, _text(error.read())


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


# --- Mail -----------------------------------------------------------------

_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


class Mailbox:
    """The messages Django's file-based email backend wrote into a folder.

    Each backend connection appends to its own ``*.log`` file, a message
    followed by a line of 79 dashes; a message still being written (no
    dashes yet) is not returned.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self) -> list[EmailMessage]:
        """Return every complete message, oldest file first."""
        if not self.path.exists():
            return []
        found = []
        for log in sorted(self.path.glob("*.log"), key=lambda p: p.stat().st_mtime):
            chunks = log.read_bytes().split(_SEPARATOR)
            for chunk in chunks[:-1]:  # The last piece is empty or unfinished.
                if chunk.strip():
                    found.append(
                        email.message_from_bytes(chunk, policy=email.policy.default)
                    )
        return found

    @staticmethod
    def subject(message: EmailMessage) -> str:
        """Return the decoded subject, as a mail client shows it."""
        # A folded encoded subject decodes with the fold's leading space.
        return str(message["Subject"] or "").strip()

    def subjects(self) -> list[str]:
        """Return the decoded subjects of every message."""
        return [self.subject(message) for message in self.messages()]

    def about(self, filename: str) -> list[EmailMessage]:
        """Return the messages whose subject names *filename*."""
        return [
            message
            for message in self.messages()
            if f": {filename} — " in self.subject(message)
        ]


# --- Schedule and admin forms ---------------------------------------------


def scan_schedule_set(*, every: int, enabled: bool = True):
    """Make the default inbox scan every *every* seconds; return its PeriodicTask.

    Saved through the inbox service staff use and ``ingest_setup`` (the
    test database's ``migrate`` made no schedule), whose PeriodicTask save
    tells running beats.
    """
    from tests.factories import default_inbox

    return default_inbox(every=every, enabled=enabled).periodic_task


class _FormReader(HTMLParser):
    """Collect what a browser would submit for the forms of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._option: dict | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"id": a.get("id", ""), "fields": []}
            self.forms.append(self._form)
        if self._form is None:
            return
        fields = self._form["fields"]
        if tag == "input" and a.get("name") and "disabled" not in a:
            kind = (a.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            fields.append(
                (
                    a["name"],
                    a.get("value", "on" if kind in {"checkbox", "radio"} else ""),
                )
            )
        elif tag == "select" and a.get("name") and "disabled" not in a:
            self._select, self._select_first, self._select_chosen = (
                a["name"],
                None,
                # A multiple select with nothing chosen submits nothing.
                "multiple" in a,
            )
        elif tag == "option" and self._select is not None:
            if self._option is not None:
                self._option_close()  # </option> is optional in HTML.
            self._option = {
                "value": a.get("value"),
                "text": "",
                "selected": "selected" in a,
            }
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            fields.append((a["name"], ""))

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None and self._form is not None:
            name, value = self._form["fields"][-1]
            if not value and data.startswith("\n"):
                data = data[1:]  # Browsers drop the newline after <textarea>.
            self._form["fields"][-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            self._option_close()
        elif tag == "select" and self._select is not None:
            if self._option is not None:
                self._option_close()
            if not self._select_chosen and self._select_first is not None:
                self._form["fields"].append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None

    def _option_close(self):
        option, self._option = self._option, None
        value = (
            option["value"] if option["value"] is not None else option["text"].strip()
        )
        if self._select_first is None:
            self._select_first = value
        if option["selected"]:
            self._form["fields"].append((self._select, value))
            self._select_chosen = True


def form_fields(html: str, form_id: str | None = None) -> dict[str, str | list[str]]:
    """Return the fields a browser would submit for a form of *html*.

    Takes the form with id *form_id*, else the first one. Unchecked boxes are
    left out; a select without a selected option submits its first option;
    a name given several times becomes a list. Use it to POST an admin change
    form back with a few fields changed.
    """
    reader = _FormReader()
    reader.feed(html)
    forms = [f for f in reader.forms if form_id is None or f["id"] == form_id]
    if not forms:
        raise ValueError(f"No form {form_id or ''} in the page.")
    data: dict[str, str | list[str]] = {}
    for name, value in forms[0]["fields"]:
        if name in data:
            previous = data[name]
            data[name] = (
                [*previous, value] if isinstance(previous, list) else [previous, value]
            )
        else:
            data[name] = value
    return data
