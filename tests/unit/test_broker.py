"""The embedded filesystem broker delivers whole messages, each once."""

import threading
import time

from kombu import Connection, Consumer, Exchange, Producer, Queue

from myproject.broker import Channel, Transport


def _connection(folder) -> Connection:
    return Connection(
        "filesystem://localhost/",
        transport=Transport,
        transport_options={
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
        },
    )


def test_concurrent_producers_and_consumers_see_each_message_once(tmp_path):
    (tmp_path / "queue").mkdir()
    (tmp_path / "control").mkdir()
    queue = Queue("jobs", Exchange("jobs"), routing_key="jobs")
    sent = [f"{p}-{i}" for p in range(4) for i in range(100)]
    received: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def produce(p: int) -> None:
        with _connection(tmp_path) as conn:
            producer = Producer(conn.default_channel)
            for i in range(100):
                producer.publish(
                    {"id": f"{p}-{i}"},
                    exchange=queue.exchange,
                    routing_key="jobs",
                    declare=[queue],
                )

    def consume() -> None:
        def on_message(body, message):
            with lock:
                received.append(body["id"])
            message.ack()

        try:
            with _connection(tmp_path) as conn:
                with Consumer(conn, [queue], callbacks=[on_message], accept=["json"]):
                    deadline = time.monotonic() + 60
                    while len(received) < len(sent) and time.monotonic() < deadline:
                        try:
                            conn.drain_events(timeout=0.5)
                        except TimeoutError:
                            continue
        except BaseException as exc:
            errors.append(exc)

    consumers = [threading.Thread(target=consume) for _ in range(3)]
    producers = [threading.Thread(target=produce, args=(p,)) for p in range(4)]
    for thread in consumers + producers:
        thread.start()
    for thread in producers:
        thread.join()
    for thread in consumers:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(received) == sorted(sent)


def test_exchange_tables_are_never_read_half_written(tmp_path):
    (tmp_path / "control").mkdir()
    (tmp_path / "queue").mkdir()
    failures: list[BaseException] = []

    def bind(n: int) -> None:
        try:
            with _connection(tmp_path) as conn:
                channel = conn.default_channel
                for i in range(30):
                    channel._queue_bind("fan", "", "", f"q{n}-{i}")
                    channel.get_table("fan")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=bind, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with _connection(tmp_path) as conn:
        assert len(conn.default_channel.get_table("fan")) == 120


def test_a_binding_is_on_disk_before_the_process_can_route_by_it(tmp_path, monkeypatch):
    """No thread may see a binding in memory whose exchange table is unwritten."""
    (tmp_path / "control").mkdir()
    (tmp_path / "queue").mkdir()
    in_memory_when_written = []
    original = Channel._queue_bind

    def spy(self, exchange, routing_key, pattern, queue):
        in_memory_when_written.append(
            self.state.has_binding(queue, exchange, routing_key)
        )
        return original(self, exchange, routing_key, pattern, queue)

    monkeypatch.setattr(Channel, "_queue_bind", spy)
    name = f"bind-order-{tmp_path.name}"
    with _connection(tmp_path) as conn:
        channel = conn.default_channel
        channel.exchange_declare(name, "direct")
        channel.queue_declare(name)
        channel.queue_bind(name, name, name)
        assert channel.get_table(name) == [(name, "", name)]
    assert in_memory_when_written[0] is False
