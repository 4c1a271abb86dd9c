"""Direct browser uploads: ``SigV4S3Storage.presigned_post``.

Byte-for-byte against botocore's ``generate_presigned_post`` for the same
inputs and clock (every configuration of ``CONFIGS``), and on SeaweedFS,
which enforces the policy: what is within it is stored, the rest refused.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error

import pytest
from django.core.exceptions import SuspiciousOperation
from django.core.files.base import ContentFile

from sigv4_storage import SigV4S3Storage
from tests.servers import connect, use_bucket
from tests.util import SECRET_KEY, post, put, send_parts

CASES = [
    ("uploads/", dict(max_size=10 * 1024 * 1024)),
    ("avatars/한글 사진.png", dict(max_size=1024, content_type="image/png", expire=60)),
    ("docs/", dict(max_size=5, content_type="image/", fields={"Cache-Control": "no-cache"})),
    (
        "x.txt",
        dict(
            max_size=100,
            conditions=[["starts-with", "$Cache-Control", ""]],
            fields={"Cache-Control": "max-age=60"},
        ),
    ),
]


#: A few types a browser runs, to say which forms must pin Content-Disposition.
SCRIPTED = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/javascript")


def admits_script(content_type):
    """Any type (None), a prefix covering a scripted type, or a scripted type."""
    if not content_type:
        return True
    if content_type.endswith("/"):
        return any(t.startswith(content_type) for t in SCRIPTED)
    return content_type in SCRIPTED


def botocore_post(storage, key, fields, conditions, expire):
    client = storage.connection.meta.client
    return client.generate_presigned_post(
        storage.bucket_name, key, Fields=fields, Conditions=conditions, ExpiresIn=expire
    )


def expected_inputs(storage, name, options):
    """The boto3 call presigned_post stands for."""
    key = (
        storage.s3_key(name + "_")[:-1] + "${filename}"
        if name.endswith("/")
        else storage.s3_key(name)
    )
    fields = dict(options.get("fields") or {})
    conditions = list(options.get("conditions") or [])
    conditions.append(["content-length-range", 0, options["max_size"]])
    content_type = options.get("content_type")
    if admits_script(content_type):  # such files are downloaded, never opened
        fields["Content-Disposition"] = "attachment"
        conditions.append({"Content-Disposition": "attachment"})
    if content_type and content_type.endswith("/"):
        conditions.append(["starts-with", "$Content-Type", content_type])
    elif content_type:
        fields["Content-Type"] = content_type
        conditions.append({"Content-Type": content_type})
    return key, fields, conditions, options.get("expire") or storage.querystring_expire


@pytest.mark.differential
@pytest.mark.parametrize(("name", "options"), CASES)
def test_the_form_is_botocores_byte_for_byte(configured, name, options):
    storage = SigV4S3Storage(location="media")
    ours = storage.presigned_post(name, **options)
    theirs = botocore_post(storage, *expected_inputs(storage, name, options))
    assert ours == theirs
    policy = json.loads(base64.b64decode(ours["fields"]["policy"]))
    assert ["content-length-range", 0, options["max_size"]] in policy["conditions"]


def test_refusals_before_any_request(settings, credentials, no_network):
    settings.AWS_STORAGE_BUCKET_NAME = "media-bucket"
    settings.AWS_S3_REGION_NAME = "ap-northeast-2"
    storage = SigV4S3Storage(location="media")
    for bad in (0, -1, True, 1.5, "10"):
        with pytest.raises(ValueError, match="max_size"):
            storage.presigned_post("a.txt", max_size=bad)
    with pytest.raises(ValueError, match="604800"):
        storage.presigned_post("a.txt", max_size=1, expire=604801)
    for name in ("../escape.txt", "a\x00b.txt", "x" * 1100, "dir/../../up/", "/abs/"):
        with pytest.raises(SuspiciousOperation) as refused:
            storage.presigned_post(name, max_size=1)
        with pytest.raises(type(refused.value)):  # save() refuses it the same way
            storage.save(name.rstrip("/") or "x", ContentFile(b"x"))


# -- on a server that enforces the policy ------------------------------------------------
@pytest.fixture
def weed(request, settings):
    server = connect(request, "seaweedfs")
    with server.bucket("post") as bucket:
        use_bucket(settings, server, bucket)
        yield server, bucket


def keys(server, bucket):
    listed = server.client().list_objects_v2(Bucket=bucket).get("Contents") or []
    return sorted(item["Key"] for item in listed)


@pytest.mark.integration
def test_seaweedfs_stores_what_the_policy_allows_and_refuses_the_rest(weed):
    server, bucket = weed
    storage = SigV4S3Storage(location="media")
    form = storage.presigned_post("uploads/", max_size=1000, content_type="image/")

    status, _ = post(
        form, "사진.png", b"\x89PNG" + os.urandom(100), **{"Content-Type": "image/png"}
    )
    assert status in (200, 204)
    assert keys(server, bucket) == ["media/uploads/사진.png"]
    with storage.open("uploads/사진.png") as f:
        assert f.read().startswith(b"\x89PNG")

    over, _ = post(form, "big.png", os.urandom(1001), **{"Content-Type": "image/png"})
    wrong_type, _ = post(form, "x.html", b"<p>", **{"Content-Type": "text/html"})
    other_key, _ = post(
        form, "x.png", b"x", key="media/elsewhere/x.png", **{"Content-Type": "image/png"}
    )
    outside, _ = post(form, "x.png", b"x", key="secret/x.png", **{"Content-Type": "image/png"})
    tampered = {**form, "fields": {**form["fields"]}}
    policy = json.loads(base64.b64decode(tampered["fields"]["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if "content-length-range" not in c]
    tampered["fields"]["policy"] = base64.b64encode(json.dumps(policy).encode()).decode()
    forged, _ = post(tampered, "big.png", os.urandom(2000), **{"Content-Type": "image/png"})
    assert over == 400
    assert {wrong_type, other_key, outside, forged} == {403}
    assert keys(server, bucket) == ["media/uploads/사진.png"]


@pytest.mark.integration
def test_an_exact_key_and_type(weed):
    server, bucket = weed
    storage = SigV4S3Storage()
    form = storage.presigned_post("avatars/me.png", max_size=100, content_type="image/png")
    assert form["fields"]["Content-Type"] == "image/png"
    assert post(form, "anything.png", b"\x89PNG")[0] in (200, 204)
    assert keys(server, bucket) == ["avatars/me.png"]
    head = server.client().head_object(Bucket=bucket, Key="avatars/me.png")
    assert head["ContentType"] == "image/png"


def test_a_public_endpoint_is_where_the_form_posts(settings, credentials, no_network, frozen_clock):
    settings.AWS_STORAGE_BUCKET_NAME = "media-bucket"
    settings.AWS_S3_ENDPOINT_URL = "http://minio:9000"
    settings.AWS_S3_PUBLIC_ENDPOINT_URL = "https://files.example.com"
    storage = SigV4S3Storage()
    form = storage.presigned_post("a.txt", max_size=10)
    assert form["url"] == "https://files.example.com/media-bucket"
    assert SECRET_KEY not in json.dumps(form)


# -- large files: multipart driven by the server -------------------------------------------
@pytest.mark.parametrize(
    ("size", "part"),
    [
        (1, 5 * 1024**2),
        (5 * 1024**2 * 10_000, 5 * 1024**2),
        (5 * 1024**2 * 10_000 + 1, 6 * 1024**2),
        (5 * 1024**4, 525 * 1024**2),
    ],
)
def test_part_sizes_keep_to_10000_parts(size, part):
    from sigv4_storage.direct import multipart_part_size

    assert multipart_part_size(size) == part
    assert -(-size // part) <= 10_000


@pytest.mark.differential
def test_part_urls_are_botocores_byte_for_byte(configured, monkeypatch):
    storage = SigV4S3Storage(location="media")
    client = storage.connection.meta.client
    monkeypatch.setattr(client, "create_multipart_upload", lambda **_: {"UploadId": "up/+=1"})
    started = storage.start_multipart_upload("video/한 편.mp4", size=12 * 1024**2, expire=900)
    assert started["key"] == "media/video/한 편.mp4" and started["part_size"] == 5 * 1024**2
    assert len(started["urls"]) == 3
    lengths = [5 * 1024**2, 5 * 1024**2, 2 * 1024**2]  # the last part: the rest
    for number, url in enumerate(started["urls"], 1):
        assert url == client.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": storage.bucket_name,
                "Key": started["key"],
                "PartNumber": number,
                "UploadId": "up/+=1",
                "ContentLength": lengths[number - 1],
            },
            ExpiresIn=900,
        )
        assert "X-Amz-SignedHeaders=content-length%3Bhost" in url


@pytest.mark.integration
def test_a_30_mb_file_in_parts_then_completed(weed):
    server, bucket = weed
    storage = SigV4S3Storage(location="media")
    body = os.urandom(30 * 1024**2)
    started = storage.start_multipart_upload("films/긴 영화.bin", size=len(body))
    parts = send_parts(started, body)
    assert len(parts) == 6

    name = storage.complete_multipart_upload(started["name"], started["upload_id"], parts)

    assert name == "films/긴 영화.bin"
    with storage.open(name) as f:
        assert f.read() == body
    assert not server.client().list_multipart_uploads(Bucket=bucket).get("Uploads")


@pytest.mark.integration
def test_a_part_larger_or_smaller_than_signed_is_refused(weed):
    """Before, a part URL took any body up to S3's 5 GiB: max_size held for POSTs only."""
    server, bucket = weed
    storage = SigV4S3Storage(location="media")
    started = storage.start_multipart_upload("a.bin", size=6 * 1024**2)
    first, last = started["urls"]

    def status(url, body):
        try:
            return put(url, body)[0]
        except urllib.error.HTTPError as refused:
            return refused.code

    assert status(first, os.urandom(started["part_size"] + 1)) == 403
    assert status(last, os.urandom(2 * 1024**2)) == 403  # 1 MiB signed
    assert status(last, os.urandom(1024**2)) == 200
    storage.abort_multipart_upload(started["name"], started["upload_id"])


