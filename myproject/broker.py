"""A crash-safe variant of kombu's filesystem transport, the embedded broker.

kombu's own transport opens a message file and only then writes it, and
consumers list and take files without a lock, so a worker can read an empty
or half-written message and die with ``JSONDecodeError`` (seen at worker
start-up, when the pidbox exchange table is being written). The same holds
for its exchange tables. Here every file is written under a hidden temporary
name and renamed into place, which readers observe atomically, and a
consumer takes a message by renaming it into its own folder on the same
filesystem, so two consumers can never both read it. A binding reaches the
exchange table on disk before any thread of the process can route by it.
"""

import os
import uuid
from queue import Empty
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads


def _write_atomic(path: str, data: bytes) -> None:
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


class Channel(filesystem.Channel):
    """Filesystem channel whose files appear whole or not at all."""

    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        _write_atomic(
            os.path.join(self.data_folder_out, name), str_to_bytes(dumps(payload))
        )

    def _get(self, queue):
        suffix = f"{queue}.msg"
        claimed_folder = os.path.join(self.data_folder_in, ".claimed")
        os.makedirs(claimed_folder, exist_ok=True)
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.startswith(".") or name.partition(".")[2] != suffix:
                continue
            claimed = os.path.join(claimed_folder, f"{os.getpid()}-{name}")
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except FileNotFoundError:
                continue  # Another consumer took it first.
            with open(claimed, "rb") as handle:
                payload = handle.read()
            os.unlink(claimed)
            return loads(bytes_to_str(payload))
        raise Empty()

    def _table_update(self, exchange, change) -> None:
        """Apply *change* to an exchange table under a writers' lock file."""
        self.control_folder.mkdir(exist_ok=True)
        file = self._exchange_file(exchange)
        with open(f"{file}.lock", "a") as lock_file:
            filesystem.lock(lock_file, filesystem.LOCK_EX)
            try:
                queues = self.get_table(exchange)
                updated = change(list(queues))
                if updated != queues:
                    _write_atomic(str(file), str_to_bytes(dumps(updated)))
            finally:
                filesystem.unlock(lock_file)

    def get_table(self, exchange):
        try:
            with open(self._exchange_file(exchange), "rb") as handle:
                table = loads(bytes_to_str(handle.read()))
        except FileNotFoundError:
            return []
        return [filesystem.exchange_queue_t(*entry) for entry in table]

    def queue_bind(self, queue, exchange=None, routing_key="", arguments=None, **kw):
        # kombu records a binding in the process-wide state before it writes
        # the exchange table, so another thread of this process can publish
        # through the not-yet-written table and lose the message to the
        # dead-letter queue. Write the table first.
        exchange = exchange or "amq.direct"
        if not self.state.has_binding(queue, exchange, routing_key):
            meta = self.typeof(exchange).prepare_bind(
                queue, exchange, routing_key, arguments
            )
            self._queue_bind(exchange, *meta)
        super().queue_bind(queue, exchange, routing_key, arguments, **kw)

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        entry = filesystem.exchange_queue_t(
            routing_key or "", pattern or "", queue or ""
        )

        def add(queues):
            return queues if entry in queues else [entry, *queues]

        self._table_update(exchange, add)

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        # Skip filesystem.Channel._delete (unlocked rewrite); keep virtual's.
        super(filesystem.Channel, self)._delete(
            queue, exchange, routing_key, pattern, *args, **kwargs
        )
        entry = filesystem.exchange_queue_t(
            routing_key or "", pattern or "", queue or ""
        )
        self._table_update(exchange, lambda queues: [q for q in queues if q != entry])


class Transport(filesystem.Transport):
    Channel = Channel
