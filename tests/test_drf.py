"""Direct uploads for APIs: ``sigv4_storage.drf`` with Django REST framework's test
client, on moto and (``integration``) SeaweedFS, which enforces the POST policy.

A client as a single-page app is one: DRF's ``TokenAuthentication`` (the header
``Authorization: Token <key>``; keys looked up here in a dict instead of its
table), sign → S3 → (complete) → the token as the field's value.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

try:
    from rest_framework import generics, serializers
    from rest_framework.authentication import TokenAuthentication
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.test import APIClient
except ImportError:  # pragma: no cover - tox installs the drf extra everywhere
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("djangorestframework is not installed (the drf extra)", allow_module_level=True)

from django.db import connection, models
from django.test import override_settings
from django.urls import include, path

from sigv4_storage.drf import DirectUploadSerializerField, upload_urls
from sigv4_storage.tokens import Upload
from tests.servers import KINDS, connect, use_bucket
from tests.util import keys, post, put, send_parts

MB = 1024 * 1024
USERS = {
    "alice-key": SimpleNamespace(is_authenticated=True, pk=1),
    "bob-key": SimpleNamespace(is_authenticated=True, pk=2),
}


class KeyAuthentication(TokenAuthentication):  # type: ignore[misc]
    """DRF's token authentication, with its keys in ``USERS``."""

    def authenticate_credentials(self, key):
        if key not in USERS:
            raise AuthenticationFailed("Invalid token.")
        return USERS[key], key


class Paper(models.Model):
    title = models.CharField(max_length=50)
    file = models.FileField(upload_to="papers/", blank=True, max_length=300)

    class Meta:
        app_label = "sigv4_storage"
        managed = False


class PaperSerializer(serializers.ModelSerializer):
    file = DirectUploadSerializerField(
        max_size=20 * MB,
        upload_to="papers/",
        content_types=["image/", "text/plain", "application/pdf"],
        required=False,
        allow_null=True,
    )

    class Meta:
        model = Paper
        fields = ["id", "title", "file"]


class Picture(models.Model):
    image = models.ImageField(upload_to="pictures/", width_field="width", height_field="height")
    width = models.PositiveIntegerField(null=True)
    height = models.PositiveIntegerField(null=True)

    class Meta:
        app_label = "sigv4_storage"
        managed = False


class PictureSerializer(serializers.ModelSerializer):
    """On a ``models.ImageField``: the upload is verified as an image."""

    image = DirectUploadSerializerField(max_size=20 * MB, upload_to="pictures/")

    class Meta:
        model = Picture
        fields = ["image"]


class NoteSerializer(serializers.Serializer):
    """A small limit: the stored object is checked against it again."""

    attachment = DirectUploadSerializerField(max_size=100, upload_to="notes/")


API = {"authentication_classes": [KeyAuthentication], "permission_classes": [IsAuthenticated]}


class PaperList(generics.ListCreateAPIView):
    queryset = Paper.objects.all()
    serializer_class = PaperSerializer
    authentication_classes = API["authentication_classes"]
    permission_classes = API["permission_classes"]


class PaperDetail(generics.RetrieveUpdateAPIView):
    queryset = Paper.objects.all()
    serializer_class = PaperSerializer
    authentication_classes = API["authentication_classes"]
    permission_classes = API["permission_classes"]


urlpatterns = [
    path("api/papers/", PaperList.as_view()),
    path("api/papers/<int:pk>/", PaperDetail.as_view()),
    path("api/papers/uploads/", include(upload_urls(PaperSerializer, **API))),
    path("api/notes/uploads/", include(upload_urls(NoteSerializer, **API))),
    path("api/pictures/uploads/", include(upload_urls(PictureSerializer, **API))),
]


@pytest.fixture(params=KINDS)
def api(request, settings, transactional_db):
    """A bucket as the default storage, this module's URLs, the papers table."""
    server = connect(request, request.param)
    with server.bucket("api") as bucket, override_settings(ROOT_URLCONF=__name__):
        use_bucket(settings, server, bucket)
        # No django.contrib.auth in these settings: no AnonymousUser either.
        settings.REST_FRAMEWORK = {"UNAUTHENTICATED_USER": None}
        settings.AWS_LOCATION = "media"
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "sigv4_storage.SigV4S3Storage"},
        }
        with connection.schema_editor() as editor:
            editor.create_model(Paper)
        try:
            yield server, bucket
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(Paper)


