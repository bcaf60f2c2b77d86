"""Folders on SFTP servers through paramiko.

The server's host key is always checked: against the inbox's known-hosts
lines, else ``INGEST_SFTP_KNOWN_HOSTS`` (``~/.ssh/known_hosts``); an unknown
or changed key refuses the connection. Authentication is by the inbox's
private key, else its password. Archiving is one SFTP rename, which
OpenSSH's server performs with a hard link and an unlink and so refuses
an existing target: exclusive and atomic, like a local move.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import stat
from collections.abc import Iterator
from typing import BinaryIO

import paramiko

from .. import conf
from .base import ObjectChanged, Store, StoredObject, StorePermanent, StoreTransient

#: Bytes asked for by one SFTP read request (OpenSSH's server allows 256 KiB
#: less its header).
READ_SIZE = 255 * 1024
#: Private key formats tried in turn on the inbox's key text.
_KEY_TYPES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


class _Unknown(paramiko.MissingHostKeyPolicy):
    """Refuse a server whose key is not in the known hosts, saying so."""

    def missing_host_key(self, client, hostname, key) -> None:
        raise StorePermanent(
            f"The SFTP server {hostname} offered a {key.get_name()} host key that "
            "is not in the inbox's known hosts (nor INGEST_SFTP_KNOWN_HOSTS); add "
            "its line (ssh-keyscan) to trust it."
        )


def _private_key(text: str, passphrase: str | None) -> paramiko.PKey:
    for kind in _KEY_TYPES:
        try:
            return kind.from_private_key(io.StringIO(text), password=passphrase)
        except paramiko.SSHException:
            continue
    raise StorePermanent(
        "The inbox's SSH private key could not be read (Ed25519, ECDSA or RSA, "
        "OpenSSH or PEM format)."
    )


def _version(info: paramiko.SFTPAttributes) -> str:
    return f"{info.st_size}@{int(info.st_mtime or 0)}"


class SftpStore(Store):
    """A folder on an SFTP server; one SSH connection, one SFTP channel."""

    scheme = "sftp"

    def __init__(self, location, credentials) -> None:
        super().__init__(location, credentials)
        self.client = paramiko.SSHClient()
        self._connect(location, credentials)

    def _connect(self, location, credentials) -> None:
        where = f"{location.user}@{location.host}:{location.port}"
        client = self.client
        if credentials.known_hosts.strip():
            for line in credentials.known_hosts.splitlines():
                if entry := paramiko.hostkeys.HostKeyEntry.from_line(line):
                    for name in entry.hostnames:
                        client.get_host_keys().add(
                            name, entry.key.get_name(), entry.key
                        )
        else:
            known = os.path.expanduser(conf.sftp_known_hosts())
            if os.path.exists(known):
                client.load_host_keys(known)
        client.set_missing_host_key_policy(_Unknown())
        auth: dict = {"allow_agent": False, "look_for_keys": False}
        if credentials.ssh_key.strip():
            auth["pkey"] = _private_key(credentials.ssh_key, credentials.secret or None)
        elif credentials.secret:
            auth["password"] = credentials.secret
        else:
            # Neither given: the host's own keys and agent, like ssh(1).
            auth = {}
        try:
            client.connect(
                location.host,
                port=location.port,
                username=location.user,
                timeout=conf.remote_timeout(),
                banner_timeout=conf.remote_timeout(),
                auth_timeout=conf.remote_timeout(),
                **auth,
            )
            # One request at a time: without this, Nagle's algorithm and the
            # server's delayed ACKs add 40 ms to every read.
            client.get_transport().sock.setsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
            )
            self.sftp = client.open_sftp()
            self.sftp.get_channel().settimeout(conf.remote_timeout())
        except StorePermanent:
            client.close()
            raise
        except paramiko.BadHostKeyException:
            client.close()
            raise StorePermanent(
                f"The SFTP server {where} offered another host key than the known "
                "one: refusing to connect (check the server; update the known "
                "hosts only if its key really changed)."
            ) from None
        except paramiko.AuthenticationException as exc:
            client.close()
            raise StorePermanent(f"SFTP login to {where} refused: {exc}") from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            client.close()
            raise StoreTransient(
                f"Cannot reach the SFTP server {where}: {exc}"
            ) from None

    def close(self) -> None:
        self.client.close()

    def reconnect(self) -> None:
        self.client.close()
        self.client = paramiko.SSHClient()
        self._connect(self.location, self.credentials)

    def _call(self, what: str, method, *args):
        try:
            return method(*args)
        except FileNotFoundError:
            raise FileNotFoundError(f"{what}: no such file or folder") from None
        except PermissionError as exc:
            raise StorePermanent(f"{what}: permission denied ({exc})") from None
        except (TimeoutError, EOFError, paramiko.SSHException) as exc:
            raise StoreTransient(f"{what}: {exc or type(exc).__name__}") from None
        except OSError as exc:
            transport = self.client.get_transport()
            if transport is None or not transport.is_active():
                # "Socket is closed": the connection died under the request.
                raise StoreTransient(f"{what}: {exc}") from None
            raise  # The server's own answer (e.g. a rename onto a file).

    def _list(self, root: str, *, missing_ok: bool) -> Iterator[StoredObject]:
        try:
            entries = self._call(
                f"Listing {self.url(root)}", self.sftp.listdir_attr, root
            )
        except FileNotFoundError:
            if missing_ok:
                return
            raise StorePermanent(
                f"Listing {self.url(root)}: no such folder on the server."
            ) from None
        for info in entries:
            # Only regular files: a link on the server is not followed.
            if info.st_mode is None or not stat.S_ISREG(info.st_mode):
                continue
            yield StoredObject(
                key=root + info.filename,
                name=info.filename,
                size=info.st_size or 0,
                mtime=float(info.st_mtime or 0),
                version=_version(info),
            )

    def stat(self, key: str) -> StoredObject | None:
        try:
            info = self._call(f"Reading {self.url(key)}", self.sftp.lstat, key)
        except FileNotFoundError:
            return None
        return StoredObject(
            key=key,
            name=key.rpartition("/")[2],
            size=info.st_size or 0,
            mtime=float(info.st_mtime or 0),
            version=_version(info),
        )

    def open(self, key: str, *, version: str = "", offset: int = 0) -> BinaryIO:
        what = f"Reading {self.url(key)}"
        handle = self._call(what, self.sftp.open, key, "rb")
        if version:
            info = self._call(what, handle.stat)
            if _version(info) != version:
                handle.close()
                raise ObjectChanged(f"{what}: the file changed since it was listed.")
        if offset:
            handle.seek(offset)
        return _Reader(handle, what)

    def move(self, source: str, target: str, *, version: str = "") -> None:
        what = f"Moving {self.url(source)} to {self.url(target)}"
        if version:
            current = self.stat(source)
            if current is None:
                raise FileNotFoundError(f"{what}: the source is gone")
            if current.version != version:
                raise ObjectChanged(f"{what}: the file changed since it was listed.")
        self._makedirs(target.rpartition("/")[0])
        try:
            self._call(what, self.sftp.rename, source, target)
        except OSError:
            # SFTP's rename answers a bare "Failure" for an existing target.
            if self.stat(source) is None:
                raise FileNotFoundError(f"{what}: the source is gone") from None
            if self.stat(target) is not None:
                raise FileExistsError(f"{what}: the target exists") from None
            raise

    def _makedirs(self, folder: str) -> None:
        missing = []
        while folder and self.stat(folder) is None:
            missing.append(folder)
            folder = folder.rpartition("/")[0]
        for path in reversed(missing):
            try:
                self._call(f"Creating {self.url(path)}", self.sftp.mkdir, path)
            except OSError:
                if self.stat(path) is None:  # Not made concurrently either.
                    raise

    def write_text(self, key: str, text: str) -> None:
        self._makedirs(key.rpartition("/")[0])
        temporary = f"{key}.{os.getpid()}.tmp"
        what = f"Writing {self.url(key)}"
        with self._call(what, self.sftp.open, temporary, "wb") as handle:
            handle.write(text.encode("utf-8"))
        self._call(what, self.sftp.posix_rename, temporary, key)


class _Reader:
    """An SFTP file streamed by plain sequential reads of 255 KiB each.

    No read-ahead: paramiko's ``prefetch`` (and ``readv``, built on it)
    races its request thread against the answers under load and then
    keeps answers nobody reads (84 MiB held for a 512 MiB file on a busy
    machine), so memory would grow with the file. One request of
    :data:`READ_SIZE` at a time holds one answer; OpenSSH's server answers
    reads of up to 256 KiB. A dropped connection is :class:`StoreTransient`.
    """

    def __init__(self, handle, what: str) -> None:
        self._handle, self._what = handle, what
        # paramiko caps one read at 32 KiB by default; ask for more.
        handle.MAX_REQUEST_SIZE = READ_SIZE

    def read(self, size: int = -1) -> bytes:
        try:
            return self._handle.read(size)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise StoreTransient(f"{self._what}: {exc or type(exc).__name__}") from None

    def close(self) -> None:
        # Closing over a dead connection raises too; the file is done with.
        with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
            self._handle.close()

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
