"""Liveness locks: tell a dead import from a slow one.

An import holds its file's lock from before it claims the ledger row until
after it has recorded the outcome. The lock is something a dead process can
no longer hold: a PostgreSQL session advisory lock (the server drops it when
the connection dies) or, on other databases, an ``flock`` on a lock file
(the kernel drops it when the process dies). Elapsed time is never used: a
healthy twenty-minute import keeps its lock for twenty minutes.
"""

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator

from django.db import connection

from . import conf

logger = logging.getLogger(__name__)

#: First key of our advisory locks, so they do not collide with other apps'.
ADVISORY_NAMESPACE = 0x1A6E57


def _uses_advisory_locks() -> bool:
    return connection.vendor == "postgresql"


@contextlib.contextmanager
def _advisory(file_id: int) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_NAMESPACE, file_id]
        )
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_unlock(%s, %s)",
                        [ADVISORY_NAMESPACE, file_id],
                    )
            except Exception:
                # The connection is broken; closing it releases the lock.
                logger.warning(
                    "Could not unlock file #%s; closing the connection.", file_id
                )
                connection.close()


@contextlib.contextmanager
def _flock(file_id: int) -> Iterator[bool]:
    folder = conf.lock_dir()
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{file_id}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
        else:
            yield True
    finally:
        os.close(fd)


def file_lock(file_id: int) -> contextlib.AbstractContextManager[bool]:
    """Try to take the import lock of a file; yield whether it is held.

    Never waits. Holding it means no live process is importing the file.
    """
    if _uses_advisory_locks():
        return _advisory(file_id)
    return _flock(file_id)
