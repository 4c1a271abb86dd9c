"""``file_overwrite=False``: new files created atomically (``sigv4_storage.creates``).

Unit tests on moto in-process: one request per new name, Django's naming
rules, the bound, the fallback for servers without conditional writes. The
races on real servers are in ``tests/test_creates_race.py``.
"""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile, File

from sigv4_storage import SigV4S3Storage, creates
from tests.util import SECRET_KEY, OneShot, RequestLog, aws_response, create_bucket

BUCKET = "creates-bucket"


@pytest.fixture
def bucket(settings, moto_aws):
    settings.AWS_STORAGE_BUCKET_NAME = BUCKET
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    return create_bucket(BUCKET, "eu-central-1")


def recorded(storage: SigV4S3Storage) -> list:
    """Every request of the storage, on both of its clients, signatures checked."""
    log: list = []
    for create in (False, True):
        log.append(RequestLog(storage._shared(signed=True, create=create).client, SECRET_KEY))
    return log


def requests(logs) -> list[tuple[str, str]]:
    return [(method, url.split("/", 3)[3]) for log in logs for method, url, _ in log]


def headers_sent(storage: SigV4S3Storage, create: bool) -> list[dict]:
    sent: list[dict] = []
    storage._shared(signed=True, create=create).client.meta.events.register_first(
        "before-send.s3", lambda request, **_: sent.append(dict(request.headers))
    )
    return sent


def body(client, key):
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_a_new_name_is_one_request(bucket):
    storage = SigV4S3Storage(file_overwrite=False)
    logs = recorded(storage)
    sent = headers_sent(storage, create=True)
    assert storage.save("avatar.jpg", ContentFile(b"mine")) == "avatar.jpg"
    assert requests(logs) == [("PUT", "avatar.jpg")]  # no HeadObject before it
    assert sent[0]["If-None-Match"] == b"*" or sent[0]["If-None-Match"] == "*"


def test_a_taken_name_gets_djangos_next_name_and_nothing_is_replaced(bucket):
    storage = SigV4S3Storage(file_overwrite=False, location="media")
    first = storage.save("photos/avatar.jpg", ContentFile(b"first"))
    logs = recorded(storage)
    second = storage.save("photos/avatar.jpg", ContentFile(b"second"))
    assert first == "photos/avatar.jpg"
    assert second.startswith("photos/avatar_") and second.endswith(".jpg")
    assert len(second) == len("photos/avatar_XXXXXXX.jpg")  # get_alternative_name's shape
    assert requests(logs) == [("PUT", "media/photos/avatar.jpg"), ("PUT", f"media/{second}")]
    assert body(bucket, "media/photos/avatar.jpg") == b"first"
    assert body(bucket, f"media/{second}") == b"second"


def test_max_length_is_honoured_as_django_does(bucket):
    storage = SigV4S3Storage(file_overwrite=False)
    name = "docs/" + "r" * 30 + ".pdf"
    assert storage.save(name, ContentFile(b"1"), max_length=len(name)) == name
    again = storage.save(name, ContentFile(b"2"), max_length=len(name))
    assert len(again) <= len(name) and again.endswith(".pdf") and again != name
    too_long = storage.save("x" * 40 + ".txt", ContentFile(b"3"), max_length=20)
    assert len(too_long) <= 20 and too_long.endswith(".txt")  # truncated, as Django does
    with pytest.raises(SuspiciousFileOperation, match="max_length"):
        storage.save(name, ContentFile(b"4"), max_length=len("docs/_XXXXXXX.pdf") - 1)


def test_the_number_of_attempts_is_bounded(bucket):
    """Every alternative name is taken (each created by 'another upload' first)."""

    class Unlucky(SigV4S3Storage):
        counter = 0

        def get_alternative_name(self, file_root, file_ext):
            Unlucky.counter += 1
            return f"{file_root}_{Unlucky.counter}{file_ext}"

    for n in range(1, creates.MAX_ATTEMPTS + 3):
        bucket.put_object(Bucket=BUCKET, Key=f"a_{n}.txt", Body=b"taken")
    bucket.put_object(Bucket=BUCKET, Key="a.txt", Body=b"a")
    storage = Unlucky(file_overwrite=False)
    logs = recorded(storage)
    with pytest.raises(FileExistsError, match="no free name for 'a.txt' after 10 attempts"):
        storage.save("a.txt", ContentFile(b"lost?"))
    assert len(requests(logs)) == creates.MAX_ATTEMPTS
    assert body(bucket, "a.txt") == b"a" and body(bucket, "a_1.txt") == b"taken"


