"""Bad input, faults and load: nothing lost, nothing leaked.

Bad input runs on moto in-process with every request recorded (there must
be none). Faults and load run on SeaweedFS (``integration``): failures are
injected by a proxy in front of it (``tests/faults.py``). The figures
(operations, threads, faults, bytes verified) are printed at the end of the
run.
"""

import hashlib
import io
import json
import logging
import os
import random
import threading
import time

import pytest
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.core.files.base import ContentFile
from django.core.management import call_command

from sigv4_storage import SigV4S3Storage, clients
from sigv4_storage.checks import check_storage_security, check_storages
from tests.conftest import FIGURES
from tests.faults import Rule
from tests.servers import ADMIN, REGION
from tests.util import SECRET_KEY, RequestLog, create_bucket, fetch

MB = 1024 * 1024


# -- bad input: refused before any request, nothing written ----------------------------
@pytest.fixture
def recorded(settings, moto_aws):
    settings.AWS_STORAGE_BUCKET_NAME = "input-bucket"
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    client = create_bucket("input-bucket", "eu-central-1")
    storage = SigV4S3Storage(location="media")
    storage.settle_region()
    log = RequestLog(storage.connection.meta.client, SECRET_KEY)
    return storage, client, log


BAD_NAMES = {
    "escapes the location": "../outside.txt",
    "escapes deeper": "a/../../outside.txt",
    "absolute": "/etc/passwd",
    "NUL": "report\x00.pdf",
    "control character": "tab\there.txt",
    "DEL": "del\x7f.txt",
    "1025 bytes": "k" * 1025,
    "1026 bytes in Korean": "한" * 342,
    "empty": "",
    "a dot": ".",
    "a slash": "/",
}


@pytest.mark.parametrize("name", list(BAD_NAMES.values()), ids=list(BAD_NAMES))
def test_bad_names_are_refused_before_any_request(recorded, name):
    storage, client, log = recorded
    for call in (
        lambda: storage.save(name, ContentFile(b"x")),
        lambda: storage.open(name),
        lambda: storage.exists(name),
        lambda: storage.size(name),
        lambda: storage.delete(name),
    ):
        with pytest.raises(SuspiciousOperation) as excinfo:
            call()
        message = str(excinfo.value)
        assert (
            repr(name)[:20] in message
            or "path traversal" in message
            or ("Could not derive file name" in message)
            or "denied" in message
        )
    if name.strip("/. ") and "\x00" not in name:
        with pytest.raises(SuspiciousOperation):
            storage.url(name)
    assert log == []  # not one request
    assert "Contents" not in client.list_objects_v2(Bucket="input-bucket")


def test_the_errors_say_what_is_wrong_and_the_fix(recorded):
    storage, _, _ = recorded
    with pytest.raises(SuspiciousOperation, match=r"control character U\+0000.*get_valid_filename"):
        storage.save("a\x00b.txt", ContentFile(b"x"))
    with pytest.raises(SuspiciousOperation, match=r"1032 bytes in UTF-8; S3 keys are at most 1024"):
        storage.exists("x" * 1026)
    with pytest.raises(SuspiciousOperation, match=r"'' names no file"):
        storage.open("")
    assert storage.listdir("") == ([], [])  # the root itself is fine


def test_the_longest_key_s3_accepts_is_accepted(recorded):
    storage, client, _ = recorded
    name = "k" * (1024 - len("media/"))
    storage.save(name, ContentFile(b"edge"))
    assert client.head_object(Bucket="input-bucket", Key="media/" + name)["ContentLength"] == 4


# -- faults, through a proxy in front of SeaweedFS ---------------------------------------
def is_put(method, path):
    return method == "PUT" and "partNumber" not in path


@pytest.mark.integration
def test_throttling_is_retried_then_succeeds(faulty):
    weed, proxy, bucket = faulty
    proxy.rules.append(Rule(is_put, status=503, code="SlowDown", times=2))
    SigV4S3Storage().save("retried.txt", ContentFile(b"after two SlowDowns"))
    assert proxy.injected == 2
    assert weed.client().get_object(Bucket=bucket, Key="retried.txt")["Body"].read() == (
        b"after two SlowDowns"
    )


@pytest.mark.integration
def test_a_failing_server_ends_in_a_clear_error(faulty):
    _, proxy, _ = faulty
    proxy.rules.append(Rule(lambda m, p: m == "PUT", status=500, code="InternalError"))
    with pytest.raises(ClientError) as excinfo:
        SigV4S3Storage().save("never.txt", ContentFile(b"x"))
    message = str(excinfo.value)
    assert "(reached max retries: 4)" in message  # standard mode: 5 attempts
    assert "kept failing" in message and "AWS_S3_CLIENT_CONFIG" in message
    assert proxy.injected == 5


