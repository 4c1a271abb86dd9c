"""Large files in bounded memory: lazy ranged reads, writes that never half-land.

On SeaweedFS (integration) and moto in server mode, with parts of 1 MiB (the
transfer configuration sets the part size) so that files of a few MiB cross
several part edges. Requests are counted with botocore's ``before-send``
event, which sees every request a client sends, retries included.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import time

import pytest
from boto3.s3.transfer import TransferConfig
from django.core.files.base import ContentFile, File

from sigv4_storage import SigV4S3Storage
from sigv4_storage.ranged import FIRST_WINDOW, GROWTH, ObjectChanged, PartIncomplete
from tests.faults import Rule

MB = 1024 * 1024
PART = MB
SIZE = 5 * MB + 12345  # six parts, the last one short

SERVERS = [
    pytest.param(("seaweedfs", "endpoint_url"), id="seaweedfs", marks=pytest.mark.integration),
    pytest.param(("rgw", "endpoint_url"), id="rgw", marks=pytest.mark.integration),
    pytest.param(("moto", "endpoint_url"), id="moto"),
]


#: The conftest's ``server`` fixture, on the two servers reached by endpoint URL.
on_servers = pytest.mark.parametrize("server", SERVERS, indirect=True)


def storage_with_parts(settings, depth: int = 2, **options) -> SigV4S3Storage:
    settings.AWS_S3_TRANSFER_CONFIG = TransferConfig(
        multipart_chunksize=PART,
        multipart_threshold=PART,
        max_concurrency=max(1, depth),
        use_threads=depth > 0,  # no threads: nothing fetched ahead
    )
    return SigV4S3Storage(**options)


def record(storage) -> list[tuple[str, str]]:
    """(method, Range header) of every request the storage's client sends."""
    sent: list[tuple[str, str]] = []
    storage.connection.meta.client.meta.events.register(
        "before-send.s3",
        lambda request, **_: sent.append((request.method, request.headers.get("Range", b""))),
    )
    return sent


def ranges(sent) -> list[str]:
    return [r.decode() if isinstance(r, bytes) else r for method, r in sent if method == "GET"]


def in_order(found: list[str]) -> list[str]:
    """Ranges by their first byte, then their last (fetched ahead: in any order)."""
    return sorted(found, key=lambda r: tuple(int(n) for n in r[6:].split("-")))


@pytest.fixture
def body() -> bytes:
    return os.urandom(SIZE)


@pytest.fixture
def finished():
    """``response.close()`` as Django's handler calls it, without the
    database: like Django's test client, ``close_old_connections`` is
    unhooked from ``request_finished`` (these tests have no database)."""
    from django.core.signals import request_finished
    from django.db import close_old_connections

    request_finished.disconnect(close_old_connections)
    yield
    request_finished.connect(close_old_connections)


