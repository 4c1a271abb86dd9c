"""Every promise on every server: copies, claims and active files on moto,
SeaweedFS and Ceph RGW, whatever conditions the server honours.

Ceph RGW 16 ignores ``If-None-Match`` on ``CopyObject`` and
``CompleteMultipartUpload``, ignores ``x-amz-copy-source-if-match`` and drops
a POST form's ``Content-Disposition`` field (``sigv4_storage.behaviour``).
Each test here failed on RGW before the package stopped trusting those.
"""

from __future__ import annotations

import os

import pytest
from django.core.files.base import ContentFile, File

from sigv4_storage import SigV4S3Storage
from sigv4_storage.creates import WRITE_ID, SourceChanged
from tests.servers import SERVERS
from tests.util import OneShot, fetch, post, put, send_parts

MB = 1024 * 1024
#: The conftest's ``server`` fixture on each server once (by endpoint URL).
on_each_server = pytest.mark.parametrize(
    "server", [p for p in SERVERS if p.values[0][1] == "endpoint_url"], indirect=True
)


def body(server, bucket: str, key: str) -> bytes:
    return server.client().get_object(Bucket=bucket, Key=key)["Body"].read()


@on_each_server
def test_copy_new_never_replaces_a_file(server):
    storage = SigV4S3Storage()
    storage.save("source.txt", ContentFile(b"new"))
    storage.save("taken.txt", ContentFile(b"kept"))
    head = server.client().head_object(Bucket=storage.bucket_name, Key="source.txt")
    with pytest.raises(FileExistsError):
        storage.copy_new("source.txt", "taken.txt", head=head)
    assert body(server, storage.bucket_name, "taken.txt") == b"kept"


@on_each_server
def test_copy_new_refuses_a_source_changed_after_it_was_checked(server):
    storage = SigV4S3Storage()
    storage.save("source.txt", ContentFile(b"checked"))
    head = server.client().head_object(Bucket=storage.bucket_name, Key="source.txt")
    server.client().put_object(Bucket=storage.bucket_name, Key="source.txt", Body=b"swapped")
    with pytest.raises(SourceChanged):
        storage.copy_new("source.txt", "copy.txt", head=head)
    assert not storage.exists("copy.txt")  # neither the claim nor the copy is left


@on_each_server
def test_copy_new_copies_what_was_checked_with_the_write_id(server):
    storage = SigV4S3Storage()
    storage.save("source.svg", ContentFile(b"<svg/>"))
    client = server.client()
    head = client.head_object(Bucket=storage.bucket_name, Key="source.svg")
    storage.copy_new(
        "source.svg", "copy.svg", head=head, parameters={"ContentDisposition": "attachment"}
    )
    copied = client.head_object(Bucket=storage.bucket_name, Key="copy.svg")
    assert body(server, storage.bucket_name, "copy.svg") == b"<svg/>"
    assert copied["ContentDisposition"] == "attachment"
    assert copied["ContentType"] == head["ContentType"]
    assert WRITE_ID in copied["Metadata"]


@on_each_server
@pytest.mark.parametrize("location", ["", "media"])
def test_a_large_save_of_a_taken_name_keeps_the_first(server, location):
    """RGW replaced the first file: it ignores If-None-Match at completion."""
    storage = SigV4S3Storage(file_overwrite=False, location=location)
    first, second = os.urandom(12 * MB), os.urandom(12 * MB)
    one = storage.save("videos/clip.mp4", ContentFile(first))
    two = storage.save("videos/clip.mp4", ContentFile(second))
    assert one == "videos/clip.mp4" != two
    assert body(server, storage.bucket_name, storage.s3_key(one)) == first
    assert body(server, storage.bucket_name, storage.s3_key(two)) == second


@on_each_server
def test_a_large_stream_of_a_taken_name_goes_to_the_next_name(server):
    """Content read once only, of unknown size: a refused claim read none of it, so
    it is sent under the next name."""
    storage = SigV4S3Storage(file_overwrite=False)
    storage.save("videos/live.mp4", ContentFile(b"first"))
    data = os.urandom(6 * MB)

    name = storage.save("videos/live.mp4", File(OneShot(data), name="live.mp4"))
    assert name != "videos/live.mp4"
    assert body(server, storage.bucket_name, name) == data
    assert body(server, storage.bucket_name, "videos/live.mp4") == b"first"


@on_each_server
def test_a_posted_active_file_is_served_as_an_attachment(server):
    """RGW does not store the form's Content-Disposition field: the URL asks for it."""
    storage = SigV4S3Storage()
    form = storage.presigned_post("up/drawing.svg", max_size=1000, content_type="image/svg+xml")
    assert form["fields"]["Content-Disposition"] == "attachment"
    assert post(form, "drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")[0] in (200, 204)
    status, headers, _ = fetch(storage.url("up/drawing.svg"))
    assert status == 200
    assert headers["Content-Disposition"].startswith("attachment")
    # A type a browser does not run keeps its inline URL.
    assert "response-content-disposition" not in storage.url("up/photo.jpg")


@on_each_server
def test_a_browser_multipart_upload_never_replaces_a_file(server):
    """complete_multipart_upload with file_overwrite=False: RGW ignores the condition
    on the completion itself, so the name is claimed first."""
    storage = SigV4S3Storage(file_overwrite=False)
    storage.save("up/taken.bin", ContentFile(b"kept"))
    started = storage.start_multipart_upload("up/taken.bin", size=5)
    etag = put(started["urls"][0], b"other")[1]
    with pytest.raises(FileExistsError):
        storage.complete_multipart_upload(started["name"], started["upload_id"], [(1, etag)])
    assert body(server, storage.bucket_name, "up/taken.bin") == b"kept"
    storage.abort_multipart_upload(started["name"], started["upload_id"])
    # A free name completes, and leaves no claim behind on the way.
    started = storage.start_multipart_upload("up/free.bin", size=5)
    etag = put(started["urls"][0], b"fresh")[1]
    assert storage.complete_multipart_upload(started["name"], started["upload_id"], [(1, etag)])
    assert body(server, storage.bucket_name, "up/free.bin") == b"fresh"


@on_each_server
@pytest.mark.parametrize("overwrite", [False, True])
def test_a_completion_asked_again_answers_as_the_first(server, overwrite):
    """The caller (or botocore) retried a completion whose answer was lost: the
    upload is this one's, already joined, not another upload's file."""
    storage = SigV4S3Storage(file_overwrite=overwrite)
    data = os.urandom(6 * MB)
    started = storage.start_multipart_upload("up/twice.bin", size=len(data))
    parts = send_parts(started, data)
    assert len(parts) == 2
    name = storage.complete_multipart_upload(started["name"], started["upload_id"], parts)
    assert storage.complete_multipart_upload(started["name"], started["upload_id"], parts) == name
    assert body(server, storage.bucket_name, name) == data
    if overwrite:
        return
    # Another upload of the same parts' sizes onto the name is still refused.
    other = storage.start_multipart_upload(name, size=len(data))
    others = send_parts(other, os.urandom(len(data)))
    with pytest.raises(FileExistsError):
        storage.complete_multipart_upload(other["name"], other["upload_id"], others)
    storage.abort_multipart_upload(other["name"], other["upload_id"])
    assert body(server, storage.bucket_name, name) == data
