"""The storage classes against moto's in-process S3 (no sockets opened).

What we add (regional SigV4 requests and URLs, the OPTIONS contract) and what
we inherit from django-storages (overwrite, location, gzip, custom domain,
object parameters, client config) both keep working.
"""

import gzip
import logging
import pickle
from unittest import mock

import boto3
import django
import pytest
from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import StorageHandler

from sigv4_storage import (
    SigV4ManifestStaticStorage,
    SigV4S3Storage,
    SigV4StaticStorage,
    SigV4StorageWarning,
)
from tests.util import (
    ACCESS_KEY,
    AWKWARD_NAMES,
    SECRET_KEY,
    RequestLog,
    SignatureMismatch,
    key_path,
    static_sources,
    verify_presigned_url,
)

REGION = "eu-central-1"
BUCKET = "media-bucket"
HOST = f"{BUCKET}.s3.{REGION}.amazonaws.com"


@pytest.fixture
def s3(settings, moto_aws):
    settings.AWS_STORAGE_BUCKET_NAME = BUCKET
    settings.AWS_S3_REGION_NAME = REGION
    client = boto3.client(
        "s3", region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY
    )
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


@pytest.mark.parametrize("name", AWKWARD_NAMES)
def test_names_round_trip(s3, name):
    storage = SigV4S3Storage()
    requests = RequestLog(storage.connection.meta.client, SECRET_KEY)
    body = name.encode() * 3
    assert storage.save(name, ContentFile(body)) == name
    assert storage.exists(name)
    assert storage.size(name) == len(body)
    with storage.open(name) as handle:
        assert handle.read() == body
    # The object sits under exactly that key.
    assert s3.get_object(Bucket=BUCKET, Key=name)["Body"].read() == body

    url = storage.url(name)
    verified = verify_presigned_url(url, secret_key=SECRET_KEY)
    assert (verified.host, verified.region) == (HOST, REGION)
    assert verified.path == key_path(name)

    storage.delete(name)
    assert not storage.exists(name)
    assert requests.hosts == {HOST}
    assert {region for _, _, region in requests} == {REGION}


def test_request_log_rejects_a_wrong_secret(s3):
    storage = SigV4S3Storage()
    RequestLog(storage.connection.meta.client, "not-the-secret")
    with pytest.raises(SignatureMismatch):
        storage.exists("anything")


def test_listdir_and_modified_time(s3):
    storage = SigV4S3Storage()
    for name in ("dir/a.txt", "dir/sub/b.txt", "c.txt"):
        storage.save(name, ContentFile(b"x"))
    assert storage.listdir("dir") == (["sub"], ["a.txt"])
    assert storage.get_modified_time("c.txt").tzinfo is not None


def test_url_makes_no_request_and_needs_no_bucket(settings, credentials, no_network):
    # No moto here: any connection attempt fails the test.
    settings.AWS_STORAGE_BUCKET_NAME = "nowhere-bucket"
    settings.AWS_S3_REGION_NAME = "ap-northeast-2"
    settings.AWS_S3_DISCOVER_REGION = False  # trust the region: ask nothing
    storage = SigV4S3Storage()
    url = storage.url("a/b.txt")
    assert verify_presigned_url(url, secret_key=SECRET_KEY).host == (
        "nowhere-bucket.s3.ap-northeast-2.amazonaws.com"
    )
    public = SigV4StaticStorage()
    assert public.url("css/site.css") == (
        "https://nowhere-bucket.s3.ap-northeast-2.amazonaws.com/css/site.css"
    )


def test_url_expire_argument(s3):
    storage = SigV4S3Storage()
    assert (
        verify_presigned_url(storage.url("k", expire=604800), secret_key=SECRET_KEY).expires
        == 604800
    )
    for bad in (604801, 0, "60", True):
        with pytest.raises(ValueError, match="604800"):
            storage.url("k", expire=bad)


def test_url_with_response_parameters_is_signed(s3):
    storage = SigV4S3Storage()
    url = storage.url(
        "report.pdf", parameters={"ResponseContentDisposition": "attachment; filename=r.pdf"}
    )
    assert "response-content-disposition=attachment" in url
    verify_presigned_url(url, secret_key=SECRET_KEY)


# -- the OPTIONS contract -----------------------------------------------------------
def test_options_beat_class_attributes_beat_settings(s3, settings):
    settings.AWS_S3_REGION_NAME = "eu-west-1"

    class Tokyo(SigV4S3Storage):
        region_name = "ap-northeast-1"

    assert Tokyo().s3_config.region == "ap-northeast-1"
    assert str(Tokyo().s3_config.sources["region"]) == "Tokyo.region_name"
    assert Tokyo(region_name="ap-northeast-2").s3_config.region == "ap-northeast-2"
    assert SigV4S3Storage().s3_config.region == "eu-west-1"


