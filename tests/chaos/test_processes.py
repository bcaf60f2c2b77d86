"""The chaos helpers themselves: a failing scan must not vanish in its thread."""

import pytest

from tests.chaos.processes import scan_loop, wait_until


def test_a_scan_that_raises_in_the_loop_fails_the_block(monkeypatch):
    """The loop keeps scanning after an error, then raises it on leaving."""
    from ingest import services

    calls = []

    def inbox_scan() -> dict:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the second scan broke")
        return {"seen": 0}

    monkeypatch.setattr(services, "inbox_scan", inbox_scan)
    with pytest.raises(AssertionError, match="the second scan broke") as raised:
        with scan_loop(interval=0.01) as scans:
            wait_until(lambda: len(scans) >= 3, timeout=10)
    assert isinstance(raised.value.__cause__, RuntimeError)
    assert scans[0] == {"seen": 0} and "error" in scans[1]