def test_content_that_cannot_be_read_again_is_refused_clearly(bucket):
    """A small stream of known size is sent with a conditional PutObject, which
    reads it all before the 412: it cannot be sent again under another name."""

    class Sized(OneShot):
        size = 6  # known: small, so not claimed first

    storage = SigV4S3Storage(file_overwrite=False)
    storage.save("stream.bin", ContentFile(b"first"))
    with pytest.raises(FileExistsError, match="cannot be read again"):
        storage.save("stream.bin", File(Sized(b"stream"), name="stream.bin"))
    assert body(bucket, "stream.bin") == b"first"
    # Of unknown size, it is claimed first: the refused claim read none of it.
    del Sized.size
    name = storage.save("stream.bin", File(Sized(b"stream"), name="stream.bin"))
    assert name != "stream.bin" and body(bucket, name) == b"stream"
    assert body(bucket, "stream.bin") == b"first"


def test_file_overwrite_true_is_unchanged(bucket):
    storage = SigV4S3Storage()  # file_overwrite=True, django-storages' default
    storage.save("same.txt", ContentFile(b"old"))
    logs = recorded(storage)
    sent = headers_sent(storage, create=False)
    assert storage.save("same.txt", ContentFile(b"new")) == "same.txt"
    assert requests(logs) == [("PUT", "same.txt")]
    assert "If-None-Match" not in sent[0]
    assert body(bucket, "same.txt") == b"new"


def test_get_available_name_called_directly_still_asks(bucket):
    storage = SigV4S3Storage(file_overwrite=False)
    storage.save("taken.txt", ContentFile(b"x"))
    logs = recorded(storage)
    assert storage.get_available_name("taken.txt") != "taken.txt"
    assert ("HEAD", "taken.txt") in requests(logs)


def test_a_server_without_conditional_writes_falls_back_once(bucket, caplog):
    """It answers 501 to If-None-Match: check-then-write, one warning per process."""
    storage = SigV4S3Storage(file_overwrite=False)
    refused = []

    def not_implemented(request, **_):
        if "If-None-Match" in request.headers:
            refused.append(request.url)
            payload = b"<Error><Code>NotImplemented</Code><Message>nope</Message></Error>"
            return aws_response(request.url, 501, payload)
        return None

    storage._shared(signed=True, create=True).client.meta.events.register_first(
        "before-send.s3", not_implemented
    )
    storage.save("old.txt", ContentFile(b"old"))  # falls back: written unconditionally
    with caplog.at_level(logging.WARNING, logger="sigv4_storage"):
        names = [SigV4S3Storage(file_overwrite=False).save("old.txt", ContentFile(b"n"))]
        names.append(storage.save("old.txt", ContentFile(b"m")))
    assert len(refused) == 1  # asked once per endpoint, then remembered
    assert "does not honour If-None-Match: * on PutObject" in caplog.text
    assert caplog.text.count("does not honour If-None-Match: * on PutObject") <= 1
    assert "old.txt" not in names and len(set(names)) == 2  # HeadObject still avoids it
    assert body(bucket, "old.txt") == b"old"


def test_a_copy_whose_source_was_taken_by_another_copy_says_the_name_is_taken(bucket):
    """Two submissions of one upload: the first copies it to the accepted name and
    deletes the upload; the second, which checked the upload before, finds its
    source gone. That is "taken" (the accepted name exists), not a crash; with no
    accepted name, the source changed."""
    storage = SigV4S3Storage(file_overwrite=False)
    storage.save("upload.bin", ContentFile(b"body"))
    head = storage.connection.meta.client.head_object(Bucket=BUCKET, Key="upload.bin")
    storage.copy_new("upload.bin", "accepted.bin", head=head)
    storage.delete("upload.bin")
    with pytest.raises(FileExistsError, match="accepted.bin"):
        storage.copy_new("upload.bin", "accepted.bin", head=head)
    with pytest.raises(creates.SourceChanged):
        storage.copy_new("upload.bin", "elsewhere.bin", head=head)
    assert body(storage.connection.meta.client, "accepted.bin") == b"body"
