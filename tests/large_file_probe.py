"""One large-file operation in a fresh process, measured: peak memory, requests.

    python -m tests.large_file_probe OPERATION CLASS NAME SIZE

run with ``PROBE_ENDPOINT``, ``PROBE_BUCKET``, ``PROBE_ACCESS_KEY`` and
``PROBE_SECRET_KEY`` in the environment. CLASS is ``sigv4_storage`` or
``django-storages`` (its ``S3Storage``, SigV4 forced) or ``boto3`` (raw
``download_fileobj`` / ``upload_fileobj``). Prints one JSON object: the
growth of the peak resident memory over the process's memory just before the
operation (MiB), the requests the client sent, the seconds it took and the
SHA-256 of the bytes read or written (``save``: none; the caller checks the
object). The tests (``test_large_files.py``)
assert on memory and requests; ``benchmarks/run.py`` prints all of it.

Operations: ``read1k`` (``open().read(1024)``), ``chunks`` (the whole object
through ``chunks()``), ``response`` (``FileResponse(storage.open(name))``
streamed), ``readall`` (``open().read()``, the whole object in memory),
``write`` (``open(name, "wb")`` in 1 MiB writes) and ``save``
(``save()`` of a stream that cannot seek) and ``savefile`` (``save()`` of a
file on disk, as Django's ``TemporaryUploadedFile``). Written bytes are SIZE bytes of
``pattern()``, so the caller knows their hash.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import time

MB = 1024 * 1024


def pattern(size: int):
    """``size`` bytes, deterministic, in 1 MiB blocks (not compressible)."""
    block = hashlib.shake_256(b"sigv4_storage large files").digest(MB)
    for offset in range(0, size, MB):
        yield block[: min(MB, size - offset)]


class Stream(io.RawIOBase):
    """``pattern(size)`` as a stream that cannot seek, as a request body."""

    def __init__(self, size: int) -> None:
        self._blocks = pattern(size)
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self._left:
            self._left = next(self._blocks, b"")
        count = min(len(buffer), len(self._left))
        buffer[:count] = self._left[:count]
        self._left = self._left[count:]
        return count


def _status(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    raise LookupError(field)


def rss_mib() -> float:
    """Resident memory now; and the peak is reset to it (Linux's clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:  # pragma: no cover - then the peak since exec, still ours
        pass
    return _status("VmRSS")


def peak_mib() -> float:
    """This process's peak resident memory. Not ``getrusage``'s ``ru_maxrss``:
    Linux carries that over ``fork`` + ``exec`` from the parent, so a probe
    started by a large test process would report the parent's size."""
    return _status("VmHWM")


def configure() -> dict[str, str]:
    import django
    from django.conf import settings

    env = {k: os.environ[f"PROBE_{k.upper()}"] for k in ("endpoint", "bucket")}
    settings.configure(
        INSTALLED_APPS=["sigv4_storage"],
        AWS_ACCESS_KEY_ID=os.environ["PROBE_ACCESS_KEY"],
        AWS_SECRET_ACCESS_KEY=os.environ["PROBE_SECRET_KEY"],
        AWS_STORAGE_BUCKET_NAME=env["bucket"],
        AWS_S3_ENDPOINT_URL=env["endpoint"],
        AWS_S3_REGION_NAME="us-east-1",
        AWS_S3_SIGNATURE_VERSION="s3v4",
        AWS_S3_ADDRESSING_STYLE="path",
        USE_TZ=True,
    )
    django.setup()
    return env


def main(operation: str, kind: str, name: str, size: int) -> dict[str, object]:
    env = configure()
    from django.core.files.base import File
    from django.http import FileResponse

    if kind == "boto3":
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=env["endpoint"],
            region_name="us-east-1",
            aws_access_key_id=os.environ["PROBE_ACCESS_KEY"],
            aws_secret_access_key=os.environ["PROBE_SECRET_KEY"],
        )
        storage = None
    else:
        if kind == "sigv4_storage":
            from sigv4_storage import SigV4S3Storage as Storage
        else:
            from storages.backends.s3 import S3Storage as Storage
        storage = Storage()
        client = storage.connection.meta.client
    requests = []
    client.meta.events.register("before-send.s3", lambda request, **_: requests.append(1))
    client.list_objects_v2(Bucket=env["bucket"], MaxKeys=1)  # connected, warm
    del requests[:]
    digest = hashlib.sha256()

    class Sink:
        def write(self, data: bytes) -> int:
            digest.update(data)
            return len(data)

    if operation == "savefile":  # as Django's TemporaryUploadedFile: a file on disk
        import tempfile

        on_disk = tempfile.TemporaryFile()  # noqa: SIM115 (lives until the process ends)
        for block in pattern(size):
            on_disk.write(block)
        on_disk.seek(0)
    before = rss_mib()
    started = time.perf_counter()
    if operation == "read1k" and storage is None:
        digest.update(client.get_object(Bucket=env["bucket"], Key=name)["Body"].read(1024))
    elif operation == "read1k":
        with storage.open(name) as f:
            digest.update(f.read(1024))
    elif operation == "chunks" and storage is None:
        client.download_fileobj(env["bucket"], name, Sink())
    elif operation == "chunks":
        with storage.open(name) as f:
            for chunk in f.chunks():
                digest.update(chunk)
    elif operation == "readall":
        with storage.open(name) as f:
            digest.update(f.read())
    elif operation == "response":
        response = FileResponse(storage.open(name))
        for chunk in response.streaming_content:
            digest.update(chunk)
        response.close()
    elif operation == "write":
        with storage.open(name, "wb") as f:
            for block in pattern(size):
                f.write(block)
                digest.update(block)
    elif operation == "save" and storage is None:
        client.upload_fileobj(io.BufferedReader(Stream(size)), env["bucket"], name)
    elif operation == "save":
        storage.save(name, File(io.BufferedReader(Stream(size)), name=name))
    elif operation == "savefile":
        storage.save(name, File(on_disk, name=name))
    else:
        raise SystemExit(f"unknown operation {operation!r} for {kind!r}")
    elapsed = time.perf_counter() - started
    return {
        "growth_mib": round(max(0.0, peak_mib() - before), 1),
        "requests": len(requests),
        "seconds": round(elapsed, 3),
        "sha256": None if operation.startswith("save") else digest.hexdigest(),
    }


def expected_sha256(size: int, limit: int | None = None) -> str:
    digest = hashlib.sha256()
    seen = 0
    for block in pattern(size):
        if limit is not None:
            block = block[: max(0, limit - seen)]
        digest.update(block)
        seen += len(block)
    return digest.hexdigest()


if __name__ == "__main__":
    operation, kind, name, size = sys.argv[1:5]
    print(json.dumps(main(operation, kind, name, int(size))))
