"""The fast URLs are byte-identical to botocore's (``sigv4_storage.signer``).

For the same inputs and clock, ``storage.url()`` must return exactly what
django-storages returns through botocore's ``generate_presigned_url``: over
regions of every partition, path / virtual / dualstack / FIPS / accelerate /
custom endpoints, session tokens, response parameters, HTTP methods,
expiries, and keys with unicode and reserved characters (property-based).
No request is sent: region discovery is off and sockets are refused.
"""

import datetime as dt
import itertools
from unittest import mock

import pytest
from botocore.credentials import RefreshableCredentials
from django.core.exceptions import SuspiciousOperation
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from sigv4_storage import SigV4S3Storage, SigV4StaticStorage, signer
from tests.util import SECRET_KEY, SIGNER_NAMES, asked, on_role, verify_presigned_url


def botocore_url(storage, name, parameters=None, expire=None, http_method=None, signed=True):
    """What django-storages' url() does: botocore's presigner on the storage's client."""
    connection = storage.connection if signed else storage.unsigned_connection
    # Plus this package's one addition: the rule for what a browser may show inline
    # (content.signed_get: a name a browser may run is asked for as an attachment).
    params = dict(parameters or {})
    if signed and storage.s3_config.active_content == "attachment":
        params = asked(name, parameters, http_method)
    return connection.meta.client.generate_presigned_url(
        "get_object",
        Params={
            **params,
            "Bucket": storage.bucket_name,
            "Key": storage._normalize_name(clean_name(name)),
        },
        ExpiresIn=storage.querystring_expire if expire is None else expire,
        HttpMethod=http_method,
    )


CASES = [
    ({}, None, None),
    ({"ResponseContentDisposition": 'attachment; filename="r+é.pdf"'}, None, None),
    (
        {"ResponseContentType": "text/plain; charset=utf-8", "ResponseCacheControl": "no-cache"},
        60,
        None,
    ),
    ({"VersionId": "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"}, 604800, None),
    ({}, 1, "PUT"),
    ({}, 900, "head"),
]


@pytest.mark.differential
@pytest.mark.parametrize(("parameters", "expire", "method"), CASES)
def test_presigned_urls_are_byte_identical(configured, parameters, expire, method):
    storage = SigV4S3Storage(location="media")
    for name in SIGNER_NAMES:
        ours = storage.url(name, parameters=dict(parameters), expire=expire, http_method=method)
        assert ours == botocore_url(storage, name, parameters, expire, method)


def test_public_urls_are_byte_identical(configured):
    storage = SigV4StaticStorage(location="static")
    for name in SIGNER_NAMES:
        assert storage.url(name) == botocore_url(storage, name, signed=False)


@pytest.mark.parametrize(
    "configured", ["seoul-virtual", "minio-port", "session-token"], indirect=True
)
def test_django_storages_own_url_agrees(configured):
    """The reference itself: django-storages' S3Storage given the same resolved values."""
    ours = SigV4S3Storage()
    theirs = S3Storage(
        bucket_name=ours.bucket_name,
        region_name=ours.region_name,
        endpoint_url=ours.endpoint_url,
        use_ssl=ours.use_ssl,
        client_config=ours.client_config,
    )
    name = "한글/보고서 최종.pdf"
    assert ours.url(name, expire=120) == theirs.url(name, expire=120)


@pytest.fixture
def seoul(settings, credentials, no_network, frozen_clock):
    """Set once per test: settings changed inside examples would stack."""
    settings.AWS_STORAGE_BUCKET_NAME = "media-bucket"
    settings.AWS_S3_REGION_NAME = "ap-northeast-2"
    settings.AWS_S3_DISCOVER_REGION = False


KEYS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"))
    | st.sampled_from("/+%#?&=;:@$,~!*'()[] "),
    min_size=1,
    max_size=60,
)


@pytest.mark.differential
@hsettings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=KEYS)
def test_any_key_is_byte_identical(seoul, name):
    storage = SigV4S3Storage()
    try:
        normalized = storage._normalize_name(clean_name(name))
    except SuspiciousOperation:
        assume(False)
    assume(normalized)
    assert storage.url(name) == botocore_url(storage, name)
    assert SigV4StaticStorage().url(name) == botocore_url(SigV4StaticStorage(), name, signed=False)


