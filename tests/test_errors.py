"""S3's refusals become errors that name the fix (``sigv4_storage.errors``).

The real refusals come from SeaweedFS in ``test_s3_api``; here the handler
is fed botocore-shaped responses, and moto shows it is wired into the
storage's clients.
"""

import pickle
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile

from sigv4_storage import SigV4S3Storage
from sigv4_storage.errors import HINTS, RefusalHints, S3RequestRefused
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
