"""A distributed run: a Ceph cluster of three OSDs (pool size 3) loses one,
SIGKILLed, while threads save and read through the RADOS Gateway.

Nothing a caller was told is saved may be lost or changed: every name a
``save()`` returned holds exactly the bytes saved, every read of a saved file
gives its bytes or raises (never other bytes). The errors callers saw are
counted and reported. Runs once, in the ``integration`` env.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile

from sigv4_storage import SigV4S3Storage
from tests.conftest import FIGURES, skip_or_fail
from tests.servers import CEPH_PACKAGES, RGW_ADMIN, Server, ceph_binaries, ceph_rgw, use_bucket

pytestmark = pytest.mark.integration
MB = 1024 * 1024
THREADS = 6
OPERATIONS = 40  # per thread


@pytest.fixture(scope="module")
def cluster():
    if not ceph_binaries():
        skip_or_fail(f"Ceph not found: apt-get install -y {' '.join(CEPH_PACKAGES)}")
    with ceph_rgw(osds=3) as server:
        yield server


def test_an_osd_killed_during_saves_and_reads_loses_nothing(cluster, settings):
    server = Server("rgw", cluster.endpoint, *RGW_ADMIN)
    with server.bucket("cluster") as bucket:
        use_bucket(settings, server, bucket)
        settings.AWS_S3_TRANSFER_CONFIG = TransferConfig(
            multipart_threshold=5 * MB, multipart_chunksize=5 * MB, max_concurrency=2
        )
        storage = SigV4S3Storage(file_overwrite=False)
        saved: dict[str, str] = {}  # name -> sha256 of what its save() sent
        errors: list[str] = []
        wrong: list[str] = []
        reads = [0]
        lock = threading.Lock()
        start = threading.Barrier(THREADS + 1)

        def work(n: int) -> None:
            rng = random.Random(n)
            start.wait()
            for i in range(OPERATIONS):
                try:
                    if i % 2 == 0 or not saved:
                        size = 6 * MB if i % 10 == 0 else rng.randint(1, 64 * 1024)
                        data = os.urandom(size)
                        # Threads share names: every save of one name must get its own.
                        name = storage.save(f"up/{i % 7}.bin", ContentFile(data))
                        with lock:
                            assert name not in saved, f"{name} handed out twice"
                            saved[name] = hashlib.sha256(data).hexdigest()
                    else:
                        with lock:
                            name, digest = rng.choice(sorted(saved.items()))
                        with storage.open(name) as f:
                            got = hashlib.sha256(f.read()).hexdigest()
                        with lock:
                            reads[0] += 1
                            if got != digest:
                                wrong.append(name)
                except AssertionError:
                    raise
                except Exception as error:  # noqa: BLE001 - what callers saw, counted
                    with lock:
                        errors.append(f"{type(error).__name__}: {str(error)[:120]}")

        first = storage.save("up/first.bin", ContentFile(b"first"))  # makes the data pool
        saved[first] = hashlib.sha256(b"first").hexdigest()
        pools = cluster.ceph("osd", "pool", "ls", "detail")
        data = next(pool for pool in pools if pool["pool_name"].endswith("buckets.data"))
        assert (data["size"], cluster.osds_up()) == (3, 3)  # three copies on three OSDs
        workers = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(THREADS)]
        for worker in workers:
            worker.start()
        start.wait()
        time.sleep(1.0)
        killed_at = time.monotonic()
        cluster.kill_osd(1)
        for worker in workers:
            worker.join(timeout=600)
        took = time.monotonic() - killed_at
        assert not any(worker.is_alive() for worker in workers)
        assert cluster.osds_up() == 2  # the cluster noticed, and went on with two copies

        client = server.client()

        def holds(name: str, digest: str) -> bool:
            try:
                stored = client.get_object(Bucket=bucket, Key=name)["Body"].read()
            except ClientError:
                return False
            return hashlib.sha256(stored).hexdigest() == digest

        lost = [name for name, digest in saved.items() if not holds(name, digest)]
        FIGURES.append(
            f"ceph (3 OSDs, one SIGKILLed): {len(saved)} saves, {reads[0]} reads, "
            f"{len(errors)} errors seen by callers, {len(lost)} lost, {len(wrong)} wrong reads, "
            f"{took:.1f} s after the kill" + (f"; first error: {errors[0]}" if errors else "")
        )
        assert lost == []
        assert wrong == []
        assert len(saved) >= THREADS * OPERATIONS // 4  # the cluster kept working
        assert not client.list_multipart_uploads(Bucket=bucket).get("Uploads")
