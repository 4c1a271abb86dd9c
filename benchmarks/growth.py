"""How costs grow with the work: django-storages and sigv4_storage side by side.

    python benchmarks/growth.py                      # the sizes below
    python benchmarks/growth.py --quick              # small sizes, about two minutes
    python benchmarks/growth.py --plot docs/_static/growth.svg

- ``collectstatic`` of generated trees (``tests.util.static_tree``) of each
  size in ``--files``, ``S3ManifestStaticStorage`` against
  ``SigV4ManifestStaticStorage``, a fresh process per run as a deploy makes
  it: into an empty bucket, then again after a fresh checkout (nothing
  changed). Seconds, milliseconds per file, S3 requests (counted at a proxy)
  and peak resident memory of the process. django-storages runs the sizes up
  to ``--theirs-up-to`` (about 80 ms a file on a 2-core machine: 20,000 files
  would take an hour); ours runs them all.
- ``listdir("")`` of ``--keys`` keys, both, in one process, interleaved.
- whole reads (``open().read()`` and ``chunks()``) and ``save()`` of a file on
  disk, of each size in ``--objects`` MiB, a fresh process per operation
  (``tests/large_file_probe.py``): peak memory above the process's and seconds.
- per-call costs: ``benchmarks/per_call.py``.

Against SeaweedFS when ``weed`` is installed, else moto in server mode.
Ratios are the result; absolute times on a shared machine are noise.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024
#: Prints the peak resident memory (MiB) of the process after the command ran.
RUN_AND_PEAK = """
import runpy, sys
sys.argv = ["django", "collectstatic", "--noinput", "-v", "0"]
try:
    runpy.run_module("django", run_name="__main__")
except SystemExit as done:
    if done.code:
        raise
