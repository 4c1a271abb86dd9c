"""Resumable direct uploads: an upload in parts, interrupted, goes on where it stopped.

The resume view (``uploads.resume``) answers which parts S3 has of an open
multipart upload (``ListParts``) and new part URLs for the others, for the
user and session that started it. Through the views on moto, SeaweedFS and
Ceph RGW (integration); and in Chromium (integration): a page reloaded in the
middle of a 30 MiB upload, the same file chosen again, only the missing parts
sent, every part sent whole once (counted at a proxy in front of SeaweedFS).
"""

from __future__ import annotations

import os
import threading
import urllib.error
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import make_server

import pytest
from django import forms
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template import Context, Engine
from django.urls import include, path

import sigv4_storage
from sigv4_storage import views
from sigv4_storage.forms import DirectUploadField
from sigv4_storage.tokens import Upload
from tests.servers import connect, use_bucket
from tests.test_direct_uploads import (
    BOB,
    SERVERS,
    AvatarForm,
    call,
    field_token,
    submit,
    upload_bucket,
)
from tests.test_serving import _Quiet, _Threaded
from tests.util import put, send_parts

MB = 1024 * 1024
PART = 5 * MB  # the part size of files up to 50,000 MiB


@pytest.fixture(params=SERVERS)
def s3(request, settings):
    yield from upload_bucket(request, settings)


def started(size: int, **kwargs):
    payload = {"field": field_token(AvatarForm), "name": "big.bin", "size": size, "type": "x/y"}
    status, answer = call(views.sign, payload, **kwargs)
    assert status == 200 and answer["mode"] == "multipart", answer
    return answer


def test_an_interrupted_upload_sends_only_its_missing_parts(s3):
    server, bucket = s3
    body = os.urandom(3 * PART + 1234)  # four parts, the last one short
    answer = started(len(body))
    first = put(answer["urls"][0], body[:PART])[1]  # part 1 arrives; then the page is gone
    third = put(answer["urls"][2], body[2 * PART : 3 * PART])[1]

    status, resumed = call(views.resume, {"upload": answer["upload"]})
    assert status == 200, resumed
    assert resumed["upload"] == answer["upload"] and resumed["part_size"] == PART
    assert resumed["parts"] == [[1, first], [3, third]]
    assert resumed["urls"][0] is None and resumed["urls"][2] is None
    sent = [
        [number, put(url, body[(number - 1) * PART : number * PART])[1]]
        for number, url in enumerate(resumed["urls"], 1)
        if url
    ]
    assert [number for number, _ in sent] == [2, 4]
    parts = sorted(resumed["parts"] + sent)
    assert call(views.complete, {"upload": answer["upload"], "parts": parts})[0] == 200
    form = submit(AvatarForm, answer["upload"])
    assert form.is_valid(), form.errors
    got = server.client().get_object(Bucket=bucket, Key=f"media/{form.cleaned_data['file']}")
    assert got["Body"].read() == body


def test_the_new_part_urls_sign_each_parts_size(s3):
    """Resumed URLs are bound as the first ones: a part of another size is refused
    (SeaweedFS and Ceph RGW verify the signed Content-Length; moto does not)."""
    server, bucket = s3
    answer = started(2 * PART + 10)
    status, resumed = call(views.resume, {"upload": answer["upload"]})
    assert status == 200 and resumed["parts"] == [] and len(resumed["urls"]) == 3
    if server.kind != "moto":
        with pytest.raises(urllib.error.HTTPError) as refused:
            put(resumed["urls"][2], b"x" * 11)
        assert refused.value.code == 403
    assert put(resumed["urls"][2], b"x" * 10)[0] == 200


def test_only_the_user_who_started_it_resumes_it(s3):
    """Bound as complete and abort are: to the user (and, for an anonymous upload, the
    browser session)."""
    answer = started(2 * PART)
    status, refused = call(views.resume, {"upload": answer["upload"]}, user=BOB)
    assert (status, refused["code"]) == (403, "not_yours")
    status, refused = call(views.resume, {"upload": answer["upload"]}, csrf=False)
    assert (status, refused["code"]) == (403, "csrf")


def test_a_joined_or_dropped_upload_is_not_resumed(s3):
    server, bucket = s3
    body = os.urandom(2 * PART + 1)
    joined = started(len(body))
    parts = send_parts(joined, body)
    assert call(views.complete, {"upload": joined["upload"], "parts": parts})[0] == 200
    status, refused = call(views.resume, {"upload": joined["upload"]})
    assert (status, refused["code"]) == (400, "expired")
    assert "choose the file again" in refused["error"]

    dropped = started(len(body))
    assert call(views.abort, {"upload": dropped["upload"]})[0] == 200
    status, refused = call(views.resume, {"upload": dropped["upload"]})
    assert (status, refused["code"]) == (400, "expired")


def test_a_posted_upload_has_nothing_to_resume(s3):
    payload = {"field": field_token(AvatarForm), "name": "a.bin", "size": 10, "type": "x/y"}
    status, answer = call(views.sign, payload)
    assert status == 200 and answer["mode"] == "post"
    status, refused = call(views.resume, {"upload": answer["upload"]})
    assert (status, refused["code"]) == (400, "invalid")


def test_a_token_from_before_resuming_existed_says_to_choose_again(s3):
    """A multipart token signed before tokens carried the size cannot be resumed."""
    from dataclasses import replace

    answer = started(2 * PART)
    old = replace(Upload.from_token(answer["upload"]), size=None).token()
    status, refused = call(views.resume, {"upload": old})
    assert (status, refused["code"]) == (400, "expired")


# -- in Chromium: a reload in the middle of a 30 MiB upload ---------------------------------
def anyone(request, limits) -> bool:
    """The upload permission hook of this module's site: anonymous visitors too."""
    return True


