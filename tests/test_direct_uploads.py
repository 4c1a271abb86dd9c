"""Direct browser uploads through the views and ``DirectUploadField``.

What a browser does is done here with a plain HTTP client: ask the sign view,
send the file to the server (moto in server mode in every environment,
SeaweedFS, which enforces the policy, in ``integration``), submit the token.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from types import SimpleNamespace

import pytest
from django import forms
from django.core import signing
from django.db import models
from django.test import RequestFactory, override_settings
from django.urls import include, path

from sigv4_storage import views
from sigv4_storage.forms import DirectUploadField
from tests.servers import KINDS, connect, use_bucket
from tests.util import keys, post, put, send_parts

urlpatterns = [path("s3/", include("sigv4_storage.urls"))]
SIGNED_IN = SimpleNamespace(is_authenticated=True, pk=1)
BOB = SimpleNamespace(is_authenticated=True, pk=2)
ANONYMOUS = SimpleNamespace(is_authenticated=False, pk=None)
#: A browser's CSRF secret (its cookie), and another browser's.
SESSION = "s3cretCsrfSecretOfAlicesBrowser1"
OTHER_SESSION = "theCsrfSecretOfBobsOwnBrowser222"


class DocumentForm(forms.Form):
    file = DirectUploadField(
        max_size=200_000, upload_to="docs/", content_types=["image/", "text/plain"]
    )


class AvatarForm(forms.Form):
    file = DirectUploadField(max_size=20 * 1024 * 1024, upload_to="avatars/")


class Document(models.Model):
    file = models.FileField(upload_to="docs/")

    class Meta:
        app_label = "sigv4_storage"
        managed = False


class DocumentModelForm(forms.ModelForm):
    file = DirectUploadField(max_size=200_000, upload_to="docs/")

    class Meta:
        model = Document
        fields = ["file"]


SERVERS = KINDS


def upload_bucket(request, settings):
    """A bucket on ``request.param``'s server as the default storage (under
    ``media/``), and this module's URLconf with the upload views."""
    server = connect(request, request.param)
    with server.bucket("direct") as bucket, override_settings(ROOT_URLCONF=__name__):
        use_bucket(settings, server, bucket)
        settings.AWS_LOCATION = "media"
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "sigv4_storage.SigV4S3Storage"},
        }
        yield server, bucket


@pytest.fixture(params=SERVERS)
def s3(request, settings):
    yield from upload_bucket(request, settings)


def field_token(form_class=DocumentForm, name="file") -> str:
    """The field token the widget renders for the form's field ``name``."""
    return replace(form_class().fields[name].limits, field=name).token()


def submit(form_class, token, session=SESSION, **data):
    """A form as the browser submits it: the upload token and the CSRF token."""
    return form_class(data={"file": token, "csrfmiddlewaretoken": session, **data})


def call(view, payload, user=SIGNED_IN, csrf=True, session=SESSION):
    request = RequestFactory().post("/", data=json.dumps(payload), content_type="application/json")
    request.user = user
    if session is not None:
        request.COOKIES["csrftoken"] = session
    if not csrf:
        request._dont_enforce_csrf_checks = False
    else:
        request._dont_enforce_csrf_checks = True
    response = view(request)
    if response["Content-Type"] != "application/json":
        return response.status_code, {}
    return response.status_code, json.loads(response.content)


def sign(name="사진 1.png", size=1000, type_="image/png", form=DocumentForm, **kwargs):
    payload = {"field": field_token(form), "name": name, "size": size, "type": type_}
    return call(views.sign, payload, **kwargs)


def sign_large(size=9 * 1024 * 1024):
    """The sign view's answer for a file that goes in parts (the avatar field)."""
    payload = {"field": field_token(AvatarForm), "name": "big.bin", "size": size,
               "type": "application/x"}  # fmt: skip
    return call(views.sign, payload)


# -- the sign view refuses ----------------------------------------------------------------
def test_signed_out_users_are_refused(s3):
    assert sign(user=ANONYMOUS) == (
        403,
        {"error": "You are not allowed to upload files here.", "code": "not_allowed"},
    )


