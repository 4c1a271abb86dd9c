"""One botocore client per process per configuration (``sigv4_storage.clients``)."""

import pickle
import threading

import pytest
from boto3.s3.transfer import TransferConfig
from django.core.files.base import ContentFile

from sigv4_storage import SigV4S3Storage, SigV4StaticStorage, clients
from tests.util import SECRET_KEY, create_bucket


@pytest.fixture
def bucket(settings, moto_aws):
    settings.AWS_STORAGE_BUCKET_NAME = "shared-bucket"
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    for name in ("shared-bucket", "other-bucket"):
        create_bucket(name, "eu-central-1")
    return settings


def test_threads_and_instances_share_one_client(bucket):
    errors, seen = [], []
    start = threading.Barrier(16)

    def work(n):
        try:
            start.wait()
            storage = SigV4S3Storage()  # a new instance per thread
            for i in range(5):
                name = storage.save(f"t{n}/f{i}.txt", ContentFile(f"{n}-{i}".encode()))
                assert storage.exists(name)
                with storage.open(name) as f:
                    assert f.read() == f"{n}-{i}".encode()
                storage.url(name)
            seen.append((id(storage.connection), storage.connection.meta.client))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len({resource for resource, _ in seen}) == 16  # a resource per thread...
    assert len({id(client) for _, client in seen}) == 1  # ...on one shared client
    assert clients.count() == 1


def test_each_configuration_gets_its_own_client(bucket, settings):
    media, static = SigV4S3Storage(), SigV4StaticStorage()
    other = SigV4S3Storage(bucket_name="other-bucket")
    media.save("a.txt", ContentFile(b"a"))
    static.save("b.css", ContentFile(b"b"))
    other.save("c.txt", ContentFile(b"c"))
    assert SigV4S3Storage().connection.meta.client is media.connection.meta.client
    assert other.connection.meta.client is not media.connection.meta.client
    settings.AWS_S3_ADDRESSING_STYLE = "path"  # override_settings: a new configuration
    changed = SigV4S3Storage()
    assert changed.connection.meta.client is not media.connection.meta.client
    assert changed.exists("a.txt")


def test_the_cache_holds_no_secret(bucket):
    SigV4S3Storage().save("a.txt", ContentFile(b"a"))
    assert clients.count() == 1
    assert SECRET_KEY not in repr(list(clients._clients))


def test_a_pickled_storage_uploads(bucket):
    """boto3's TransferConfig breaks when pickled; the storage rebuilds it."""
    storage = SigV4S3Storage(transfer_config=TransferConfig(multipart_threshold=6 * 1024 * 1024))
    storage.save("before.txt", ContentFile(b"before"))
    clone = pickle.loads(pickle.dumps(storage))
    clone.save("after.txt", ContentFile(b"after" * 1000))
    assert clone.exists("before.txt") and storage.exists("after.txt")
    assert clone.transfer_config.multipart_threshold == 6 * 1024 * 1024
    assert clone.connection.meta.client is storage.connection.meta.client


def test_the_bucket_is_boto3s_own_and_can_be_mocked(bucket):
    """Code and tests written for django-storages hold or mock ``storage.bucket``."""
    from unittest import mock

    storage = SigV4S3Storage()
    assert type(storage.bucket).__name__ == "s3.Bucket"
    assert storage.bucket is storage.bucket  # django-storages' cache slot
    assert storage.bucket.meta.client is storage.connection.meta.client
    storage.save("a.txt", ContentFile(b"a"))
    with mock.patch.object(storage.bucket, "Object") as fake:
        fake.return_value.content_length = 42
        assert storage.size("a.txt") == 42  # django-storages asks bucket.Object()
    fake.assert_called_once_with("a.txt")
