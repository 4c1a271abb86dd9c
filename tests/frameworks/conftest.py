import io

import pytest

from tests.servers import in_bucket


@pytest.fixture
def bucket(request, settings):
    """A fresh SeaweedFS bucket as the default storage (under ``media/``); setting
    STORAGES anew makes Django build the storage again for it."""
    with in_bucket(request, settings, "seaweedfs", "frameworks") as (server, name):
        settings.STORAGES = {
            "default": {
                "BACKEND": "sigv4_storage.SigV4S3Storage",
                "OPTIONS": {"location": "media"},
            },
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        yield server, name


def png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (11, 122, 83)).save(out, "PNG")
    return out.getvalue()


def size_of(body: bytes) -> tuple[int, int]:
    from PIL import Image

    return Image.open(io.BytesIO(body)).size
