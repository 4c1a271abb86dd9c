"""No script served from the bucket: files of types a browser runs are stored
``Content-Disposition: attachment`` on every path (``save()``, presigned POST,
multipart), unless ``active_content="inline"`` (the static classes' default).

Headless Chromium opens such files through their URLs: their script would call a
beacon on loopback; with the default it never does, and the control (the same
file served inline) shows the beacon works.
"""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from sigv4_storage import SigV4S3Storage, SigV4StaticStorage
from sigv4_storage.tokens import Limits
from tests.servers import KINDS, in_bucket
from tests.util import opened, post, scripted


@pytest.fixture(params=KINDS)
def s3(request, settings):
    with in_bucket(request, settings, request.param, "active") as found:
        yield found


def head(server, bucket, key):
    return server.client().head_object(Bucket=bucket, Key=key)


@pytest.mark.parametrize(
    ("name", "upload", "stored_type"),
    [
        ("evil.html", ContentFile(b"<script>1</script>"), "text/html"),
        ("drawing.svg", ContentFile(b"<svg/>"), "image/svg+xml"),
        ("feed.xml", ContentFile(b"<x/>"), None),
        ("app.js", ContentFile(b"1"), None),
        # The admin's upload: the browser's declared type wins over the name's.
        ("photo.png", SimpleUploadedFile("photo.png", b"<html>", content_type="text/html"), None),
    ],
)
def test_save_stores_scripted_types_as_attachments(s3, name, upload, stored_type):
    server, bucket = s3
    saved = SigV4S3Storage(location="media").save(name, upload)
    found = head(server, bucket, f"media/{saved}")
    assert found["ContentDisposition"] == "attachment"
    if stored_type:
        assert found["ContentType"] == stored_type


def test_ordinary_files_and_static_files_are_left_inline(s3):
    server, bucket = s3
    SigV4S3Storage(location="media").save("photo.png", ContentFile(b"\x89PNG"))
    SigV4StaticStorage(location="static").save("icon.svg", ContentFile(b"<svg/>"))
    SigV4S3Storage(location="own", active_content="inline").save("page.html", ContentFile(b"x"))
    for key in ("media/photo.png", "static/icon.svg", "own/page.html"):
        assert "ContentDisposition" not in head(server, bucket, key), key


def test_a_bad_choice_is_refused_naming_the_setting(settings, credentials, no_network):
    settings.AWS_STORAGE_BUCKET_NAME = "b"
    settings.AWS_S3_ACTIVE_CONTENT = "download"
    with pytest.raises(ImproperlyConfigured, match="AWS_S3_ACTIVE_CONTENT='download' is not a"):
        SigV4S3Storage()


def test_forms_that_admit_scripted_types_pin_the_header(s3):
    storage = SigV4S3Storage(location="media")
    for content_type in (None, "text/html", "image/", "image/svg+xml"):
        fields = storage.presigned_post("up/", max_size=10, content_type=content_type)["fields"]
        policy = json.loads(__import__("base64").b64decode(fields["policy"]))
        assert fields["Content-Disposition"] == "attachment", content_type
        assert {"Content-Disposition": "attachment"} in policy["conditions"]
    fields = storage.presigned_post("up/", max_size=10, content_type="image/png")["fields"]
    assert "Content-Disposition" not in fields


@pytest.mark.integration
def test_seaweedfs_refuses_a_form_without_the_pinned_header(settings, request):
    with in_bucket(request, settings, "seaweedfs", "active") as (server, bucket):
        form = SigV4S3Storage().presigned_post("page.html", max_size=100, content_type="text/html")
        del form["fields"]["Content-Disposition"]
        assert post(form, "page.html", b"<script>1</script>")[0] == 403
        assert "Contents" not in server.client().list_objects_v2(Bucket=bucket)


def test_multipart_uploads_of_scripted_types_are_attachments(s3):
    server, bucket = s3
    storage = SigV4S3Storage(location="media")
    started = storage.start_multipart_upload("big.html", size=10, content_type="text/html")
    from tests.util import put

    etag = put(started["urls"][0], b"<html>1234")[1]
    storage.complete_multipart_upload(started["name"], started["upload_id"], [(1, etag)])
    assert head(server, bucket, "media/big.html")["ContentDisposition"] == "attachment"


def test_image_prefix_no_longer_admits_svg():
    images = Limits("default", "up/", 10, ("image/",))
    assert images.allows_type("image/png") and not images.allows_type("image/svg+xml")
    assert Limits("default", "up/", 10, ("image/", "image/svg+xml")).allows_type("image/svg+xml")


# -- in Chromium: nothing runs (the ``beacon`` fixture is the conftest's) ------------
@pytest.mark.integration
@pytest.mark.parametrize("on", ["seaweedfs", "rgw"])  # RGW drops the POST's disposition
def test_chromium_runs_no_script_from_uploaded_files(settings, request, beacon, browser, on):
    beacon_url, hits = beacon
    with in_bucket(request, settings, on, "active") as (server, bucket):
        media = SigV4S3Storage(location="media")
        inline = SigV4S3Storage(location="inline", active_content="inline")
        for kind, name in (("svg", "drawing.svg"), ("html", "page.html")):
            # Control first: served inline, the script runs and calls the beacon.
            control = inline.save(name, ContentFile(scripted(beacon_url, kind, kind + "-inline")))
            assert opened(browser, inline.url(control), hits, kind + "-inline", wait=15), hits
            # The default: the same file is downloaded, not run.
            saved = media.save(name, ContentFile(scripted(beacon_url, kind, kind)))
            assert not opened(browser, media.url(saved), hits, kind, wait=3), hits
            # A direct POST upload too.
            form = media.presigned_post(
                f"direct/{name}",
                max_size=1000,
                content_type=("image/svg+xml" if kind == "svg" else "text/html"),
            )
            assert post(form, name, scripted(beacon_url, kind, kind + "-post"))[0] in (200, 204)
            url = media.url(f"direct/{name}")
            assert not opened(browser, url, hits, kind + "-post", wait=3), hits