def client(key="alice-key") -> APIClient:
    api = APIClient()
    if key:
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def sign(key="alice-key", field="file", name="paper.pdf", size=1000, type_="application/pdf",
         where="papers"):  # fmt: skip
    payload = {"field": field, "name": name, "size": size, "type": type_}
    response = client(key).post(f"/api/{where}/uploads/sign/", payload, format="json")
    return response.status_code, response.json()


def uploaded(body=b"%PDF-1.7 paper", name="paper.pdf", type_="application/pdf", key="alice-key"):
    """Signed through the API, then POSTed to the server: the upload token."""
    status, answer = sign(key=key, name=name, size=len(body), type_=type_)
    assert status == 200, answer
    assert post(answer, name, body)[0] in (200, 204)
    return answer["upload"]


def fetch(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


# -- create, read, partial updates ---------------------------------------------------------------
def test_create_then_read_the_file_through_its_url(api):
    server, bucket = api
    token = uploaded(b"%PDF-1.7 first")
    response = client().post("/api/papers/", {"title": "t", "file": token}, format="json")
    assert response.status_code == 201, response.json()
    paper = Paper.objects.get()
    assert paper.file.name.startswith("papers/") and paper.file.name.endswith("/paper.pdf")
    url = response.json()["file"]
    assert "X-Amz-Signature=" in url  # presigned: the storage is private
    assert fetch(url) == b"%PDF-1.7 first"  # SeaweedFS verifies the signature
    assert keys(server, bucket) == [f"media/{paper.file.name}"]
    assert (
        client().get(f"/api/papers/{paper.pk}/").json()["file"].split("?")[0] == url.split("?")[0]
    )


def test_partial_updates_keep_replace_and_clear(api):
    token = uploaded(b"%PDF-1.7 kept")
    pk = client().post("/api/papers/", {"title": "t", "file": token}, format="json").json()["id"]
    kept = Paper.objects.get(pk=pk).file.name

    response = client().patch(f"/api/papers/{pk}/", {"title": "renamed"}, format="json")
    assert response.status_code == 200 and Paper.objects.get(pk=pk).file.name == kept

    token = uploaded(b"%PDF-1.7 new")
    response = client().patch(f"/api/papers/{pk}/", {"file": token}, format="json")
    assert response.status_code == 200, response.json()
    assert fetch(response.json()["file"]) == b"%PDF-1.7 new"
    assert Paper.objects.get(pk=pk).file.name != kept

    response = client().patch(f"/api/papers/{pk}/", {"file": None}, format="json")
    assert response.status_code == 200 and response.json()["file"] is None
    assert Paper.objects.get(pk=pk).file.name == ""


def test_a_multipart_upload(api):
    server, bucket = api
    body = b"%PDF-1.7\n" + os.urandom(9 * MB)
    status, answer = sign(name="scan.pdf", size=len(body))
    assert status == 200 and answer["mode"] == "multipart"
    parts = send_parts(answer, body)
    done = client().post(
        "/api/papers/uploads/complete/", {"upload": answer["upload"], "parts": parts}, format="json"
    )
    assert done.status_code == 200, done.json()
    response = client().post(
        "/api/papers/", {"title": "scan", "file": answer["upload"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert fetch(response.json()["file"]) == body
    assert not server.client().list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_an_interrupted_upload_resumes_through_the_api(api):
    """``resume/``: the parts S3 has, and URLs for the others, for the same user only."""
    body = b"%PDF-1.7\n" + os.urandom(11 * MB)  # parts of 5 MiB: three
    status, answer = sign(name="scan.pdf", size=len(body))
    assert status == 200 and answer["mode"] == "multipart"
    first = put(answer["urls"][0], body[: 5 * MB])[1]
    refused = client("bob-key").post(
        "/api/papers/uploads/resume/", {"upload": answer["upload"]}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "not_yours")
    resumed = (
        client()
        .post("/api/papers/uploads/resume/", {"upload": answer["upload"]}, format="json")
        .json()
    )
    assert resumed["parts"] == [[1, first]] and resumed["urls"][0] is None
    rest = [
        [n, put(url, body[(n - 1) * 5 * MB : n * 5 * MB])[1]]
        for n, url in enumerate(resumed["urls"], 1)
        if url
    ]
    done = client().post(
        "/api/papers/uploads/complete/",
        {"upload": answer["upload"], "parts": resumed["parts"] + rest},
        format="json",
    )
    assert done.status_code == 200, done.json()
    response = client().post(
        "/api/papers/", {"title": "scan", "file": answer["upload"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert fetch(response.json()["file"]) == body


# -- every refusal the form field has ------------------------------------------------------------
def refusal(response):
    return response.status_code, response.json()


def test_another_users_token_is_refused(api):
    token = uploaded()
    status, answer = refusal(
        client("bob-key").post("/api/papers/", {"title": "t", "file": token}, format="json")
    )
    assert status == 400 and "started by someone else" in answer["file"][0]
    assert not Paper.objects.exists()
    alice_upload = {"upload": sign(name="b.pdf", size=9 * MB)[1]["upload"]}
    bob = client("bob-key").post("/api/papers/uploads/abort/", alice_upload, format="json")
    assert refusal(bob) == (
        403,
        {"error": "This upload was started by someone else, or before you signed in.",
         "code": "not_yours"},
    )  # fmt: skip


def test_a_token_is_used_once(api):
    token = uploaded()
    assert (
        client().post("/api/papers/", {"title": "a", "file": token}, format="json").status_code
        == 201
    )
    status, answer = refusal(
        client().post("/api/papers/", {"title": "b", "file": token}, format="json")
    )
    assert status == 400 and answer["file"] == ["This upload has been used already."]
    assert Paper.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"size": 20 * MB + 1}, 400, "too_large"),
        ({"type_": "text/html", "name": "a.html"}, 400, "wrong_type"),
        ({"name": "evil.html", "type_": "image/png"}, 400, "wrong_type"),
        ({"field": "title"}, 400, "invalid"),  # not an upload field
        ({"field": "file", "key": None}, 401, "not_allowed"),
        ({"field": "file", "key": "mallory"}, 401, "not_allowed"),
    ],
)
def test_the_sign_view_refuses(api, kwargs, status, code):
    assert (lambda s, a: (s, a["code"]))(*sign(**kwargs)) == (status, code)


def test_bad_requests_are_json_with_a_code(api):
    response = client().post(
        "/api/papers/uploads/sign/", b"{not json", content_type="application/json"
    )
    assert refusal(response) == (400, {"error": "The request is not JSON.", "code": "bad_request"})
    response = client().get("/api/papers/uploads/sign/", HTTP_ACCEPT="text/html,*/*;q=0.8")
    assert refusal(response) == (405, {"error": "Use POST.", "code": "bad_request"})
    response = client().post("/api/papers/uploads/sign/", {"field": "file"})  # a form post
    assert refusal(response) == (
        415,
        {"error": "Send JSON (Content-Type: application/json).", "code": "bad_request"},
    )


def test_tampered_and_expired_tokens_are_refused(api, monkeypatch):
    token = uploaded()
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    response = client().post("/api/papers/", {"title": "t", "file": tampered}, format="json")
    assert response.status_code == 400 and "not valid" in response.json()["file"][0]
    import time

    from django.core import signing

    later = time.time() + 3600 + 86400 + 10
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = client().post("/api/papers/", {"title": "t", "file": token}, format="json")
    assert response.status_code == 400 and "expired" in response.json()["file"][0]


def test_an_object_over_the_limits_is_refused_and_deleted(api):
    """moto does not hold the POST to its policy: the serializer does."""
    server, bucket = api
    status, answer = sign(field="attachment", name="n.txt", size=10, type_="text/plain",
                          where="notes")  # fmt: skip
    assert status == 200, answer
    name = Upload.from_token(answer["upload"]).name
    server.client().put_object(
        Bucket=bucket, Key=f"media/{name}", Body=b"x" * 101, ContentType="text/plain"
    )
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    request = Request(APIRequestFactory().post("/"), authenticators=[KeyAuthentication()])
    request._request.META["HTTP_AUTHORIZATION"] = "Token alice-key"
    note = NoteSerializer(data={"attachment": answer["upload"]}, context={"request": request})
    assert not note.is_valid()
    assert "is not allowed here: at most 100 bytes" in note.errors["attachment"][0]
    assert keys(server, bucket) == []


def test_without_the_request_in_the_context_the_error_says_so(api):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="needs the request in its serializer's context"):
        NoteSerializer(data={"attachment": "x"}).is_valid()


# -- the core package never imports DRF ----------------------------------------------------------
def test_nothing_imports_rest_framework_unless_asked():
    code = (
        "import sys, django; from django.conf import settings; "
        "settings.configure(INSTALLED_APPS=['sigv4_storage'], SECRET_KEY='x'); django.setup(); "
        "import sigv4_storage, sigv4_storage.storage, sigv4_storage.forms, "
        "sigv4_storage.views, sigv4_storage.uploads, sigv4_storage.urls; "
        "from django.core import checks; checks.run_checks(); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('rest_framework'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", "import json; " + code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "AWS_EC2_METADATA_DISABLED": "true"},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_an_s3_failure_is_a_logged_502(api, settings, caplog):
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket-for-this-test"
    with caplog.at_level("ERROR", logger="sigv4_storage"):
        status, answer = sign(name="scan.pdf", size=9 * MB)
    assert (status, answer["code"]) == (502, "failed")
    assert "NoSuchBucket" in caplog.text


def test_an_unknown_action_is_a_clear_error(api):
    from django.core.exceptions import ImproperlyConfigured
    from rest_framework.test import APIRequestFactory

    from sigv4_storage.drf import DirectUploadView

    view = DirectUploadView.as_view(serializer_class=PaperSerializer, action="finish", **API)
    request = APIRequestFactory().post("/", {}, format="json", HTTP_AUTHORIZATION="Token alice-key")
    with pytest.raises(ImproperlyConfigured, match="use 'sign', 'complete', 'resume' or 'abort'"):
        view(request)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"[" * 200_000 + b"]" * 200_000, 400, "nested too deeply"),
        (b'{"field": "file", "size": 1e400}', 400, "not JSON"),
        (b'{"field": "file", "size": Infinity}', 400, "not JSON"),
        (b" " * (1024 * 1024 + 1), 413, "too large"),
    ],
)
def test_hostile_bodies_are_refused_in_json(api, body, status, words):
    for step in ("sign", "complete", "resume", "abort"):
        response = client().post(
            f"/api/papers/uploads/{step}/", body, content_type="application/json"
        )
        found, answer = refusal(response)
        assert found == status and words in answer["error"], (step, answer)
        assert answer["code"] == "bad_request"


