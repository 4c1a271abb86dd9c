"""Per-call costs of the request paths: django-storages' ``S3Storage`` and ours.

    python benchmarks/per_call.py            # 1,000 calls, 5 rounds
    python benchmarks/per_call.py --quick    # 200 calls, 2 rounds

``exists()``, ``size()``, ``get_modified_time()``, ``delete()`` and ``open()``
(with one 1 KiB ``read()``), each in a fresh process per package (as a
deploy's first requests meet them), the packages interleaved round by round:
the first call (building the session, client and connection) and the mean of
the calls after it, and the requests each call sent, counted on the client.
Against SeaweedFS when ``weed`` is installed, else moto in server mode.
Also called by ``benchmarks/growth.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OPERATIONS = ("exists", "size", "get_modified_time", "delete", "open")
PACKAGES = ("django-storages", "sigv4_storage")


def child(package: str, operation: str, calls: int) -> dict[str, float]:
    """One fresh process's measure (run with ``--child``): seconds of the first
    call, mean seconds of the others, requests per call."""
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["sigv4_storage"],
        AWS_ACCESS_KEY_ID=os.environ["BENCH_ACCESS_KEY"],
        AWS_SECRET_ACCESS_KEY=os.environ["BENCH_SECRET_KEY"],
        AWS_STORAGE_BUCKET_NAME=os.environ["BENCH_BUCKET"],
        AWS_S3_ENDPOINT_URL=os.environ["BENCH_ENDPOINT"],
        AWS_S3_REGION_NAME="us-east-1",
        AWS_S3_ADDRESSING_STYLE="path",
        AWS_S3_SIGNATURE_VERSION="s3v4",
        USE_TZ=True,
    )
    django.setup()
    if package == "sigv4_storage":
        from sigv4_storage import SigV4S3Storage as Storage
    else:
        from storages.backends.s3 import S3Storage as Storage
    storage = Storage()
    name = "per-call/object.txt"

    def call(i: int) -> Any:
        if operation == "open":
            with storage.open(name) as f:
                return f.read(1024)
        if operation == "delete":
            return storage.delete(f"per-call/absent-{i}.txt")  # S3 answers 204 either way
        return getattr(storage, operation)(name)

    started = time.perf_counter()
    call(0)
    first = time.perf_counter() - started
    sent = [0]
    storage.connection.meta.client.meta.events.register(
        "before-send.s3", lambda **_: sent.__setitem__(0, sent[0] + 1)
    )
    started = time.perf_counter()
    for i in range(1, calls):
        call(i)
    rest = (time.perf_counter() - started) / max(1, calls - 1)
    return {"first": first, "per_call": rest, "requests": sent[0] / max(1, calls - 1)}


def measure(server: Any, quick: bool) -> dict[str, dict[str, dict[str, list[float]]]]:
    """{operation: {package: {"first": [...], "per_call": [...], "requests": [...]}}}."""
    calls, rounds = (200, 2) if quick else (1000, 5)
    client = server.client()
    bucket = f"per-call-{os.getpid()}"
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="per-call/object.txt", Body=os.urandom(4096))
    env = {
        **os.environ,
        "BENCH_BUCKET": bucket,
        "BENCH_ENDPOINT": server.endpoint,
        "BENCH_ACCESS_KEY": server.keys[0],
        "BENCH_SECRET_KEY": server.keys[1],
        "PYTHONPATH": str(ROOT),
    }
    results: dict[str, dict[str, dict[str, list[float]]]] = {}
    try:
        for round_ in range(rounds):
            for operation in OPERATIONS:
                # Who goes first alternates: a warmer machine favours neither.
                order = PACKAGES if round_ % 2 == 0 else PACKAGES[::-1]
                for package in order:
                    done = subprocess.run(
                        [sys.executable, __file__, "--child", package, operation, str(calls)],
                        env=env,
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    found = json.loads(done.stdout.strip().splitlines()[-1])
                    by = results.setdefault(operation, {}).setdefault(package, {})
                    for field, value in found.items():
                        by.setdefault(field, []).append(value)
    finally:
        from tests.servers import remove_bucket

        remove_bucket(client, bucket)
    return results


def report(server: Any, quick: bool) -> list[tuple[str, bool]]:
    results = measure(server, quick)
    print(
        f"\nPer call, a fresh process per package and operation ({server.kind}); "
        f"median of the rounds"
    )
    print(
        f"  {'':<20}{'first call (ms)':>24}{'each after (µs)':>24}{'ours/theirs':>13}"
        f"{'requests':>10}"
    )
    targets = []
    for operation, by in results.items():
        ds, ours = by["django-storages"], by["sigv4_storage"]
        first = (statistics.median(ds["first"]) * 1e3, statistics.median(ours["first"]) * 1e3)
        each = (statistics.median(ds["per_call"]) * 1e6, statistics.median(ours["per_call"]) * 1e6)
        requests = (statistics.median(ds["requests"]), statistics.median(ours["requests"]))
        print(
            f"  {operation + '()':<20}{first[0]:>11.1f} {first[1]:>11.1f}"
            f"{each[0]:>12.0f} {each[1]:>11.0f}{each[1] / each[0]:>12.2f}×"
            f"{requests[0]:>5.0f} {requests[1]:>4.0f}"
        )
        targets.append(
            (
                f"{operation}(): no more requests than django-storages' "
                f"({requests[1]:.0f} against {requests[0]:.0f})",
                requests[1] <= requests[0],
            )
        )
        targets.append(
            (
                f"{operation}(): each call within 10 % of django-storages' or faster "
                f"({each[1] / each[0]:.2f}×)",
                each[1] <= each[0] * 1.10,
            )
        )
    return targets


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        package, operation, calls = sys.argv[2], sys.argv[3], int(sys.argv[4])
        print(json.dumps(child(package, operation, calls)))
        return 0
    from benchmarks.common import run_alone

    return run_alone(report, __doc__, "200 calls and 2 rounds instead of 1,000 and 5")


if __name__ == "__main__":
    sys.exit(main())