@pytest.mark.integration
def test_an_aborted_upload_leaves_nothing(weed):
    server, bucket = weed
    storage = SigV4S3Storage()
    started = storage.start_multipart_upload("a.bin", size=11 * 1024**2)
    put(started["urls"][0], os.urandom(started["part_size"]))

    storage.abort_multipart_upload(started["name"], started["upload_id"])

    assert not server.client().list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert keys(server, bucket) == []


def test_names_outside_the_storage_are_refused(settings, credentials, no_network):
    """Completion and abort take names, as save() does, checked the same way: no
    name reaches a key outside the storage's location."""
    settings.AWS_STORAGE_BUCKET_NAME = "media-bucket"
    settings.AWS_S3_REGION_NAME = "ap-northeast-2"
    storage = SigV4S3Storage(location="media")
    for name in ("../static/app.js", "a/../../static/app.js", ""):
        with pytest.raises((SuspiciousOperation, ValueError)):
            storage.complete_multipart_upload(name, "id", [(1, '"etag"')])
        with pytest.raises((SuspiciousOperation, ValueError)):
            storage.abort_multipart_upload(name, "id")


@pytest.mark.integration
def test_a_completion_never_replaces_a_file_with_file_overwrite_off(weed):
    server, bucket = weed
    storage = SigV4S3Storage(file_overwrite=False)
    storage.save("taken.bin", ContentFile(b"first"))
    started = storage.start_multipart_upload("taken.bin", size=6 * 1024**2)
    parts = send_parts(started, os.urandom(6 * 1024**2))

    with pytest.raises(FileExistsError, match="taken.bin"):
        storage.complete_multipart_upload(started["name"], started["upload_id"], parts)

    with storage.open("taken.bin") as f:
        assert f.read() == b"first"
    overwriting = SigV4S3Storage(file_overwrite=True)
    overwriting.complete_multipart_upload(started["name"], started["upload_id"], parts)
    assert overwriting.size("taken.bin") == 6 * 1024**2
