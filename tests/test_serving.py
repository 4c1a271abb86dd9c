"""One rule for what a browser may show inline (``sigv4_storage.content``), on
every path that signs or serves a file: ``save()``, presigned URLs,
``serving.redirect()`` and ``serving.stream()``; and ``stream()``'s headers.

A media storage serves inline only a file whose type, read as a browser reads
it, is on the allow-list of types browsers show without running script; a
caller's ``filename=`` or ``content_type=`` never makes an HTML, SVG or XHTML
file inline, and a type a browser reads differently from how it is written
(``"text/plain,text/html"``) is an attachment. Headless Chromium opens each
path: a script in the file would call a beacon on loopback; the controls (the
same files served by a storage with ``active_content="inline"``) show that it
does when served inline.
"""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.urls import path

from sigv4_storage import SigV4S3Storage, content, serving
from tests.servers import KINDS, in_bucket
from tests.util import fetch, opened, scripted, verify_presigned_url

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


# -- the rule -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content_type", "inline"),
    [
        ("image/png", True),
        ("IMAGE/JPEG; charset=x", True),
        ("video/mp4", True),
        ("audio/ogg; codecs=opus", True),
        ("application/pdf", True),
        ("text/plain; charset=utf-8", True),
        ("text/html", False),
        ("image/svg+xml", False),
        ("application/xhtml+xml", False),
        ("application/zip", False),
        ("application/octet-stream", False),
        # As a browser reads them: a list is its last type, an invalid type is sniffed.
        ("text/plain,text/html", False),
        ("text/plain, text/html", False),
        ("image/png,image/png", False),
        ("foo", False),
        ("text/", False),
        ("/plain", False),
        ("text/pl ain", False),
        ("", False),
        (None, False),
    ],
)
def test_only_types_browsers_show_without_script_are_inline(content_type, inline):
    assert content.shown_inline(content_type) is inline
    assert content.is_active(content_type) is not inline


@pytest.mark.parametrize(
    ("name", "asked", "signed"),
    [
        ("photo.png", None, None),  # the stored headers stand
        ("evil.html", None, {"ResponseContentDisposition": "attachment"}),
        ("archive.zip", None, {"ResponseContentDisposition": "attachment"}),
        ("no-extension", None, {"ResponseContentDisposition": "attachment"}),
        # A caller's inline file name keeps an HTML file an attachment...
        (
            "evil.html",
            {"ResponseContentDisposition": 'inline; filename="photo.png"'},
            {"ResponseContentDisposition": 'attachment; filename="photo.png"'},
        ),
        # ...and signs the type it is shown as for a name that is inline.
        (
            "photo.png",
            {"ResponseContentDisposition": 'inline; filename="holiday.png"'},
            {
                "ResponseContentDisposition": 'inline; filename="holiday.png"',
                "ResponseContentType": "image/png",
            },
        ),
        # A caller's type decides: HTML is an attachment, a PNG is shown.
        (
            "photo.png",
            {"ResponseContentType": "text/html"},
            {"ResponseContentType": "text/html", "ResponseContentDisposition": "attachment"},
        ),
        ("evil.html", {"ResponseContentType": "image/png"}, {"ResponseContentType": "image/png"}),
        (
            "photo.png",
            {"ResponseContentType": "text/plain,text/html"},
            {
                "ResponseContentType": "text/plain,text/html",
                "ResponseContentDisposition": "attachment",
            },
        ),
        # An attachment asked for stays as asked.
        (
            "evil.html",
            {"ResponseContentDisposition": 'attachment; filename="x.html"'},
            {"ResponseContentDisposition": 'attachment; filename="x.html"'},
        ),
    ],
)
def test_what_a_presigned_get_signs(name, asked, signed):
    assert content.signed_get(name, asked) == signed


# -- on the servers ---------------------------------------------------------------------
@pytest.fixture(params=KINDS)
def s3(request, settings):
    with in_bucket(request, settings, request.param, "serving") as found:
        yield found


@pytest.fixture
def finished():
    """``response.close()`` without the database (these tests have none)."""
    from django.core.signals import request_finished
    from django.db import close_old_connections

    request_finished.disconnect(close_old_connections)
    yield
    request_finished.connect(close_old_connections)


