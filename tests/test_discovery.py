"""The bucket's region, asked once per bucket per process (``discovery``).

moto's buckets live in several regions; every request the probe client sends
is recorded (and its signature recomputed), so the tests count HeadBuckets.
"""

import logging
import pickle
import socket
import threading
import warnings

import boto3
import pytest
from botocore.exceptions import ClientError
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from sigv4_storage import SigV4S3Storage, SigV4StaticStorage, SigV4StorageWarning, discovery
from sigv4_storage.conf import Kind
from tests.util import (
    ACCESS_KEY,
    SECRET_KEY,
    RequestLog,
    create_bucket,
    resolved,
    verify_presigned_url,
)

BUCKETS = {
    "bucket-in-virginia": "us-east-1",
    "bucket-in-frankfurt": "eu-central-1",
    "bucket-in-seoul": "ap-northeast-2",
    "bucket-in-sao-paulo": "sa-east-1",
}


@pytest.fixture
def buckets(moto_aws):
    for bucket, region in BUCKETS.items():
        create_bucket(bucket, region)
    return BUCKETS


@pytest.fixture
def probes(monkeypatch):
    """The request logs of every region probe client the storages build."""
    logs = []
    original = SigV4S3Storage.probe_client

    def recording(self):
        client = original(self)
        logs.append(RequestLog(client, SECRET_KEY))
        return client

    monkeypatch.setattr(SigV4S3Storage, "probe_client", recording)
    return logs


def head_buckets(logs):
    return [(url, region) for log in logs for method, url, region in log if method == "HEAD"]


def test_no_region_configured_uses_the_buckets_own(buckets, probes, settings):
    for bucket, region in buckets.items():
        settings.AWS_STORAGE_BUCKET_NAME = bucket
        storage = SigV4S3Storage()
        assert storage.s3_config.region == "us-east-1"  # nothing asked yet: offline
        assert len(head_buckets(probes)) == list(buckets).index(bucket)

        storage.save("a.txt", ContentFile(b"a"))
        url = storage.url("a.txt")

        verified = verify_presigned_url(url, secret_key=SECRET_KEY)
        assert verified.region == region
        host = "s3.amazonaws.com" if region == "us-east-1" else f"s3.{region}.amazonaws.com"
        assert verified.host == f"{bucket}.{host}"
        assert storage.s3_config.region == region
        assert str(storage.s3_config.sources["region"]) == (
            "the bucket's region (HeadBucket x-amz-bucket-region)"
        )
    assert len(head_buckets(probes)) == len(buckets)


def test_one_head_bucket_per_bucket_per_process(buckets, probes, settings):
    """Many storages, many threads, static and media: one question per bucket."""
    errors = []
    start = threading.Barrier(8)

    def work(bucket):
        try:
            start.wait()
            for cls in (SigV4S3Storage, SigV4StaticStorage):
                storage = cls(bucket_name=bucket)
                for name in ("x", "y"):
                    url = storage.url(name)
                    if cls is SigV4S3Storage:
                        verified = verify_presigned_url(url, secret_key=SECRET_KEY)
                        assert verified.region == buckets[bucket]
                    else:
                        assert storage.s3_config.region == buckets[bucket]
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(b,)) for b in list(buckets) * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    heads = head_buckets(probes)
    assert sorted(url.split("/")[2].split(".")[0] for url, _ in heads) == sorted(buckets)


def test_a_configured_region_the_bucket_is_not_in_is_followed_with_a_warning(
    buckets, probes, settings
):
    settings.AWS_STORAGE_BUCKET_NAME = "bucket-in-seoul"
    settings.AWS_S3_REGION_NAME = "eu-west-1"
    settings.AWS_S3_DISCOVER_REGION = True  # a named region is trusted unless told
    storage = SigV4S3Storage()
    with pytest.warns(SigV4StorageWarning, match="'bucket-in-seoul' is in 'ap-northeast-2', not"):
        url = storage.url("a.txt")
    assert verify_presigned_url(url, secret_key=SECRET_KEY).region == "ap-northeast-2"
    assert "over settings.AWS_S3_REGION_NAME='eu-west-1'" in str(
        storage.s3_config.sources["region"]
    )
    assert any("eu-west-1" in note for note in storage.s3_config.notes)
    storage.save("b.txt", ContentFile(b"b"))  # requests follow too
    assert storage.exists("b.txt")