def test_csrf_is_required(s3):
    assert sign(csrf=False) == (
        403,
        {
            "error": "This page's security token is missing or old: reload the page.",
            "code": "csrf",
        },
    )


def test_every_refusal_is_json_with_a_code(s3):
    request = RequestFactory().get("/")
    request.user = SIGNED_IN
    response = views.sign(request)
    assert (response.status_code, json.loads(response.content)["code"]) == (405, "bad_request")
    request = RequestFactory().post("/", data=b"{not json", content_type="application/json")
    request.user, request._dont_enforce_csrf_checks = SIGNED_IN, True
    response = views.sign(request)
    assert response["Content-Type"] == "application/json" and response.status_code == 400
    status, answer = call(views.complete, {"upload": "forged"})
    assert (status, answer["code"]) == (400, "invalid")


def test_the_permission_hook_decides(s3, settings):
    settings.SIGV4_STORAGE_UPLOAD_PERMISSION = "tests.test_direct_uploads.only_bob"
    assert sign(user=SimpleNamespace(is_authenticated=True, username="eve"))[0] == 403
    assert sign(user=SimpleNamespace(is_authenticated=False, username="bob"))[0] == 200


def only_bob(request, limits):
    return request.user.username == "bob"


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"field": "forged"}, "token is not valid"),
        ({"size": 200_001}, "200,001 bytes; at most 200,000 bytes is allowed"),
        ({"size": 9_000_000}, "The file is 8.6 MB; at most 195.3 KB is allowed"),
        ({"type": "image/png\r\nX-Injected: 1"}, "not a MIME type"),
        ({"name": "evil.html", "type": "image/png"}, "(evil.html) does not match its type"),
        ({"name": "a.svg", "type": "image/svg+xml"}, "'image/svg+xml' are not allowed"),
        ({"type": 7}, "type is not text"),
        ({"name": 7}, "name is missing"),
        ({"size": "10"}, "size is missing"),
        ({"size": 0}, "size is missing"),
        ({"type": "text/html"}, "'text/html' are not allowed"),
        ({"name": "x" * 1100 + ".png"}, "cannot be stored"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(s3, payload, words):
    body = {"field": field_token(), "name": "a.png", "size": 10, "type": "image/png", **payload}
    status, answer = call(views.sign, body)
    assert status == 400 and words in answer["error"], answer


# -- a whole upload -----------------------------------------------------------------------------
def test_a_small_file_is_posted_to_s3_and_the_form_stores_its_name(s3):
    server, bucket = s3
    body = b"\x89PNG\r\n\x1a\n" + os.urandom(500)
    status, answer = sign(size=len(body), form=DocumentModelForm)
    assert status == 200 and answer["mode"] == "post"
    assert post(answer, "사진 1.png", body)[0] in (200, 204)

    form = submit(DocumentModelForm, answer["upload"])
    assert form.is_valid(), form.errors
    name = form.cleaned_data["file"]
    assert name.startswith("docs/") and name.endswith("/사진_1.png")
    document = form.save(commit=False)
    assert document.file.name == name
    sent = []
    document.file.storage.connection.meta.client.meta.events.register(
        "before-send.s3", lambda request, **_: sent.append(request.method)
    )
    Document._meta.get_field("file").pre_save(document, add=True)  # what save() runs
    assert sent == []  # stored as it is: no upload again
    with document.file.open() as f:
        assert f.read() == body
    assert keys(server, bucket) == [f"media/{name}"]


def test_a_large_file_goes_in_parts(s3):
    server, bucket = s3
    body = os.urandom(9 * 1024 * 1024)
    status, answer = call(
        views.sign,
        {
            "field": field_token(AvatarForm),
            "name": "big.bin",
            "size": len(body),
            "type": "application/x",
        },
    )
    assert status == 200 and answer["mode"] == "multipart"
    parts = send_parts(answer, body)
    assert call(views.complete, {"upload": answer["upload"], "parts": parts})[0] == 200

    form = submit(AvatarForm, answer["upload"])
    assert form.is_valid(), form.errors
    key = f"media/{form.cleaned_data['file']}"
    assert server.client().get_object(Bucket=bucket, Key=key)["Body"].read() == body


def test_an_aborted_upload_leaves_nothing(s3):
    server, bucket = s3
    status, answer = call(
        views.sign,
        {
            "field": field_token(AvatarForm),
            "name": "big.bin",
            "size": 9 * 1024 * 1024,
            "type": "x/y",
        },
    )
    put(answer["urls"][0], os.urandom(answer["part_size"]))
    assert call(views.abort, {"upload": answer["upload"]})[0] == 200
    assert not server.client().list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert call(views.abort, {"upload": answer["upload"]}, user=ANONYMOUS)[0] == 403


# -- what the form refuses ----------------------------------------------------------------------
def test_a_forged_token_is_refused(s3):
    form = DocumentForm(data={"file": signing.dumps({"name": "docs/x.png"}, salt="other")})
    assert not form.is_valid()
    assert "not valid" in str(form.errors)


def test_an_expired_token_is_refused(s3, monkeypatch):
    _, answer = sign()
    import time

    later = time.time() + 3600 + 86400 + 10
    monkeypatch.setattr(signing.time, "time", lambda: later)
    form = submit(DocumentForm, answer["upload"])
    assert not form.is_valid() and "expired" in str(form.errors)


def test_a_token_of_another_field_is_refused(s3):
    server, bucket = s3
    _, answer = sign(size=5)
    post(answer, "a.png", b"\x89PNG\n")
    form = submit(AvatarForm, answer["upload"])
    assert not form.is_valid() and "another field" in str(form.errors)


def test_a_file_that_never_arrived_is_refused(s3):
    _, answer = sign()
    form = submit(DocumentForm, answer["upload"])
    assert not form.is_valid() and "did not arrive" in str(form.errors)


def test_an_object_over_the_limit_is_refused_and_deleted(s3):
    """A server that does not enforce the policy (moto) lets it through: the form does not."""
    server, bucket = s3
    _, answer = sign(size=10)
    from sigv4_storage.tokens import Upload

    name = Upload.from_token(answer["upload"]).name
    server.client().put_object(
        Bucket=bucket, Key=f"media/{name}", Body=os.urandom(200_001), ContentType="image/png"
    )
    form = submit(DocumentForm, answer["upload"])
    assert not form.is_valid() and "not allowed" in str(form.errors)
    assert keys(server, bucket) == []


def test_the_widget_alone_says_to_use_the_field(s3):
    """Before, an ``assert`` (gone under ``python -O``: then an AttributeError)."""
    from django.core.exceptions import ImproperlyConfigured

    from sigv4_storage.forms import DirectUploadWidget

    with pytest.raises(ImproperlyConfigured, match="use the field, not the widget alone"):
        DirectUploadWidget().render("file", None)


def test_the_widget_renders_its_urls_and_limits(s3):
    html = str(DocumentForm()["file"])
    assert 'data-sign-url="/s3/uploads/sign/"' in html
    assert 'accept="image/*,text/plain"' in html
    assert 'type="hidden" name="file"' in html
    assert "direct-upload.js" in str(DocumentForm().media)


def test_without_the_urlconf_the_error_says_what_to_add(settings, no_network):
    settings.ROOT_URLCONF = "tests.urls_without_uploads"
    settings.AWS_STORAGE_BUCKET_NAME = "b"
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match='include\\("sigv4_storage.urls"\\)'):
        str(DocumentForm()["file"])