def test_new_options_are_accepted_from_options(s3):
    storage = SigV4S3Storage(
        host="s3-eu-central-1.amazonaws.com", calling_format="OrdinaryCallingFormat"
    )
    assert storage.s3_config.addressing_style == "path"
    assert storage.url("k").startswith(f"https://s3.{REGION}.amazonaws.com/{BUCKET}/k?")


def test_unknown_option_is_refused(s3):
    with pytest.raises(
        ImproperlyConfigured, match="OPTIONS has the key 'regoin_name'.*'region_name'"
    ):
        SigV4S3Storage(regoin_name="eu-west-1")


def test_storages_setting_with_options(s3, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "sigv4_storage.SigV4S3Storage",
            "OPTIONS": {"region_name": "ap-northeast-2", "bucket_name": "seoul-bucket"},
        },
    }
    # Built as Django builds it from settings.STORAGES. (On Django 4.2,
    # override_settings(STORAGES=...) also overrides DEFAULT_FILE_STORAGE,
    # which makes StorageHandler() drop the OPTIONS: a test-only quirk.)
    storage = StorageHandler(settings.STORAGES)["default"]
    assert storage.url("x").startswith("https://seoul-bucket.s3.ap-northeast-2.amazonaws.com/x?")


@pytest.mark.skipif(django.VERSION >= (5, 1), reason="DEFAULT_FILE_STORAGE exists up to Django 5.0")
@pytest.mark.filterwarnings("ignore:The (DEFAULT_FILE|STATICFILES)_STORAGE setting is deprecated")
def test_legacy_storage_settings_on_django_42(s3, settings):
    settings.DEFAULT_FILE_STORAGE = "sigv4_storage.SigV4S3Storage"
    settings.STATICFILES_STORAGE = "sigv4_storage.SigV4StaticStorage"
    handler = StorageHandler()
    assert type(handler["default"]) is SigV4S3Storage
    assert type(handler["staticfiles"]) is SigV4StaticStorage
    assert handler["staticfiles"].url("a.css") == f"https://{HOST}/a.css"


# -- signature ----------------------------------------------------------------
def test_sigv2_setting_is_overridden_with_a_warning(s3, settings):
    settings.AWS_S3_SIGNATURE_VERSION = "s3"
    settings.AWS_S3_REGION_NAME = "us-east-1"  # where botocore would pick SigV2
    settings.AWS_S3_DISCOVER_REGION = False  # trust it: the bucket is elsewhere
    with pytest.warns(SigV4StorageWarning, match="Signature Version 2"):
        storage = SigV4S3Storage()
    verified = verify_presigned_url(storage.url("k"), secret_key=SECRET_KEY)
    assert verified.region == "us-east-1"


def test_user_client_config_survives_in_the_client(s3, settings):
    settings.AWS_S3_CLIENT_CONFIG = Config(
        retries={"max_attempts": 9, "mode": "adaptive"}, connect_timeout=4, max_pool_connections=21
    )
    client = SigV4S3Storage().connection.meta.client
    config = client.meta.config
    # botocore turns max_attempts (retries) into total_max_attempts (retries + 1).
    attempts = config.retries.get("total_max_attempts", config.retries.get("max_attempts", 0) + 1)
    assert attempts == 10 and config.retries["mode"] == "adaptive"
    assert (config.connect_timeout, config.max_pool_connections) == (4, 21)
    assert config.signature_version == "s3v4"
    assert client.meta.region_name == REGION


# -- inherited behaviour -------------------------------------------------------
def test_file_overwrite_off_keeps_both(s3):
    storage = SigV4S3Storage(file_overwrite=False)
    first = storage.save("same.txt", ContentFile(b"1"))
    second = storage.save("same.txt", ContentFile(b"2"))
    assert first == "same.txt" and second != first and second.startswith("same_")
    assert storage.open(first).read() == b"1" and storage.open(second).read() == b"2"


def test_file_overwrite_on_replaces(s3):
    storage = SigV4S3Storage()
    storage.save("same.txt", ContentFile(b"1"))
    assert storage.save("same.txt", ContentFile(b"2")) == "same.txt"
    assert storage.open("same.txt").read() == b"2"


def test_location_prefixes_keys_and_urls(s3):
    storage = SigV4S3Storage(location="media")
    storage.save("a.txt", ContentFile(b"a"))
    assert s3.get_object(Bucket=BUCKET, Key="media/a.txt")["Body"].read() == b"a"
    assert verify_presigned_url(storage.url("a.txt"), secret_key=SECRET_KEY).path == "/media/a.txt"