from tests.large_file_probe import peak_mib
print("PEAK", peak_mib())
"""


def collectstatic_growth(server: Any, sizes: list[int], theirs_up_to: int) -> list[dict[str, Any]]:
    from benchmarks.collectstatic import BACKENDS, SETTINGS
    from tests.faults import FaultProxy
    from tests.servers import remove_bucket
    from tests.util import static_tree

    rows = []
    client = server.client()
    for files in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "bench_settings.py").write_text(SETTINGS)
            static_tree(work / "static", files=files)
            for who, backend in BACKENDS.items():
                if who == "django-storages" and files > theirs_up_to:
                    continue
                bucket = f"growth-{files}-{who.replace('_', '-')}-{os.getpid()}"
                client.create_bucket(Bucket=bucket)
                proxy = FaultProxy(server.endpoint.split("//", 1)[1])
                proxy.start()
                try:
                    for phase in ("first run", "unchanged"):
                        if phase == "unchanged":  # a fresh checkout: every file newer
                            later = time.time() + 60
                            for path in (work / "static").rglob("*"):
                                os.utime(path, (later, later))
                        proxy.seen.clear()
                        seconds, peak = _collectstatic(work, backend, bucket, proxy, server)
                        rows.append(
                            {
                                "files": files,
                                "who": who,
                                "phase": phase,
                                "seconds": seconds,
                                "requests": len(proxy.seen),
                                "peak_mib": peak,
                            }
                        )
                        print(
                            f"    {files:>7} files  {who:<16}{phase:<11}{seconds:8.1f} s"
                            f"{seconds / files * 1e3:8.2f} ms/file{len(proxy.seen):>7} req"
                            f"{peak:7.0f} MiB",
                            flush=True,
                        )
                finally:
                    proxy.stop()
                    remove_bucket(client, bucket)
    return rows


def _collectstatic(
    work: Path, backend: str, bucket: str, proxy: Any, server: Any
) -> tuple[float, float]:
    from benchmarks.collectstatic import command_env

    env = command_env(work, backend, bucket, f"http://{proxy.endpoint}", server.keys)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_PEAK],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    peak = float(done.stdout.split("PEAK")[-1])
    return seconds, peak


def listdir_growth(server: Any, sizes: list[int]) -> list[dict[str, Any]]:
    from storages.backends.s3 import S3Storage

    from sigv4_storage import SigV4S3Storage
    from tests.servers import remove_bucket

    client = server.client()
    rows = []
    for keys in sizes:
        bucket = f"listdir-{keys}-{os.getpid()}"
        client.create_bucket(Bucket=bucket)
        try:
            with concurrent.futures.ThreadPoolExecutor(32) as pool:
                list(
                    pool.map(
                        lambda n, b=bucket: client.put_object(
                            Bucket=b, Key=f"k/{n:07d}.txt", Body=b""
                        ),
                        range(keys),
                    )
                )
            options = {**server.options(), "bucket_name": bucket}
            storages = {
                "django-storages": S3Storage(
                    **options, signature_version="s3v4", addressing_style="path"
                ),
                "sigv4_storage": SigV4S3Storage(**options),
            }
            best: dict[str, tuple[float, int]] = {}
            for _ in range(2):
                for who, storage in storages.items():
                    sent = [0]
                    events = storage.connection.meta.client.meta.events
                    count = lambda sent=sent, **_: sent.__setitem__(0, sent[0] + 1)  # noqa: E731
                    events.register("before-send.s3", count)
                    started = time.perf_counter()
                    _, found = storage.listdir("k/")
                    seconds = time.perf_counter() - started
                    events.unregister("before-send.s3", count)
                    assert len(found) == keys, (who, len(found))
                    if who not in best or seconds < best[who][0]:
                        best[who] = (seconds, sent[0])
            for who, (seconds, requests) in best.items():
                rows.append({"keys": keys, "who": who, "seconds": seconds, "requests": requests})
                print(f"    {keys:>7} keys   {who:<16}{seconds:8.2f} s{requests:>7} req")
        finally:
            remove_bucket(client, bucket)
    return rows


def object_growth(server: Any, sizes: list[int]) -> list[dict[str, Any]]:
    from benchmarks.large_files import probe
    from tests.large_file_probe import Stream

    client = server.client()
    rows = []
    for mib in sizes:
        size = mib * MIB
        client.upload_fileobj(io.BufferedReader(Stream(size)), "bench-bucket", "large/read.bin")
        for operation in ("readall", "chunks", "savefile"):
            for who in ("django-storages", "sigv4_storage"):
                found = probe(server.endpoint, server.keys, operation, who, size)
                rows.append({"mib": mib, "who": who, "operation": operation, **found})
                print(
                    f"    {mib:>7} MiB    {who:<16}{operation:<10}{found['seconds']:8.2f} s"
                    f"{found['growth_mib']:9.1f} MiB above the start",
                    flush=True,
                )
    return rows


def svg(rows: list[dict[str, Any]], path: Path) -> None:
    """collectstatic milliseconds per file against files (both on log scales),
    per package and phase: a flat line is linear growth."""
    import math

    series: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for row in rows:
        series.setdefault((row["who"], row["phase"]), []).append(
            (row["files"], row["seconds"] / row["files"] * 1e3)
        )
    width, height, left, bottom, top, right = 720, 380, 70, 50, 20, 230
    xs = [x for points in series.values() for x, _ in points]
    ys = [y for points in series.values() for _, y in points]
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))

    def px(x: float) -> float:
        return left + (math.log10(x) - x0) / ((x1 - x0) or 1.0) * (width - left - right)

    def py(y: float) -> float:
        return height - bottom - (math.log10(y) - y0) / ((y1 - y0) or 1) * (height - top - bottom)

    colours = {"django-storages": "#c0392b", "sigv4_storage": "#2c7a3f"}
    dashes = {"first run": "", "unchanged": "6 4"}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" '
        f'y2="{height - bottom}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
        f'<text x="{(left + width - right) / 2}" y="{height - 10}" text-anchor="middle">'
        f"files collected (log scale)</text>",
        f'<text x="15" y="{(top + height - bottom) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 15 {(top + height - bottom) / 2})">ms per file (log scale)</text>',
    ]
    for x in sorted(set(xs)):
        parts.append(
            f'<text x="{px(x):.1f}" y="{height - bottom + 16}" text-anchor="middle">{x:,}</text>'
        )
    for y in (m * 10**e for e in range(y0, y1 + 1) for m in (1, 2, 5) if m * 10**e <= 10**y1):
        parts.append(
            f'<text x="{left - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:g}</text>'
            f'<line x1="{left}" y1="{py(y):.1f}" x2="{width - right}" y2="{py(y):.1f}" '
            f'stroke="#ddd"/>'
        )
    for n, ((who, phase), points) in enumerate(sorted(series.items())):
        line = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in sorted(points))
        parts.append(
            f'<polyline points="{line}" fill="none" stroke="{colours[who]}" stroke-width="2" '
            f'stroke-dasharray="{dashes[phase]}"/>'
        )
        for x, y in points:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colours[who]}"/>')
        ly = top + 10 + n * 18
        parts.append(
            f'<line x1="{width - right + 12}" y1="{ly}" x2="{width - right + 36}" y2="{ly}" '
            f'stroke="{colours[who]}" stroke-width="2" stroke-dasharray="{dashes[phase]}"/>'
            f'<text x="{width - right + 42}" y="{ly + 4}">{who}, {phase}</text>'
        )
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--files", help="collectstatic tree sizes (default 1000,5000,20000)")
    parser.add_argument("--theirs-up-to", type=int, default=2000, help="largest tree for theirs")
    parser.add_argument("--keys", help="listdir sizes (default 10000,100000)")
    parser.add_argument("--objects", help="object sizes in MiB (default 1,64,1024)")
    parser.add_argument("--no-per-call", action="store_true", help="skip per_call.py")
    parser.add_argument("--plot", type=Path, help="write the collectstatic curve here (SVG)")
    args = parser.parse_args()

    def sizes(given: str | None, full: str, quick: str) -> list[int]:
        return [int(n) for n in (given or (quick if args.quick else full)).split(",") if n]

    from benchmarks.common import Server, configure_django

    configure_django()
    server = Server()
    try:
        server.client().create_bucket(Bucket="bench-bucket")
        print(f"\ncollectstatic ({server.kind}, a fresh process per run, requests at a proxy)")
        collected = collectstatic_growth(
            server, sizes(args.files, "1000,5000,20000", "100,300"), args.theirs_up_to
        )
        if args.plot:
            svg(collected, args.plot)
        print(f"\nlistdir ({server.kind}, best of 2, interleaved)")
        listdir_growth(server, sizes(args.keys, "10000,100000", "1000,5000"))
        print(f"\nwhole objects ({server.kind}, a fresh process per operation)")
        object_growth(server, sizes(args.objects, "1,64,1024", "1,16"))
        if not args.no_per_call:
            from benchmarks import per_call
            from benchmarks.common import print_targets

            print_targets(per_call.report(server, args.quick))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