def test_the_javascript_is_plain_and_local():
    """No import, no URL of its own, no build step: the widget and the client."""
    from pathlib import Path

    import sigv4_storage

    folder = Path(sigv4_storage.__file__).parent / "static" / "sigv4_storage"
    for script in ("direct-upload.js", "upload-client.js"):
        code = (folder / script).read_text().split("*/", 1)[1]
        assert "import " not in code and "http" not in code and "require(" not in code
    assert "X-CSRFToken" in (folder / "direct-upload.js").read_text()
    assert str(DocumentForm().media).index("upload-client.js") < str(DocumentForm().media).index(
        "direct-upload.js"
    )


def test_without_the_app_the_field_says_so_when_defined_and_rendered(settings, no_network):
    """Its template and script live in the app: an error naming it, not a
    TemplateDoesNotExist when the page renders."""
    from django.core.exceptions import ImproperlyConfigured
    from django.test import override_settings

    from sigv4_storage.forms import DirectUploadField

    form = DocumentForm()  # defined while the app was installed
    with override_settings(INSTALLED_APPS=["django.contrib.staticfiles"]):
        with pytest.raises(ImproperlyConfigured, match="needs 'sigv4_storage' in INSTALLED_APPS"):
            DirectUploadField(max_size=10)
        with pytest.raises(ImproperlyConfigured, match="template and upload script live in"):
            str(form["file"])


