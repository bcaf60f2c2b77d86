"""Remote stores against real servers: SeaweedFS (S3) and OpenSSH (SFTP)."""

import hashlib
import http.server
import socket
import subprocess
import threading
import time
import tracemalloc

import pytest

from ingest.stores import (
    Credentials,
    ObjectChanged,
    StorePermanent,
    StoreTransient,
    location_parse,
    store_open,
)
from tests.remote_servers import free_port


def _store(remote, **overrides):
    fields = remote.inbox_fields(**overrides)
    url = fields.pop("folder")
    return store_open(url, Credentials(**fields))


def test_a_listing_shows_candidate_files_with_their_identity(remote_folder):
    remote_folder.put("books.csv", b"title,author,year\nA,B,2000\n")
    remote_folder.put(".hidden.csv", b"x")
    remote_folder.put("notes.txt", b"x")
    remote_folder.put("parcel.zip", b"PK")  # Unpacked only from local inboxes.
    remote_folder.put("archive/2026/old.csv", b"x")
    with _store(remote_folder) as store:
        listed = store.list()
    assert [item.name for item in listed] == ["books.csv"]
    (item,) = listed
    assert item.size == 27 and item.mtime > 0 and item.version
    assert store.url(item.key) == remote_folder.url + "books.csv"


def test_a_replaced_object_has_another_version(remote_folder):
    remote_folder.put("books.csv", b"title,author,year\nA,B,2000\n")
    with _store(remote_folder) as store:
        before = store.list()[0].version
        time.sleep(1.1)  # Versions tell uploads apart to the second.
        remote_folder.put("books.csv", b"title,author,year\nC,D,2001\n")
        assert store.list()[0].version != before


def test_fetch_streams_the_object_and_returns_its_sha256(remote_folder, tmp_path):
    data = b"title,author,year\n" + b"A,B,2000\n" * 300_000  # ~2.7 MB, 3 chunks
    remote_folder.put("big.csv", data)
    target = tmp_path / "copy.csv"
    with _store(remote_folder) as store:
        (item,) = store.list()
        digest = store.fetch(item.key, target, version=item.version, size=item.size)
    assert target.read_bytes() == data
    assert digest == hashlib.sha256(data).hexdigest()


def test_fetch_keeps_memory_flat(remote_folder, tmp_path):
    """A 64 MB object is read with well under 16 MB of Python memory."""
    chunk = b"title,author,year\n" + b"x" * (1 << 20)
    remote_folder.put("big.csv", chunk * 64)
    with _store(remote_folder) as store:
        (item,) = store.list()
        tracemalloc.start()
        store.fetch(
            item.key, tmp_path / "big.csv", version=item.version, size=item.size
        )
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert (tmp_path / "big.csv").stat().st_size == item.size
    assert peak < 16 * 1024 * 1024, peak


def test_fetch_refuses_a_version_replaced_since_the_listing(remote_folder, tmp_path):
    remote_folder.put("books.csv", b"title,author,year\nA,B,2000\n")
    with _store(remote_folder) as store:
        (item,) = store.list()
        time.sleep(1.1)
        remote_folder.put("books.csv", b"title,author,year\nC,D,2001, longer\n")
        with pytest.raises(ObjectChanged):
            store.fetch(item.key, tmp_path / "x", version=item.version, size=item.size)


def test_move_archives_exclusively(remote_folder):
    remote_folder.put("a.csv", b"one\n")
    remote_folder.put("b.csv", b"two\n")
    remote_folder.put("archive/taken.csv", b"other\n")
    root = location_parse(remote_folder.url).root
    with _store(remote_folder) as store:
        version = store.stat(root + "a.csv").version
        store.move(root + "a.csv", root + "archive/1-a.csv", version=version)
        with pytest.raises(FileNotFoundError):
            store.move(root + "a.csv", root + "archive/1-a.csv")
        with pytest.raises(FileExistsError):
            store.move(root + "b.csv", root + "archive/taken.csv")
    assert remote_folder.read("archive/1-a.csv") == b"one\n"
    assert remote_folder.read("archive/taken.csv") == b"other\n"
    assert "a.csv" not in remote_folder.keys() and "b.csv" in remote_folder.keys()


def test_move_leaves_a_replaced_object_alone(remote_folder):
    remote_folder.put("a.csv", b"one\n")
    root = location_parse(remote_folder.url).root
    with _store(remote_folder) as store:
        old = store.stat(root + "a.csv").version
        time.sleep(1.1)
        remote_folder.put("a.csv", b"one, replaced\n")
        with pytest.raises(ObjectChanged):
            store.move(root + "a.csv", root + "archive/1-a.csv", version=old)
    assert remote_folder.read("a.csv") == b"one, replaced\n"


def test_s3_move_after_a_crash_between_copy_and_delete_finishes(s3_folder):
    s3_folder.put("a.csv", b"one\n")
    s3_folder.s3.copy_object(  # The copy went through; the delete never ran.
        Bucket=s3_folder.bucket,
        Key=s3_folder.prefix + "archive/1-a.csv",
        CopySource={"Bucket": s3_folder.bucket, "Key": s3_folder.prefix + "a.csv"},
    )
    with _store(s3_folder) as store:
        key = s3_folder.prefix + "a.csv"
        store.move(
            key, s3_folder.prefix + "archive/1-a.csv", version=store.stat(key).version
        )
    assert s3_folder.keys() == ["archive/1-a.csv"]


