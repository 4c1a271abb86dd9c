"""What the app adds when it is installed, and says when it is not."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import django
import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from sigv4_storage import SigV4S3Storage, SigV4StorageWarning
from sigv4_storage import storage as storage_module
from sigv4_storage.errors import S3RequestRefused


@pytest.fixture
def app_check_again(monkeypatch):
    monkeypatch.setattr(storage_module, "_app_checked", False)


def test_a_storage_without_the_app_says_so_once(settings, credentials, app_check_again):
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    with (
        override_settings(INSTALLED_APPS=["django.contrib.staticfiles"]),
        pytest.warns(SigV4StorageWarning, match="not in INSTALLED_APPS") as caught,
    ):
        SigV4S3Storage()
        SigV4S3Storage()
    assert len([w for w in caught if "INSTALLED_APPS" in str(w.message)]) == 1


def test_with_the_app_installed_nothing_is_said(settings, credentials, app_check_again):
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SigV4S3Storage()


STARTUP = """
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["sigv4_storage"],
    DEFAULT_FILE_STORAGE="sigv4_storage.SigV4S3Storage",
    AWS_STORAGE_BUCKET_NAME="media",
)
django.setup()
print("started")
"""


@pytest.mark.skipif(django.VERSION < (5, 1), reason="Django 4.2 still reads the setting")
def test_settings_django_ignores_are_reported_at_start_up():
    """Every command (shell, collectstatic...) shows it, not only `check`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    done = subprocess.run(
        [sys.executable, "-c", STARTUP], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "started" in done.stdout
    assert "SigV4StorageWarning" in done.stderr
    assert "settings.DEFAULT_FILE_STORAGE = 'sigv4_storage.SigV4S3Storage' is ignored" in (
        done.stderr
    )
    assert "Move it to STORAGES" in done.stderr


@pytest.mark.parametrize("operation", ["listdir", "save"])
def test_a_missing_bucket_names_the_setting(settings, moto_aws, operation):
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket-anywhere"
    settings.AWS_S3_REGION_NAME = "eu-west-1"
    storage = SigV4S3Storage()
    call = {
        "listdir": lambda: storage.listdir(""),
        "save": lambda: storage.save("a.txt", ContentFile(b"a")),
    }[operation]
    with pytest.raises(S3RequestRefused) as refused:
        call()
    message = str(refused.value)
    assert "NoSuchBucket" in message
    assert "bucket 'no-such-bucket-anywhere'" in message
    assert "AWS_STORAGE_BUCKET_NAME" in message


def test_a_missing_bucket_reads_as_a_missing_file(settings, moto_aws):
    """HEAD answers carry no error code: exists() and open() cannot tell (as django-storages)."""
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket-anywhere"
    settings.AWS_S3_REGION_NAME = "eu-west-1"
    storage = SigV4S3Storage(file_overwrite=False)
    assert storage.exists("a.txt") is False
    with pytest.raises(FileNotFoundError):
        storage.open("a.txt")