def test_a_region_mismatch_can_raise_before_anything_is_written(buckets, probes, settings):
    settings.AWS_STORAGE_BUCKET_NAME = "bucket-in-seoul"
    settings.AWS_S3_REGION_NAME = "eu-west-1"
    settings.AWS_S3_DISCOVER_REGION = True
    settings.AWS_S3_REGION_MISMATCH = "raise"
    storage = SigV4S3Storage()
    with pytest.raises(ImproperlyConfigured) as excinfo:
        storage.save("never.txt", ContentFile(b"x"))
    message = str(excinfo.value)
    assert "'bucket-in-seoul' is in 'ap-northeast-2', not in 'eu-west-1'" in message
    assert "settings.AWS_S3_REGION_NAME" in message and "AWS_S3_REGION_MISMATCH" in message
    settings.AWS_S3_REGION_NAME = "ap-northeast-2"
    assert not SigV4S3Storage().exists("never.txt")


def test_a_matching_region_changes_nothing(buckets, probes, settings):
    settings.AWS_STORAGE_BUCKET_NAME = "bucket-in-frankfurt"
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    settings.AWS_S3_DISCOVER_REGION = True
    storage = SigV4S3Storage()
    before = storage.s3_config
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        storage.url("a.txt")
    assert storage.s3_config is before
    assert len(head_buckets(probes)) == 1


def test_discovery_off_asks_nothing(buckets, probes, settings):
    settings.AWS_STORAGE_BUCKET_NAME = "bucket-in-seoul"
    settings.AWS_S3_DISCOVER_REGION = False
    storage = SigV4S3Storage()
    assert verify_presigned_url(storage.url("a"), secret_key=SECRET_KEY).region == "us-east-1"
    assert probes == []


