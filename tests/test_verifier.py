"""The independent SigV4 verifier used by the other tests must be able to fail."""

import datetime as dt

import boto3
import pytest
from botocore.config import Config

from tests.util import SECRET_KEY, SignatureMismatch, verify_presigned_url


@pytest.fixture
def url():
    client = boto3.client(
        "s3",
        region_name="ap-northeast-2",
        aws_access_key_id="AKIAVERIFIER",
        aws_secret_access_key=SECRET_KEY,
        config=Config(signature_version="s3v4"),
    )
    return client.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": "b-bucket",
            "Key": "한글 a+b~c%d.txt",
            "ResponseContentDisposition": "attachment",
        },
        ExpiresIn=600,
    )


def test_accepts_botocores_url(url):
    verified = verify_presigned_url(url, secret_key=SECRET_KEY)
    assert (verified.region, verified.access_key, verified.expires) == (
        "ap-northeast-2",
        "AKIAVERIFIER",
        600,
    )


def test_rejects_a_wrong_secret(url):
    with pytest.raises(SignatureMismatch):
        verify_presigned_url(url, secret_key=SECRET_KEY + "x")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("b-bucket", "c-bucket"),
        ("attachment", "inline"),
        ("X-Amz-Expires=600", "X-Amz-Expires=6000"),
        ("%2B", "%20"),
    ],
)
def test_rejects_tampering(url, old, new):
    assert old in url
    with pytest.raises(SignatureMismatch):
        verify_presigned_url(url.replace(old, new, 1), secret_key=SECRET_KEY)


def test_rejects_expired(url):
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=601)
    with pytest.raises(SignatureMismatch, match="not valid now"):
        verify_presigned_url(url, secret_key=SECRET_KEY, now=later)


def test_rejects_sigv2():
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="AKIAVERIFIER",
        aws_secret_access_key=SECRET_KEY,
    )
    url = client.generate_presigned_url("get_object", Params={"Bucket": "b-bucket", "Key": "k"})
    with pytest.raises(SignatureMismatch, match="not a SigV4 URL"):
        verify_presigned_url(url, secret_key=SECRET_KEY)
