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


def manage(tmp_path, settings_text, *command):
    """``django-admin COMMAND`` in a fresh process on a settings module of its own."""
    (tmp_path / "fresh_settings.py").write_text(
        'SECRET_KEY = "x"\nSTATIC_URL = "/static/"\nAWS_S3_REGION_NAME = "eu-west-1"\n'
        'AWS_ACCESS_KEY_ID = "AKIAFRESHPROCESS01"\nAWS_SECRET_ACCESS_KEY = "fresh"\n'
        + settings_text
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="fresh_settings",
        PYTHONPATH=os.pathsep.join([str(tmp_path), root]),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return subprocess.run(
        [sys.executable, "-m", "django", *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )


@pytest.mark.skipif(django.VERSION < (5, 1), reason="Django 4.2 still reads the setting")
def test_check_reports_an_ignored_setting_once(tmp_path):
    done = manage(
        tmp_path,
        'INSTALLED_APPS = ["sigv4_storage"]\n'
        'DEFAULT_FILE_STORAGE = "sigv4_storage.SigV4S3Storage"\n'
        'AWS_STORAGE_BUCKET_NAME = "media"\n',
        "check",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert output.count("settings.DEFAULT_FILE_STORAGE = 'sigv4_storage.SigV4S3Storage'") == 1
    assert "(sigv4_storage.E005)" in output and "SigV4StorageWarning" not in output


def test_collectstatic_says_at_its_start_why_it_is_slow(tmp_path, moto_server):
    """Django's collectstatic (the app order lets it win) runs the staticfiles-tagged
    checks first: W006 is printed before any file is collected."""
    from tests.servers import REGION, Server
    from tests.util import ACCESS_KEY, SECRET_KEY

    Server("moto", moto_server, ACCESS_KEY, SECRET_KEY).client().create_bucket(
        Bucket="static-bucket",
        CreateBucketConfiguration={"LocationConstraint": REGION},
    )
    done = manage(
        tmp_path,
        'INSTALLED_APPS = ["django.contrib.staticfiles", "sigv4_storage"]\n'
        'AWS_STORAGE_BUCKET_NAME = "static-bucket"\n'
        f'AWS_S3_ENDPOINT_URL = "http://{moto_server}"\n'
        'STORAGES = {"staticfiles": {"BACKEND": "sigv4_storage.SigV4StaticStorage"},'
        ' "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}\n',
        "collectstatic",
        "--noinput",
    )
    assert done.returncode == 0, done.stderr
    assert "(sigv4_storage.W006)" in done.stderr
    assert "static file" in done.stdout  # a warning: the command still runs
    assert "List 'sigv4_storage' before 'django.contrib.staticfiles'" in done.stderr


def test_an_options_typo_fails_check_in_a_fresh_process(tmp_path):
    done = manage(
        tmp_path,
        'INSTALLED_APPS = ["sigv4_storage"]\nAWS_STORAGE_BUCKET_NAME = "media"\n'
        'STORAGES = {"default": {"BACKEND": "sigv4_storage.SigV4S3Storage",'
        ' "OPTIONS": {"regoin_name": "ap-northeast-2"}},'
        ' "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}\n',
        "check",
    )
    assert done.returncode == 1
    assert "STORAGES['default']: (sigv4_storage.E001)" in done.stderr
    assert "OPTIONS has the key 'regoin_name'" in done.stderr
    assert "Did you mean 'region_name'?" in done.stderr


#: An app whose models build the default storage while Django loads its apps,
#: as Wagtail's do.
IMPORT_TIME_APP = {
    "import_time_app/__init__.py": "",
    "import_time_app/models.py": (
        "from django.core.files.storage import default_storage\n"
        "from django.db import models\n\n"
        "def rendition_storage():  # as Wagtail's renditions name theirs\n"
        "    return default_storage\n\n"
        "class Rendition(models.Model):  # FileField checks the storage is a Storage\n"
        "    file = models.FileField(storage=rendition_storage)\n\n"
        "STORED_WITH = default_storage._wrapped\n"
    ),
}


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ('"OPTIONS": {"locaton": "media"}', "OPTIONS has the key 'locaton'"),
        ('"OPTIONS": {"querystring_expire": 8 * 86400}', "querystring_expire"),
        ('"OPTIONS": {"region_name": "us_east_1"}', "us_east_1"),
    ],
    ids=["typo", "expiry", "region"],
)
def test_a_storage_built_at_import_leaves_the_error_to_check(tmp_path, setting, words):
    """Before, a storage built while models import (Wagtail) raised in
    django.setup(): `check`, `migrate`, `s3doctor` all died with ~40 lines of
    traceback. Now `check` reports the same error with its id and fix, and the
    storage raises it at its first use."""
    for name, text in IMPORT_TIME_APP.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    storages = (
        'STORAGES = {"default": {"BACKEND": "sigv4_storage.SigV4S3Storage", ' + setting + "},"
        ' "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}\n'
    )
    project = 'INSTALLED_APPS = ["sigv4_storage", "import_time_app"]\n'
    project += 'AWS_STORAGE_BUCKET_NAME = "media"\n' + storages
    done = manage(tmp_path, project, "check")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "STORAGES['default']: (sigv4_storage.E00" in done.stderr and words in done.stderr
    used = manage(tmp_path, project, "shell", "-c", "from import_time_app import models\n"
                  "models.STORED_WITH.url('a.txt')")  # fmt: skip
    assert used.returncode == 1
    last = used.stderr.strip().splitlines()[-1]  # the error, as check words it
    assert last.startswith("sigv4_storage.checkids.SettingError: ") and words in last


def test_without_the_app_a_storage_or_field_built_at_import_says_so(tmp_path):
    """Before, a storage built while models import never warned (the app registry
    was not ready, and nothing warned later), and a DirectUploadField defined there
    failed only when its form rendered, as a 500."""
    for name, text in IMPORT_TIME_APP.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    project = (
        'INSTALLED_APPS = ["import_time_app"]\nAWS_STORAGE_BUCKET_NAME = "media"\n'
        'STORAGES = {"default": {"BACKEND": "sigv4_storage.SigV4S3Storage"},'
        ' "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}\n'
    )
    done = manage(tmp_path, project, "check")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("sigv4_storage is used but not in INSTALLED_APPS") == 1
    (tmp_path / "import_time_app/models.py").write_text(
        "from django import forms\nfrom sigv4_storage.forms import DirectUploadField\n\n"
        "class AvatarForm(forms.Form):\n"
        "    avatar = DirectUploadField(max_size=1000, upload_to='a/')\n"
    )
    done = manage(tmp_path, project, "check")
    assert done.returncode == 1
    assert "DirectUploadField needs 'sigv4_storage' in INSTALLED_APPS" in done.stderr


@pytest.mark.skipif(django.VERSION >= (5, 1), reason="Django 5.1 no longer reads the settings")
def test_a_legacy_layout_is_fixed_in_legacy_words(tmp_path):
    """Django 4.2, DEFAULT_FILE_STORAGE and STATICFILES_STORAGE in one bucket, both
    under AWS_LOCATION: before, E007 named STORAGES['staticfiles'] and told a
    project with no STORAGES to edit its OPTIONS."""
    done = manage(
        tmp_path,
        'INSTALLED_APPS = ["sigv4_storage", "django.contrib.staticfiles"]\n'
        'AWS_STORAGE_BUCKET_NAME = "media"\nAWS_LOCATION = "media42"\n'
        'DEFAULT_FILE_STORAGE = "sigv4_storage.SigV4S3Storage"\n'
        'STATICFILES_STORAGE = "sigv4_storage.SigV4StaticStorage"\n',
        "check",
    )
    assert done.returncode == 1, done.stderr
    assert "settings.STATICFILES_STORAGE: (sigv4_storage.E007)" in done.stderr
    assert "class StaticStorage(SigV4StaticStorage)" in done.stderr
    assert "STORAGES[" not in done.stderr
