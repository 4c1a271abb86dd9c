"""easy-thumbnails on this package's storage, on SeaweedFS, through its public API."""

import urllib.request

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tests.frameworks.conftest import png, size_of
from tests.util import keys

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_thumbnails_are_made_stored_and_served(bucket):
    from easy_thumbnails.files import get_thumbnailer

    server, name = bucket
    original = default_storage.save("avatars/사진.png", ContentFile(png(200, 120)))
    thumbnailer = get_thumbnailer(default_storage.open(original), relative_name=original)
    thumbnail = thumbnailer["avatar"]
    assert "X-Amz-Signature=" in thumbnail.url
    with urllib.request.urlopen(thumbnail.url, timeout=10) as response:
        assert size_of(response.read()) == (50, 50)
    assert f"media/{thumbnail.name}" in keys(server, name)
    # Asked again: found, not made again.
    assert (
        get_thumbnailer(default_storage.open(original), relative_name=original)["avatar"].name
        == thumbnail.name
    )