@on_servers
def test_a_small_read_fetches_one_small_window(server, settings, body):
    storage = storage_with_parts(settings)
    storage.save("video.bin", ContentFile(body))
    sent = record(storage)

    with storage.open("video.bin") as f:
        assert sent == [("HEAD", b"")]  # open: the one HeadObject, as before
        assert f.read(1024) == body[:1024]
        assert f.tell() == 1024
        f.seek(SIZE // 2)  # elsewhere: a window there, of the same size
        assert f.read(10) == body[SIZE // 2 : SIZE // 2 + 10]
    assert ranges(sent) == [
        f"bytes=0-{FIRST_WINDOW - 1}",
        f"bytes={SIZE // 2}-{SIZE // 2 + FIRST_WINDOW - 1}",
    ]


@on_servers
def test_reads_that_go_on_fetch_larger_windows_then_parts_ahead(server, settings, body):
    """A header read in order costs a few growing windows, never a byte twice; once a
    window would be a whole part, parts are fetched, and ahead."""
    storage = storage_with_parts(settings, depth=2)
    storage.save("video.bin", ContentFile(body))
    sent = record(storage)
    w1, w2 = FIRST_WINDOW, FIRST_WINDOW * (1 + GROWTH)
    with storage.open("video.bin") as f:
        assert f.read(FIRST_WINDOW + 10) == body[: FIRST_WINDOW + 10]
        assert ranges(sent) == [f"bytes=0-{w1 - 1}", f"bytes={w1}-{w2 - 1}"]
        read = f.read(PART + PART // 2 - f.tell())  # into part 1: windows end at its edge
        assert read == body[FIRST_WINDOW + 10 : PART + PART // 2]
        deadline = time.monotonic() + 10
        while len(ranges(sent)) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert in_order(ranges(sent)) == [
            f"bytes=0-{w1 - 1}",
            f"bytes={w1}-{w2 - 1}",
            f"bytes={w2}-{PART - 1}",  # 1 MiB from here would cross the part's edge
            f"bytes={PART}-{2 * PART - 1}",  # then parts, 2 ahead
            f"bytes={2 * PART}-{3 * PART - 1}",
            f"bytes={3 * PART}-{4 * PART - 1}",
        ]


@on_servers
def test_chunks_fetch_parts_ahead_from_the_first(server, settings, body):
    """``chunks()`` reads the whole file: parts from the first one, in parallel
    (s3transfer's way), with no windows before them."""
    storage = storage_with_parts(settings, depth=2)
    storage.save("video.bin", ContentFile(body))
    sent = record(storage)
    with storage.open("video.bin") as f:
        f.read(10)  # a window (kept by the file's buffer)
        chunks = f.chunks(FIRST_WINDOW)
        assert next(chunks) == body[:FIRST_WINDOW]  # from the start, as Django's chunks()
        assert next(chunks) == body[FIRST_WINDOW : 2 * FIRST_WINDOW]
        deadline = time.monotonic() + 10
        while len(ranges(sent)) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert in_order(ranges(sent)) == [
            f"bytes=0-{FIRST_WINDOW - 1}",
            f"bytes=0-{PART - 1}",
            f"bytes={PART}-{2 * PART - 1}",
            f"bytes={2 * PART}-{3 * PART - 1}",
        ]
        assert b"".join(chunks) == body[2 * FIRST_WINDOW :]


@on_servers
@pytest.mark.parametrize(
    "start, count",
    [
        (0, 10),  # the start
        (SIZE // 2, 4096),  # the middle
        (SIZE - 100, 100),  # the end
        (PART - 3, 10),  # across one part's edge
        (PART - 1, 2 * PART + 2),  # across two
        (SIZE - 10, 1000),  # past the end: what there is
    ],
)
def test_reads_anywhere_return_the_right_bytes(server, settings, body, start, count):
    storage = storage_with_parts(settings, depth=0)  # nothing fetched ahead
    storage.save("video.bin", ContentFile(body))
    sent = record(storage)
    with storage.open("video.bin") as f:
        f.seek(start)
        assert f.read(count) == body[start : start + count]
        assert f.tell() == min(start + count, SIZE)
    first, last = start // PART, (min(start + count, SIZE) - 1) // PART
    fetched = {int(r.split("=")[1].split("-")[0]) // PART for r in ranges(sent)}
    assert fetched == set(range(first, last + 1))  # those parts, and no other


@on_servers
def test_seek_past_the_end_reads_nothing_and_sends_nothing(server, settings, body):
    storage = storage_with_parts(settings)
    storage.save("video.bin", ContentFile(body))
    sent = record(storage)
    with storage.open("video.bin") as f:
        assert f.seek(SIZE + 100) == SIZE + 100
        assert f.read(10) == b""
        assert f.read() == b""
        f.seek(-5, io.SEEK_END)
        assert f.read() == body[-5:]
        with pytest.raises(ValueError, match="negative seek"):
            f.seek(-1)
    assert len(ranges(sent)) == 1


@on_servers
def test_whole_reads_fetch_each_part_once_and_ahead(server, settings, body):
    storage = storage_with_parts(settings, depth=3)
    storage.save("video.bin", ContentFile(body))
    sent = record(storage)
    with storage.open("video.bin") as f:
        digest = hashlib.sha256()
        for chunk in f.chunks(64 * 1024):
            digest.update(chunk)
        assert digest.hexdigest() == hashlib.sha256(body).hexdigest()
    parts = (SIZE + PART - 1) // PART
    assert sorted(ranges(sent)) == sorted(
        f"bytes={i * PART}-{min((i + 1) * PART, SIZE) - 1}" for i in range(parts)
    )
    with storage.open("video.bin") as f:  # read() in one call, and lines
        assert f.read() == body
    with storage.open("video.bin") as f:  # the rest, after a read within a part
        assert f.read(PART + 100)[-100:] == body[PART : PART + 100]
        assert f.read() == body[PART + 100 :]
        assert f.read() == b""
    with storage.open("video.bin") as f:
        assert b"".join(f) == body


@on_servers
def test_reads_without_threads_fetch_nothing_ahead(server, settings):
    body = os.urandom(16 * MB + 5)  # two parts of the default 8 MiB, and a bit
    settings.AWS_S3_TRANSFER_CONFIG = TransferConfig(use_threads=False)  # default parts
    storage = SigV4S3Storage()
    storage.save("video.bin", ContentFile(body))
    sent = record(storage)
    part = storage.transfer_config.multipart_chunksize
    with storage.open("video.bin") as f:
        f.read(part + 10)
    fetched = [tuple(map(int, r[6:].split("-"))) for r in ranges(sent)]
    # In order, each range where the last ended, up to part 1's end and no further:
    # the windows of part 0, then part 1 (the read needs it), nothing ahead.
    assert [start for start, _ in fetched] == [0] + [end + 1 for _, end in fetched[:-1]]
    assert fetched[-1] == (part, 2 * part - 1)


@on_servers
def test_an_object_replaced_mid_read_is_a_clear_error(server, settings, body):
    storage = storage_with_parts(settings, depth=0)
    storage.save("video.bin", ContentFile(body))
    with storage.open("video.bin") as f:
        assert f.read(10) == body[:10]
        storage.connection.meta.client.put_object(
            Bucket=storage.bucket_name, Key="video.bin", Body=b"x" * SIZE
        )
        f.seek(3 * PART)
        with pytest.raises(ObjectChanged, match="'video.bin' was replaced or deleted") as caught:
            f.read(10)
        assert isinstance(caught.value, OSError)
    # Opened again, the file is looked up again: the new version, whole.
    f.open()
    try:
        assert f.read() == b"x" * SIZE
    finally:
        f.close()


@on_servers
def test_an_object_deleted_mid_read_is_a_clear_error(server, settings, body):
    storage = storage_with_parts(settings, depth=0)
    storage.save("video.bin", ContentFile(body))
    with storage.open("video.bin") as f:
        f.read(10)
        storage.delete("video.bin")
        f.seek(2 * PART)
        with pytest.raises(ObjectChanged):
            f.read(10)


@on_servers
def test_text_and_gzip_modes_read_lazily(server, settings):
    lines = "".join(f"행 {i}: {'x' * (i % 50)}\n" for i in range(60_000))  # ~2.8 MB
    storage = storage_with_parts(settings)
    storage.save("lines.txt", ContentFile(lines.encode()))
    with storage.open("lines.txt", "r") as f:
        assert f.readline() == "행 0: \n"
        assert f.read() == lines[len("행 0: \n") :]

    settings.AWS_IS_GZIPPED = True
    gzipped = storage_with_parts(settings)
    gzipped.save("lines.css", ContentFile(lines.encode()))
    stored = gzipped.connection.meta.client.get_object(Bucket=gzipped.bucket_name, Key="lines.css")
    assert stored["ContentEncoding"] == "gzip"
    assert gzip.decompress(stored["Body"].read()) == lines.encode()
    with gzipped.open("lines.css") as f:
        assert f.read() == lines.encode()


@on_servers
def test_file_semantics_are_django_s(server, settings, body):
    storage = storage_with_parts(settings)
    storage.save("video.bin", ContentFile(body))
    f = storage.open("video.bin")
    assert isinstance(f, File)
    assert (f.name, f.size, f.closed) == ("video.bin", SIZE, False)
    assert f.multiple_chunks()
    assert f.read(3) == body[:3]
    assert f.open() is f and f.tell() == 0  # open() again: back to the start
    f.close()
    assert f.closed
    with f.open() as again:
        assert again.read(3) == body[:3]
    assert f.closed


@on_servers
def test_a_missing_file_still_raises_at_open(server, settings):
    storage = storage_with_parts(settings)
    with pytest.raises(FileNotFoundError):
        storage.open("missing.bin")


# -- broken streams (SeaweedFS behind the fault proxy) ------------------------------
def _ranged_get(method, path):
    return method == "GET" and "uploadId" not in path and "list-type" not in path


@pytest.mark.integration
def test_a_stream_broken_mid_part_is_fetched_again(faulty, settings, body):
    _, proxy, _ = faulty
    storage = storage_with_parts(settings)
    storage.save("video.bin", ContentFile(body))
    proxy.rules.append(Rule(_ranged_get, cut_after=PART // 3, times=2))
    with storage.open("video.bin") as f:
        assert f.read() == body  # never wrong or missing bytes
    assert proxy.injected == 2


@pytest.mark.integration
def test_a_stream_that_keeps_breaking_is_a_clear_error(faulty, settings, body):
    _, proxy, _ = faulty
    storage = storage_with_parts(settings, depth=0)
    storage.save("video.bin", ContentFile(body))
    with storage.open("video.bin") as f:
        proxy.rules.append(Rule(_ranged_get, cut_after=1000))
        with pytest.raises(
            PartIncomplete, match=rf"'video.bin': bytes 0-{FIRST_WINDOW - 1} did not arrive"
        ):
            f.read(10)


# -- writes: streamed in parts, aborted on failure -----------------------------------
def open_uploads(storage) -> list[str]:
    listed = storage.connection.meta.client.list_multipart_uploads(Bucket=storage.bucket_name)
    return [upload["Key"] for upload in listed.get("Uploads", [])]


@on_servers
def test_an_exception_in_a_with_block_stores_nothing(server, settings):
    storage = SigV4S3Storage()
    with (
        pytest.raises(RuntimeError, match="the export failed"),
        storage.open("export.csv", "wb") as f,
    ):
        f.write(b"a" * 6 * MB)
        f.write(b"b" * 6 * MB)  # the first part is uploaded by now
        assert open_uploads(storage) == ["export.csv"]
        raise RuntimeError("the export failed")
    assert not storage.exists("export.csv")  # django-storages stores the first 12 MB
    assert open_uploads(storage) == []


@on_servers
def test_a_with_block_that_fails_before_writing_creates_no_empty_file(server, settings):
    storage = SigV4S3Storage()
    with pytest.raises(RuntimeError), storage.open("empty.csv", "wb"):
        raise RuntimeError
    assert not storage.exists("empty.csv")
    with storage.open("empty.csv", "wb"):  # without the failure: Django's empty file
        pass
    assert storage.size("empty.csv") == 0


@pytest.mark.integration
def test_a_part_the_server_refuses_aborts_the_upload(faulty, settings):
    _, proxy, _ = faulty
    storage = SigV4S3Storage()
    proxy.rules.append(
        Rule(lambda m, p: m == "PUT" and "partNumber=2" in p, status=500, code="InternalError")
    )
    f = storage.open("export.csv", "wb")
    f.write(b"a" * 6 * MB)
    f.write(b"b" * 6 * MB)  # part 1 sent
    with pytest.raises(Exception, match="InternalError"):
        f.write(b"c")  # part 2 refused, every retry
    with pytest.raises(ValueError, match="was aborted: open it again"):
        f.write(b"d")
    f.close()
    assert open_uploads(storage) == []
    assert not storage.exists("export.csv")
    assert any(m == "DELETE" and "uploadId=" in p for m, p in proxy.seen)


class Broken(io.RawIOBase):
    """A stream that fails after ``good`` bytes, as a request body cut off would."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.left <= 0:
            raise OSError("the client went away")
        count = min(len(buffer), self.left)
        buffer[:count] = b"z" * count
        self.left -= count
        return count


@on_servers
@pytest.mark.parametrize("overwrite", [True, False])
def test_save_of_a_stream_that_fails_midway_stores_nothing(server, settings, overwrite):
    settings.AWS_S3_FILE_OVERWRITE = overwrite
    storage = SigV4S3Storage()
    with pytest.raises(OSError, match="the client went away"):
        storage.save("upload.bin", File(io.BufferedReader(Broken(20 * MB)), name="upload.bin"))
    assert storage.listdir("")[1] == []
    assert open_uploads(storage) == []


# -- memory and transfer, measured in fresh processes (tests/large_file_probe.py) ------
@pytest.fixture
def probe(seaweedfs, weed_bucket):
    """Run one probe operation against SeaweedFS (through a counting proxy when asked)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from tests.faults import FaultProxy
    from tests.servers import ADMIN

    weed, bucket = weed_bucket
    proxy = FaultProxy(seaweedfs.endpoint)
    proxy.start()

    def run(operation: str, kind: str, name: str, size: int, counted: bool = False) -> dict:
        endpoint = proxy.endpoint if counted else seaweedfs.endpoint
        env = dict(
            os.environ,
            PROBE_ENDPOINT=f"http://{endpoint}",
            PROBE_BUCKET=bucket,
            PROBE_ACCESS_KEY=ADMIN[0],
            PROBE_SECRET_KEY=ADMIN[1],
        )
        before = proxy.bytes_out
        done = subprocess.run(
            [sys.executable, "-m", "tests.large_file_probe", operation, kind, name, str(size)],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        result = json.loads(done.stdout)
        result["bytes_sent"] = proxy.bytes_out - before
        return result

    run.client = weed.client()  # type: ignore[attr-defined]
    run.bucket = bucket  # type: ignore[attr-defined]
    yield run
    proxy.stop()


def stored_sha256(client, bucket: str, key: str) -> str:
    digest = hashlib.sha256()
    for chunk in client.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(MB):
        digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.integration
def test_large_files_in_bounded_memory(probe):
    from tests.large_file_probe import expected_sha256

    size = 256 * MB
    whole, first_kb = expected_sha256(size), expected_sha256(size, limit=1024)

    written = probe("write", "sigv4_storage", "big.bin", size)  # open("wb"), 1 MiB writes
    assert written["growth_mib"] <= 32, written  # one 5 MiB part buffer at a time
    assert stored_sha256(probe.client, probe.bucket, "big.bin") == whole

    small = probe("read1k", "sigv4_storage", "big.bin", size, counted=True)
    assert small["sha256"] == first_kb
    assert small["requests"] == 2, small  # the HeadObject of open(), one ranged GET
    assert small["bytes_sent"] <= MB, small  # one 64 KiB window, not 256 MiB
    theirs = probe("read1k", "django-storages", "big.bin", size, counted=True)
    assert theirs["bytes_sent"] >= size  # what this replaces: the whole object

    # chunks() reads in parts from the start; FileResponse(storage.open()) reads on
    # from 4 KiB: the windows of part 0 first (64 KiB, growing 4×), then parts.
    for operation, windows in (("chunks", 0), ("response", 5)):
        read = probe(operation, "sigv4_storage", "big.bin", size)
        assert read["sha256"] == whole
        assert read["growth_mib"] <= 128, read  # (10 + 1) parts of 8 MiB, and buffers
        assert read["requests"] == 1 + windows + size // (8 * MB) - (windows > 0), read

    # read() of the whole object: one buffer of its size, filled in place (not
    # its parts copied, then joined: twice its size).
    whole_read = probe("readall", "sigv4_storage", "big.bin", size)
    assert whole_read["sha256"] == whole
    assert whole_read["growth_mib"] <= size / MB + 112, whole_read  # + the parts read ahead
    assert whole_read["requests"] == 1 + size // (8 * MB)

    # save() of a stream: s3transfer's parts in memory, as raw boto3's upload_fileobj.
    ours = probe("save", "sigv4_storage", "saved.bin", size)
    raw = probe("save", "boto3", "raw.bin", size)
    assert ours["growth_mib"] <= max(128, raw["growth_mib"] * 1.1), (ours, raw)
    assert stored_sha256(probe.client, probe.bucket, "saved.bin") == whole


# -- serving (sigv4_storage.serving) ---------------------------------------------------
@on_servers
def test_redirect_to_a_presigned_url_with_a_download_name(server, settings, body):
    from urllib.parse import urlsplit

    from sigv4_storage import serving
    from tests.util import fetch, verify_presigned_url

    storage = storage_with_parts(settings)
    storage.save("reports/q3.bin", ContentFile(body))
    response = serving.redirect(
        storage,
        "reports/q3.bin",
        as_attachment=True,
        filename="보고서 Q3.pdf",
        content_type="application/pdf",
    )
    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]
    url = response["Location"]
    verify_presigned_url(url, secret_key=server.secret_key)  # raises if not
    status, headers, fetched = fetch(url)
    assert status == 200 and fetched == body
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == (
        "attachment; filename*=utf-8''%EB%B3%B4%EA%B3%A0%EC%84%9C%20Q3.pdf"
    )
    assert "response-content-disposition" in urlsplit(url).query


@on_servers
@pytest.mark.parametrize(
    "header, status, expected",
    [
        ("", 200, slice(None)),
        ("bytes=0-99", 206, slice(0, 100)),
        (f"bytes={PART - 5}-{PART + 5}", 206, slice(PART - 5, PART + 6)),  # across a part
        ("bytes=-100", 206, slice(SIZE - 100, SIZE)),
        (f"bytes={SIZE - 10}-", 206, slice(SIZE - 10, SIZE)),
        (f"bytes=10-{SIZE + 1000}", 206, slice(10, SIZE)),  # clipped to the end
        (f"bytes={SIZE}-", 416, None),
        ("bytes=0-1,5-9", 200, slice(None)),  # several ranges: the whole file
        ("items=0-9", 200, slice(None)),
    ],
)
def test_stream_answers_ranges(server, settings, rf, finished, body, header, status, expected):
    from sigv4_storage import serving

    storage = storage_with_parts(settings)
    storage.save("video.mp4", ContentFile(body))
    request = rf.get("/video", HTTP_RANGE=header) if header else rf.get("/video")
    sent = record(storage)
    response = serving.stream(request, storage, "video.mp4")
    assert response.status_code == status
    assert response["Accept-Ranges"] == "bytes"
    if expected is None:
        assert response["Content-Range"] == f"bytes */{SIZE}"
        return
    assert response["Content-Type"] == "video/mp4"
    content = b"".join(response.streaming_content) if response.streaming else response.content
    response.close()
    assert content == body[expected]
    assert int(response["Content-Length"]) == len(content)
    if status == 206:
        first, last = expected.start, expected.stop - 1
        assert response["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
        if len(content) <= serving.BLOCK:  # one GET of just the bytes asked for
            assert ranges(sent) == [f"bytes={first}-{last}"]
        fetched = len(list(ranges(sent)))
        assert (
            fetched <= (last // PART - first // PART + 1) + storage.transfer_config.max_concurrency
        )


@on_servers
def test_stream_sends_the_whole_file_when_if_range_names_another_version(
    server, settings, rf, body
):
    from sigv4_storage import serving

    storage = storage_with_parts(settings)
    storage.save("video.mp4", ContentFile(body))
    etag = storage.open("video.mp4").obj.e_tag
    same = rf.get("/", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert serving.stream(same, storage, "video.mp4").status_code == 206
    other = rf.get("/", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"an-old-version"')
    response = serving.stream(other, storage, "video.mp4", as_attachment=True)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="video.mp4"'
    assert b"".join(response.streaming_content) == body
    with pytest.raises(FileNotFoundError):
        serving.stream(same, storage, "missing.mp4")


@pytest.mark.parametrize(
    "header, size, expected",
    [
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=-0", 10, "unsatisfiable"),
        ("bytes=-20", 10, (0, 9)),
        ("bytes=5-2", 10, None),
        ("bytes=-", 10, None),
        ("bytes=0-", 0, "unsatisfiable"),
        (" bytes=3-4 ", 10, (3, 4)),
        # Hostile: digits that are not ASCII, numbers no object reaches, long headers.
        ("bytes=\u0660-\u0669", 10, None),
        ("bytes=\uff10-\uff19", 10, None),
        ("bytes=" + "9" * 4300 + "-", 10, None),
        ("bytes=0-" + "9" * 4300, 10, None),
        ("bytes=0-" + "9" * 19, 10, (0, 9)),
        ("bytes=" + "0" * 60 + "1-2", 10, None),
        ("bytes=1-2\n", 10, (1, 2)),
        ("bytes=1-2\nx", 10, None),
    ],
)
def test_byte_range(header, size, expected):
    from sigv4_storage.serving import byte_range

    assert byte_range(header, size) == expected


@on_servers
def test_stream_sends_a_gzipped_object_whole(server, settings, rf, finished):
    """Ranges of a gzip'd object would be ranges of the compressed bytes: the
    decompressed file is sent whole, and no range is offered."""
    from sigv4_storage import serving

    settings.AWS_IS_GZIPPED = True
    storage = storage_with_parts(settings)
    text = "".join(f".rule-{n} {{ color: #{n:06x}; }}\n" for n in range(20000)).encode()
    storage.save("site.css", ContentFile(text))
    response = serving.stream(rf.get("/css", HTTP_RANGE="bytes=0-99"), storage, "site.css")
    assert response.status_code == 200
    assert not response.has_header("Accept-Ranges") and not response.has_header("ETag")
    assert b"".join(response.streaming_content) == text
    response.close()
