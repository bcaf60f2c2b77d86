"""Benchmark the import against the plain-SQL floor, and small files end to end.

``ingest_bench`` is a thin command over this package. A row run generates a
deterministic books CSV (:mod:`.data`), loads it with plain SQL (the floor,
:mod:`.floor`: the raw file COPYed into a staging table and the importer's
own set-based SQL, no Python validation, rolled back), imports it through
the real services in a fresh child process (:mod:`.processes`, so the peak
RSS measured is the import's alone), re-imports a copy under another name
and checks that the book count did not move, and removes what it created
(:mod:`.catalogue`). :mod:`.small_files` times many small files through a
real worker and beat; :mod:`.latency` times one file at a time from its
drop to done, through the watcher.
"""

from .catalogue import BenchRefused
from .latency import bench_latency
from .rows import bench_rows
from .small_files import bench_small_files

__all__ = ["BenchRefused", "bench_latency", "bench_rows", "bench_small_files"]
