"""Wagtail on this package's storage, on SeaweedFS (which verifies every
signature), driven through Wagtail's own public APIs: images and their
renditions, documents served by redirect, the admin's upload views, and a
setting error in a project whose models build the storage at import."""

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.urls import reverse

from tests.frameworks.conftest import png, size_of
from tests.util import keys

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_images_and_renditions(bucket):
    from wagtail.images.models import Image

    server, name = bucket
    image = Image.objects.create(
        title="photo", file=ImageFile(ContentFile(png(300, 200)), name="사진 photo.png")
    )
    assert (image.width, image.height) == (300, 200)
    rendition = image.get_rendition("fill-40x30")
    assert "X-Amz-Signature=" in rendition.url  # presigned, verified by SeaweedFS below
    assert size_of(fetch(rendition.url)) == (40, 30)
    assert size_of(fetch(image.file.url)) == (300, 200)
    stored = keys(server, name)
    assert f"media/{image.file.name}" in stored and f"media/{rendition.file.name}" in stored
    # A second ask reuses the stored rendition: no second file.
    assert image.get_rendition("fill-40x30").file.name == rendition.file.name
    assert len(keys(server, name)) == len(stored)


def test_documents_are_served_by_a_redirect_to_a_presigned_url(bucket, client):
    from wagtail.documents.models import Document

    document = Document.objects.create(
        title="report", file=ContentFile(b"%PDF-1.7 report", name="보고서.pdf")
    )
    response = client.get(document.url)
    assert response.status_code == 302
    assert "X-Amz-Signature=" in response["Location"]
    assert fetch(response["Location"]) == b"%PDF-1.7 report"


def test_the_admin_upload_views(bucket, admin_client):
    from wagtail.documents.models import Document
    from wagtail.images.models import Image

    server, name = bucket
    upload = ContentFile(png(64, 48), name="admin.png")
    response = admin_client.post(
        reverse("wagtailimages:add"),
        {"title": "from the admin", "file": upload, "collection": 1, "tags": ""},
    )
    assert response.status_code == 302, response.content[:2000]
    image = Image.objects.get(title="from the admin")
    assert size_of(fetch(image.file.url)) == (64, 48)
    response = admin_client.post(
        reverse("wagtaildocs:add"),
        {"title": "doc", "file": ContentFile(b"plain text", name="a.txt"), "collection": 1},
    )
    assert response.status_code == 302, response.content[:2000]
    document = Document.objects.get(title="doc")
    assert f"media/{document.file.name}" in keys(server, name)


def test_a_setting_error_is_reported_by_check_not_a_crash(tmp_path):
    """Wagtail builds the default storage while its models import: before, a typo
    in OPTIONS crashed every command in django.setup()."""
    (tmp_path / "typo_settings.py").write_text(
        "from tests.frameworks.settings import *\n"
        'STORAGES = {"default": {"BACKEND": "sigv4_storage.SigV4S3Storage",'
        ' "OPTIONS": {"locaton": "media"}},'
        ' "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="typo_settings",
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]),
    )
    done = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "STORAGES['default']: (sigv4_storage.E001)" in done.stderr
    assert "OPTIONS has the key 'locaton'" in done.stderr
