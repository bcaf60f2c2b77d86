"""Measure the memory of streaming one large remote file (a manual benchmark).

Not collected by pytest. Starts a private SeaweedFS (``--scheme s3``) or
sshd (``--scheme sftp``), puts a generated CSV of ``--size`` MiB there,
then, in a fresh process, streams it to a local spool file through
:meth:`ingest.stores.base.Store.fetch` as an import does, reporting
tracemalloc's peak and the process's peak RSS before and after. Run::

    .venv/bin/python tests/remote_memory.py --scheme s3 --size 1024
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MEASURE = """
import json, os, pathlib, resource, sys, time, tracemalloc
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
django.setup()
from ingest.stores import Credentials, store_open
url, spool, fields = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with store_open(url, Credentials(**fields)) as store:
    (item,) = store.list()
    tracemalloc.start()
    started = time.monotonic()
    store.fetch(item.key, pathlib.Path(spool), version=item.version, size=item.size)
    seconds = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"bytes": item.size, "seconds": round(seconds, 1),
    "tracemalloc_peak_mib": round(peak / 2**20, 2),
    "rss_peak_before_mib": round(before / 1024, 1),
    "rss_peak_after_mib": round(after / 1024, 1)}))
"""


def _csv(path: Path, size: int) -> None:
    line = b"A title of some length,An author of some length,2000\n"
    block = line * ((1 << 20) // len(line) + 1)
    with open(path, "wb") as out:
        out.write(b"title,author,year\n")
        while out.tell() < size:
            out.write(block)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1024, help="MiB of CSV")
    parser.add_argument("--scheme", choices=["s3", "sftp"], default="s3")
    args = parser.parse_args()
    from tests.remote_servers import S3Folder, SeaweedFS, SftpFolder, SshServer

    with tempfile.TemporaryDirectory() as folder:
        if args.scheme == "s3":
            server = SeaweedFS(Path(folder) / "weed").start()
        else:
            server = SshServer(Path(folder) / "sshd").start()
        try:
            remote = S3Folder(server) if args.scheme == "s3" else SftpFolder(server)
            source = Path(folder) / "big.csv"
            _csv(source, args.size * 2**20)
            started = time.monotonic()
            if args.scheme == "s3":
                remote.s3.upload_file(
                    str(source), remote.bucket, remote.prefix + "big.csv"
                )
            else:
                source.rename(remote.path / "big.csv")
            print(
                f"put {args.size} MiB in {time.monotonic() - started:.1f} s",
                file=sys.stderr,
            )
            source.unlink(missing_ok=True)
            fields = remote.inbox_fields()
            url = fields.pop("folder")
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    MEASURE,
                    url,
                    str(Path(folder) / "spool.csv"),
                    json.dumps(fields),
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(json.dumps({"scheme": args.scheme, **result}))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