def test_gzip(s3):
    storage = SigV4S3Storage(gzip=True)
    css = b"body { color: red; }\n" * 50
    storage.save("site.css", ContentFile(css))
    stored = s3.get_object(Bucket=BUCKET, Key="site.css")
    assert stored["ContentEncoding"] == "gzip"
    assert gzip.decompress(stored["Body"].read()) == css


def test_custom_domain(s3):
    storage = SigV4S3Storage(custom_domain="cdn.example.com", querystring_auth=False)
    assert storage.url("img/a b.png") == "https://cdn.example.com/img/a%20b.png"


def test_object_parameters(s3):
    storage = SigV4S3Storage(object_parameters={"CacheControl": "max-age=86400"})
    storage.save("cached.txt", ContentFile(b"x"))
    assert s3.head_object(Bucket=BUCKET, Key="cached.txt")["CacheControl"] == "max-age=86400"


# -- static files ----------------------------------------------------------------
def test_collectstatic_with_the_manifest_storage(s3, settings, tmp_path):
    source = static_sources(tmp_path / "static")
    settings.STATICFILES_DIRS = [str(source)]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "sigv4_storage.SigV4ManifestStaticStorage"},
    }
    settings.AWS_LOCATION = "static"
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    assert isinstance(staticfiles_storage._wrapped, SigV4ManifestStaticStorage)
    url = staticfiles_storage.url("css/site.css")
    assert url.startswith(f"https://{HOST}/static/css/site.") and url.endswith(".css")
    hashed = url.split(f"https://{HOST}/")[1]
    css = s3.get_object(Bucket=BUCKET, Key=hashed)["Body"].read().decode()
    assert (
        "logo." in css and "logo.png" not in css
    )  # the reference was rewritten to the hashed name
    assert s3.get_object(Bucket=BUCKET, Key="static/staticfiles.json")


# -- secrets, repr, pickling -----------------------------------------------------
def test_repr_logs_and_errors_hold_no_secret(s3, settings, caplog):
    with caplog.at_level(logging.DEBUG):
        storage = SigV4S3Storage()
        storage.save("k.txt", ContentFile(b"k"))
        storage.url("k.txt")
    text = repr(storage) + str(storage) + caplog.text
    assert "sigv4_storage" in caplog.text  # the resolved settings were logged
    assert SECRET_KEY not in text
    settings.AWS_S3_USE_SSL = "false"
    with pytest.raises(ImproperlyConfigured) as excinfo:
        SigV4S3Storage()
    assert SECRET_KEY not in str(excinfo.value)


def test_pickling_keeps_the_configuration(s3):
    storage = SigV4S3Storage(location="p")
    storage.save("a.txt", ContentFile(b"a"))
    clone = pickle.loads(pickle.dumps(storage))
    assert clone.s3_config.bucket_url == storage.s3_config.bucket_url
    assert clone.s3_config.sources == storage.s3_config.sources
    assert clone.exists("a.txt")
    assert verify_presigned_url(clone.url("a.txt"), secret_key=SECRET_KEY).host == HOST


def test_bad_settings_fail_before_any_request(settings, credentials, no_network):
    settings.AWS_STORAGE_BUCKET_NAME = BUCKET
    settings.AWS_QUERYSTRING_EXPIRE = 10 * 24 * 3600
    with pytest.raises(ImproperlyConfigured, match="AWS_QUERYSTRING_EXPIRE=864000"):
        SigV4S3Storage()


def test_manifest_storage_refuses_presigned_urls_before_any_request(s3, settings):
    settings.AWS_QUERYSTRING_AUTH = True  # for media; static storages keep theirs off
    assert SigV4ManifestStaticStorage().querystring_auth is False
    with (
        mock.patch.object(SigV4ManifestStaticStorage, "load_manifest") as load_manifest,
        pytest.raises(ImproperlyConfigured, match="querystring_auth") as excinfo,
    ):
        SigV4ManifestStaticStorage(querystring_auth=True)
    assert "SigV4ManifestStaticStorage" in str(excinfo.value)
    load_manifest.assert_not_called()  # refused before reading the manifest


def test_a_mocked_boto3_session_is_signed_by_botocore_as_in_django_storages(settings):
    """Tests written for django-storages patch boto3.Session; the fast signer crashed
    on the MagicMock credentials (TypeError). Credentials that are not strings go to
    botocore's presigner, here the mock's, as django-storages' url() does."""
    from unittest import mock

    from storages.backends.s3 import S3Storage

    settings.AWS_STORAGE_BUCKET_NAME = "b"
    settings.AWS_S3_REGION_NAME = "eu-west-1"
    with mock.patch("boto3.Session") as session:
        ours, theirs = SigV4S3Storage().url("a.txt"), S3Storage().url("a.txt")
    assert session.called
    for url in (ours, theirs):  # what the mocked client's presigner returned
        assert isinstance(url, mock.MagicMock) and "generate_presigned_url()" in repr(url)
