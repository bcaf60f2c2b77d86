"""Benchmark the import on this database and print one JSON line."""

import json

from django.core.management.base import BaseCommand, CommandError

from ingest import bench, conf
from ingest.importers import importer_names


class Command(BaseCommand):
    help = (
        "Import a generated CSV of one importer's dataset through the real "
        "services and compare it with plain SQL (the floor); or, with "
        "--small-files K, time K small files through a real worker and beat; or, "
        "with --latency N, time N files one at a time from their drop to done, "
        "through the watcher. Prints one JSON line. Refuses tables that hold data "
        "unless --force; removes what it created unless --keep."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--importer",
            default=None,
            help="The dataset to measure (default: INGEST_BENCH_IMPORTER, or "
            "the only importer there is).",
        )
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument(
            "--pool",
            "--authors",
            dest="pool",
            type=int,
            default=None,
            help="Distinct values of the non-key columns (books: authors); "
            "default rows/20.",
        )
        parser.add_argument(
            "--format",
            dest="form",
            choices=bench.FORMATS,
            default="csv",
            help="Import the rows as this kind of file (the floor stays the "
            "plain CSV's); xlsx also times openpyxl and pandas reading it.",
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--keep", action="store_true")
        parser.add_argument("--force", action="store_true")
        parser.add_argument(
            "--small-files",
            type=int,
            default=0,
            metavar="K",
            help="Drop K files of 20 rows with a worker and beat running.",
        )
        parser.add_argument(
            "--latency",
            type=int,
            default=0,
            metavar="N",
            help=(
                "Drop N files of 20 rows one at a time with a worker, beat and "
                "the watcher running; report drop-to-done p50, p95 and max."
            ),
        )
        parser.add_argument(
            "--no-email",
            action="store_true",
            help=(
                "--small-files: tell nobody (default: one email per file "
                "through the file-based backend, as deployed)."
            ),
        )
        parser.add_argument(
            "--no-watch",
            action="store_true",
            help=(
                "--small-files: no ingest_watch, the scans alone register "
                "the files (default: the watcher runs, as bin/serve does)."
            ),
        )
        parser.add_argument(
            "--floor-runs",
            type=int,
            choices=(1, 2),
            default=2,
            help="Load the floor once (before) or twice (before and after).",
        )
        parser.add_argument(
            "--scan-every",
            type=float,
            default=None,
            help=(
                "Seconds between the benchmark's own scans (--small-files: 2, "
                "scans that overlap steal the worker from the imports; "
                "--latency: 10, the default schedule's)."
            ),
        )

    def handle(self, *args, rows, pool, seed, keep, force, small_files, **opts):
        latency, scan_every = opts["latency"], opts["scan_every"]
        importer = self._importer(opts["importer"])
        if rows < 1 or small_files < 0 or latency < 0:
            raise CommandError(
                "--rows must be positive, --small-files and --latency >= 0."
            )
        if small_files and latency:
            raise CommandError("Choose --small-files or --latency, not both.")
        try:
            if latency:
                report = bench.bench_latency(
                    importer=importer,
                    files=latency,
                    seed=seed,
                    scan_every=10.0 if scan_every is None else scan_every,
                    keep=keep,
                    force=force,
                )
            elif small_files:
                report = bench.bench_small_files(
                    importer=importer,
                    files=small_files,
                    seed=seed,
                    scan_every=2.0 if scan_every is None else scan_every,
                    email=not opts["no_email"],
                    watch=not opts["no_watch"],
                    keep=keep,
                    force=force,
                )
            else:
                report = bench.bench_rows(
                    importer=importer,
                    rows=rows,
                    pool=pool or max(1, rows // 20),
                    seed=seed,
                    keep=keep,
                    force=force,
                    floor_runs=opts["floor_runs"],
                    form=opts["form"],
                )
        except bench.BenchRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(report, ensure_ascii=False))

    def _importer(self, name: str | None) -> str:
        known = importer_names()
        name = name or conf.setting("INGEST_BENCH_IMPORTER") or ""
        if not name and len(known) == 1:
            return known[0]
        if name not in known:
            raise CommandError(
                f"Choose the dataset with --importer (one of: {', '.join(known)})."
            )
        return name
