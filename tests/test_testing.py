"""``sigv4_storage.testing.reset()``: what a project's own conftest calls."""

import os
import subprocess
import sys

import pytest
from django.core.files.base import ContentFile
from moto import mock_aws

from sigv4_storage import SigV4S3Storage, clients, discovery, signer
from sigv4_storage.testing import reset
from tests.util import SECRET_KEY, create_bucket, verify_presigned_url


@pytest.fixture
def storage(settings, credentials, no_network):
    settings.AWS_STORAGE_BUCKET_NAME = "project-bucket"
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    return SigV4S3Storage()


def test_a_storage_built_before_mock_aws_reaches_moto_after_reset(storage):
    before = storage.connection.meta.client  # built outside the mock: real botocore
    url = storage.url("a.txt")
    with mock_aws():
        create_bucket("project-bucket", "eu-central-1")
        reset()
        name = storage.save("a.txt", ContentFile(b"mocked"))  # no_network: moto or fail
        with storage.open(name) as f:
            assert f.read() == b"mocked"
        assert storage.connection.meta.client is not before
        assert storage.bucket.meta.client is storage.connection.meta.client
    assert verify_presigned_url(url, secret_key=SECRET_KEY).region == "eu-central-1"


TRAP = """
import socket, sys
import django
from django.conf import settings
settings.configure(
    AWS_STORAGE_BUCKET_NAME="project-bucket", AWS_S3_REGION_NAME="eu-central-1",
    AWS_ACCESS_KEY_ID="AKIATEST", AWS_SECRET_ACCESS_KEY="not-a-secret",
)
django.setup()
from django.core.files.base import ContentFile
from sigv4_storage import SigV4S3Storage
from sigv4_storage.testing import reset

def refuse(self, address, *args, **kwargs):
    raise OSError("network refused by the test")

socket.socket.connect = refuse
storage = SigV4S3Storage()
storage.connection  # built before moto is imported, as a project's module-level code may
from moto import mock_aws
with mock_aws():
    import boto3
    boto3.client("s3", region_name="eu-central-1").create_bucket(
        Bucket="project-bucket",
        CreateBucketConfiguration={"LocationConstraint": "eu-central-1"},
    )
    if sys.argv[1] == "reset":
        reset()
    try:
        storage.save("a.txt", ContentFile(b"x"))
        print("moto")
    except Exception as error:
        print("network", type(error).__name__)
"""


@pytest.mark.parametrize(("call_reset", "reached"), [(False, "network"), (True, "moto")])
def test_a_client_built_before_moto_is_imported_needs_reset(call_reset, reached, tmp_path):
    """The trap reset() exists for, in a fresh process (this one imported moto long ago)."""
    script = tmp_path / "trap.py"
    script.write_text(TRAP)
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, str(script), "reset" if call_reset else "keep"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == reached, done.stdout


def test_reset_forgets_regions_failed_asks_and_signing_keys(storage, monkeypatch):
    s3 = storage.s3_config
    discovery._regions[discovery.cache_key(s3)] = "eu-central-1"
    discovery._failed[("aws", "other")] = discovery.clock()
    signer.day_key(signer.Keys("AKIA", SECRET_KEY), "20261129", "eu-central-1")
    storage.url("a")
    assert clients.count() == 1
    reset()
    assert discovery.cached_region(s3) is None
    assert discovery._failed == {}
    assert signer._day_keys == {}
    assert clients.count() == 0