def test_uncovered_parameters_fall_back_to_botocore(configured):
    storage = SigV4S3Storage()
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    with mock.patch.object(signer.BucketURL, "presign") as fast:
        url = storage.url("a.txt", parameters={"ResponseExpires": expires})
    assert "response-expires=" in url
    assert url == botocore_url(storage, "a.txt", {"ResponseExpires": expires})
    fast.assert_not_called()


def test_urls_verify_independently(settings, credentials, no_network):
    """Not only equal to botocore's: correct by an independent SigV4 verifier."""
    settings.AWS_STORAGE_BUCKET_NAME = "media-bucket"
    settings.AWS_S3_REGION_NAME = "me-central-1"
    settings.AWS_S3_DISCOVER_REGION = False
    url = SigV4S3Storage().url("한글 + 파일.txt", parameters={"ResponseContentType": "text/plain"})
    verified = verify_presigned_url(url, secret_key=SECRET_KEY)
    assert verified.region == "me-central-1"


def test_credentials_are_read_on_every_call(settings, credentials, no_network):
    """Refreshing credentials (roles, web identity, SSO) rotate under a long-lived storage."""
    settings.AWS_STORAGE_BUCKET_NAME = "media-bucket"
    settings.AWS_S3_REGION_NAME = "eu-west-2"
    settings.AWS_S3_DISCOVER_REGION = False
    rotations = (f"ASIAROTATION{n:04d}" for n in itertools.count())

    def refresh():  # always about to expire: botocore refreshes on every read
        return {
            "access_key": next(rotations),
            "secret_key": SECRET_KEY,
            "token": "session-token",
            "expiry_time": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)).isoformat(),
        }

    rotating = RefreshableCredentials.create_from_metadata(refresh(), refresh, "sts-assume-role")

    storage = on_role(rotating)

    first = verify_presigned_url(storage.url("a"), secret_key=SECRET_KEY)
    second = verify_presigned_url(storage.url("a"), secret_key=SECRET_KEY)
    assert first.access_key.startswith("ASIAROTATION")
    assert second.access_key > first.access_key  # rotated between the two calls
    assert "X-Amz-Security-Token=session-token" in storage.url("a")


def test_urls_signed_in_one_second_each_sign_their_own_query(frozen_clock):
    """The X-Amz-* query is built once per second and credentials: URLs of the same
    second with another lifetime, token or key, or with a parameter sorting before
    the X-Amz-* names, still verify, each with its own values."""
    root = signer.BucketURL("https://media.s3.eu-west-2.amazonaws.com")
    plain = signer.Keys("AKIDEXAMPLE", SECRET_KEY)
    with_token = signer.Keys("ASIAEXAMPLE", SECRET_KEY, "token/with+chars")
    urls = [
        root.presign("a b.txt", keys=plain, region="eu-west-2", expires=60),
        root.presign("a b.txt", keys=plain, region="eu-west-2", expires=3600),
        root.presign("a b.txt", keys=with_token, region="eu-west-2", expires=3600),
        root.presign(
            "a b.txt",
            keys=plain,
            region="eu-west-2",
            expires=3600,
            query=[("response-content-type", "text/plain"), ("A-first", "x")],
        ),
        root.presign(
            "a b.txt",
            keys=plain,
            region="eu-west-2",
            expires=3600,
            method="PUT",
            query=[("partNumber", "2"), ("uploadId", "u/1")],
            headers={"content-length": "5"},
        ),
    ]
    now = dt.datetime.fromtimestamp(signer.clock(), dt.timezone.utc)  # the frozen second
    verified = [verify_presigned_url(url, secret_key=SECRET_KEY, now=now) for url in urls[:4]]
    verified.append(
        verify_presigned_url(
            urls[4], secret_key=SECRET_KEY, now=now, method="PUT", headers={"content-length": "5"}
        )
    )
    assert [v.access_key for v in verified] == ["AKIDEXAMPLE", "AKIDEXAMPLE", "ASIAEXAMPLE"] + [
        "AKIDEXAMPLE"
    ] * 2
    assert "X-Amz-Expires=60&" in urls[0] and "X-Amz-Expires=3600&" in urls[1]
    assert "X-Amz-Security-Token=token%2Fwith%2Bchars" in urls[2]
    assert "Security-Token" not in urls[3]
    assert urls[3].split("?")[1].startswith("response-content-type=text%2Fplain&A-first=x&")
    assert "X-Amz-SignedHeaders=content-length%3Bhost" in urls[4]