def test_custom_endpoints_are_not_asked_unless_told(moto_server, settings, credentials):
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{moto_server}",
        region_name="eu-west-3",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    client.create_bucket(
        Bucket="custom-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    settings.AWS_STORAGE_BUCKET_NAME = "custom-bucket"
    settings.AWS_S3_ENDPOINT_URL = f"http://{moto_server}"
    storage = SigV4S3Storage()
    storage.url("a")
    assert storage.s3_config.region == "us-east-1"
    assert discovery.cached_region(storage.s3_config) is None

    settings.AWS_S3_DISCOVER_REGION = True
    told = SigV4S3Storage()
    assert verify_presigned_url(told.url("a"), secret_key=SECRET_KEY).region == "eu-west-3"
    assert discovery.cached_region(told.s3_config) == "eu-west-3"


def test_an_unreachable_endpoint_is_not_cached_and_logged(settings, credentials, caplog):
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # discard port: refused
    settings.AWS_S3_DISCOVER_REGION = True
    settings.AWS_S3_REGION_NAME = "garage"
    storage = SigV4S3Storage()
    with caplog.at_level(logging.WARNING, logger="sigv4_storage"):
        url = storage.url("a")
    assert verify_presigned_url(url, secret_key=SECRET_KEY).region == "garage"
    assert "Could not ask bucket 'media' at http://127.0.0.1:9" in caplog.text
    assert discovery.cached_region(storage.s3_config) is None


class FakeClient:
    def __init__(self, outcome):
        self.outcome = outcome
        self.calls = 0

    def head_bucket(self, Bucket):  # noqa: N803 - botocore's spelling
        self.calls += 1
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def answer(status, region=None):
    headers = {"x-amz-bucket-region": region} if region else {}
    return {"ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers}}


@pytest.mark.parametrize("status", [403, 301, 400])
def test_the_region_header_is_read_from_refusals_too(status):
    s3 = resolved(AWS_S3_REGION_NAME="us-east-1")
    refused = ClientError({**answer(status, "ap-southeast-3"), "Error": {"Code": str(status)}}, "H")
    client = FakeClient(refused)
    assert discovery.bucket_region(s3, lambda: client) == "ap-southeast-3"
    assert discovery.bucket_region(s3, lambda: FakeClient(None)) == "ap-southeast-3"  # cached
    assert client.calls == 1


def test_a_failed_ask_is_remembered_for_a_while(caplog, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(discovery, "clock", lambda: now[0])
    s3 = resolved(AWS_S3_REGION_NAME="us-east-1")
    silent = FakeClient(answer(200))
    assert discovery.bucket_region(s3, lambda: silent) is None
    assert "did not report its region (HTTP 200)" in caplog.text
    now[0] += discovery.RETRY_AFTER - 1
    assert discovery.bucket_region(s3, lambda: silent) is None
    assert silent.calls == 1  # not asked again yet
    now[0] += 1
    told = FakeClient(answer(200, "eu-west-2"))
    assert discovery.bucket_region(s3, lambda: told) == "eu-west-2"
    assert (silent.calls, told.calls) == (1, 1)


@pytest.mark.parametrize(
    "said",
    [
        "<MagicMock name='mock.head_bucket().get().get().get()' id='1'>",
        "eu-west-1 ",
        "",
        "cn-north-1",  # another partition than the aws endpoint's
        "moon-base-1",
        "ap-northeast-2\r\nX-Injected: 1",
    ],
)
def test_answers_that_are_not_regions_of_the_partition_are_not_trusted(said, caplog):
    s3 = resolved(AWS_S3_REGION_NAME="us-east-1")
    assert discovery.bucket_region(s3, lambda: FakeClient(answer(200, said))) is None
    assert "did not report its region" in caplog.text


def test_a_mocked_boto3_answers_nothing():
    """Projects' tests patch boto3.Session: a MagicMock is no region."""
    from unittest import mock

    s3 = resolved(AWS_S3_REGION_NAME="us-east-1")
    assert discovery.bucket_region(s3, lambda: mock.MagicMock()) is None


def test_custom_endpoints_accept_any_region_name():
    s3 = resolved(AWS_S3_ENDPOINT_URL="http://minio:9000", AWS_S3_DISCOVER_REGION=True)
    assert discovery.bucket_region(s3, lambda: FakeClient(answer(200, "garage"))) == "garage"


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("AWS_S3_DISCOVER_REGION", "yes", "AWS_S3_DISCOVER_REGION must be True, False or None"),
        ("AWS_S3_REGION_MISMATCH", "ignore", "'ignore' is not a choice. Use 'follow'"),
        ("AWS_S3_REGION_MISMATCH", 1, "AWS_S3_REGION_MISMATCH must be a string"),
    ],
)
def test_bad_discovery_settings_are_refused(setting, value, expected):
    with pytest.raises(ImproperlyConfigured, match=expected):
        resolved(**{setting: value})


@pytest.mark.parametrize(
    ("kwargs", "asked"),
    [
        (dict(), True),  # nothing named: ask
        (dict(environ={"AWS_REGION": "eu-west-1"}), True),  # Lambda's, not the bucket's
        (dict(environ={"AWS_DEFAULT_REGION": "eu-west-1"}), True),
        (dict(AWS_S3_REGION_NAME="eu-west-1"), False),  # named: trusted
        (dict(AWS_REGION="eu-west-1"), False),
        (dict(options={"region_name": "eu-west-1"}), False),
        (dict(class_attrs={"region_name": "eu-west-1"}), False),
        (dict(AWS_S3_HOST="s3.eu-west-1.amazonaws.com"), False),
        (dict(AWS_S3_REGION_NAME="eu-west-1", AWS_S3_DISCOVER_REGION=True), True),
        (dict(AWS_S3_DISCOVER_REGION=False), False),
        (dict(AWS_S3_ENDPOINT_URL="http://minio:9000"), False),
        (dict(AWS_S3_ENDPOINT_URL="http://minio:9000", AWS_S3_DISCOVER_REGION=True), True),
    ],
)
def test_who_is_asked(kwargs, asked):
    s3 = resolved(**kwargs)
    assert s3.discover_region is asked
    assert s3.describe()["region_mismatch"] == ("follow", "default")


def test_a_region_from_the_environment_gives_way_to_the_buckets_silently(
    buckets, probes, settings, monkeypatch
):
    monkeypatch.setenv("AWS_REGION", "us-west-2")  # the Lambda's region
    settings.AWS_STORAGE_BUCKET_NAME = "bucket-in-seoul"
    storage = SigV4S3Storage()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        url = storage.url("a.txt")
    assert verify_presigned_url(url, secret_key=SECRET_KEY).region == "ap-northeast-2"
    assert "over environment AWS_REGION='us-west-2'" in str(storage.s3_config.sources["region"])
    assert len(head_buckets(probes)) == 1


def test_a_named_region_is_trusted_and_url_stays_offline(settings, credentials, no_network):
    """No moto, no network: url() must not try to reach AWS."""
    settings.AWS_STORAGE_BUCKET_NAME = "offline-bucket"
    settings.AWS_S3_REGION_NAME = "ap-northeast-2"
    for cls in (SigV4S3Storage, SigV4StaticStorage):
        for _ in range(3):
            url = cls().url("a b.txt")
            assert url.startswith(
                "https://offline-bucket.s3.ap-northeast-2.amazonaws.com/a%20b.txt"
            )
    verified = verify_presigned_url(SigV4S3Storage().url("x"), secret_key=SECRET_KEY)
    assert verified.region == "ap-northeast-2"
    assert no_network == []


def test_offline_without_a_region_one_attempt_per_bucket(
    settings, credentials, monkeypatch, caplog
):
    """Ten storages in an offline process: one failed ask, not ten."""
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    settings.AWS_STORAGE_BUCKET_NAME = "offline-bucket"
    with caplog.at_level(logging.WARNING, logger="sigv4_storage"):
        urls = [SigV4S3Storage().url("a") for _ in range(10)]
    assert len({url.split("?")[0] for url in urls}) == 1
    assert caplog.text.count("Could not ask bucket 'offline-bucket'") == 1
    assert len(attempts) <= 2  # the probe's two attempts, at most


def test_a_pickled_storage_keeps_its_settled_region(buckets, probes, settings):
    settings.AWS_STORAGE_BUCKET_NAME = "bucket-in-seoul"
    storage = SigV4S3Storage()
    storage.url("a")
    clone = pickle.loads(pickle.dumps(storage))
    assert clone.s3_config.region == "ap-northeast-2"
    clone.url("b")
    assert len(head_buckets(probes)) == 1


def test_the_buckets_region_is_resolved_over_the_settings_the_storage_was_built_with(
    buckets, probes, settings
):
    """settle_region() resolves again with the bucket's region, not with settings
    changed since the storage was built."""
    settings.AWS_STORAGE_BUCKET_NAME = "bucket-in-seoul"
    settings.AWS_QUERYSTRING_EXPIRE = 600
    storage = SigV4S3Storage()
    settings.AWS_QUERYSTRING_EXPIRE = 60  # after __init__: not this storage's value
    settings.AWS_STORAGE_BUCKET_NAME = "another-bucket"

    url = storage.url("a.txt")

    verified = verify_presigned_url(url, secret_key=SECRET_KEY)
    assert verified.region == "ap-northeast-2"
    assert storage.s3_config.bucket_name == "bucket-in-seoul"
    assert "X-Amz-Expires=600" in url
    assert storage.s3_config.source("region").kind is Kind.DISCOVERED


def test_the_first_new_file_is_signed_for_the_buckets_region(buckets, settings, monkeypatch):
    """file_overwrite=False writes through its own client (conditional creates): it
    was built before the region was asked, so the first save() of a process was
    signed for us-east-1 on the global host (AWS refuses that)."""
    from sigv4_storage import clients

    logs = []
    built = clients.shared

    def recording(config, want, access):
        shared = built(config, want, access)
        logs.append(RequestLog(shared.client, SECRET_KEY))
        return shared

    monkeypatch.setattr(clients, "shared", recording)
    settings.AWS_STORAGE_BUCKET_NAME = "bucket-in-frankfurt"
    storage = SigV4S3Storage(file_overwrite=False)
    assert storage.save("first.txt", ContentFile(b"a")) == "first.txt"
    puts = [(url, region) for log in logs for method, url, region in log if method == "PUT"]
    assert puts == [
        ("https://bucket-in-frankfurt.s3.eu-central-1.amazonaws.com/first.txt", "eu-central-1")
    ]


@pytest.mark.parametrize(
    ("kwargs", "found", "outcome", "use"),
    [
        (dict(AWS_S3_REGION_NAME="eu-west-1"), None, "UNREPORTED", None),
        (dict(AWS_S3_REGION_NAME="eu-west-1"), "eu-west-1", "SAME", None),
        ({}, "us-east-1", "SAME", "us-east-1"),  # the default matched: the bucket says so
        ({}, "ap-northeast-2", "ADOPT", "ap-northeast-2"),
        (dict(AWS_S3_REGION_NAME="eu-west-1"), "ap-northeast-2", "IGNORED", None),
        (
            dict(AWS_S3_REGION_NAME="eu-west-1", AWS_S3_DISCOVER_REGION=True),
            "ap-northeast-2",
            "FOLLOW",
            "ap-northeast-2",
        ),
        (
            dict(
                AWS_S3_REGION_NAME="eu-west-1",
                AWS_S3_DISCOVER_REGION=True,
                AWS_S3_REGION_MISMATCH="raise",
            ),
            "ap-northeast-2",
            "RAISE",
            None,
        ),
        (dict(AWS_S3_ENDPOINT_URL="http://minio:9000"), "garage", "IGNORED", None),
    ],
)
def test_the_verdict_on_the_buckets_answer(kwargs, found, outcome, use):
    """One rule for the storage (settle_region) and the doctor (its region finding)."""
    said = discovery.verdict(resolved(**kwargs), found)
    assert (said.outcome.name, said.use) == (outcome, use)
    if outcome not in ("UNREPORTED", "SAME"):
        assert said.mismatch.startswith(f"in {found!r}, not in ")


def test_the_storage_acts_on_the_verdict_the_doctor_reports(buckets, probes, settings, monkeypatch):
    """A region from the environment only is a guess: the storage uses the bucket's
    silently, and the doctor says so instead of warning that requests follow."""
    from sigv4_storage.doctor import OK, region

    monkeypatch.setenv("AWS_REGION", "us-west-2")
    settings.AWS_STORAGE_BUCKET_NAME = "bucket-in-seoul"
    storage = SigV4S3Storage()
    finding = region.answer(storage.s3_config, "ap-northeast-2")
    assert finding.status == OK
    assert "a region from the environment only is a guess" in finding.detail
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert storage.settled().region == "ap-northeast-2"


def test_the_doctor_warns_when_a_custom_server_reports_another_region(settings, credentials):
    from sigv4_storage.doctor import WARN, region

    settings.AWS_STORAGE_BUCKET_NAME = "media"
    settings.AWS_S3_ENDPOINT_URL = "http://minio:9000"
    finding = region.answer(SigV4S3Storage().s3_config, "garage")
    assert finding.status == WARN
    assert "requests are signed for 'us-east-1', which this server may refuse" in finding.detail
    assert finding.fix == "Set AWS_S3_REGION_NAME = 'garage'."
