"""Races for one name on real servers: with ``file_overwrite=False`` nothing is lost.

Threads (and processes) save the same name at the same instant. Every save
must return a distinct name whose object holds exactly the bytes that save
sent (SHA-256), single-part and multipart alike, with no open multipart
upload left. Runs once, in the ``integration`` env, on SeaweedFS and moto
server (each through ``AWS_S3_HOST`` and ``AWS_S3_ENDPOINT_URL``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading

import pytest
from django.core.files.base import ContentFile

from sigv4_storage import SigV4S3Storage
from tests.conftest import FIGURES
from tests.faults import Rule
from tests.servers import SERVERS

pytestmark = pytest.mark.integration
MB = 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def race(threads: int, save) -> list[tuple[str, str]]:
    """Run ``save(n)`` in ``threads`` threads released together; (name, sha) each."""
    start = threading.Barrier(threads)
    results: list = [None] * threads

    def work(n: int) -> None:
        try:
            start.wait()
            results[n] = save(n)
        except Exception as error:  # noqa: BLE001 - reported below
            results[n] = error

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    return results


def assert_nothing_lost(server, bucket: str, saved: list[tuple[str, str]]) -> None:
    client = server.client()
    names = [name for name, _ in saved]
    assert len(set(names)) == len(names), f"names handed out twice: {names}"
    for name, digest in saved:
        stored = client.get_object(Bucket=bucket, Key=name)["Body"].read()
        assert sha(stored) == digest, f"{name} holds another save's bytes"
    assert not client.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_sixteen_threads_saving_one_name_lose_nothing(server, settings):
    storage = SigV4S3Storage(file_overwrite=False)
    lost = 0
    for round_ in range(5):

        def save(n: int, round_=round_) -> tuple[str, str]:
            data = f"round {round_} thread {n} ".encode() * 50 + os.urandom(16)
            return storage.save(f"round{round_}/avatar.jpg", ContentFile(data)), sha(data)

        saved = race(16, save)
        assert_nothing_lost(server, storage.bucket_name, saved)
        lost += 16 - len({name for name, _ in saved})
    FIGURES.append(f"creates ({server.kind}): 16 threads x 5 rounds on one name, {lost} lost")


def test_a_multipart_upload_of_a_taken_name_is_aborted_and_sent_again(server):
    """12 MB: above the 8 MB threshold, so refused at CompleteMultipartUpload."""
    storage = SigV4S3Storage(file_overwrite=False)
    first, second = os.urandom(12 * MB), os.urandom(12 * MB)
    saved = [
        (storage.save("videos/clip.mp4", ContentFile(first)), sha(first)),
        (storage.save("videos/clip.mp4", ContentFile(second)), sha(second)),
    ]
    assert saved[0][0] == "videos/clip.mp4" != saved[1][0]
    assert_nothing_lost(server, storage.bucket_name, saved)


# Neither test server settles *simultaneous* conditional CompleteMultipartUpload
# calls atomically: moto server lets two racing completions both succeed, and
# SeaweedFS 4.48 did in 2 of 8 runs here (1 of the 4 files lost). S3 itself does settle
# them (a 412 or 409 for the loser). The race runs on SeaweedFS and is reported;
# the sequential case above is what these servers guarantee, and it is asserted.
@pytest.mark.xfail(
    reason="SeaweedFS does not always settle simultaneous conditional multipart "
    "completions atomically",
    strict=False,
)
@pytest.mark.parametrize(
    "server", [p for p in SERVERS if p.values[0][0] == "seaweedfs"], indirect=True
)
def test_four_multipart_uploads_of_one_name_lose_nothing(server):
    """12 MB each, released together: one completes, three are refused and re-sent."""
    storage = SigV4S3Storage(file_overwrite=False)

    def save(n: int) -> tuple[str, str]:
        data = os.urandom(12 * MB)
        return storage.save("videos/clip.mp4", ContentFile(data)), sha(data)

    saved = race(4, save)
    names = {name for name, _ in saved}
    FIGURES.append(
        f"creates ({server.kind}): 4 multipart uploads of one name, {4 - len(names)} lost"
    )
    assert_nothing_lost(server, storage.bucket_name, saved)
    assert "videos/clip.mp4" in names


def test_a_new_name_costs_one_request_on_a_real_server(server):
    storage = SigV4S3Storage(file_overwrite=False)
    sent: list[str] = []
    for create in (False, True):
        storage._shared(signed=True, create=create).client.meta.events.register(
            "before-send.s3", lambda request, **_: sent.append(request.method)
        )
    storage.save("one/request.txt", ContentFile(b"x"))
    assert sent == ["PUT"]
    storage.save("one/request.txt", ContentFile(b"y"))  # taken: refused, then a new name
    assert sent == ["PUT", "PUT", "PUT"]


PROCESS = """
import hashlib, json, os, sys, threading
import django
from django.conf import settings
settings.configure(**json.loads(sys.argv[1]))
django.setup()
from django.core.files.base import ContentFile
from sigv4_storage import SigV4S3Storage

