"""S3-compatible buckets (AWS, MinIO, SeaweedFS, Ceph) through boto3.

Why boto3 and not s3fs/fsspec: the ledger's guarantees rest on S3's
conditional requests (``CopySourceIfMatch`` and ``IfMatch`` on the
archive's copy and delete, ``IfMatch`` on a resumed ranged GET), which
fsspec's file-system interface does not expose; boto3 is the library
fsspec's S3 backend sits on anyway.

Archiving is a copy to the archive key, then a delete of the source, both
conditional on the ETag the ledger registered: a crash between them leaves
the object under both keys, and the next scan deletes the source (the
ledger already says the file is done); an object overwritten meanwhile is
another version and is left for its own ledger row.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import BinaryIO

import boto3
import botocore.exceptions
from botocore.config import Config

from .. import conf
from .base import ObjectChanged, Store, StoredObject, StorePermanent, StoreTransient

#: Error codes a person must fix: credentials, permissions, the bucket.
PERMANENT_CODES = {
    "AccessDenied",
    "AllAccessDisabled",
    "AuthorizationHeaderMalformed",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "InvalidBucketName",
    "InvalidToken",
    "NoSuchBucket",
    "SignatureDoesNotMatch",
    "UnauthorizedAccess",
    "PermanentRedirect",
}
#: Error codes worth another try, as botocore's own retry handler sees them.
TRANSIENT_CODES = {
    "InternalError",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "ServiceUnavailable",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
}
_NETWORK = (
    botocore.exceptions.ConnectionError,
    botocore.exceptions.HTTPClientError,
    botocore.exceptions.ResponseStreamingError,
    botocore.exceptions.ReadTimeoutError,
)


def _version(etag: str, modified: datetime.datetime) -> str:
    """Return the ledger's version of an object: its ETag and upload second.

    The second tells a re-upload of the same content (same ETag) from the
    object the ledger already archived; whole seconds because listings and
    HEAD answers give the time at different precisions.
    """
    return f"{etag.strip(chr(34))}@{int(modified.timestamp())}"


def _etag(version: str) -> str:
    return '"' + version.partition("@")[0] + '"'


def _same_content(a: StoredObject, b: StoredObject) -> bool:
    """Return True when *b* is a copy of *a* (a multipart ETag is not kept)."""
    etag_a, etag_b = a.version.partition("@")[0], b.version.partition("@")[0]
    if "-" in etag_a:
        return a.size == b.size
    return etag_a == etag_b


class S3Store(Store):
    """A bucket prefix; one boto3 client, retrying with backoff by itself."""

    scheme = "s3"

    def __init__(self, location, credentials) -> None:
        super().__init__(location, credentials)
        self.bucket = location.host
        options = {
            "endpoint_url": credentials.endpoint_url or None,
            "region_name": credentials.region or None,
            "aws_access_key_id": credentials.access_key or None,
            "aws_secret_access_key": credentials.secret or None,
        }
        # Blank fields fall back to boto3's chain: AWS_* variables, ~/.aws/.
        session = boto3.session.Session()
        self.client = session.client(
            "s3",
            **{key: value for key, value in options.items() if value},
            config=Config(
                retries={
                    "mode": "standard",
                    "total_max_attempts": conf.remote_retries(),
                },
                connect_timeout=conf.remote_timeout(),
                read_timeout=conf.remote_timeout(),
                s3={"addressing_style": "path"},
            ),
        )

    def close(self) -> None:
        self.client.close()

    def _call(self, what: str, method, **kwargs):
        try:
            return method(**kwargs)
        except botocore.exceptions.ClientError as exc:
            raise self._translated(exc, what) from None
        except botocore.exceptions.NoCredentialsError:
            raise StorePermanent(
                f"{self.location.url}: no S3 credentials: set the inbox's access "
                "key and secret, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY."
            ) from None
        except botocore.exceptions.PartialCredentialsError as exc:
            raise StorePermanent(f"{self.location.url}: {exc}") from None
        except _NETWORK as exc:
            raise StoreTransient(f"{what}: {exc}") from None

    def _translated(self, exc: botocore.exceptions.ClientError, what: str):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        message = error.get("Message") or code
        text = f"{what}: {code or status} ({message})"
        if code in ("NoSuchKey", "404", "NotFound"):
            return FileNotFoundError(text)
        if code in ("PreconditionFailed", "412") or status == 412:
            return ObjectChanged(text)
        if code in PERMANENT_CODES or status in (401, 403):
            return StorePermanent(text)
        if code in TRANSIENT_CODES or status >= 500 or status == 429:
            return StoreTransient(text)
        return StorePermanent(text)

    def _list(self, root: str, *, missing_ok: bool) -> Iterator[StoredObject]:
        # A prefix with no objects lists as empty: S3 has no folders.
        what = f"Listing {self.url(root)}"
        token = None
        while True:
            kwargs = {"Bucket": self.bucket, "Prefix": root}
            kwargs["Delimiter"] = "/"
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call(what, self.client.list_objects_v2, **kwargs)
            for item in page.get("Contents", ()):
                key = item["Key"]
                if key == root:
                    continue  # A folder marker.
                yield StoredObject(
                    key=key,
                    name=key[len(root) :],
                    size=item["Size"],
                    mtime=item["LastModified"].timestamp(),
                    version=_version(item["ETag"], item["LastModified"]),
                )
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def stat(self, key: str) -> StoredObject | None:
        try:
            head = self._call(
                f"Reading {self.url(key)}",
                self.client.head_object,
                Bucket=self.bucket,
                Key=key,
            )
        except FileNotFoundError:
            return None
        return StoredObject(
            key=key,
            name=key.rpartition("/")[2],
            size=head["ContentLength"],
            mtime=head["LastModified"].timestamp(),
            version=_version(head["ETag"], head["LastModified"]),
        )

    def open(self, key: str, *, version: str = "", offset: int = 0) -> BinaryIO:
        kwargs = {"Bucket": self.bucket, "Key": key}
        if version:
            kwargs["IfMatch"] = _etag(version)
        if offset:
            kwargs["Range"] = f"bytes={offset}-"
        response = self._call(
            f"Reading {self.url(key)}", self.client.get_object, **kwargs
        )
        return _Body(response["Body"], self.url(key))

    def move(self, source: str, target: str, *, version: str = "") -> None:
        what = f"Moving {self.url(source)} to {self.url(target)}"
        present = self.stat(source)
        if present is None:
            raise FileNotFoundError(f"{what}: the source is gone")
        if version and present.version != version:
            raise ObjectChanged(f"{what}: another version is there now")
        etag = _etag(present.version)
        copied = self.stat(target)
        if copied is None:
            self._call(
                what,
                self.client.copy_object,
                Bucket=self.bucket,
                Key=target,
                CopySource={"Bucket": self.bucket, "Key": source},
                CopySourceIfMatch=etag,
            )
        elif not _same_content(present, copied):
            raise FileExistsError(f"{what}: the target holds another object")
        # Else the copy is this move's own, made before a crash: only the
        # delete is left. Conditional, so a version written meanwhile stays.
        self._call(
            what,
            self.client.delete_object,
            Bucket=self.bucket,
            Key=source,
            IfMatch=etag,
        )

    def write_text(self, key: str, text: str) -> None:
        self._call(
            f"Writing {self.url(key)}",
            self.client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=text.encode("utf-8"),
            ContentType="text/plain; charset=utf-8",
        )


class _Body:
    """A streamed GET body whose network errors are :class:`StoreTransient`."""

    def __init__(self, body, url: str) -> None:
        self._body, self._url = body, url

    def read(self, size: int = -1) -> bytes:
        try:
            return self._body.read(size if size >= 0 else None)
        except _NETWORK as exc:
            raise StoreTransient(f"Reading {self._url}: {exc}") from None

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> _Body:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
