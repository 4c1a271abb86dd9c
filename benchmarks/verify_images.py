"""What checking a direct upload reads, beside a whole download of it.

    python benchmarks/verify_images.py           # 3 rounds
    python benchmarks/verify_images.py --quick   # 1 round

For photos and other files as a browser uploads them, the checks ``clean()``
runs before accepting one (``verify.content``: the type's signature;
``verify.image``: Pillow's open and verify, the pixel limit) are run on the
stored object as ``accept`` runs them (a ``StoredUpload`` from its
``HeadObject``), and set beside ``open().read()`` of the same object, in the
same run: bytes fetched (the ``Range`` of every ``GetObject``), requests,
seconds. Against SeaweedFS when ``weed`` is installed, else moto in server
mode.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Server, configure_django, run_alone  # noqa: E402

MIB = 1024 * 1024


def photo(size: tuple[int, int], fmt: str, **options: object) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise(size, 40).convert("RGB").save(out, fmt, **options)
    return out.getvalue()


def samples() -> list[tuple[str, str, bytes]]:
    """(name, type, bytes): phone-sized photos with a colour profile before their
    pixels (as phones write them), a large PNG, a PDF."""
    icc = os.urandom(60_000)
    return [
        (
            "photo-3000x2000.jpg",
            "image/jpeg",
            photo((3000, 2000), "JPEG", quality=92, icc_profile=icc),
        ),
        (
            "photo-4032x3024.jpg",
            "image/jpeg",
            photo((4032, 3024), "JPEG", quality=85, icc_profile=icc),
        ),
        ("scan-1500x1000.png", "image/png", photo((1500, 1000), "PNG")),
        ("report.pdf", "application/pdf", b"%PDF-1.7\n" + os.urandom(6 * MIB)),
    ]


def report(server: Server, quick: bool) -> list[tuple[str, bool]]:
    configure_django()
    from sigv4_storage import SigV4S3Storage, verify

    storage = SigV4S3Storage(**server.options())
    client = storage.connection.meta.client
    client.create_bucket(Bucket=storage.bucket_name)
    fetched: list[int] = []

    def seen(request, **_: object) -> None:
        header = request.headers.get("Range")
        if request.method == "GET" and header:
            text = header.decode() if isinstance(header, bytes) else header
            first, last = text[6:].split("-")
            fetched.append(int(last) - int(first) + 1)

    client.meta.events.register("before-send.s3", seen)
    rounds = 1 if quick else 3
    targets = []
    print(f"Checking an upload before it is accepted, on {server.kind} ({rounds} rounds)")
    print(
        f"  {'file':22} {'size':>9}   {'check: KiB, GETs, ms':>22}   "
        f"{'whole read: KiB, ms':>20}   bytes  time"
    )
    for name, content_type, body in samples():
        client.put_object(Bucket=storage.bucket_name, Key=name, Body=body, ContentType=content_type)
        best_check, best_read = float("inf"), float("inf")
        for _ in range(rounds):
            head = client.head_object(Bucket=storage.bucket_name, Key=name)
            del fetched[:]
            started = time.perf_counter()
            upload = verify.StoredUpload(storage, name, name, head)
            verify.content(upload)
            if content_type.startswith("image/"):
                verify.image(upload)
            upload.close()
            best_check = min(best_check, time.perf_counter() - started)
            checked, requests = sum(fetched), len(fetched)
            del fetched[:]
            started = time.perf_counter()
            with storage.open(name) as f:
                assert f.read() == body
            best_read = min(best_read, time.perf_counter() - started)
            whole = sum(fetched)
        print(
            f"  {name:22} {len(body) / MIB:>6.1f} MiB   {checked / 1024:>8.0f} {requests:>4} "
            f"{best_check * 1000:>7.1f}   {whole / 1024:>10.0f} {best_read * 1000:>8.1f}   "
            f"{checked / whole:>5.3f} {best_check / best_read:>5.2f}"
        )
        if name == "photo-3000x2000.jpg":
            targets.append(
                (
                    f"a 3000×2000 photo of {len(body) / MIB:.1f} MiB checked in ≤ 1 MiB read "
                    f"({checked / 1024:.0f} KiB)",
                    checked <= MIB,
                )  # fmt: skip
            )
    return targets


def main() -> int:
    return run_alone(report, __doc__ or "", "one round")


if __name__ == "__main__":
    raise SystemExit(main())
