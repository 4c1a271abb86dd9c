"""System checks (``sigv4_storage.checks``): each id, offline, and registered."""

import io

import django
import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from sigv4_storage.checkids import CHECKS
from tests.util import SECRET_KEY

MEDIA = {"BACKEND": "sigv4_storage.SigV4S3Storage"}
STATIC = {
    "BACKEND": "sigv4_storage.SigV4ManifestStaticStorage",
    "OPTIONS": {"bucket_name": "static-bucket"},
}


@pytest.fixture
def project(settings, no_network):
    """A sound project on our classes; each test breaks one thing."""
    settings.DEBUG = False
    settings.AWS_STORAGE_BUCKET_NAME = "media-bucket"
    settings.AWS_S3_REGION_NAME = "ap-northeast-2"
    settings.STORAGES = {"default": dict(MEDIA), "staticfiles": dict(STATIC)}
    return settings


def ours(messages):
    return [m for m in messages if m.id.startswith("sigv4_storage.")]


def ids(include_deployment=False):
    return sorted({m.id for m in ours(run_checks(include_deployment_checks=include_deployment))})


def test_a_sound_project_passes(project):
    assert ids() == []


def test_the_check_command_runs_them(project):
    project.AWS_QUERYSTRING_EXPIRE = 864000
    with pytest.raises(SystemCheckError) as excinfo:
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())
    assert "sigv4_storage.E002" in str(excinfo.value)
    assert "AWS_QUERYSTRING_EXPIRE=864000 is out of range" in str(excinfo.value)


def test_warnings_reach_the_check_command_output(project):
    project.AWS_S3_SIGNATURE_VERSION = "s3"
    out, err = io.StringIO(), io.StringIO()
    call_command("check", stdout=out, stderr=err)
    assert "sigv4_storage.W001" in out.getvalue() + err.getvalue()


@pytest.mark.parametrize(
    ("change", "expected", "words"),
    [
        ({"AWS_S3_USE_SSL": "false"}, "E001", "AWS_S3_USE_SSL must be True or False"),
        ({"AWS_QUERYSTRING_EXPIRE": 864000}, "E002", "out of range"),
        ({"AWS_S3_HOST": "s3.eu-west-1.amazonaws.com"}, "E003", "contradicts the region"),
        ({"AWS_S3_REGION_NAME": "seoul"}, "E004", "is not an AWS region botocore knows"),
        ({"AWS_S3_SIGNATURE_VERSION": "s3"}, "W001", "Signature Version 2"),
        ({"AWS_S3_CUSTOM_DOMAIN": "cdn.example.com"}, "W002", "unsigned URLs"),
        ({"AWS_REGION": "eu-west-1"}, "W003", "region settings disagree"),
        ({"AWS_S3_REGION_NAME": "ap-northeast-22"}, "W011", "did you mean 'ap-northeast-2'"),
        ({"AWS_S3_COLLECTSTATIC_WORKERS": 0}, "E001", "a whole number from 1 to 64, not 0"),
    ],
)
def test_each_setting_check(project, change, expected, words):
    for name, value in change.items():
        setattr(project, name, value)
    messages = ours(run_checks())
    assert {m.id for m in messages} == {f"sigv4_storage.{expected}"}
    for message in messages:  # one per storage the setting reaches
        assert words in message.msg
        assert message.hint
        assert message.hint not in message.msg  # the fix is said once, in the hint


def test_an_unknown_region_is_named_at_check_and_when_unreachable(project):
    """Before, a well-formed region botocore does not know passed ``check``, and
    save() said only "cannot reach https://s3.ap-northeast-22.amazonaws.com"."""
    from botocore.exceptions import EndpointConnectionError

    from sigv4_storage.errors import RefusalHints, with_context

    project.AWS_S3_REGION_NAME = "ap-northeast-22"
    (message, *_) = ours(run_checks())
    assert message.id == "sigv4_storage.W011"
    assert "get-bucket-location" in message.hint and "SILENCED_SYSTEM_CHECKS" in message.hint
    endpoint = "https://s3.ap-northeast-22.amazonaws.com"
    where = RefusalHints("media-bucket", endpoint, "ap-northeast-22").where
    failure = with_context(EndpointConnectionError(endpoint_url=endpoint), where)
    assert "botocore does not know the region 'ap-northeast-22'" in str(failure)
    known = RefusalHints(
        "media-bucket", "https://s3.ap-northeast-2.amazonaws.com", "ap-northeast-2"
    )
    assert "does not know" not in known.where
    # A server of your own names regions of its own: no warning.
    project.AWS_S3_ENDPOINT_URL = "https://garage.example.com"
    project.AWS_S3_REGION_NAME = "garage"
    assert "sigv4_storage.W011" not in ids()


