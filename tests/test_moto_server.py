"""Through a real HTTP server (moto in server mode): the boto-era route
(``AWS_S3_HOST`` + ``AWS_S3_USE_SSL = False``, as MinIO users configure it)
and ``AWS_S3_ENDPOINT_URL``. Every URL from ``url()`` is fetched with a plain
HTTP client and must return the exact bytes.
"""

import urllib.request
import uuid

import boto3
import pytest
from django.core.files.base import ContentFile

from sigv4_storage import SigV4S3Storage, SigV4StaticStorage
from tests.test_storage import NAMES
from tests.util import ACCESS_KEY, SECRET_KEY, key_path, verify_presigned_url

ROUTES = ["host", "endpoint_url"]


@pytest.fixture(params=ROUTES)
def server_settings(request, settings, credentials, moto_server):
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=f"http://{moto_server}",
        region_name="ap-northeast-2",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    ).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
    )
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_REGION_NAME = "ap-northeast-2"
    if request.param == "host":
        settings.AWS_S3_HOST = moto_server
        settings.AWS_S3_USE_SSL = False
    else:
        settings.AWS_S3_ENDPOINT_URL = f"http://{moto_server}"
    return settings


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


@pytest.mark.parametrize("name", NAMES)
def test_presigned_urls_fetch_the_exact_bytes(server_settings, moto_server, name):
    storage = SigV4S3Storage()
    assert storage.s3_config.endpoint_url == f"http://{moto_server}"
    body = uuid.uuid4().bytes + name.encode()
    saved = storage.save(name, ContentFile(body))
    url = storage.url(saved)
    verified = verify_presigned_url(url, secret_key=SECRET_KEY)
    assert verified.host == moto_server.split(":")[0]
    assert verified.path == f"/{server_settings.AWS_STORAGE_BUCKET_NAME}" + key_path(name)
    assert fetch(url) == (200, body)


def test_public_urls_fetch_the_exact_bytes(server_settings):
    storage = SigV4StaticStorage(default_acl="public-read")
    storage.save("css/site one.css", ContentFile(b"body{color:red}"))
    url = storage.url("css/site one.css")
    assert "X-Amz-" not in url
    assert fetch(url) == (200, b"body{color:red}")
