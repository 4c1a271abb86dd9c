"""Recognising backends named in settings (``sigv4_storage.backends``)."""

import pytest

from sigv4_storage import SigV4S3Storage, SigV4StaticStorage
from sigv4_storage.backends import our_class, replacement


class ProjectMedia(SigV4S3Storage):
    location = "media"


@pytest.mark.parametrize(
    ("path", "ours", "replaced_by"),
    [
        ("sigv4_storage.SigV4S3Storage", SigV4S3Storage, "sigv4_storage.SigV4S3Storage"),
        (
            "sigv4_storage.storage.SigV4StaticStorage",
            SigV4StaticStorage,
            "sigv4_storage.SigV4StaticStorage",
        ),
        ("tests.test_backends.ProjectMedia", ProjectMedia, "tests.test_backends.ProjectMedia"),
        ("storages.backends.s3.S3Storage", None, "sigv4_storage.SigV4S3Storage"),
        ("storages.backends.s3boto3.S3Boto3Storage", None, "sigv4_storage.SigV4S3Storage"),
        ("storages.backends.s3boto.S3BotoStorage", None, "sigv4_storage.SigV4S3Storage"),
        (
            "storages.backends.s3.S3ManifestStaticStorage",
            None,
            "sigv4_storage.SigV4ManifestStaticStorage",
        ),
        ("django.core.files.storage.FileSystemStorage", None, None),
        ("no.such.Module", None, None),
        (None, None, None),
    ],
)
def test_our_classes_and_their_replacements(path, ours, replaced_by):
    assert our_class(path) is ours
    assert replacement(path) == replaced_by