def test_custom_domain_is_fine_when_signed_by_cloudfront_or_public(project):
    project.AWS_S3_CUSTOM_DOMAIN = "cdn.example.com"
    project.STORAGES = {
        **project.STORAGES,
        "default": {**MEDIA, "OPTIONS": {"querystring_auth": False}},
    }
    # No W002: public URLs need no signing. Only W009: public user uploads.
    assert ids() == ["sigv4_storage.W009"]


def test_manifest_storage_with_querystring_auth(project):
    project.STORAGES = {
        **project.STORAGES,
        "staticfiles": {**STATIC, "OPTIONS": {"querystring_auth": True}},
    }
    messages = ours(run_checks())
    assert [(m.id, m.obj) for m in messages] == [("sigv4_storage.E006", "STORAGES['staticfiles']")]


def test_checks_name_the_storage_at_fault(project):
    project.STORAGES = {
        **project.STORAGES,
        "archive": {**MEDIA, "OPTIONS": {"querystring_expire": 0}},
    }
    messages = ours(run_checks())
    assert [(m.id, m.obj) for m in messages] == [("sigv4_storage.E002", "STORAGES['archive']")]
    assert "OPTIONS['querystring_expire']=0" in messages[0].msg


@pytest.mark.skipif(django.VERSION < (5, 1), reason="Django < 5.1 still reads the setting")
@pytest.mark.parametrize("name", ["DEFAULT_FILE_STORAGE", "STATICFILES_STORAGE"])
def test_legacy_storage_settings_ignored_by_django(project, name):
    project.STORAGES = {}  # Django's defaults: local disk
    setattr(project, name, "sigv4_storage.SigV4S3Storage")
    messages = ours(run_checks())
    assert [m.id for m in messages] == ["sigv4_storage.E005"]
    assert f"settings.{name} = 'sigv4_storage.SigV4S3Storage' is ignored" in messages[0].msg
    assert "STORAGES" in messages[0].hint


@pytest.mark.skipif(django.VERSION >= (5, 1), reason="Django >= 5.1 ignores the setting")
@pytest.mark.filterwarnings("ignore:The (DEFAULT_FILE|STATICFILES)_STORAGE setting is deprecated")
def test_legacy_storage_settings_still_checked_on_old_django(settings, no_network):
    from django.conf import Settings

    legacy = Settings("tests.legacy_settings")  # Django's own start-up: into STORAGES
    settings.STORAGES = legacy.STORAGES
    settings.AWS_STORAGE_BUCKET_NAME = "media-bucket"
    settings.AWS_QUERYSTRING_EXPIRE = 864000
    messages = ours(run_checks())
    assert {(m.id, m.obj) for m in messages} == {
        ("sigv4_storage.E002", "STORAGES['default']"),
        ("sigv4_storage.E002", "STORAGES['staticfiles']"),
    }


@pytest.mark.parametrize(
    ("endpoint", "warned"),
    [
        ("http://minio.internal:9000", True),
        ("http://10.0.0.5:9000", True),
        ("https://minio.internal:9000", False),
        ("http://127.0.0.1:9000", False),
        ("http://localhost:9000", False),
        ("http://[::1]:9000", False),
    ],
)
def test_plain_http_to_another_host(project, endpoint, warned):
    project.AWS_S3_ENDPOINT_URL = endpoint
    assert ("sigv4_storage.W004" in ids()) is warned


def test_plain_http_through_the_boto_era_host(project):
    project.AWS_S3_HOST = "minio:9000"
    project.AWS_S3_USE_SSL = False
    messages = [m for m in ours(run_checks()) if m.id == "sigv4_storage.W004"]
    assert len(messages) == 2  # default and staticfiles
    assert "settings.AWS_S3_HOST" in messages[0].msg


def test_credentials_written_into_settings(project, monkeypatch):
    project.AWS_ACCESS_KEY_ID = "AKIAEXAMPLE"
    project.AWS_SECRET_ACCESS_KEY = SECRET_KEY
    messages = [m for m in ours(run_checks()) if m.id == "sigv4_storage.W005"]
    assert len(messages) == 1
    assert "AWS_SECRET_ACCESS_KEY" in messages[0].msg
    assert SECRET_KEY not in messages[0].msg + messages[0].hint

    monkeypatch.setenv("MY_APP_S3_SECRET", SECRET_KEY)  # settings read it from there
    assert "sigv4_storage.W005" not in ids()
    monkeypatch.delenv("MY_APP_S3_SECRET")
    project.DEBUG = True
    assert "sigv4_storage.W005" not in ids()


def test_credentials_in_options_too(project):
    project.STORAGES = {
        **project.STORAGES,
        "default": {**MEDIA, "OPTIONS": {"secret_key": SECRET_KEY}},
    }
    messages = [m for m in ours(run_checks()) if m.id == "sigv4_storage.W005"]
    assert "STORAGES['default']['OPTIONS']['secret_key']" in messages[0].msg
    assert SECRET_KEY not in messages[0].msg