storage = SigV4S3Storage(file_overwrite=False)
start = threading.Barrier(4)
out = []

def work(n):
    data = f"pid {os.getpid()} thread {n} ".encode() * 100
    start.wait()
    out.append((storage.save("shared/report.pdf", ContentFile(data)),
                hashlib.sha256(data).hexdigest()))

threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps(out))
"""


def test_four_processes_of_four_threads_lose_nothing(server, settings):
    names = (
        "AWS_STORAGE_BUCKET_NAME",
        "AWS_S3_REGION_NAME",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_S3_HOST",
        "AWS_S3_USE_SSL",
        "AWS_S3_ENDPOINT_URL",
    )
    configured = {n: getattr(settings, n) for n in names if hasattr(settings, n)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PROCESS, json.dumps(configured)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    saved = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-2000:]
        saved += [tuple(item) for item in json.loads(out)]
    assert len(saved) == 16
    assert_nothing_lost(server, settings.AWS_STORAGE_BUCKET_NAME, saved)


def test_a_server_without_conditional_writes_falls_back(faulty, caplog):
    """The proxy answers 501 NotImplemented to any request with If-None-Match."""
    weed, proxy, bucket = faulty
    proxy.rules.append(
        Rule(
            lambda method, path: method in ("PUT", "POST"),
            501,
            "NotImplemented",
            header="If-None-Match",
        )
    )
    storage = SigV4S3Storage(file_overwrite=False)
    first = storage.save("fallback.txt", ContentFile(b"first"))
    second = SigV4S3Storage(file_overwrite=False).save("fallback.txt", ContentFile(b"second"))
    assert (first, proxy.injected) == ("fallback.txt", 1)  # asked once, then remembered
    assert second != first
    assert "does not support conditional writes" in caplog.text
    client = weed.client()
    assert client.get_object(Bucket=bucket, Key=first)["Body"].read() == b"first"
    assert client.get_object(Bucket=bucket, Key=second)["Body"].read() == b"second"


def test_s3doctor_reports_a_server_without_conditional_writes(faulty, settings):
    from django.core.files.storage import StorageHandler

    from sigv4_storage.doctor import WARN, Doctor

    weed, proxy, bucket = faulty
    proxy.rules.append(
        Rule(lambda method, path: method == "PUT", 501, "NotImplemented", header="If-None-Match")
    )
    storage = StorageHandler({"default": {"BACKEND": "sigv4_storage.SigV4S3Storage"}})["default"]
    report = Doctor(storage, "default", write=True).run()
    found = next(f for f in report.findings if f.name == "atomic create")
    assert found.status == WARN and "not supported (NotImplemented)" in found.detail
    assert "Contents" not in weed.client().list_objects_v2(Bucket=bucket)
