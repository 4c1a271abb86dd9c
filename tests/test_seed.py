"""The blog post this project started from (../shared/seed/): two settings
blocks from a company moving from Tokyo to Seoul. With only the storage path
changed, both must upload, download and give URLs on the Seoul host.

On Django 4.2 the storage is named by ``DEFAULT_FILE_STORAGE``, as in the
post; Django 5.1 removed that setting, so there it is named in ``STORAGES``
(the one change Django itself requires), the AWS_* settings unchanged.
"""

import boto3
import django
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import StorageHandler

from sigv4_storage import SigV4S3Storage
from tests.util import RequestLog, verify_presigned_url

SEOUL_HOST = "8percent-bucket.s3.ap-northeast-2.amazonaws.com"

# Verbatim from the post, but for the storage path.
SEED_SETTINGS = {
    "AWS_ACCESS_KEY_ID": "access_key_id",
    "AWS_SECRET_ACCESS_KEY": "secret_access_key",
    "AWS_REGION": "ap-northeast-2",
    "AWS_STORAGE_BUCKET_NAME": "8percent-bucket",
    "AWS_QUERYSTRING_AUTH": False,
}
BLOCKS = {
    # Block 1: a custom S3BotoStorage subclass plus os.environ['S3_USE_SIGV4'] = 'True'.
    "env-sigv4": ({}, {"S3_USE_SIGV4": "True"}),
    # Block 2: the "simpler" way, AWS_S3_HOST = 's3.%s.amazonaws.com' % AWS_REGION.
    "aws-s3-host": ({"AWS_S3_HOST": "s3.%s.amazonaws.com" % "ap-northeast-2"}, {}),  # noqa: UP031
}


def default_storage_for(settings, path="sigv4_storage.SigV4S3Storage"):
    if django.VERSION < (5, 1):
        settings.DEFAULT_FILE_STORAGE = path
    else:
        settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": path}}
    return StorageHandler()["default"]


@pytest.fixture(params=sorted(BLOCKS))
def seed(request, settings, monkeypatch, no_network):
    from moto import mock_aws

    extra_settings, environ = BLOCKS[request.param]
    for name, value in {**SEED_SETTINGS, **extra_settings}.items():
        setattr(settings, name, value)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client(
            "s3",
            region_name="ap-northeast-2",
            aws_access_key_id="access_key_id",
            aws_secret_access_key="secret_access_key",
        ).create_bucket(
            Bucket="8percent-bucket",
            CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"},
        )
        yield settings


@pytest.mark.filterwarnings("ignore:The DEFAULT_FILE_STORAGE setting is deprecated")
def test_seed_settings_upload_download_and_url(seed):
    storage = default_storage_for(seed)
    assert isinstance(storage, SigV4S3Storage)
    requests = RequestLog(storage.connection.meta.client, "secret_access_key")

    name = storage.save("loans/계약서 2016.pdf", ContentFile(b"%PDF-1.4 contract"))
    assert name == "loans/계약서 2016.pdf"
    with storage.open(name) as handle:
        assert handle.read() == b"%PDF-1.4 contract"
    assert storage.exists(name)

    url = storage.url(name)
    assert url == (f"https://{SEOUL_HOST}/loans/%EA%B3%84%EC%95%BD%EC%84%9C%202016.pdf")
    # Every request went to the Seoul host, signed with SigV4 for ap-northeast-2
    # (RequestLog recomputes each Authorization header).
    assert requests, "no request was recorded"
    assert requests.hosts == {SEOUL_HOST}
    assert {region for _, _, region in requests} == {"ap-northeast-2"}


@pytest.mark.filterwarnings("ignore:The DEFAULT_FILE_STORAGE setting is deprecated")
def test_seed_settings_presigned_when_querystring_auth_is_on(seed):
    seed.AWS_QUERYSTRING_AUTH = True
    storage = default_storage_for(seed)
    storage.save("statement.txt", ContentFile(b"x"))
    url = storage.url("statement.txt")
    assert url.startswith(f"https://{SEOUL_HOST}/statement.txt?")
    verified = verify_presigned_url(url, secret_key="secret_access_key")
    assert (verified.region, verified.access_key) == ("ap-northeast-2", "access_key_id")