def test_projects_without_our_classes_are_left_alone(settings):
    settings.STORAGES = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.AWS_REGION = "eu-west-1"
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_SECRET_ACCESS_KEY = SECRET_KEY
    assert ids() == []


def test_every_id_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "docs" / "checks.md").read_text()
    for check in CHECKS:
        assert f"`{check.id}`" in readme, check.id


def test_region_disagreement_with_the_environment(project, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    messages = [m for m in ours(run_checks()) if m.id == "sigv4_storage.W003"]
    assert {m.obj for m in messages} == {"STORAGES['default']", "STORAGES['staticfiles']"}
    assert "settings.AWS_S3_REGION_NAME='ap-northeast-2'" in messages[0].msg
    assert "environment AWS_DEFAULT_REGION='us-west-2'" in messages[0].msg
    assert "settings.AWS_S3_REGION_NAME is used" in messages[0].msg


@pytest.mark.parametrize(
    ("key", "suggested"),
    [
        ("regoin_name", "region_name"),
        ("bucket", "bucket_name"),
        ("querystring_expiry", "querystring_expire"),
    ],
)
def test_an_unknown_options_key_is_named_with_the_closest_option(project, key, suggested):
    project.STORAGES = {
        **project.STORAGES,
        "default": {**MEDIA, "OPTIONS": {key: "x", "location": "media"}},
    }
    messages = ours(run_checks())
    assert [(m.id, m.obj) for m in messages] == [("sigv4_storage.E001", "STORAGES['default']")]
    assert f"OPTIONS has the key {key!r}" in messages[0].msg
    assert f"Did you mean {suggested!r}?" in messages[0].hint
    # The storage, when built, says the same words (before django-storages' bare one).
    from sigv4_storage import SigV4S3Storage

    with pytest.raises(ImproperlyConfigured) as raised:
        SigV4S3Storage(**{key: "x"})
    assert messages[0].msg in str(raised.value) and messages[0].hint in str(raised.value)


def test_keys_without_a_close_option_are_still_refused(project):
    project.STORAGES = {**project.STORAGES, "default": {**MEDIA, "OPTIONS": {"zzz": 1}}}
    (message,) = ours(run_checks())
    assert "'zzz'" in message.msg and "Settings table" in message.hint


def test_every_option_of_each_class_is_accepted(project):
    """Every default setting, our options, and the constructors' keyword arguments."""
    from sigv4_storage import SigV4ManifestStaticStorage
    from sigv4_storage.conf import accepted_options

    names = accepted_options(
        SigV4ManifestStaticStorage,
        SigV4ManifestStaticStorage.get_default_settings(
            SigV4ManifestStaticStorage.__new__(SigV4ManifestStaticStorage)
        ),
    )
    assert {"region_name", "bucket_name", "host", "cloudfront_signer", "manifest_storage"} <= set(
        names
    )
    project.STORAGES = {
        **project.STORAGES,
        "staticfiles": {**STATIC, "OPTIONS": {"manifest_storage": None, "location": "static"}},
        "default": {**MEDIA, "OPTIONS": {"location": "media"}},
    }
    assert ids() == []


# -- E007: public and private never overlap ---------------------------------------------
def layout(project, static_options, media_options, static=STATIC["BACKEND"]):
    project.STORAGES = {
        "default": {**MEDIA, "OPTIONS": media_options},
        "staticfiles": {"BACKEND": static, "OPTIONS": static_options},
    }
    return [m for m in ours(run_checks()) if m.id == "sigv4_storage.E007"]


@pytest.mark.parametrize("static", [STATIC["BACKEND"], "sigv4_storage.SigV4StaticStorage"])
def test_the_readme_layout_of_old_one_bucket_no_location_is_an_error(project, static):
    (error,) = layout(project, {}, {}, static)
    assert error.obj == "STORAGES['staticfiles']"
    assert "STORAGES['default'] (presigned URLs) share bucket 'media-bucket'" in error.msg
    assert "no location (the bucket's root)" in error.msg
    assert "readable by anyone" in error.msg
    assert "{'location': 'static'}" in error.hint and "separate buckets" in error.hint


@pytest.mark.parametrize(
    ("static_options", "media_options", "overlap"),
    [
        ({"location": "static"}, {"location": "media"}, False),
        ({"location": "static"}, {}, True),  # no location holds every key
        ({}, {"location": "media"}, True),
        ({"location": "site"}, {"location": "site/uploads"}, True),
        ({"location": "site/static"}, {"location": "site"}, True),
        ({"location": "static"}, {"location": "static-private"}, False),  # not a prefix
        ({"bucket_name": "static-bucket"}, {}, False),
        ({}, {"querystring_auth": False}, False),  # both public
        ({"querystring_auth": True}, {}, False),  # both presigned (E006 for the manifest)
        (
            {"location": "static", "endpoint_url": "http://127.0.0.1:9000"},
            {"location": "static", "endpoint_url": "http://127.0.0.1:9001"},
            False,  # another server's bucket of the same name
        ),
    ],
)
def test_overlap_is_a_prefix_relation_within_one_bucket(
    project, static_options, media_options, overlap
):
    found = layout(project, static_options, media_options, "sigv4_storage.SigV4StaticStorage")
    assert bool(found) is overlap


def test_collectstatic_refuses_to_upload_where_private_files_are(project, settings):
    """E007 is a staticfiles check too: collectstatic (ours, and Django's) runs those
    first. Before, it uploaded 127 public files into the media location without a
    word; now it stops before any request, and --skip-checks overrides it."""
    from django.core.management.base import SystemCheckError

    project.STORAGES = {
        "default": {**MEDIA, "OPTIONS": {"location": "site"}},
        "staticfiles": {"BACKEND": "sigv4_storage.SigV4StaticStorage",
                        "OPTIONS": {"location": "site"}},
    }  # fmt: skip
    with pytest.raises(SystemCheckError, match=r"sigv4_storage\.E007"):
        call_command("collectstatic", interactive=False, skip_checks=False, stdout=io.StringIO())


def test_a_public_acl_makes_a_media_storage_public(project):
    project.STORAGES = {
        "default": {**MEDIA, "OPTIONS": {"location": "media"}},
        "avatars": {
            **MEDIA,
            "OPTIONS": {"location": "media/avatars", "default_acl": "public-read"},
        },
    }
    (error,) = [m for m in ours(run_checks()) if m.id == "sigv4_storage.E007"]
    assert error.obj == "STORAGES['avatars']" and "default_acl 'public-read'" in error.msg


# -- hazards: settings that work, and expose files or credentials -----------------------
@pytest.mark.parametrize(
    ("change", "expected", "words"),
    [
        ({"AWS_S3_VERIFY": False}, "W007", "does not verify TLS certificates"),
        ({"AWS_DEFAULT_ACL": "public-read"}, "W008", "writes every file 'public-read'"),
        ({"AWS_QUERYSTRING_AUTH": False}, "W009", "serves unsigned URLs"),
        (
            {"AWS_S3_PUBLIC_ENDPOINT_URL": "http://files.example.com"},
            "W010",
            "plain http (files.example.com",
        ),
    ],
)
def test_hazards_are_warned_with_the_fix_and_how_to_silence(project, change, expected, words):
    for name, value in change.items():
        setattr(project, name, value)
    found = [m for m in ours(run_checks()) if m.id == f"sigv4_storage.{expected}"]
    assert found and words in found[0].msg, [m.msg for m in ours(run_checks())]
    assert f"SILENCED_SYSTEM_CHECKS = ['sigv4_storage.{expected}']" in found[0].hint
    project.SILENCED_SYSTEM_CHECKS = [f"sigv4_storage.{expected}"]
    call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


def test_what_is_not_a_hazard(project):
    project.AWS_S3_PUBLIC_ENDPOINT_URL = "http://localhost:9000"  # a developer's machine
    project.STORAGES = {  # a public storage of its own, with a public ACL
        **project.STORAGES,
        "public": {
            **MEDIA,
            "OPTIONS": {
                "querystring_auth": False,
                "default_acl": "public-read",
                "location": "public",
            },
        },
    }
    assert [i for i in ids() if i[-4:] in ("W007", "W008", "W009", "W010")] == []


def grant(request, limits):
    return True


def one_argument(request):
    return True


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("SIGV4_STORAGE_UPLOAD_PERMISSION", "tests.test_checks.nowhere", "does not import"),
        ("SIGV4_STORAGE_UPLOAD_PERMISSION", "tests.test_checks.one_argument", "(request, limits)"),
        ("SIGV4_STORAGE_UPLOAD_PERMISSION", "tests.test_checks.MEDIA", "is not a function"),
        ("SIGV4_STORAGE_UPLOAD_MAX_OPEN", "10", "whole number"),
        ("SIGV4_STORAGE_UPLOAD_MAX_OPEN", 0, "whole number"),
    ],
)
def test_upload_settings_that_cannot_work_are_errors_at_check(project, name, value, words):
    setattr(project, name, value)
    found = [m for m in ours(run_checks()) if m.id == "sigv4_storage.E008"]
    assert len(found) == 1 and name in found[0].msg and words in found[0].msg, found
    with pytest.raises(SystemCheckError):
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


def test_sound_upload_settings_pass(project):
    project.SIGV4_STORAGE_UPLOAD_PERMISSION = "tests.test_checks.grant"
    project.SIGV4_STORAGE_UPLOAD_MAX_OPEN = 3
    assert ids() == []