HTML = b"<!doctype html><script>1</script>"
ACTIVE = [
    # (stored name, bytes, the type a browser declared, what stream()/redirect() is asked)
    ("evil.html", HTML, None, {}),
    ("evil.html", HTML, None, {"filename": "photo.png"}),
    ("evil.svg", b"<svg/>", None, {"filename": "drawing.png"}),
    ("notes.txt", HTML, None, {"content_type": "text/html"}),
    ("notes.txt", HTML, None, {"content_type": "text/plain,text/html"}),
    # The browser chose a type it reads as HTML: stored as an attachment.
    ("photo.png", HTML, "text/plain,text/html", {}),
    ("photo.png", HTML, "foo", {}),
]


def upload(name: str, body: bytes, declared: str | None):
    if declared is None:
        return ContentFile(body)
    return SimpleUploadedFile(name, body, content_type=declared)


def served(response) -> bytes:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    response.close()
    return body


@pytest.mark.parametrize(("name", "body", "declared", "asked"), ACTIVE)
@pytest.mark.parametrize("ranged", [False, True])
def test_stream_never_serves_active_content_inline(
    s3, rf, finished, name, body, declared, asked, ranged
):
    storage = SigV4S3Storage(location="media")
    saved = storage.save(name, upload(name, body, declared))
    request = rf.get("/", HTTP_RANGE="bytes=0-3") if ranged else rf.get("/")
    response = serving.stream(request, storage, saved, **asked)
    assert response.status_code == (206 if ranged else 200)
    assert content.is_attachment(response["Content-Disposition"]), response.headers
    assert response["X-Content-Type-Options"] == "nosniff"
    assert served(response) == body[: 4 if ranged else None]


@pytest.mark.parametrize("ranged", [False, True])
def test_stream_shows_images_inline(s3, rf, finished, ranged):
    storage = SigV4S3Storage(location="media")
    saved = storage.save("photo.png", ContentFile(PNG))
    request = rf.get("/", HTTP_RANGE="bytes=0-3") if ranged else rf.get("/")
    response = serving.stream(request, storage, saved, filename="holiday.png")
    assert response["Content-Disposition"] == 'inline; filename="holiday.png"'
    assert response["Content-Type"] == "image/png"
    assert served(response) == PNG[: 4 if ranged else None]


@pytest.mark.parametrize(("name", "body", "declared", "asked"), ACTIVE)
def test_redirect_never_signs_active_content_inline(s3, name, body, declared, asked):
    server, _bucket = s3
    storage = SigV4S3Storage(location="media")
    saved = storage.save(name, upload(name, body, declared))
    url = serving.redirect(storage, saved, **asked)["Location"]
    verify_presigned_url(url, secret_key=server.secret_key)
    status, headers, _body = fetch(url)
    assert status == 200
    assert content.is_attachment(headers.get("Content-Disposition")), headers


def test_redirect_shows_an_image_inline_as_an_image(s3):
    server, _bucket = s3
    storage = SigV4S3Storage(location="media")
    saved = storage.save("photo.png", ContentFile(PNG))
    url = serving.redirect(storage, saved, filename="holiday.png")["Location"]
    status, headers, body = fetch(url)
    assert (status, body) == (200, PNG)
    assert headers["Content-Disposition"] == 'inline; filename="holiday.png"'
    assert headers["Content-Type"] == "image/png"


def test_stream_keeps_private_files_out_of_shared_caches(s3, rf, finished):
    private = SigV4S3Storage(location="media")
    public = SigV4S3Storage(
        location="public",
        querystring_auth=False,
        object_parameters={"CacheControl": "public, max-age=600"},
    )
    for storage, expected in ((private, "private, no-store"), (public, "public, max-age=600")):
        saved = storage.save("photo.png", ContentFile(PNG))
        for request in (rf.get("/"), rf.get("/", HTTP_RANGE="bytes=0-3")):
            response = serving.stream(request, storage, saved)
            assert response["Cache-Control"] == expected
            served(response)


