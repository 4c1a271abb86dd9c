"""S3's refusals become errors that name the fix (``sigv4_storage.errors``).

The real refusals come from SeaweedFS in ``test_s3_api``; here the handler
is fed botocore-shaped responses, and moto shows it is wired into the
storage's clients.
"""

import pickle
from types import SimpleNamespace

import pytest
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, SSLError
from django.core.files.base import ContentFile

from sigv4_storage import SigV4S3Storage
from sigv4_storage.errors import (
    HINTS,
    RefusalHints,
    S3NoCredentials,
    S3RequestRefused,
    S3TLSFailed,
)
from tests.util import create_bucket

OPERATION = SimpleNamespace(name="PutObject")


def refusal(status, code):
    return {
        "Error": {"Code": code, "Message": "refused"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


def call(handler, status, code):
    handler(
        http_response=SimpleNamespace(status_code=status),
        parsed=refusal(status, code),
        model=OPERATION,
        context={},
    )


@pytest.mark.parametrize("code", sorted(HINTS))
def test_each_known_refusal_names_where_and_the_fix(code):
    handler = RefusalHints("media", "http://127.0.0.1:9000", "ap-northeast-2")
    with pytest.raises(S3RequestRefused) as excinfo:
        call(handler, 403, code)
    error = excinfo.value
    assert isinstance(error, ClientError)
    assert error.response["Error"]["Code"] == code
    assert error.operation_name == "PutObject"
    assert str(error).startswith(f"An error occurred ({code}) when calling the PutObject")
    assert "bucket 'media' at http://127.0.0.1:9000 (region ap-northeast-2)" in str(error)
    assert HINTS[code] in str(error)
    clone = pickle.loads(pickle.dumps(error))
    assert (type(clone), str(clone)) == (S3RequestRefused, str(error))


@pytest.mark.parametrize(
    ("status", "code"), [(200, ""), (404, "NoSuchKey"), (409, "BucketNotEmpty")]
)
def test_other_answers_pass_through(status, code):
    call(RefusalHints("media", "http://x", "us-east-1"), status, code)  # raises nothing


def test_modeled_errors_keep_their_class(settings, moto_aws):
    """NoSuchKey stays ``client.exceptions.NoSuchKey``: callers that catch it still can."""
    settings.AWS_STORAGE_BUCKET_NAME = "media-bucket"
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    create_bucket("media-bucket", "eu-central-1")
    storage = SigV4S3Storage()
    storage.save("here.txt", ContentFile(b"x"))
    client = storage.connection.meta.client
    with pytest.raises(client.exceptions.NoSuchKey):
        client.get_object(Bucket="media-bucket", Key="missing.txt")
    with pytest.raises(FileNotFoundError):
        storage.open("missing.txt")


def test_the_handler_is_on_every_client_of_the_storage(settings, moto_aws):
    settings.AWS_STORAGE_BUCKET_NAME = "media-bucket"
    storage = SigV4S3Storage()
    for resource in (storage.connection, storage.unsigned_connection):
        with pytest.raises(S3RequestRefused, match="AWS_S3_SECRET_ACCESS_KEY"):
            resource.meta.client.meta.events.emit(
                "after-call.s3.PutObject",
                http_response=SimpleNamespace(status_code=403),
                parsed=refusal(403, "SignatureDoesNotMatch"),
                model=OPERATION,
                context={},
            )


# -- connection failures and missing credentials carry where and the fix --------------
def quick(settings, endpoint):
    from botocore.config import Config

    settings.AWS_STORAGE_BUCKET_NAME = "media"
    settings.AWS_S3_ENDPOINT_URL = endpoint
    settings.AWS_S3_CLIENT_CONFIG = Config(retries={"max_attempts": 1}, connect_timeout=3)
    return SigV4S3Storage()


def test_https_to_a_plain_http_port_says_use_http(settings, credentials, moto_server):
    storage = quick(settings, f"https://{moto_server}")
    with pytest.raises(SSLError) as raised:
        storage.exists("a.txt")
    assert isinstance(raised.value, S3TLSFailed)
    assert f"speaks plain http, not https: use http://{moto_server}" in str(raised.value)
    assert "bucket 'media' at https://" in str(raised.value)


def test_http_to_a_tls_port_says_use_https(settings, credentials, tls_server):
    storage = quick(settings, f"http://{tls_server}")
    with pytest.raises(BotoCoreError) as raised:
        storage.exists("a.txt")
    assert f"If {tls_server} speaks https, use https://{tls_server}" in str(raised.value)
    assert "sigv4_storage: bucket 'media'" in str(raised.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.exists("a.txt"),
        lambda s: s.url("a.txt"),
        lambda s: s.url("a.txt", parameters={"ResponseCacheControl": "no-cache"}),
        lambda s: s.presigned_post("up/", max_size=10),
        lambda s: s.save("a.txt", ContentFile(b"x")),
    ],
    ids=["exists", "url", "url-botocore", "presigned_post", "save"],
)
def test_no_credentials_says_where_they_were_looked_for(settings, moto_server, call):
    storage = quick(settings, f"http://{moto_server}")
    with pytest.raises(NoCredentialsError) as raised:  # still botocore's class
        call(storage)
    message = str(raised.value)
    assert isinstance(raised.value, S3NoCredentials)
    assert message.startswith("Unable to locate credentials\nsigv4_storage: bucket 'media'")
    assert "Looked in: settings and OPTIONS" in message and "the instance role" in message


def test_any_other_http_client_failure_gets_the_context_too():
    from botocore.exceptions import HTTPClientError

    from sigv4_storage.errors import S3HTTPClientFailed, with_context

    ours = with_context(HTTPClientError(error="boom"), "bucket 'media' at http://x")
    assert isinstance(ours, S3HTTPClientFailed) and isinstance(ours, HTTPClientError)
    assert "boom" in str(ours) and "sigv4_storage: bucket 'media' at http://x" in str(ours)
    assert with_context(ours, "elsewhere") is None  # already ours: left alone
