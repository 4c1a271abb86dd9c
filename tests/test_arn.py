"""Every bucket-name form botocore accepts: access point ARNs, multi-region
access points, S3 Express directory buckets.

URLs and requests must be exactly botocore's. The reference is a plain
botocore client that knows nothing of this package (SigV4 asked for, the
ARN's region), with the same credentials and a frozen clock. Offline:
sockets are refused, requests are answered before they are sent.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from botocore import UNSIGNED
from botocore.compat import HAS_CRT
from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured

from sigv4_storage import SigV4S3Storage, SigV4StaticStorage
from tests.util import (
    ACCESS_KEY,
    FROZEN,
    SECRET_KEY,
    SIGNER_NAMES,
    aws_response,
    downloads,
    resolved,
    verify_presigned_url,
)

ACCESS_POINT = "arn:aws:s3:us-west-2:123456789012:accesspoint/myap"
FORMS = {
    "access-point": (ACCESS_POINT, "us-west-2"),
    "access-point-china": ("arn:aws-cn:s3:cn-north-1:123456789012:accesspoint/myap", "cn-north-1"),
    "object-lambda": (
        "arn:aws:s3-object-lambda:eu-central-1:123456789012:accesspoint/mylambda",
        "eu-central-1",
    ),
    "outposts": (
        "arn:aws:s3-outposts:us-west-2:123456789012:outpost/op-01234567890123456/accesspoint/myap",
        "us-west-2",
    ),
    "express": ("mybucket--usw2-az1--x-s3", "us-west-2"),
}
#: The hosts botocore gives (and django-storages #1415 asks for).
HOSTS = {
    "access-point": "myap-123456789012.s3-accesspoint.us-west-2.amazonaws.com",
    "access-point-china": "myap-123456789012.s3-accesspoint.cn-north-1.amazonaws.com.cn",
    "object-lambda": "mylambda-123456789012.s3-object-lambda.eu-central-1.amazonaws.com",
    "outposts": "myap-123456789012.op-01234567890123456.s3-outposts.us-west-2.amazonaws.com",
    "express": "mybucket--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com",
}
MRAP = "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap"


def plain_botocore(region: str, config: Config | None = None):
    """A client that knows nothing of sigv4_storage."""
    return boto3.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=region
    ).client("s3", config=config or Config(signature_version="s3v4"))


def answer_before_sending(client) -> list:
    """Record each request botocore would send, and answer it 200 without the network."""
    sent = []

    def before_send(request, **_):
        sent.append((request.method, request.url, request.headers.get("Authorization")))
        return aws_response(request.url, 200, headers={"Content-Length": "0"})

    client.meta.events.register_first("before-send.s3", before_send)
    return sent


@pytest.fixture
def aws(settings, credentials, no_network, frozen_clock):
    return settings


@pytest.mark.parametrize("form", sorted(FORMS))
def test_presigned_urls_are_botocores(aws, form):
    bucket, region = FORMS[form]
    aws.AWS_S3_REGION_NAME = region
    storage = SigV4S3Storage(bucket_name=bucket)
    reference = plain_botocore(region)
    for name in SIGNER_NAMES:
        for expire, method in ((None, None), (60, "PUT")):
            ours = storage.url(name, expire=expire, http_method=method)
            # A name a browser may run is asked for as an attachment (content.named_active).
            asked = {"ResponseContentDisposition": "attachment"} if downloads(name, method) else {}
            theirs = reference.generate_presigned_url(
                "get_object",
                Params={"Bucket": bucket, "Key": storage._normalize_name(name), **asked},
                ExpiresIn=expire or 3600,
                HttpMethod=method,
            )
            assert ours == theirs
            assert urlsplit(ours).hostname == HOSTS[form]


@pytest.mark.parametrize("form", ["access-point", "access-point-china", "express"])
def test_the_fast_signer_covers_plain_sigv4_forms_and_verifies(aws, form, monkeypatch):
    """Signed here, not by botocore: the presigner is never called, our verifier agrees."""
    bucket, region = FORMS[form]
    aws.AWS_S3_REGION_NAME = region
    storage = SigV4S3Storage(bucket_name=bucket)
    assert storage.s3_config.fast_signing
    client = storage.connection.meta.client
    monkeypatch.setattr(client, "generate_presigned_url", None)  # would raise if called
    verified = verify_presigned_url(
        storage.url("한글 보고서.pdf"), secret_key=SECRET_KEY, now=FROZEN
    )
    assert (verified.host, verified.region) == (HOSTS[form], region)


@pytest.mark.parametrize("form", ["object-lambda", "outposts"])
def test_other_signing_names_are_left_to_botocore(aws, form):
    bucket, region = FORMS[form]
    s3 = SigV4S3Storage(bucket_name=bucket).s3_config
    assert not s3.fast_signing
    assert s3.signing_name == form.replace("object-lambda", "s3-object-lambda").replace(
        "outposts", "s3-outposts"
    )


@pytest.mark.parametrize("form", sorted(FORMS))
def test_public_urls_are_botocores(aws, form):
    bucket, region = FORMS[form]
    aws.AWS_S3_REGION_NAME = region
    storage = SigV4StaticStorage(bucket_name=bucket)
    reference = plain_botocore(region, Config(signature_version=UNSIGNED))
    for name in SIGNER_NAMES:
        theirs = reference.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": storage._normalize_name(name)}
        )
        assert storage.url(name) == theirs


@pytest.mark.parametrize("form", sorted(FORMS))
def test_requests_are_botocores(aws, form):
    bucket, region = FORMS[form]
    aws.AWS_S3_REGION_NAME = region
    storage = SigV4S3Storage(bucket_name=bucket)
    ours = answer_before_sending(storage.connection.meta.client)
    reference = plain_botocore(region)
    theirs = answer_before_sending(reference)

    assert storage.exists("a b/c.txt")
    storage.delete("a b/c.txt")
    reference.head_object(Bucket=bucket, Key="a b/c.txt")
    reference.delete_object(Bucket=bucket, Key="a b/c.txt")

    assert [(m, url) for m, url, _ in ours] == [(m, url) for m, url, _ in theirs]
    assert [urlsplit(url).hostname for _, url, _ in ours] == [HOSTS[form]] * 2
    scope = [auth.split(b"Credential=")[1].split(b",")[0] for _, _, auth in ours]
    assert scope == [a.split(b"Credential=")[1].split(b",")[0] for _, _, a in theirs]


def test_the_arn_names_the_region_and_nothing_is_asked(aws):
    s3 = SigV4S3Storage(bucket_name=ACCESS_POINT).s3_config
    assert (s3.region, s3.discover_region, s3.addressing_style) == ("us-west-2", False, "virtual")
    assert "access point ARN" in str(s3.sources["region"])


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (dict(AWS_S3_ADDRESSING_STYLE="path"), "AWS_S3_ADDRESSING_STYLE='path' cannot address"),
        (dict(AWS_S3_ENDPOINT_URL="http://minio:9000"), "only AWS endpoints serve"),
        (dict(AWS_S3_PUBLIC_ENDPOINT_URL="https://files.example.com"), "cannot carry the access"),
        (
            dict(AWS_STORAGE_BUCKET_NAME="arn:aws:s3:us-west-2:123456789012:bogus/x"),
            r"AWS_STORAGE_BUCKET_NAME='arn:aws:s3:us-west-2:123456789012:bogus/x' cannot be "
            r"used in 'us-west-2' .*botocore says Invalid ARN",
        ),
        (
            dict(AWS_S3_REGION_NAME="cn-north-1"),
            "cannot be used in 'cn-north-1'.*partition",
        ),
    ],
)
def test_unworkable_arn_settings_name_the_setting(kwargs, expected):
    kwargs.setdefault("AWS_STORAGE_BUCKET_NAME", ACCESS_POINT)
    with pytest.raises(ImproperlyConfigured, match=expected):
        resolved(**kwargs)


@pytest.mark.skipif(HAS_CRT, reason="the AWS CRT is installed here")
def test_multi_region_access_points_without_the_crt_say_what_to_install():
    with pytest.raises(ImproperlyConfigured, match=r'pip install "botocore\[crt\]"'):
        resolved(AWS_STORAGE_BUCKET_NAME=MRAP)


@pytest.mark.skipif(not HAS_CRT, reason='needs the AWS CRT: pip install "botocore[crt]"')
def test_multi_region_access_points_are_signed_with_sigv4a(aws):
    """SigV4A signatures are ECDSA (random): all but the signature must match."""
    storage = SigV4S3Storage(bucket_name=MRAP)
    assert storage.s3_config.signature_version == "s3v4a"
    default = boto3.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name="us-east-1"
    ).client("s3")  # botocore's default picks SigV4A from the rule set
    ours = storage.url("a b.txt")
    theirs = default.generate_presigned_url("get_object", Params={"Bucket": MRAP, "Key": "a b.txt"})

    def without_signature(url):
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "X-Amz-Signature"]
        return parts.netloc, parts.path, query

    assert without_signature(ours) == without_signature(theirs)
    query = dict(parse_qsl(urlsplit(ours).query))
    assert query["X-Amz-Algorithm"] == "AWS4-ECDSA-P256-SHA256"
    assert query["X-Amz-Region-Set"] == "*"
    assert urlsplit(ours).hostname == "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com"
