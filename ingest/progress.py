"""Report import progress at a bounded rate, whatever the row rate."""

import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

ProgressSink = Callable[[dict], None]


class ProgressReporter:
    """Call *sink* with ``{current, total, percent, rows}`` at most every *interval* s.

    ``current``/``total`` are bytes: progress needs no second pass to count
    lines. The pipeline calls this every thousand rows or so; all but one
    call a period return after a clock read.
    """

    def __init__(self, sink: ProgressSink | None, interval: float) -> None:
        self._sink = sink
        self._interval = interval
        self._last = float("-inf")
        self.last_meta: dict | None = None

    def __call__(
        self, current: int, total: int, rows: int, *, force: bool = False
    ) -> None:
        now = time.monotonic()
        if not force and now - self._last < self._interval:
            return
        self._last = now
        percent = round(100.0 * current / total, 1) if total else 100.0
        self.last_meta = {
            "current": current,
            "total": total,
            "percent": min(percent, 100.0),
            "rows": rows,
        }
        if self._sink is not None:
            try:
                self._sink(self.last_meta)
            except Exception:
                # Progress is a courtesy; losing one report must not fail an import.
                logger.warning("Could not report progress", exc_info=True)
