"""Private PostgreSQL, Redis and RabbitMQ servers that a chaos scenario may break.

The shared servers are never stopped: a scenario that needs a database or a
broker to go away starts its own on a free port, in a temporary folder, and
the fixture that made it tears it down.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.e2e.harness import free_port
from tests.services import IS_CI

#: Seconds to wait for a private server to accept connections.
START_TIMEOUT = 60


class ServiceUnavailable(RuntimeError):
    """A private server cannot be started on this machine (binaries missing)."""


def _wait_port(port: int, *, up: bool, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                listening = True
        except OSError:
            listening = False
        if listening == up:
            return
        time.sleep(0.1)
    state = "accept" if up else "stop accepting"
    raise TimeoutError(f"Port {port} did not {state} connections in {timeout} s.")


def _pg_bindir() -> Path:
    # Debian keeps the server tools out of PATH, per major version.
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise ServiceUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
        "apt-get install postgresql"
    )


def _as_server_user(command: list[str]) -> list[str]:
    """Run as ``postgres`` when we are root: initdb refuses to run as root."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on its own port, trust auth, no fsync."""

    def __init__(self) -> None:
        self.bindir = _pg_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="chaos-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            _as_server_user([str(self.bindir / tool), *args]),
            check=True,
            capture_output=True,
            cwd=self.root,
            timeout=START_TIMEOUT,
        )

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
        )
        _wait_port(self.port, up=True)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``immediate`` is a crash, ``fast`` a clean stop."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")
        _wait_port(self.port, up=False)

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A throwaway Redis on its own port that keeps nothing on disk."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceUnavailable(
                "redis-server is not installed: apt-get install redis-server"
            )
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="chaos-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, up=True)

    def stop(self) -> None:
        """Stop the server; with no persistence every queued message is gone."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        _wait_port(self.port, up=False)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _rabbitmq_bindir() -> Path:
    # Debian's /usr/sbin scripts re-run themselves through su, as rabbitmq.
    debian = Path("/usr/lib/rabbitmq/bin")
    if (debian / "rabbitmq-server").exists():
        return debian
    found = shutil.which("rabbitmq-server")
    if found:
        return Path(found).parent
    raise ServiceUnavailable(
        "rabbitmq-server is not installed: apt-get install rabbitmq-server"
    )


def _as_rabbitmq_user(command: list[str]) -> list[str]:
    """Run as ``rabbitmq`` when we are root: its home has the Erlang cookie
    that rabbitmqctl needs to talk to the node."""
    if os.geteuid() != 0 or not _has_user("rabbitmq"):
        return command
    return ["runuser", "-u", "rabbitmq", "--", *command]


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class PrivateRabbitMQ:
    """A throwaway RabbitMQ node beside the shared one, restartable with its data.

    Its own node name, AMQP and distribution ports, config, plugins file (none:
    no management listener) and data and log folders in a temporary folder;
    only epmd (port 4369), which maps node names to ports, is shared with
    the machine's node. Messages and durable queues survive :meth:`stop` and
    :meth:`start`, as on a real restart.
    """

    def __init__(self) -> None:
        self.bindir = _rabbitmq_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="chaos-rabbitmq-"))
        self.port = free_port()
        self.dist_port = free_port()
        self.node = f"chaos-{uuid.uuid4().hex[:8]}@localhost"
        self.log = self.root / "server.log"
        (self.root / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
        )
        (self.root / "enabled_plugins").write_text("[].\n")
        # Keeps /etc/rabbitmq/rabbitmq-env.conf (the shared node's) out.
        (self.root / "rabbitmq-env.conf").write_text("")
        if os.geteuid() == 0 and _has_user("rabbitmq"):
            for path in [self.root, *self.root.iterdir()]:
                shutil.chown(path, user="rabbitmq")
        self.process: subprocess.Popen | None = None

    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self.root / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_PID_FILE": str(self.root / "rabbitmq.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def ctl(self, *args: str) -> None:
        subprocess.run(
            _as_rabbitmq_user(
                [str(self.bindir / "rabbitmqctl"), "-n", self.node, *args]
            ),
            check=True,
            capture_output=True,
            env=self._env(),
            cwd=self.root,
            timeout=START_TIMEOUT,
        )

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                _as_rabbitmq_user([str(self.bindir / "rabbitmq-server")]),
                env=self._env(),
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_port(self.port, up=True)
        self.ctl("await_startup")

    def stop(self) -> None:
        """Shut the node down cleanly; durable queues keep their messages."""
        if self.process is None:
            return
        try:
            self.ctl("shutdown")
        finally:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, 9)
                self.process.wait()
            self.process = None
        _wait_port(self.port, up=False)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)
        shutil.rmtree(self.root, ignore_errors=True)


def unavailable(reason: str) -> None:
    """Skip outside CI, fail under CI: a chaos scenario may not silently vanish."""
    import pytest

    if IS_CI:
        pytest.fail(f"CI=true and a service is missing: {reason}")
    pytest.skip(reason)
