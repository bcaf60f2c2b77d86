"""Inboxes on remote stores: S3-compatible buckets and SFTP servers.

An inbox whose folder is a URL (``s3://bucket/prefix/``,
``sftp://user@host:port/path/``) is listed, read and archived through a
:class:`~.base.Store` of that scheme; a plain path stays on the local
filesystem (:mod:`ingest.storage`, :mod:`ingest.scanner`), with its hard
links and atomic renames. The protocol libraries are optional extras
(``inbox-ingest[s3]``, ``[sftp]``): importing this package never needs
them, opening a store of a missing one raises :class:`~.base.StorePermanent`
saying what to install.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext as _

from .base import (
    ObjectChanged,
    Store,
    StoredObject,
    StoreError,
    StorePermanent,
    StoreTransient,
)

__all__ = [
    "Credentials",
    "Location",
    "ObjectChanged",
    "Store",
    "StoreError",
    "StorePermanent",
    "StoreTransient",
    "StoredObject",
    "is_remote",
    "location_parse",
    "store_open",
]

#: URL schemes of remote inboxes, and the extra that brings their library.
SCHEMES = {"s3": ("boto3", "s3"), "sftp": ("paramiko", "sftp")}
#: S3 bucket names (lower case, digits, dots, hyphens; 3–63 characters).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
#: Subfolders of a remote inbox that its listing never shows (not recursive).
ARCHIVE_DIRNAME, FAILED_DIRNAME, PROCESSING_DIRNAME = (
    "archive/",
    "failed/",
    ".processing/",
)


def is_remote(folder: str) -> bool:
    """Return True when *folder* is the URL of a remote store."""
    return folder.partition("://")[0].lower() in SCHEMES and "://" in folder


@dataclass(frozen=True)
class Location:
    """Where a remote inbox is: its scheme, bucket or server, and folder."""

    scheme: str
    #: The bucket (S3) or host name (SFTP).
    host: str
    #: The folder: an S3 prefix ("" or ending in "/"), an absolute SFTP path.
    root: str
    user: str = ""
    port: int = 0

    @property
    def base(self) -> str:
        """Return the URL up to the folder (no trailing slash)."""
        if self.scheme == "s3":
            return f"s3://{self.host}"
        return f"sftp://{self.user}@{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """Return the normalised URL of the inbox folder, as stored."""
        if self.scheme == "s3":
            return f"{self.base}/{self.root}"
        return f"{self.base}{self.root}"

    def url_for(self, key: str) -> str:
        return f"{self.base}/{key}" if self.scheme == "s3" else f"{self.base}{key}"

    def key_for(self, url: str) -> str:
        if not url.startswith(self.base):
            raise ValueError(f"{url!r} is not in {self.base}")
        key = url[len(self.base) :]
        return key[1:] if self.scheme == "s3" else key

    def child(self, name: str) -> str:
        """Return the key of *name* directly in the inbox folder."""
        return f"{self.root}{name}"

    def same_store(self, other: Location) -> bool:
        return (self.scheme, self.host, self.user, self.port) == (
            other.scheme,
            other.host,
            other.user,
            other.port,
        )


def location_parse(url: str) -> Location:
    """Return the :class:`Location` of a remote inbox URL, or raise ValueError.

    The message says what is wrong, for the admin form: a password in
    the URL (it would be shown back), ``..``, a bad bucket name, a
    relative SFTP path.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(
            _("%(url)s: not an s3:// or sftp:// URL.") % {"url": repr(url)}
        )
    if parts.password is not None:
        raise ValueError(
            _(
                "%(scheme)s:// URL with a password: put the password in the "
                "inbox's secret field, never in the folder."
            )
            % {"scheme": scheme}
        )
    if parts.query or parts.fragment:
        raise ValueError(
            _("%(url)s: a folder URL has no ?query or #fragment.") % {"url": repr(url)}
        )
    path = unquote(parts.path)
    if ".." in path.split("/"):
        raise ValueError(
            _("%(url)s contains '..'; give the folder's real path.")
            % {"url": repr(url)}
        )
    if scheme == "s3":
        bucket = parts.netloc
        if not _BUCKET.match(bucket):
            raise ValueError(
                _("%(bucket)s is not a valid S3 bucket name.")
                % {"bucket": repr(bucket)}
            )
        prefix = path.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return Location(scheme="s3", host=bucket, root=prefix)
    if not parts.hostname:
        raise ValueError(
            _("%(url)s: give the server, sftp://user@host/path/.") % {"url": repr(url)}
        )
    if not parts.username:
        raise ValueError(
            _("%(url)s: give the user, sftp://user@host/path/.") % {"url": repr(url)}
        )
    try:
        port = parts.port or 22
    except ValueError:
        raise ValueError(
            _("%(url)s: the port is not a number.") % {"url": repr(url)}
        ) from None
    root = path if path.endswith("/") else path + "/"
    if not root.startswith("/") or root == "/":
        raise ValueError(
            _(
                "%(url)s: give an absolute folder on the server, "
                "sftp://user@host/path/to/inbox/."
            )
            % {"url": repr(url)}
        )
    return Location(
        scheme="sftp",
        host=parts.hostname,
        root=root,
        user=unquote(parts.username),
        port=port,
    )


@dataclass(frozen=True)
class Credentials:
    """How to reach one inbox's store; blank fields defer to the library.

    Never logged or shown: ``repr`` leaves the secrets out.
    """

    endpoint_url: str = ""
    region: str = ""
    access_key: str = ""
    secret: str = ""
    ssh_key: str = ""
    known_hosts: str = ""

    def __repr__(self) -> str:
        return (
            f"Credentials(endpoint_url={self.endpoint_url!r}, "
            f"region={self.region!r}, access_key={self.access_key!r}, "
            "secret=…, ssh_key=…)"
        )

    @classmethod
    def of(cls, inbox) -> Credentials:
        """Return the credentials an :class:`~ingest.models.Inbox` names."""
        return cls(
            endpoint_url=inbox.endpoint_url,
            region=inbox.region,
            access_key=inbox.access_key,
            secret=inbox.secret,
            ssh_key=inbox.ssh_key,
            known_hosts=inbox.known_hosts,
        )


def library_missing(scheme: str) -> str:
    """Return what to install for *scheme*'s library, or "" if it is there."""
    import importlib.util

    module, extra = SCHEMES[scheme]
    if importlib.util.find_spec(module) is not None:
        return ""
    return _(
        "%(scheme)s:// inboxes need %(module)s: pip install "
        "'inbox-ingest[%(extra)s]' (or %(module)s itself)."
    ) % {"scheme": scheme, "module": module, "extra": extra}


def store_open(folder: str, credentials: Credentials) -> Store:
    """Return a connected :class:`Store` for the remote *folder*.

    Raises :class:`StorePermanent` for a bad URL or a missing library,
    and what connecting raises (see the backends).
    """
    try:
        location = location_parse(folder)
    except ValueError as exc:
        raise StorePermanent(str(exc)) from None
    if missing := library_missing(location.scheme):
        raise StorePermanent(missing)
    # Imported here: the protocol libraries are optional extras.
    if location.scheme == "s3":
        from .s3 import S3Store as backend
    else:
        from .sftp import SftpStore as backend
    return backend(location, credentials)