def test_a_small_range_is_one_request_of_its_bytes(s3, rf, finished):
    storage = SigV4S3Storage(location="media")
    body = bytes(range(256)) * 4096  # 1 MiB
    saved = storage.save("clip.mp4", ContentFile(body))
    sent: list[tuple[str, str]] = []
    storage.connection.meta.client.meta.events.register(
        "before-send.s3",
        lambda request, **_: sent.append((request.method, request.headers.get("Range", b""))),
    )
    for first in (0, 300_000, len(body) - 1):
        del sent[:]
        response = serving.stream(rf.get("/", HTTP_RANGE=f"bytes={first}-{first}"), storage, saved)
        assert response.status_code == 206
        assert served(response) == body[first : first + 1]
        # One HeadObject (open), one GET of one byte: not a part.
        assert [m for m, _ in sent] == ["HEAD", "GET"]
        assert sent[1][1] in (f"bytes={first}-{first}", f"bytes={first}-{first}".encode())


# -- in Chromium, through a Django site: nothing runs --------------------------------------
STORAGES: dict[str, SigV4S3Storage] = {}


def _stream(request, alias, name):
    return serving.stream(request, STORAGES[alias], name, **request.GET.dict())


def _redirect(request, alias, name):
    return serving.redirect(STORAGES[alias], name, **request.GET.dict())


urlpatterns = [
    path("stream/<str:alias>/<path:name>", _stream),
    path("redirect/<str:alias>/<path:name>", _redirect),
]


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _Threaded(WSGIServer):
    daemon_threads = True

    def process_request(self, request, client_address):
        threading.Thread(target=self._handle, args=(request, client_address), daemon=True).start()

    def _handle(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        finally:
            self.shutdown_request(request)


@pytest.fixture
def site(settings, finished):
    """This module's views, served by Django on loopback."""
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    server = make_server("127.0.0.1", 0, WSGIHandler(), _Threaded, _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    STORAGES.clear()


XHTML = '<html xmlns="http://www.w3.org/1999/xhtml"><script>{}</script></html>'


def document(beacon_url: str, kind: str, tag: str) -> bytes:
    if kind == "xhtml":
        call = f"fetch('{beacon_url}/{tag}', {{mode: 'no-cors'}})"
        return XHTML.format(call).encode()
    return scripted(beacon_url, kind, tag)


@pytest.mark.integration
def test_chromium_runs_no_script_through_stream_or_redirect(
    settings, request, beacon, browser, site
):
    beacon_url, hits = beacon
    with in_bucket(request, settings, "seaweedfs", "serving") as (server, bucket):
        STORAGES["media"] = SigV4S3Storage(location="media")
        STORAGES["inline"] = SigV4S3Storage(location="inline", active_content="inline")
        for kind in ("html", "svg", "xhtml"):
            name = f"page.{kind}"
            # Control: a storage that serves it inline, streamed: the script runs.
            tag = f"{kind}-control"
            STORAGES["inline"].save(name, ContentFile(document(beacon_url, kind, tag)))
            assert opened(browser, f"{site}/stream/inline/{name}", hits, tag, wait=15), hits
            for path_, query in (
                ("stream", ""),
                ("stream", "?filename=photo.png"),
                ("stream", "?content_type=text/html"),
                ("redirect", "?filename=photo.png"),
                ("redirect", "?content_type=text/html"),
            ):
                tag = f"{kind}-{path_}-{len(query)}"
                saved = STORAGES["media"].save(
                    f"{tag}.{kind}", ContentFile(document(beacon_url, kind, tag))
                )
                url = f"{site}/{path_}/media/{saved}{query}"
                assert not opened(browser, url, hits, tag, wait=2), (url, hits)
        # A browser-chosen type that Chromium reads as HTML, saved and linked to.
        tag = "chosen"
        upload = SimpleUploadedFile(
            "photo.png",
            document(beacon_url, "html", tag),
            content_type="text/plain,text/html",
        )
        saved = STORAGES["media"].save("photo.png", upload)
        assert not opened(browser, STORAGES["media"].url(saved), hits, tag, wait=2), hits
        assert not opened(browser, f"{site}/stream/media/{saved}", hits, tag, wait=2), hits


def test_a_custom_domain_url_carries_no_response_parameters(settings, credentials, no_network):
    """S3 answers ``response-*`` only to requests it signs: a custom domain's URL
    (unsigned, or CloudFront's) is left as django-storages builds it."""
    settings.AWS_STORAGE_BUCKET_NAME = "b"
    storage = SigV4S3Storage(custom_domain="cdn.example.com")
    for name in ("page.html", "", "archive.zip"):
        assert "ResponseContentDisposition" not in storage.url(name), name
    signed = SigV4S3Storage().url("page.html")
    assert "response-content-disposition=attachment" in signed
