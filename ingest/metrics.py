"""Prometheus metrics read from the ledger at scrape time.

The ledger already holds every worker's work, so a scrape asks the database
instead of counting in-process: no multiprocess registry, nothing lost when
a worker restarts, and every web process answers the same. One grouped
query over the ledger gives the files, rows, durations and emails; the age
of the oldest queued file uses the state index; the scans' last runs come
from the inboxes (:func:`ingest.health.inbox_scans`).

Rows and durations are sums over the ledger as it is: when
``INGEST_LEDGER_KEEP_DAYS`` deletes old entries they drop, which Prometheus
reads as a counter reset.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from .health import inbox_scans
from .models import Inbox, InboxFile

State = InboxFile.State
#: Upper bounds (seconds) of the import duration histogram's buckets.
DURATION_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
#: The ``inbox`` label of files that belong to no inbox (uploads, commands).
NO_INBOX = "-"
#: The row counts summed per inbox, by their metric label.
ROW_OUTCOMES = {
    "imported": "rows_imported",
    "updated": "rows_updated",
    "rejected": "rows_rejected",
}


def _bucket(index: int) -> str:
    return f"le_{index}"


def ledger_groups() -> list[dict]:
    """Return one aggregate row per (inbox, state, email state) of the ledger.

    Each row has ``files``, the row sums, and the number of files that have
    a duration (``timed``), per duration bucket (cumulative), and their
    summed duration.
    """
    duration = ExpressionWrapper(
        F("finished_at") - F("started_at"), output_field=DurationField()
    )
    # Grouped by state already: the durations of other states are dropped
    # by the caller, so the filters stay one comparison each (a NULL
    # duration, never started or finished, matches none of them).
    buckets = {
        _bucket(index): Count(
            "pk", filter=Q(duration__lte=datetime.timedelta(seconds=bound))
        )
        for index, bound in enumerate(DURATION_BUCKETS)
    }
    return list(
        InboxFile.objects.alias(duration=duration)
        .values("inbox_id", "state", "notify_state")
        .annotate(
            files=Count("pk"),
            timed=Count("duration"),
            seconds=Sum("duration"),
            **{label: Sum(field) for label, field in ROW_OUTCOMES.items()},
            **buckets,
        )
        .order_by()
    )


def oldest_queued() -> dict[int | None, datetime.datetime]:
    """Return, per inbox id, when its longest-waiting queued file was queued."""
    return {
        row["inbox_id"]: row["oldest"]
        for row in InboxFile.objects.filter(state=State.QUEUED)
        .values("inbox_id")
        .annotate(oldest=Min("queued_at"))
        .order_by()
        if row["oldest"] is not None
    }


class LedgerCollector(Collector):
    """Yield the ledger's metrics, computed anew at every collection."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        # Grouped by id, named here: a join over the whole ledger costs more.
        names = dict(Inbox.objects.values_list("pk", "name"))
        groups = ledger_groups()
        for group in groups:
            group["inbox"] = names.get(group["inbox_id"], NO_INBOX)
        files = GaugeMetricFamily(
            "ingest_files",
            "Ledger entries by state and inbox.",
            labels=["inbox", "state"],
        )
        rows = CounterMetricFamily(
            "ingest_rows",
            "Rows of the ledger's files by outcome (imported, updated, rejected).",
            labels=["inbox", "outcome"],
        )
        emails = GaugeMetricFamily(
            "ingest_emails",
            "Emails about finished files by outcome (sent, failed, skipped, …).",
            labels=["outcome"],
        )
        per_state: dict[tuple[str, str], int] = defaultdict(int)
        per_outcome: dict[tuple[str, str], int] = defaultdict(int)
        per_email: dict[str, int] = defaultdict(int)
        timed: dict[str, dict] = defaultdict(
            lambda: {"count": 0, "seconds": 0.0, "buckets": [0] * len(DURATION_BUCKETS)}
        )
        for group in groups:
            inbox = group["inbox"]
            per_state[inbox, group["state"]] += group["files"]
            for outcome in ROW_OUTCOMES:
                per_outcome[inbox, outcome] += group[outcome] or 0
            if group["state"] in InboxFile.FINAL_STATES:
                per_email[group["notify_state"]] += group["files"]
            if group["state"] == State.DONE and group["timed"]:
                histogram = timed[inbox]
                histogram["count"] += group["timed"]
                histogram["seconds"] += group["seconds"].total_seconds()
                for index in range(len(DURATION_BUCKETS)):
                    histogram["buckets"][index] += group[_bucket(index)]
        inboxes = sorted({inbox for inbox, _state in per_state})
        for inbox in inboxes:
            for state in State.values:
                files.add_metric([inbox, state], per_state.get((inbox, state), 0))
            for outcome in ROW_OUTCOMES:
                rows.add_metric([inbox, outcome], per_outcome[inbox, outcome])
        for outcome in InboxFile.Notify.values:
            emails.add_metric([outcome], per_email.get(outcome, 0))
        yield files
        yield rows
        yield emails
        yield self._durations(timed)
        oldest = {
            names.get(inbox_id, NO_INBOX): at
            for inbox_id, at in oldest_queued().items()
        }
        yield self._queued(inboxes, oldest, now)
        yield self._scans(now)

    @staticmethod
    def _durations(timed: dict[str, dict]) -> HistogramMetricFamily:
        family = HistogramMetricFamily(
            "ingest_import_duration_seconds",
            "Wall time of finished imports, from claim to done.",
            labels=["inbox"],
        )
        for inbox, histogram in sorted(timed.items()):
            buckets = [
                (str(bound), count)
                for bound, count in zip(
                    DURATION_BUCKETS, histogram["buckets"], strict=True
                )
            ]
            buckets.append(("+Inf", histogram["count"]))
            family.add_metric([inbox], buckets, histogram["seconds"])
        return family

    @staticmethod
    def _queued(
        inboxes: list[str], oldest: dict[str, datetime.datetime], now: datetime.datetime
    ) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "ingest_oldest_queued_age_seconds",
            "Seconds the longest-waiting queued file has waited (0: none waits).",
            labels=["inbox"],
        )
        for inbox in sorted({*inboxes, *oldest}):
            since = oldest.get(inbox)
            family.add_metric([inbox], (now - since).total_seconds() if since else 0)
        return family

    @staticmethod
    def _scans(now: datetime.datetime) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "ingest_last_scan_age_seconds",
            "Seconds since each enabled inbox's last scan finished.",
            labels=["inbox"],
        )
        for inbox in inbox_scans():
            if inbox.last_scanned_at is not None:
                age = (now - inbox.last_scanned_at).total_seconds()
                family.add_metric([inbox.name], age)
        return family


def metrics_text() -> bytes:
    """Return the metrics in Prometheus' text exposition format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector())
    return generate_latest(registry)
