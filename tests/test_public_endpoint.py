"""``public_endpoint_url`` resolution (no server: see test_proxy for nginx)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from sigv4_storage import SigV4S3Storage
from tests.util import SECRET_KEY, resolved, verify_presigned_url


@pytest.mark.parametrize(
    ("settings_", "bucket_url"),
    [
        (
            {"AWS_S3_ENDPOINT_URL": "http://minio:9000"},
            "https://files.example.com/my-bucket",
        ),
        (
            {"AWS_S3_HOST": "minio:9000", "AWS_S3_USE_SSL": False},
            "https://files.example.com/my-bucket",
        ),
        (
            {"AWS_S3_ENDPOINT_URL": "http://minio:9000", "AWS_S3_ADDRESSING_STYLE": "virtual"},
            "https://my-bucket.files.example.com",
        ),
        ({"AWS_S3_REGION_NAME": "eu-west-1"}, "https://my-bucket.files.example.com"),
    ],
)
def test_urls_use_the_public_host_requests_do_not(settings_, bucket_url):
    s3 = resolved(AWS_S3_PUBLIC_ENDPOINT_URL="https://files.example.com/", **settings_)
    assert s3.public_bucket_url == bucket_url
    assert s3.public_endpoint_url == "https://files.example.com"
    assert "files.example.com" not in s3.endpoint_url
    assert str(s3.sources["public_endpoint_url"]) == "settings.AWS_S3_PUBLIC_ENDPOINT_URL"


def test_a_path_prefix_and_port_are_kept():
    s3 = resolved(
        AWS_S3_ENDPOINT_URL="http://minio:9000",
        AWS_S3_PUBLIC_ENDPOINT_URL="https://files.example.com:8443/s3",
    )
    assert s3.public_bucket_url == "https://files.example.com:8443/s3/my-bucket"


def test_options_beat_class_attributes_beat_settings():
    kwargs = {
        "AWS_S3_ENDPOINT_URL": "http://minio:9000",
        "AWS_S3_PUBLIC_ENDPOINT_URL": "https://setting.example.com",
    }
    s3 = resolved(class_attrs={"public_endpoint_url": "https://class.example.com"}, **kwargs)
    assert s3.public_endpoint_url == "https://class.example.com"
    s3 = resolved(
        {"public_endpoint_url": "https://option.example.com"},
        class_attrs={"public_endpoint_url": "https://class.example.com"},
        **kwargs,
    )
    assert (s3.public_endpoint_url, str(s3.sources["public_endpoint_url"])) == (
        "https://option.example.com",
        "OPTIONS['public_endpoint_url']",
    )


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("files.example.com", "cannot be used"),
        ("https://", "cannot be used"),
        ("ftp://files.example.com", "cannot be used"),
        (8443, "must be a string"),
    ],
)
def test_bad_values_are_refused_naming_the_setting(value, words):
    with pytest.raises(ImproperlyConfigured, match=words) as excinfo:
        resolved(AWS_S3_ENDPOINT_URL="http://minio:9000", AWS_S3_PUBLIC_ENDPOINT_URL=value)
    assert "AWS_S3_PUBLIC_ENDPOINT_URL" in str(excinfo.value)


def test_custom_domain_and_public_endpoint_exclude_each_other():
    with pytest.raises(ImproperlyConfigured, match="not both"):
        resolved(
            AWS_S3_ENDPOINT_URL="http://minio:9000",
            AWS_S3_PUBLIC_ENDPOINT_URL="https://files.example.com",
            AWS_S3_CUSTOM_DOMAIN="cdn.example.com",
        )


def test_fast_urls_are_signed_for_the_public_host(settings, credentials, no_network):
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    settings.AWS_S3_ENDPOINT_URL = "http://minio:9000"
    settings.AWS_S3_PUBLIC_ENDPOINT_URL = "https://files.example.com"
    storage = SigV4S3Storage()
    verified = verify_presigned_url(storage.url("a b.txt"), secret_key=SECRET_KEY)
    assert (verified.host, verified.path) == ("files.example.com", "/media/a%20b.txt")
    assert storage.endpoint_url == "http://minio:9000"
