"""boto3 >= 1.36 CRC checksums: not sent to S3-compatible servers unless asked for.

Many S3-compatible servers refuse ``x-amz-checksum-*`` headers or the
``aws-chunked`` bodies that carry trailing checksums (django-storages #1482,
#1498, #1547). Every request the storage's client sends to moto server and
SeaweedFS is recorded here, single and multipart uploads alike.
"""

from __future__ import annotations

import os

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from sigv4_storage import SigV4S3Storage
from tests.util import resolved

MB = 1024 * 1024
SMALL_MULTIPART = TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)


def record(storage: SigV4S3Storage) -> list[tuple[str, dict[str, str]]]:
    """Every request the storage's client sends: (operation, headers)."""
    sent: list[tuple[str, dict[str, str]]] = []

    def before_send(request, event_name, **_):
        operation = event_name.rsplit(".", 1)[-1]  # before-send.s3.PutObject
        headers = {
            k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()
        }
        sent.append((operation, headers))

    storage.connection.meta.client.meta.events.register("before-send.s3", before_send)
    return sent


def checksum_traces(sent):
    found = []
    for operation, headers in sent:
        for name, value in headers.items():
            if name.startswith("x-amz-checksum-") or name == "x-amz-sdk-checksum-algorithm":
                found.append((operation, name))
            if name == "content-encoding" and "aws-chunked" in value:
                found.append((operation, "aws-chunked"))
            if name == "x-amz-content-sha256" and "TRAILER" in value:
                found.append((operation, value))
    return found


def upload_and_read(storage, body):
    storage.save("small.txt", ContentFile(b"small body"))
    storage.save("big.bin", ContentFile(body))
    with storage.open("big.bin") as f:
        assert f.read() == body
    with storage.open("small.txt") as f:
        assert f.read() == b"small body"


def test_custom_endpoints_send_no_checksums(server):
    storage = SigV4S3Storage(transfer_config=SMALL_MULTIPART)
    sent = record(storage)
    upload_and_read(storage, os.urandom(6 * MB))
    operations = [operation for operation, _ in sent]
    assert {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"} <= set(
        operations
    )
    assert operations.count("UploadPart") == 2
    assert checksum_traces(sent) == []


def test_a_client_config_that_asks_for_checksums_gets_them(server):
    """The control: the recorder sees checksums when they are sent."""
    storage = SigV4S3Storage(
        transfer_config=SMALL_MULTIPART,
        client_config=Config(request_checksum_calculation="when_supported"),
    )
    assert storage.s3_config.describe()["request_checksum_calculation"] == (
        "when_supported",
        "AWS_S3_CLIENT_CONFIG.request_checksum_calculation",
    )
    sent = record(storage)
    upload_and_read(storage, os.urandom(6 * MB))
    traced = {operation for operation, _ in checksum_traces(sent)}
    assert {"PutObject", "UploadPart"} <= traced


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (dict(AWS_S3_ENDPOINT_URL="http://minio:9000"), ("when_required", "custom endpoints")),
        (dict(), ("when_supported", "botocore's")),
        (dict(AWS_S3_REGION_NAME="eu-west-1"), ("when_supported", "botocore's")),
        (
            dict(
                AWS_S3_ENDPOINT_URL="http://minio:9000",
                environ={"AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_SUPPORTED"},
            ),
            ("when_supported", "environment AWS_REQUEST_CHECKSUM_CALCULATION"),
        ),
        (
            dict(
                AWS_S3_REGION_NAME="eu-west-1",
                AWS_S3_CLIENT_CONFIG=Config(request_checksum_calculation="when_required"),
            ),
            ("when_required", "AWS_S3_CLIENT_CONFIG.request_checksum_calculation"),
        ),
    ],
)
def test_checksum_defaults_and_their_sources(kwargs, expected):
    s3 = resolved(**kwargs)
    value, source = s3.describe()["request_checksum_calculation"]
    assert value == expected[0] and expected[1] in source
    sent_to_botocore = s3.client_config.request_checksum_calculation
    if s3.custom_endpoint:
        assert sent_to_botocore == value
        assert s3.client_config.response_checksum_validation == "when_required" or (
            "AWS_RESPONSE_CHECKSUM_VALIDATION" in str(kwargs)
        )
    else:  # AWS: left to botocore (its config file and environment too), unless set
        user = kwargs.get("AWS_S3_CLIENT_CONFIG")
        assert sent_to_botocore == (user.request_checksum_calculation if user else None)


def test_a_bad_checksum_value_names_the_setting():
    with pytest.raises(ImproperlyConfigured, match="AWS_RESPONSE_CHECKSUM_VALIDATION='sometimes'"):
        resolved(
            AWS_S3_ENDPOINT_URL="http://minio:9000",
            environ={"AWS_RESPONSE_CHECKSUM_VALIDATION": "sometimes"},
        )