@pytest.mark.integration
def test_a_server_dying_mid_multipart_upload_leaves_nothing(faulty, settings):
    weed, proxy, bucket = faulty
    settings.AWS_S3_CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 2})
    # Every part after the first: the connection drops half-way through the body.
    proxy.rules.append(
        Rule(lambda m, p: m == "PUT" and "partNumber=1&" not in p and "partNumber" in p)
    )
    body = os.urandom(21 * MB)
    with pytest.raises((BotoCoreError, ClientError, OSError)):
        SigV4S3Storage().save("big/partial.bin", ContentFile(body))
    assert proxy.injected >= 2
    client = weed.client()
    with pytest.raises(ClientError) as missing:
        client.head_object(Bucket=bucket, Key="big/partial.bin")
    assert missing.value.response["Error"]["Code"] in ("404", "NoSuchKey")
    assert not client.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert any(m == "DELETE" and "uploadId=" in p for m, p in proxy.seen)  # aborted, not lost


@pytest.mark.integration
def test_a_stalled_server_times_out_naming_the_endpoint(faulty, settings):
    _, proxy, bucket = faulty
    settings.AWS_S3_CLIENT_CONFIG = Config(read_timeout=1, retries={"total_max_attempts": 2})
    proxy.rules.append(Rule(lambda m, p: m == "HEAD", delay=2.5))
    with pytest.raises(ReadTimeoutError) as excinfo:
        SigV4S3Storage().exists("slow.txt")
    message = str(excinfo.value)
    assert f'Read timeout on endpoint URL: "http://{proxy.endpoint}/{bucket}/slow.txt"' in message
    assert f"bucket {bucket!r} at http://{proxy.endpoint} (region {REGION})" in message
    assert proxy.injected == 2  # both attempts stalled, then it gave up


def test_connection_refused_names_the_endpoint_and_region(settings, credentials):
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.AWS_S3_REGION_NAME = "garage"
    with pytest.raises(EndpointConnectionError) as excinfo:
        SigV4S3Storage().exists("a.txt")
    message = str(excinfo.value)
    assert 'Could not connect to the endpoint URL: "http://127.0.0.1:9/media/a.txt"' in message
    assert "bucket 'media' at http://127.0.0.1:9 (region garage)" in message


def test_timeouts_and_retries_have_sane_defaults_and_can_be_set(settings, credentials):
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    config = SigV4S3Storage().client_config
    assert (config.connect_timeout, config.read_timeout) == (5, 30)
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}
    settings.AWS_S3_CLIENT_CONFIG = Config(read_timeout=120, retries={"mode": "adaptive"})
    config = SigV4S3Storage().client_config
    assert (config.connect_timeout, config.read_timeout) == (5, 120)
    assert config.retries == {"mode": "adaptive"}


# -- load ---------------------------------------------------------------------------------
@pytest.mark.integration
def test_sixteen_threads_on_shared_storages(settings, seaweedfs, weed_bucket):
    weed, bucket = weed_bucket
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY = ADMIN
    settings.AWS_S3_ENDPOINT_URL = f"http://{seaweedfs.endpoint}"
    shared = [SigV4S3Storage(), SigV4S3Storage()]  # two instances, one configuration
    threads, rounds = 16, 25  # 8 operations a round: 3200 operations
    counts = {"operations": 0, "bytes": 0, "urls": 0}
    errors, lock = [], threading.Lock()
    start = threading.Barrier(threads)

    def work(n):
        rng = random.Random(n)
        storage = shared[n % 2]
        done = verified = urls = 0
        try:
            start.wait()
            for i in range(rounds):
                body = rng.randbytes(rng.randint(1, 64 * 1024))
                digest = hashlib.sha256(body).hexdigest()
                name = storage.save(f"t{n:02d}/{i:03d} 파일+{digest[:6]}.bin", ContentFile(body))
                assert storage.exists(name)
                assert storage.size(name) == len(body)
                with storage.open(name) as f:
                    assert hashlib.sha256(f.read()).hexdigest() == digest
                url = storage.url(name)
                if i % 5 == 0:
                    status, _, fetched = fetch(url)
                    assert status == 200 and hashlib.sha256(fetched).hexdigest() == digest
                    urls += 1
                other = shared[(n + 1) % 2]  # the other instance sees it too
                assert other.exists(name)
                storage.delete(name)
                assert not other.exists(name)
                done += 8
                verified += len(body) * (2 if i % 5 == 0 else 1)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        with lock:
            counts["operations"] += done
            counts["bytes"] += verified
            counts["urls"] += urls

    started = time.monotonic()
    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.monotonic() - started

    assert errors == []
    assert counts["operations"] == threads * rounds * 8
    assert weed.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0  # nothing lost/left
    assert clients.count() == 1  # one client for the configuration, whatever the threads
    FIGURES.append(
        f"load: {threads} threads, {counts['operations']} operations, 0 errors, "
        f"{counts['bytes'] / MB:.1f} MB verified by SHA-256 ({counts['urls']} URLs fetched), "
        f"{clients.count()} client, {elapsed:.1f} s"
    )