def test_hostile_part_numbers_are_refused(api):
    upload = sign(name="b.pdf", size=9 * MB)[1]["upload"]
    for number in ("1e400", "Infinity", "1.5", '"1"', "true"):
        body = b'{"upload": "%s", "parts": [[%s, "e"]]}' % (upload.encode(), number.encode())
        response = client().post(
            "/api/papers/uploads/complete/", body, content_type="application/json"
        )
        assert refusal(response)[0] == 400, number


# -- the upload's bytes, on an ImageField (sigv4_storage.verify) ---------------------------------
def picture_token(body: bytes, name: str, type_: str) -> str:
    status, answer = sign(field="image", name=name, size=len(body), type_=type_, where="pictures")
    assert status == 200, answer
    assert post(answer, name, body)[0] in (200, 204)
    return answer["upload"]


def picture_serializer(token: str) -> PictureSerializer:
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    request = Request(APIRequestFactory().post("/"))
    request.user = USERS["alice-key"]
    return PictureSerializer(data={"image": token}, context={"request": request})


def test_an_image_field_verifies_the_image_and_fills_its_dimensions(api):
    from PIL import Image

    server, bucket = api
    out = io.BytesIO()
    Image.effect_noise((90, 60), 30).save(out, "PNG")
    serializer = picture_serializer(picture_token(out.getvalue(), "p.png", "image/png"))
    assert serializer.is_valid(), serializer.errors
    picture = Picture(**serializer.validated_data)  # what ModelSerializer.create() does
    assert (picture.width, picture.height) == (90, 60)


@pytest.mark.parametrize(
    "body, type_, code",
    [
        (b"<html><script>alert(1)</script></html>", "image/png", "wrong_content"),
        (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", "image/png", "invalid_image"),
    ],
)
def test_an_image_field_refuses_what_is_not_an_image(api, body, type_, code):
    from django import forms

    server, bucket = api
    serializer = picture_serializer(picture_token(body, "p.png", type_))
    assert not serializer.is_valid()
    [message] = serializer.errors["image"]
    if code == "invalid_image":
        assert message == forms.ImageField.default_error_messages["invalid_image"]
    else:
        assert "its bytes are HTML, not a PNG image" in message
    assert keys(server, bucket) == []