class BigForm(forms.Form):
    file = DirectUploadField(max_size=50 * MB, upload_to="big/")


PAGE = Engine().from_string(
    "<!doctype html><html><body>"
    '<form method="post" action="/submit/">{% csrf_token %}{{ form }}'
    '<button type="submit">Save</button></form>'
    '<script src="/js/upload-client.js"></script><script src="/js/direct-upload.js"></script>'
    "</body></html>"
)
SCRIPTS = Path(sigv4_storage.__file__).parent / "static" / "sigv4_storage"


def _page(request):
    context = Context({"form": BigForm(), "csrf_token": get_token(request)})
    return HttpResponse(PAGE.render(context))


def _script(request, name):
    return HttpResponse((SCRIPTS / name).read_bytes(), content_type="text/javascript")


def _submit(request):
    form = BigForm(request.POST)
    if form.is_valid():
        return HttpResponse(f"saved:{form.cleaned_data['file']}")
    return HttpResponse(f"errors:{form.errors.as_text()}", status=400)


urlpatterns = [
    path("", _page),
    path("js/<str:name>", _script),
    path("submit/", _submit),
    path("s3/", include("sigv4_storage.urls")),
]


@pytest.fixture
def site(request, settings, seaweedfs):
    """This module's page, served by Django on loopback, uploading to a SeaweedFS
    bucket through a counting proxy (``tests/faults.py``)."""
    from tests.faults import FaultProxy

    weed = connect(request, "seaweedfs")
    proxy = FaultProxy(seaweedfs.endpoint)
    proxy.start()
    with weed.bucket("resume") as bucket:
        use_bucket(settings, weed, bucket, endpoint=proxy.endpoint)
        settings.AWS_LOCATION = "media"
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "sigv4_storage.SigV4S3Storage"},
        }
        settings.ROOT_URLCONF = __name__
        settings.ALLOWED_HOSTS = ["127.0.0.1"]
        settings.MIDDLEWARE = ["django.middleware.csrf.CsrfViewMiddleware"]
        settings.SIGV4_STORAGE_UPLOAD_PERMISSION = f"{__name__}.anyone"
        httpd = make_server("127.0.0.1", 0, WSGIHandler(), _Threaded, _Quiet)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{httpd.server_address[1]}/", proxy, weed, bucket
        finally:
            httpd.shutdown()
            httpd.server_close()
    proxy.stop()


def part_puts(proxy) -> list[int]:
    """The part numbers of every part PUT the proxy forwarded to the server."""
    found = []
    for method, path_ in proxy.seen:
        query = parse_qs(urlsplit(path_).query)
        if method == "PUT" and "partNumber" in query:
            found.append(int(query["partNumber"][0]))
    return found


@pytest.mark.integration
@pytest.mark.parametrize("interruption", ["reload", "lost connection"])
def test_chromium_resumes_and_sends_no_part_twice(site, browser, tmp_path, interruption):
    """A 30 MiB file (six parts of 5 MiB) interrupted at its fourth part, by a page
    reload (the part stalls at the proxy meanwhile, and is never stored) or by a
    connection dropped mid-part; the same file chosen again sends parts 4-6."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.faults import Rule

    url, proxy, weed, bucket = site
    body = os.urandom(30 * MB)
    path_ = tmp_path / "큰 동영상.bin"
    path_.write_bytes(body)
    fourth = lambda method, p: method == "PUT" and "partNumber=4" in p  # noqa: E731
    if interruption == "reload":
        proxy.rules.append(Rule(fourth, status=503, code="SlowDown", delay=20, times=1))
    else:  # dropped mid-body until resumed (Chromium retries a reset request once itself)
        resumed = lambda: any(m == "GET" and "uploadId=" in p for m, p in proxy.seen)  # noqa: E731
        proxy.rules.append(Rule(lambda m, p: fourth(m, p) and not resumed(), status=None))

    def choose():
        chooser = browser.find_element(By.CSS_SELECTOR, "[data-sigv4-upload] input[type=file]")
        browser.execute_script("arguments[0].value = ''", chooser)  # so that it changes
        chooser.send_keys(str(path_))

    browser.get(url)
    choose()
    WebDriverWait(browser, 60).until(lambda _: proxy.injected >= 1)  # parts 1-3 went
    assert sorted(part_puts(proxy)) == [1, 2, 3]
    widget = browser.find_element(By.CSS_SELECTOR, "[data-sigv4-upload]")
    if interruption == "reload":
        browser.refresh()  # mid-upload: the fourth part is cut off
        widget = browser.find_element(By.CSS_SELECTOR, "[data-sigv4-upload]")
    else:
        WebDriverWait(browser, 30).until(lambda _: widget.get_attribute("data-state") == "failed")

    choose()  # the same file, chosen again
    WebDriverWait(browser, 60).until(lambda _: widget.get_attribute("data-state") != "uploading")
    status = widget.find_element(By.CSS_SELECTOR, ".sigv4-upload-status").text
    assert widget.get_attribute("data-state") == "done", status
    # Every part reached the server whole once: 1-3 before the reload, 4-6 after it.
    assert sorted(part_puts(proxy)) == [1, 2, 3, 4, 5, 6]
    lists = [p for method, p in proxy.seen if method == "GET" and "uploadId=" in p]
    assert len(lists) == 1  # the resume view's ListParts

    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 30).until(
        lambda b: "saved:" in b.page_source or "errors:" in b.page_source
    )
    text = browser.find_element(By.TAG_NAME, "body").text
    assert text.startswith("saved:big/"), text
    name = text.removeprefix("saved:")
    stored = weed.client().get_object(Bucket=bucket, Key=f"media/{name}")["Body"].read()
    assert stored == body
