"""Benchmark the import against the plain-SQL floor, and small files end to end.

``ingest_bench`` is a thin command over this package; every mode runs one
importer's dataset, chosen by name. A row run generates a deterministic CSV
of its columns (:mod:`.data`, rows from the importer), loads it with plain
SQL (the floor,
:mod:`.floor`: the raw file COPYed into a staging table and the importer's
own set-based SQL, no Python validation, rolled back), imports it through
the real services in a fresh child process (:mod:`.processes`, so the peak
RSS measured is the import's alone), re-imports a copy under another name
and checks that the importer's table did not grow, and removes what it
created (:mod:`.tables`). :mod:`.small_files` times many small files through a
real worker and beat; :mod:`.latency` times one file at a time from its
drop to done, through the watcher. :mod:`.formats` turns the row run's
CSV into a compressed file or a workbook (``--format``).
"""

from .formats import FORMATS
from .latency import bench_latency
from .rows import bench_rows
from .small_files import bench_small_files
from .tables import BenchRefused

__all__ = [
    "FORMATS",
    "BenchRefused",
    "bench_latency",
    "bench_rows",
    "bench_small_files",
]