@pytest.mark.parametrize("overwrite", [False, True], ids=["file_overwrite=False", "True"])
def test_a_second_complete_answers_as_the_first(s3, settings, overwrite):
    """A double click or a retry: the same answer, never a 500 (it was an unhandled
    FileExistsError with file_overwrite=False)."""
    server, bucket = s3
    settings.AWS_S3_FILE_OVERWRITE = overwrite
    body = os.urandom(9 * 1024 * 1024)
    _, answer = call(
        views.sign,
        {"field": field_token(AvatarForm), "name": "big.bin", "size": len(body), "type": "x/y"},
    )
    parts = send_parts(answer, body)
    first = call(views.complete, {"upload": answer["upload"], "parts": parts})
    again = call(views.complete, {"upload": answer["upload"], "parts": parts})
    assert first[0] == 200 and again == first
    form = submit(AvatarForm, answer["upload"])
    assert form.is_valid(), form.errors
    assert len(keys(server, bucket)) == 1


def test_an_s3_failure_is_a_logged_502(s3, settings, caplog):
    """The bucket is gone: the view answers JSON 502 for the person uploading and logs
    the details for the developer."""
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket-for-this-test"
    payload = {"field": field_token(AvatarForm), "name": "big.bin", "size": 9 * 1024 * 1024}
    with caplog.at_level("ERROR", logger="sigv4_storage"):
        status, answer = call(views.sign, {**payload, "type": "x/y"})
    assert (status, answer) == (
        502,
        {"error": "The storage did not answer as expected: try again.", "code": "failed"},
    )
    assert "NoSuchBucket" in caplog.text and "failed talking to S3" in caplog.text


# -- hostile requests: a 4xx JSON answer, never a 500 ---------------------------------------
def raw(view, body: bytes, content_type="application/json"):
    """``view``'s answer to a POST of ``body`` as it is, from a signed-in user."""
    request = RequestFactory().post("/", data=body, content_type=content_type)
    request.user, request._dont_enforce_csrf_checks = SIGNED_IN, True
    request.COOKIES["csrftoken"] = SESSION
    response = view(request)
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.status_code, json.loads(response.content)


DEEP = b"[" * 200_000 + b"]" * 200_000


@pytest.mark.parametrize("view", [views.sign, views.complete, views.resume, views.abort])
@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (DEEP, "application/json", 400, "nested too deeply"),
        (b'{"a": ' * 50_000 + b"1" + b"}" * 50_000, "application/json", 400, "nested too deep"),
        (b'{"size": Infinity}', "application/json", 400, "not JSON"),
        (b'{"size": NaN}', "application/json", 400, "not JSON"),
        (b'{"size": 1e400}', "application/json", 400, "not JSON"),
        (b'{"size": -1e400}', "application/json", 400, "not JSON"),
        (b"\xff\xfe{}", "application/json", 400, "not JSON"),
        (
            b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
            415,
            "Send JSON",
        ),  # fmt: skip
        (b"field=1", "application/x-www-form-urlencoded", 415, "Send JSON"),
        (b"{}", "text/plain", 415, "Send JSON"),
        (b" " * (1024 * 1024 + 1), "application/json", 413, "too large"),
    ],
)
def test_hostile_bodies_are_refused_in_json(no_network, view, body, content_type, status, words):
    found, answer = raw(view, body, content_type)
    assert found == status and words in answer["error"], answer


