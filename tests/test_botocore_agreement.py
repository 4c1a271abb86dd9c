"""Our endpoints equal botocore's, for every region botocore knows.

For each region and endpoint variant, a botocore client built from the
resolved configuration presigns a URL; its scheme, host and bucket path must
be the ``bucket_url`` the package computed (the URL it will build by itself
once it stops calling botocore per URL).
"""

import boto3
import pytest
from botocore.exceptions import EndpointResolutionError, EndpointVariantError
from django.core.exceptions import ImproperlyConfigured

from sigv4_storage import endpoints
from tests.util import ACCESS_KEY, SECRET_KEY, resolved, verify_presigned_url

VARIANTS = {
    "plain": {},
    "dualstack": {"AWS_S3_USE_DUALSTACK": True},
    "fips": {"AWS_S3_USE_FIPS": True},
}


@pytest.fixture(scope="module")
def session():
    return boto3.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


def test_botocore_knows_many_regions():
    regions = endpoints.known_regions()
    assert len(regions) > 30
    assert {"ap-northeast-2", "cn-north-1", "us-gov-west-1", "us-iso-east-1"} <= set(regions)


@pytest.mark.differential
@pytest.mark.parametrize("region", endpoints.known_regions())
@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("style", ["virtual", "path"])
def test_bucket_url_equals_botocores(session, region, variant, style):
    settings = dict(AWS_S3_REGION_NAME=region, AWS_S3_ADDRESSING_STYLE=style, **VARIANTS[variant])
    try:
        config = resolved(**settings)
    except ImproperlyConfigured as error:  # refused: botocore must refuse too
        with pytest.raises((EndpointResolutionError, EndpointVariantError)):
            client = session.client("s3", region_name=region, config=_config_like(settings))
            client.generate_presigned_url("get_object", Params={"Bucket": "my-bucket", "Key": "k"})
        assert "no endpoint" in str(error)
        return
    client = session.client("s3", **config.client_kwargs())
    url = client.generate_presigned_url("get_object", Params={"Bucket": "my-bucket", "Key": "k"})
    assert url.startswith(config.bucket_url + "/k?"), (url, config.bucket_url)
    verified = verify_presigned_url(url, secret_key=SECRET_KEY)
    assert verified.region == config.signing_region
    if region != "us-east-1":
        assert region in url.split("?")[0]


def _config_like(settings):
    from botocore.config import Config

    return Config(
        signature_version="s3v4",
        use_dualstack_endpoint=settings.get("AWS_S3_USE_DUALSTACK", False),
        use_fips_endpoint=settings.get("AWS_S3_USE_FIPS", False),
    )


@pytest.mark.parametrize(
    "settings",
    [
        dict(AWS_S3_REGION_NAME="us-east-1"),
        dict(AWS_S3_HOST="s3.us-east-1.amazonaws.com"),
        dict(AWS_S3_REGION_NAME="us-west-2", AWS_S3_USE_ACCELERATE_ENDPOINT=True),
        dict(
            AWS_S3_REGION_NAME="us-west-2",
            AWS_S3_USE_ACCELERATE_ENDPOINT=True,
            AWS_S3_USE_DUALSTACK=True,
        ),
        dict(AWS_S3_REGION_NAME="ap-northeast-2", AWS_STORAGE_BUCKET_NAME="media.example.com"),
        dict(AWS_S3_REGION_NAME="ap-northeast-2", AWS_S3_USE_SSL=False),
        dict(AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000"),
        dict(AWS_S3_ENDPOINT_URL="https://minio.example.com/s3", AWS_S3_REGION_NAME="garage"),
        dict(AWS_S3_HOST="minio:9000", AWS_S3_ADDRESSING_STYLE="virtual"),
    ],
)
def test_special_cases_equal_botocores(session, settings):
    config = resolved(**settings)
    client = session.client("s3", **config.client_kwargs())
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": config.bucket_name, "Key": "k"}
    )
    assert url.startswith(config.bucket_url + "/k?"), (url, config.bucket_url)
    verify_presigned_url(url, secret_key=SECRET_KEY)