def test_write_text_stores_a_reason(remote_folder):
    root = location_parse(remote_folder.url).root
    with _store(remote_folder) as store:
        store.write_text(root + "failed/1-a.csv.error.txt", "Bad header.\n")
    assert remote_folder.read("failed/1-a.csv.error.txt") == b"Bad header.\n"


# --- Permanent errors: a person must act -----------------------------------


def test_s3_access_denied_is_permanent(s3_folder, seaweedfs):
    store = _store(
        s3_folder, access_key=seaweedfs.denied_key, secret=seaweedfs.denied_secret
    )
    with store, pytest.raises(StorePermanent, match="AccessDenied"):
        store.list()


def test_s3_a_wrong_secret_is_permanent(s3_folder):
    with _store(s3_folder, secret="wrong") as store:
        with pytest.raises(StorePermanent, match="SignatureDoesNotMatch"):
            store.list()


def test_s3_a_missing_bucket_is_permanent(s3_folder):
    with _store(s3_folder, folder="s3://no-such-bucket-here/in/") as store:
        with pytest.raises(StorePermanent, match="NoSuchBucket"):
            store.list()


#: Some other server's host key.
OTHER_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
)


def test_sftp_an_unknown_host_key_is_refused(sftp_folder):
    with pytest.raises(StorePermanent, match="not in the inbox's known hosts"):
        _store(sftp_folder, known_hosts=f"[127.0.0.1]:1 {OTHER_KEY}\n")


def test_sftp_without_known_hosts_the_default_file_is_checked(
    sftp_folder, settings, tmp_path
):
    settings.INGEST_SFTP_KNOWN_HOSTS = str(tmp_path / "known_hosts")
    with pytest.raises(StorePermanent, match="not in the inbox's known hosts"):
        _store(sftp_folder, known_hosts="")
    (tmp_path / "known_hosts").write_text(sftp_folder.server.known_hosts)
    with _store(sftp_folder, known_hosts="") as store:
        assert store.list() == []


def test_sftp_a_changed_host_key_is_refused(sftp_folder, sshd):
    with pytest.raises(StorePermanent, match="another host key"):
        _store(sftp_folder, known_hosts=f"[127.0.0.1]:{sshd.port} {OTHER_KEY}\n")


def test_sftp_a_refused_login_is_permanent(sftp_folder, tmp_path):
    path = tmp_path / "other"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True
    )
    with pytest.raises(StorePermanent, match="login"):
        _store(sftp_folder, ssh_key=path.read_text())


def test_sftp_a_missing_folder_is_permanent(sftp_folder):
    with _store(sftp_folder, folder=sftp_folder.url + "missing/") as store:
        with pytest.raises(StorePermanent, match="no such folder"):
            store.list()


# --- Transient errors: retried with backoff --------------------------------


def test_s3_a_closed_port_is_transient(s3_folder, settings):
    settings.INGEST_REMOTE_RETRIES = 2
    with _store(s3_folder, endpoint_url=f"http://127.0.0.1:{free_port()}") as store:
        with pytest.raises(StoreTransient):
            store.list()


class _Unavailable(http.server.BaseHTTPRequestHandler):
    hits = 0
    paths: list = []

    def do_GET(self):
        type(self).hits += 1
        type(self).paths.append(self.path)
        body = b"<Error><Code>SlowDown</Code><Message>Slow down</Message></Error>"
        self.send_response(503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_s3_a_503_is_retried_with_backoff_then_transient(s3_folder, settings):
    settings.INGEST_REMOTE_RETRIES = 3
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Unavailable.hits = 0
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        with _store(s3_folder, endpoint_url=endpoint) as store:
            with pytest.raises(StoreTransient, match="SlowDown"):
                store.list()
    finally:
        server.shutdown()
    assert _Unavailable.hits == 3, _Unavailable.paths  # Three tries in all.


def test_s3_a_server_that_never_answers_times_out_transiently(s3_folder, settings):
    settings.INGEST_REMOTE_RETRIES = 1
    settings.INGEST_REMOTE_TIMEOUT = 1
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with _store(s3_folder, endpoint_url=endpoint) as store:
            with pytest.raises(StoreTransient):
                store.list()
        assert time.monotonic() - started < 20
    finally:
        silent.close()


def test_sftp_a_closed_port_is_transient(sftp_folder, sshd, settings):
    settings.INGEST_REMOTE_TIMEOUT = 2
    url = sftp_folder.url.replace(f":{sshd.port}/", f":{free_port()}/")
    with pytest.raises(StoreTransient):
        _store(sftp_folder, folder=url)


# --- URLs --------------------------------------------------------------------


def test_urls_are_parsed_and_normalised():
    assert location_parse("s3://bucket/in").url == "s3://bucket/in/"
    assert location_parse("s3://bucket").url == "s3://bucket/"
    sftp = location_parse("sftp://ann@files.example.com/drop")
    assert sftp.url == "sftp://ann@files.example.com:22/drop/"
    assert location_parse("sftp://ann@h:2222/a/b/").port == 2222


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("s3://B/x/", "not a valid S3 bucket"),
        ("s3://bucket/../x/", "'..'"),
        ("sftp://ann:pw@host/x/", "password"),
        ("sftp://host/x/", "give the user"),
        ("sftp://ann@host/", "absolute folder"),
        ("ftp://host/x/", "not an s3:// or sftp://"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(url, reason):
    with pytest.raises(ValueError, match=reason):
        location_parse(url)


def test_credentials_never_show_their_secrets():
    shown = repr(Credentials(access_key="AKIA1", secret="s3cr3t", ssh_key="KEY"))
    assert "s3cr3t" not in shown and "KEY" not in shown