@pytest.mark.parametrize(
    "parts",
    [
        [["Infinity", "e"]],
        [[1.0, "e"]],
        [[True, "e"]],
        [[0, "e"]],
        [[10_001, "e"]],
        [["1", "e"]],
        [[1, 2]],
        [[1, ""]],
        [[1, "e" * 1025]],
        [[1, "e", 3]],
        [1],
        [[n, "e"] for n in range(1, 10_002)],
    ],
)
def test_hostile_parts_are_refused_before_s3_is_asked(s3, parts):
    status, answer = sign_large()
    assert status == 200 and answer["mode"] == "multipart"
    status, refused = call(views.complete, {"upload": answer["upload"], "parts": parts})
    assert status == 400 and refused["code"] == "bad_request", refused
    assert "parts" in refused["error"]


# -- a SECRET_KEY rotation: tokens made before it still work, as Django's signing does -----
@pytest.mark.parametrize("fallback", [True, False])
def test_uploads_in_flight_survive_a_secret_key_rotation(s3, settings, fallback):
    server, bucket = s3
    old = settings.SECRET_KEY
    body = b"\x89PNG\r\n\x1a\n" + os.urandom(500)
    status, small = sign(size=len(body))
    assert post(small, "a.png", body)[0] in (200, 204)
    status, large = sign_large()
    parts = send_parts(large, os.urandom(9 * 1024 * 1024))

    settings.SECRET_KEY = "a-new-key-after-rotation-" + "x" * 30
    settings.SECRET_KEY_FALLBACKS = [old] if fallback else []
    completed = call(views.complete, {"upload": large["upload"], "parts": parts})
    form = submit(DocumentForm, small["upload"])
    if fallback:  # the session and user bindings are checked under the old key too
        assert completed[0] == 200, completed
        assert form.is_valid(), form.errors
        assert submit(AvatarForm, large["upload"]).is_valid()
    else:  # nothing signed with the old key is trusted any more
        assert completed[0] in (400, 403), completed
        assert not form.is_valid()
    # Another browser is still refused, whatever the keys.
    assert call(views.abort, {"upload": large["upload"]}, session=OTHER_SESSION, user=BOB)[0] in (
        400,
        403,
    )


# -- every write path writes the same object -----------------------------------------------
OBJECT_PARAMETERS = {
    "CacheControl": "max-age=86400",
    "ContentLanguage": "ko",  # no POST form field carries it: the accepting copy does
    "Metadata": {"team": "docs"},
}


def stored(server, bucket, key):
    """What ``HeadObject`` says of ``key`` that a write decides (the write id aside)."""
    from sigv4_storage.creates import WRITE_ID

    head = server.client().head_object(Bucket=bucket, Key=key)
    found = {name: head.get(name) for name in ("ContentType", "ContentDisposition")}
    found |= {name: head.get(name) for name in ("CacheControl", "ContentLanguage")}
    found["Metadata"] = {k: v for k, v in head.get("Metadata", {}).items() if k != WRITE_ID}
    return found


