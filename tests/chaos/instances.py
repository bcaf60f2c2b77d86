"""Private PostgreSQL and Redis servers that a chaos scenario may break.

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


def unavailable(reason: str) -> None:
    """Skip outside CI, fail under CI: a chaos scenario may not silently vanish."""
    import pytest

    if IS_CI:
        pytest.fail(f"CI=true and a service is missing: {reason}")
    pytest.skip(reason)