# -- secrets ---------------------------------------------------------------------------------
@pytest.mark.integration
def test_nothing_the_package_emits_contains_a_secret(
    settings, seaweedfs, weed_bucket, caplog, capsys
):
    """Errors, DEBUG logs, repr/str, checks and s3doctor (text and JSON)."""
    token = "IQoJb3JpZ2luX2VjE-session-token-that-must-never-leak"
    _, bucket = weed_bucket
    settings.DEBUG = False
    settings.STORAGES = {"default": {"BACKEND": "sigv4_storage.SigV4S3Storage"}}
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = f"http://{seaweedfs.endpoint}"
    settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY = ADMIN
    emitted = []
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("botocore").setLevel(
            logging.INFO
        )  # ours at DEBUG, not botocore's wire log
        good = SigV4S3Storage()
        good.save("a.txt", ContentFile(b"a"))
        emitted += [repr(good), str(good), good.url("a.txt").split("X-Amz-Signature")[0]]
        emitted += [json.dumps(good.s3_config.describe(), default=str), repr(good.s3_config)]
        settings.AWS_SECRET_ACCESS_KEY = "wrong/secret+key-must-never-leak"
        settings.AWS_SESSION_TOKEN = token
        bad = SigV4S3Storage()
        for call in (
            lambda: bad.save("b.txt", ContentFile(b"b")),
            lambda: bad.open("a.txt").read(),
            lambda: bad.exists("a.txt"),
            lambda: SigV4S3Storage(querystring_expire=10**7),
            lambda: SigV4S3Storage(endpoint_url="http://127.0.0.1:9").exists("a"),
        ):
            try:
                call()
            except Exception as error:  # noqa: BLE001 - collected
                emitted += [str(error), repr(error)]
        emitted += [str(m) for m in check_storages() + check_storage_security()]
        from django.core.files import storage as storage_module

        storage_module.storages._storages.clear()
        for args in ((), ("--json",), ("--write",), ("--legacy",)):
            out = io.StringIO()
            try:
                call_command("s3doctor", *args, stdout=out, stderr=out)
            except Exception as error:  # noqa: BLE001 - exit 1 is expected
                emitted.append(str(error))
            emitted.append(out.getvalue())
    emitted += [caplog.text, *capsys.readouterr()]
    text = "\n".join(emitted)
    assert "s3doctor" in text and "sigv4_storage" in caplog.text  # things were emitted
    for secret in (ADMIN[1], "wrong/secret+key-must-never-leak", token):
        assert secret not in text
    FIGURES.append(f"secrets: {len(text)} characters emitted, no secret key or token in them")


def test_improperly_configured_never_echoes_credentials(settings):
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    settings.AWS_S3_ENDPOINT_URL = "http://user:hunter2-secret@minio:9000/x y"
    with pytest.raises(ImproperlyConfigured) as excinfo:
        SigV4S3Storage()
    assert "hunter2-secret" not in str(excinfo.value)


def keys_of(client, bucket):
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


@pytest.mark.integration
@pytest.mark.parametrize("size", [5, 12 * MB], ids=["put", "multipart"])
def test_a_lost_answer_to_a_create_is_recognised_as_ours(faulty, size):
    """The server stores the object, the answer is lost, botocore retries and gets 412:
    before, save() took that for another upload and stored a second copy under a new
    name, leaving the first orphaned. Now the write id in the object's metadata says
    it was this save's own."""
    weed, proxy, bucket = faulty
    body = os.urandom(size)
    completes = (lambda m, p: m == "POST" and "uploadId=" in p) if size > 5 else is_put
    proxy.rules.append(Rule(completes, status=None, forward=True, times=1))
    name = SigV4S3Storage(file_overwrite=False).save("s5.bin", ContentFile(body))
    assert proxy.injected == 1
    assert name == "s5.bin"
    client = weed.client()
    assert keys_of(client, bucket) == ["s5.bin"]
    assert client.get_object(Bucket=bucket, Key="s5.bin")["Body"].read() == body
    assert not client.list_multipart_uploads(Bucket=bucket).get("Uploads")


@pytest.mark.integration
def test_another_uploads_file_still_gets_the_next_name(faulty):
    """The write id tells our own retry from someone else's file of the same name."""
    weed, _, bucket = faulty
    weed.client().put_object(Bucket=bucket, Key="taken.txt", Body=b"someone else's")
    name = SigV4S3Storage(file_overwrite=False).save("taken.txt", ContentFile(b"mine"))
    assert name != "taken.txt" and name.startswith("taken_")
    assert weed.client().get_object(Bucket=bucket, Key="taken.txt")["Body"].read() == (
        b"someone else's"
    )