@pytest.mark.parametrize("body", [b"\x89PNG\r\n\x1a\n" + b"\0" * 100, b"<svg onload=alert(1)/>"])
def test_every_write_path_stores_the_same_object(s3, settings, body):
    """save(), a POST through the form field and a multipart upload through it store
    the object with the same headers: AWS_S3_OBJECT_PARAMETERS, the type, and an
    active type as an attachment (before, direct uploads dropped the parameters)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    server, bucket = s3
    settings.AWS_S3_OBJECT_PARAMETERS = OBJECT_PARAMETERS
    settings.STORAGES = dict(settings.STORAGES)  # built anew, with the parameters
    svg = body.startswith(b"<svg")
    name, type_ = ("a.svg", "image/svg+xml") if svg else ("a.png", "image/png")
    saved = storages["default"].save(f"docs/{name}", ContentFile(body))
    expected = stored(server, bucket, f"media/{saved}")
    assert expected["CacheControl"] == "max-age=86400" and expected["Metadata"] == {"team": "docs"}
    assert (expected["ContentDisposition"] == "attachment") is svg

    class Any(forms.Form):
        file = DirectUploadField(max_size=20 * 1024 * 1024, upload_to="any/")

    # A small file: a POST form, then accepted by the form.
    status, answer = sign(name=name, size=len(body), type_=type_, form=Any)
    assert status == 200 and answer["mode"] == "post", answer
    assert post(answer, name, body)[0] in (200, 204)
    form = submit(Any, answer["upload"])
    assert form.is_valid(), form.errors
    assert stored(server, bucket, f"media/{form.cleaned_data['file']}") == expected

    # A large one: parts, joined, then accepted.
    filler = b" " * 4096 if svg else os.urandom(4096)  # an SVG is text to its end
    large = body + filler * (9 * 256)
    status, answer = sign(name=name, size=len(large), type_=type_, form=Any)
    assert status == 200 and answer["mode"] == "multipart", answer
    parts = send_parts(answer, large)
    assert call(views.complete, {"upload": answer["upload"], "parts": parts})[0] == 200
    form = submit(Any, answer["upload"])
    assert form.is_valid(), form.errors
    assert stored(server, bucket, f"media/{form.cleaned_data['file']}") == expected


def test_a_post_form_carries_the_object_parameters(s3, settings):
    """A form from presigned_post() alone (no field, no accepting copy) stores what
    a POST can carry: the cache header and the metadata, pinned in the policy."""
    from django.core.files.storage import storages

    server, bucket = s3
    settings.AWS_S3_OBJECT_PARAMETERS = OBJECT_PARAMETERS
    settings.STORAGES = dict(settings.STORAGES)
    form = storages["default"].presigned_post("raw/a.png", max_size=100, content_type="image/png")
    assert form["fields"]["Cache-Control"] == "max-age=86400"
    assert form["fields"]["x-amz-meta-team"] == "docs"
    assert "Content-Language" not in form["fields"]
    assert post(form, "a.png", b"\x89PNG")[0] in (200, 204)
    found = stored(server, bucket, "media/raw/a.png")
    assert found["Metadata"] == {"team": "docs"}
    # Ceph RGW drops a POST form's header fields (behaviour.POST_FIELDS): an accepted
    # upload gets them from the accepting copy (the test above).
    assert found["CacheControl"] == (None if server.kind == "rgw" else "max-age=86400")
    # The policy pins them: a form that drops one is refused where the policy is enforced.
    if server.verifies_signatures:
        del form["fields"]["Cache-Control"]
        assert post(form, "a.png", b"\x89PNG")[0] == 403


def test_a_post_is_held_to_the_size_declared_at_sign(s3):
    """The form's policy bounds the body to the size the browser declared, not to
    the field's limit: signed for 10 bytes, 150 KB (under the field's 200 KB) is refused."""
    server, bucket = s3
    status, answer = sign(size=10)
    assert status == 200 and answer["mode"] == "post"
    policy = json.loads(__import__("base64").b64decode(answer["fields"]["policy"]))
    assert ["content-length-range", 0, 10] in policy["conditions"]
    if server.kind == "moto":  # moto stores what it is sent (measured): the policy is all
        return
    assert post(answer, "a.png", b"\x89PNG" + os.urandom(150_000))[0] in (400, 403)
    assert keys(server, bucket) == []
    assert post(answer, "a.png", b"\x89PNG" + b"123456")[0] in (200, 204)
