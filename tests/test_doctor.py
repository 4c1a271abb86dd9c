"""``manage.py s3doctor``: a live probe, against moto server and SeaweedFS.

moto accepts any signature, so refusals are tested on SeaweedFS (marked
``integration`` through the ``server`` fixture's params).
"""

import io
import json
import re
import time

import django
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import StorageHandler
from django.core.management import call_command
from django.core.management.base import CommandError

from sigv4_storage import SigV4ManifestStaticStorage
from sigv4_storage.doctor import (
    FAIL,
    OK,
    SKIP,
    WARN,
    Doctor,
    capabilities,
    mask,
    public_read_policy,
)
from tests.servers import REGION, SERVERS
from tests.util import SECRET_KEY, static_sources

SEAWEEDFS = [p for p in SERVERS if p.values[0] == ("seaweedfs", "endpoint_url")]
MOTO = [p for p in SERVERS if p.values[0] == ("moto", "host")]
RGW = [p for p in SERVERS if p.values[0][0] == "rgw"]


def doctor(*args):
    """Run the command: (exit code, stdout)."""
    out = io.StringIO()
    try:
        call_command("s3doctor", *args, stdout=out, stderr=io.StringIO())
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def statuses(output):
    data = json.loads(output[: output.rindex("}") + 1])
    return {c["name"]: c["status"] for c in data["checks"]}, data


@pytest.fixture
def fresh_storages(settings):
    """The command reads django's ``storages``: give it this test's settings."""
    from django.core.files import storage

    settings.STORAGES = {
        "default": {"BACKEND": "sigv4_storage.SigV4S3Storage", "OPTIONS": {"location": "media"}},
        "staticfiles": {
            "BACKEND": "sigv4_storage.SigV4StaticStorage",
            "OPTIONS": {"location": "static"},
        },
        "local": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    handler = StorageHandler(settings.STORAGES)
    original = storage.storages
    storage.storages = handler
    import sigv4_storage.management.commands.s3doctor as command

    command.storages = handler
    yield handler
    storage.storages = original
    command.storages = original


@pytest.mark.parametrize("server", SEAWEEDFS + MOTO, indirect=True)
def test_a_healthy_storage_passes_every_check(server, fresh_storages):
    code, output = doctor("--write")
    assert code == 0, output
    for line in ("credentials", "region", "signed request", "bucket", "clock", "presigned URL"):
        assert any(row.split()[:1] == [OK] and line in row for row in output.splitlines()), line
    assert "OK    write           put, head, get, presigned get" in output
    assert "OK    atomic create   supported: a second create of one name is refused" in output
    assert "OK    delete          the probe object is gone" in output
    assert "s3doctor: all checks passed" in output
    assert f"access key {mask(server.access_key)}" in output
    assert server.secret_key not in output
    bucket = fresh_storages["default"].bucket_name
    assert "Contents" not in server.client().list_objects_v2(Bucket=bucket)  # probe removed


@pytest.mark.parametrize("server", MOTO, indirect=True)
def test_a_run_without_write_never_says_all_passed(server, fresh_storages):
    """Before, a read-only run said "all checks passed" and the first save() of a
    read-only key failed with AccessDenied."""
    code, output = doctor()
    assert code == 0, output
    assert "all checks passed" not in output
    assert output.rstrip().endswith(
        "s3doctor: no check failed; not tested: writes and what the server honours "
        "(run s3doctor --write: it puts, reads and deletes a probe object)"
    )
    found, data = statuses(doctor("--json")[1])
    assert data["ok"] is True and data["untested"] and "--write" in data["untested"][0]
    assert statuses(doctor("--json", "--write")[1])[1]["untested"] == []


@pytest.mark.parametrize("server", MOTO, indirect=True)
def test_json_output_with_sources(server, fresh_storages):
    code, output = doctor("--json")
    found, data = statuses(output)
    assert code == 0 and data["ok"] is True
    assert data["configuration"]["endpoint_url"] == {
        "value": f"http://{server.endpoint}",
        "source": "settings.AWS_S3_HOST",
        "kind": "setting",
    }
    assert data["configuration"]["region"]["source"] == "settings.AWS_S3_REGION_NAME"
    assert found["region"] == OK  # moto reports the region: it matches
    assert "write" not in found


@pytest.mark.parametrize("server", MOTO, indirect=True)
def test_a_missing_bucket_fails(server, fresh_storages, settings):
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket-here"
    fresh_storages._storages.clear()
    code, output = doctor()
    assert code == 1
    assert "FAIL  bucket" in output and "'no-such-bucket-here' does not exist" in output
    assert "fix: Create it, or fix settings.AWS_STORAGE_BUCKET_NAME." in output
    assert "NoSuchBucket" not in output  # the later probes are skipped, not failed again
    assert "SKIP  presigned URL   skipped: the bucket does not exist" in output


@pytest.mark.parametrize("server", MOTO, indirect=True)
def test_a_missing_bucket_names_the_option_it_came_from(server, fresh_storages, settings):
    settings.STORAGES["default"]["OPTIONS"]["bucket_name"] = "no-such-bucket-either"
    fresh_storages._storages.clear()
    code, output = doctor()
    assert code == 1 and "fix: Create it, or fix OPTIONS['bucket_name']." in output


@pytest.mark.parametrize("server", MOTO, indirect=True)
@pytest.mark.parametrize(("mode", "status"), [("follow", WARN), ("raise", FAIL)])
def test_a_bucket_in_another_region(server, fresh_storages, settings, mode, status):
    settings.AWS_S3_REGION_NAME = "eu-west-3"  # the bucket is in ap-northeast-2
    settings.AWS_S3_REGION_MISMATCH = mode
    settings.AWS_S3_DISCOVER_REGION = True
    code, output = doctor("--json")
    found, data = statuses(output)
    assert found["region"] == status
    region = next(c for c in data["checks"] if c["name"] == "region")
    assert f"bucket is in {REGION!r}, not in 'eu-west-3'" in region["detail"]
    assert region["fix"] == f"Set AWS_S3_REGION_NAME = {REGION!r}."
    assert code == (1 if mode == "raise" else 0)


@pytest.mark.parametrize("server", MOTO, indirect=True)
def test_a_trusted_region_the_bucket_is_not_in_fails(server, fresh_storages, settings):
    """By default a named region is trusted, so the doctor is where a wrong one shows."""
    settings.AWS_S3_REGION_NAME = "eu-west-3"  # the bucket is in ap-northeast-2
    code, output = doctor("--json")
    found, data = statuses(output)
    region = next(c for c in data["checks"] if c["name"] == "region")
    assert (found["region"], code) == (FAIL, 1)
    assert "the named region is trusted, so requests go there" in region["detail"]
    assert region["fix"] == f"Set AWS_S3_REGION_NAME = {REGION!r}."


@pytest.mark.parametrize("server", MOTO, indirect=True)
def test_clock_skew_beyond_15_minutes_fails(server, fresh_storages):
    storage = fresh_storages["default"]
    report = Doctor(storage, "default", clock=lambda: time.time() + 20 * 60).run()
    clock = next(f for f in report.findings if f.name == "clock")
    assert (clock.status, report.ok) == (FAIL, False)
    assert clock.detail.endswith("s ahead of the server") and "NTP" in clock.fix
    report = Doctor(storage, "default", clock=lambda: time.time() - 6 * 60).run()
    clock = next(f for f in report.findings if f.name == "clock")
    assert clock.status == WARN and "behind the server" in clock.detail


def test_an_unreachable_endpoint_fails_fast(settings, fresh_storages, credentials):
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"
    code, output = doctor()
    assert code == 1
    assert "FAIL  endpoint     cannot reach http://127.0.0.1:9" in output
    assert "signed request" not in output.split("Checks", 1)[1]


def test_a_bad_setting_is_reported_not_raised(settings, fresh_storages, credentials):
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    settings.AWS_QUERYSTRING_EXPIRE = 10**7
    code, output = doctor("--json")
    found, data = statuses(output)
    assert code == 1 and found == {"configuration": FAIL}
    assert "AWS_QUERYSTRING_EXPIRE=10000000 is out of range" in data["checks"][0]["detail"]


def test_aliases_that_are_not_ours(fresh_storages):
    assert doctor("local")[0] == 1
    assert "not a sigv4_storage class" in doctor("local")[1]
    assert "Could not find config for 'nope'" in doctor("nope")[1]


@pytest.mark.parametrize("server", SEAWEEDFS, indirect=True)
def test_a_wrong_secret_fails_without_showing_it(server, fresh_storages, settings):
    wrong = "wrong/secret+that-must-not-appear"
    settings.AWS_SECRET_ACCESS_KEY = wrong
    for args in ((), ("--json",), ("--write",)):
        fresh_storages._storages.clear()
        code, output = doctor(*args)
        assert code == 1
        assert wrong not in output and server.secret_key not in output
    found, data = statuses(doctor("--json")[1])
    assert found["signed request"] == FAIL
    assert found["presigned URL"] == SKIP
    signed = next(c for c in data["checks"] if c["name"] == "signed request")
    assert signed["detail"] == "refused: SignatureDoesNotMatch"
    assert "AWS_S3_SECRET_ACCESS_KEY" in signed["fix"]


def test_mask():
    assert mask("AKIAIOSFODNN7EXAMPLE") == "AKIA…MPLE"
    assert mask("short") == "…rt"
    assert mask(None) == "(none)"


# -- --legacy ------------------------------------------------------------------------
def modern():
    code, output = doctor("--legacy")
    assert code == 0, output
    namespace = {}
    exec(output, namespace)  # the printed code is valid Python  # noqa: S102
    return namespace["STORAGES"], output


@pytest.mark.parametrize(
    "legacy",
    [
        {"AWS_REGION": "ap-northeast-2", "AWS_S3_HOST": "s3.ap-northeast-2.amazonaws.com"},
        {"AWS_S3_HOST": "minio.internal:9000", "AWS_S3_USE_SSL": False, "AWS_REGION": "garage"},
        {
            "AWS_S3_CALLING_FORMAT": "boto.s3.connection.OrdinaryCallingFormat",
            "AWS_S3_REGION_NAME": "eu-central-1",
            "S3_USE_SIGV4": True,
            "AWS_QUERYSTRING_EXPIRE": 600,
        },
    ],
    ids=["seed-host", "minio-host", "calling-format"],
)
def test_legacy_prints_an_equivalent_storages_dict(settings, fresh_storages, legacy, credentials):
    settings.AWS_STORAGE_BUCKET_NAME = "8percent-bucket"
    for name, value in legacy.items():
        setattr(settings, name, value)
    before = {alias: fresh_storages[alias].s3_config for alias in ("default", "staticfiles")}

    storages_dict, output = modern()

    assert "Credentials are not copied" in output and SECRET_KEY not in output
    removable = output.rstrip().splitlines()[-1]
    # (Django 4.2's override_settings(STORAGES) also sets DEFAULT_FILE_STORAGE: listed after.)
    assert removable.startswith(
        "# Then remove: " + ", ".join(n for n in REMOVABLE_ORDER if n in legacy)
    )
    for name in legacy:  # run on the modern dict alone
        delattr(settings, name)
    settings.AWS_STORAGE_BUCKET_NAME = None
    after = StorageHandler(storages_dict)
    assert storages_dict["local"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    for alias, config in before.items():
        now = after[alias].s3_config
        assert (now.bucket_url, now.endpoint_url, now.region, now.addressing_style) == (
            config.bucket_url,
            config.endpoint_url,
            config.region,
            config.addressing_style,
        )
        assert now.querystring_expire == config.querystring_expire


REMOVABLE_ORDER = ("AWS_REGION", "AWS_S3_HOST", "AWS_S3_CALLING_FORMAT", "S3_USE_SIGV4")


@pytest.mark.skipif(
    __import__("django").VERSION < (5, 1), reason="on Django 4.2 the setting still works"
)
def test_legacy_picks_up_settings_django_ignores(settings, fresh_storages, credentials):
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    settings.AWS_S3_REGION_NAME = "ap-northeast-2"
    settings.STORAGES = {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    }
    settings.DEFAULT_FILE_STORAGE = "storages.backends.s3boto3.S3Boto3Storage"
    storages_dict, output = modern()
    assert storages_dict["default"]["BACKEND"] == "sigv4_storage.SigV4S3Storage"
    assert storages_dict["default"]["OPTIONS"]["region_name"] == "ap-northeast-2"
    assert "DEFAULT_FILE_STORAGE" in output.splitlines()[-1]


# -- every class, public and presigned URLs --------------------------------------------
class ProjectStatic(SigV4ManifestStaticStorage):
    """A user's subclass, as projects write them."""

    location = "assets"


CLASSES = {
    "media": "sigv4_storage.SigV4S3Storage",
    "static": "sigv4_storage.SigV4StaticStorage",
    "manifest": "sigv4_storage.SigV4ManifestStaticStorage",
    "subclass": "tests.test_doctor.ProjectStatic",
}


def use_storages(settings, backend):
    """Django's own handler (and collectstatic's storage) follow the STORAGES setting."""
    from django.core.files.storage import storages

    static = {} if backend == CLASSES["subclass"] else {"location": "static"}  # its own
    settings.STORAGES = {
        "default": {"BACKEND": "sigv4_storage.SigV4S3Storage", "OPTIONS": {"location": "media"}},
        "staticfiles": {"BACKEND": backend, "OPTIONS": static},
    }
    if django.VERSION < (5, 1):
        # Django 4.2's handler drops OPTIONS when STORAGES is overridden in a test (it
        # sees STATICFILES_STORAGE and DEFAULT_FILE_STORAGE overridden with it).
        storages._backends = dict(settings.STORAGES)
    return storages


def grant_public_reads(server, storage):
    """The policy the doctor prints, applied as a user would."""
    prefix = storage._normalize_name("x")[:-1]
    policy = public_read_policy("aws", storage.bucket_name, prefix)
    server.client().put_bucket_policy(Bucket=storage.bucket_name, Policy=policy)


@pytest.mark.parametrize("server", SEAWEEDFS + MOTO, indirect=True)
@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_every_class_passes_once_its_objects_are_readable(
    server, settings, monkeypatch, tmp_path, kind
):
    handler = use_storages(settings, CLASSES[kind])
    storage = handler["staticfiles"]
    if kind in ("manifest", "subclass"):
        settings.STATICFILES_DIRS = [str(static_sources(tmp_path / "src"))]
        call_command("collectstatic", "--noinput", verbosity=0)
    if kind != "media":
        grant_public_reads(server, storage)
    code, output = doctor("staticfiles", "--write")
    assert code == 0, output
    if kind == "media":
        assert "presigned URL" in output and "public read" not in output
        assert "put, head, get, presigned get" in output
    else:
        assert "presigned" not in output.split("Checks")[1]
        assert "put, head, get, public get" in output
        if kind in ("manifest", "subclass"):  # collectstatic left objects to fetch
            assert "fetched without a signature (HTTP 200)" in output
    assert "FAIL" not in output
    # A WARN only where the server ignores a condition (moto: on copies), which the
    # package makes up for (test_each_capability_is_probed_and_reported).
    warned = [row[8:] for row in output.splitlines() if row.startswith("  WARN  ")]
    capability_rows = tuple(name for name, _, _ in capabilities.PROBES)
    assert [row for row in warned if not row.startswith(capability_rows)] == []


@pytest.mark.parametrize("server", SEAWEEDFS, indirect=True)
def test_a_public_media_storage_is_not_called_static(server, settings):
    """Before, its public-read failure spoke of "every static file" and printed a
    policy with Sid "PublicReadStaticFiles"."""
    settings.STORAGES = {
        "default": {
            "BACKEND": "sigv4_storage.SigV4S3Storage",
            "OPTIONS": {"location": "avatars", "querystring_auth": False},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.core.files.storage import storages

    storages["default"].save("a.png", ContentFile(b"\x89PNG"))
    code, output = doctor("default", "--json")
    found, data = statuses(output)
    check = next(c for c in data["checks"] if c["name"] == "public read")
    assert check["status"] == FAIL, check
    assert "every file of this storage" in check["detail"] and "static" not in check["detail"]
    assert '"Sid": "PublicReadFiles"' in check["fix"]


@pytest.mark.parametrize("server", SEAWEEDFS, indirect=True)
def test_a_private_static_bucket_fails_with_the_policy_to_add(
    server, settings, monkeypatch, tmp_path
):
    handler = use_storages(settings, CLASSES["subclass"])
    settings.STATICFILES_DIRS = [str(static_sources(tmp_path / "src"))]
    call_command("collectstatic", "--noinput", verbosity=0)
    code, output = doctor("staticfiles", "--json")
    found, data = statuses(output)
    assert code == 1 and found["public read"] == FAIL and "presigned URL" not in found
    check = next(c for c in data["checks"] if c["name"] == "public read")
    assert "refused without a signature: HTTP 403 AccessDenied" in check["detail"]
    policy = json.loads(check["fix"].split("bucket policy: ", 1)[1].split(" On AWS")[0])
    bucket = handler["staticfiles"].bucket_name
    assert policy["Statement"][0]["Resource"] == f"arn:aws:s3:::{bucket}/assets/*"
    assert policy["Statement"][0]["Principal"] == "*"
    assert "BlockPublicPolicy" in check["fix"] and "Object Ownership" in check["fix"]

    code, output = doctor("staticfiles", "--write")
    assert code == 1
    assert "public GET of the probe (no signature): HTTP 403 AccessDenied" in output


@pytest.mark.parametrize("server", MOTO, indirect=True)
def test_all_probes_every_alias_of_ours(server, settings, monkeypatch):
    use_storages(settings, CLASSES["static"])
    settings.STORAGES["local"] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    code, output = doctor("--all", "--json")
    data = json.loads(output)
    assert code == 0 and data["ok"] is True
    assert [r["storage"] for r in data["storages"]] == ["default", "staticfiles"]
    code, output = doctor("--all")
    assert output.count("s3doctor: storage ") == 2


@pytest.mark.parametrize("server", SEAWEEDFS, indirect=True)
def test_all_fails_when_one_alias_fails(server, settings, monkeypatch):
    use_storages(settings, CLASSES["subclass"])
    handler = use_storages(settings, CLASSES["static"])
    handler["staticfiles"].save("x.css", __import__("io").BytesIO(b"x"))  # private: refused
    code, output = doctor("--all")
    assert code == 1
    assert "s3doctor: storage 'default'" in output and "s3doctor: storage 'staticfiles'" in output


@pytest.mark.parametrize("server", SEAWEEDFS, indirect=True)
def test_a_bucket_made_by_the_write_probe_is_explained(server, settings):
    """SeaweedFS creates a bucket on the first PUT: the doctor says so, not both."""
    from tests.servers import remove_bucket

    settings.AWS_STORAGE_BUCKET_NAME = "made-by-the-probe"
    settings.STORAGES = {"default": {"BACKEND": "sigv4_storage.SigV4S3Storage"}}
    try:
        code, output = doctor("--json", "--write")
        found, data = statuses(output)
        bucket = next(c for c in data["checks"] if c["name"] == "bucket")
        assert found["write"] == OK  # SeaweedFS made the bucket on the probe's PUT
        assert bucket["status"] == WARN
        assert "does not exist" in bucket["detail"]
        assert "the write probe's PUT created it" in bucket["detail"]
    finally:
        client = server.client()
        if "made-by-the-probe" in [b["Name"] for b in client.list_buckets()["Buckets"]]:
            remove_bucket(client, "made-by-the-probe")


@pytest.mark.parametrize("server", SEAWEEDFS, indirect=True)
def test_cors_for_direct_uploads(server, fresh_storages):
    """--origin: a preflight for POST and PUT as a browser sends it, then the ETag rule."""
    site = "https://www.example.com"
    bucket = fresh_storages["default"].bucket_name
    other = {
        "CORSRules": [{"AllowedOrigins": ["https://other.example"], "AllowedMethods": ["GET"]}]
    }
    server.client().put_bucket_cors(Bucket=bucket, CORSConfiguration=other)
    code, output = doctor("--origin", site, "--json")
    found, data = statuses(output)
    assert found["CORS"] == FAIL and code == 1
    cors = next(c for c in data["checks"] if c["name"] == "CORS")
    rule = json.loads(cors["fix"][cors["fix"].index("{") :])
    # The bucket's own rule is kept: PutBucketCors replaces the whole configuration.
    kept = rule["CORSRules"][0]
    assert (kept["AllowedOrigins"], kept["AllowedMethods"]) == (["https://other.example"], ["GET"])
    assert rule["CORSRules"][1]["AllowedOrigins"] == [site]

    server.client().put_bucket_cors(Bucket=bucket, CORSConfiguration=rule)
    code, output = doctor("--origin", site, "--json")
    found, _ = statuses(output)
    assert found["CORS"] == OK and code == 0, output

    code, output = doctor("--origin", "https://elsewhere.example", "--json")
    assert statuses(output)[0]["CORS"] == FAIL


@pytest.mark.parametrize(
    ("origin", "words"),
    [
        ("127.0.0.1:8001", "is not an origin: give scheme://host[:port]"),
        ("www.example.com", "is not an origin"),
        ("http://host/path/", "Use 'http://host'"),
        ("https://www.example.com/", "Use 'https://www.example.com'"),
        ("http://host:port", "port that is not a number"),
        ("ftp://host", "is not an origin"),
    ],
)
def test_origin_is_validated_before_any_request(
    fresh_storages, credentials, no_network, origin, words
):
    code, output = doctor("--origin", origin)
    assert code != 0 and words in output


@pytest.mark.parametrize("server", SEAWEEDFS, indirect=True)
def test_cors_fix_keeps_the_existing_rules_and_is_taken_by_the_server(server, fresh_storages):
    site = "http://127.0.0.1:8001"
    bucket = fresh_storages["default"].bucket_name
    mine = {
        "AllowedOrigins": ["https://app.example"],
        "AllowedMethods": ["GET"],
        "MaxAgeSeconds": 60,
    }
    server.client().put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [mine]})
    _, output = doctor("--origin", site, "--json")
    cors = next(c for c in statuses(output)[1]["checks"] if c["name"] == "CORS")
    merged = json.loads(cors["fix"][cors["fix"].index("{") :])
    server.client().put_bucket_cors(Bucket=bucket, CORSConfiguration=merged)
    rules = server.client().get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert [r["AllowedOrigins"] for r in rules] == [["https://app.example"], [site]]
    code, output = doctor("--origin", site, "--json")
    assert statuses(output)[0]["CORS"] == OK and code == 0


# -- causes, not symptoms ------------------------------------------------------------
@pytest.mark.parametrize("server", MOTO, indirect=True)
def test_no_credentials_is_the_one_failure_reported(server, fresh_storages, settings):
    """Before: 'credentials none found' and 'region cannot reach' for a server that is up."""
    del settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY
    fresh_storages._storages.clear()
    code, output = doctor("--json", "--write")
    found, data = statuses(output)
    assert code == 1 and [n for n, s in found.items() if s == FAIL] == ["credentials"]
    detail = data["checks"][0]["detail"]
    for place in (
        "settings and OPTIONS",
        "the environment",
        "a profile",
        "container role",
        "instance role",
    ):
        assert place in detail
    assert found["region"] == SKIP and "cannot reach" not in output
    assert found["signed request"] == found["write"] == SKIP


def test_https_to_a_plain_http_server_is_named(settings, fresh_storages, credentials, moto_server):
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    settings.AWS_S3_ENDPOINT_URL = f"https://{moto_server}"
    code, output = doctor("--json")
    found, data = statuses(output)
    (check,) = [c for c in data["checks"] if c["status"] == FAIL]
    # Named as the endpoint's problem, with its exact fix alone (before: under
    # "region", the exact fix in the detail and a generic one after it).
    assert check["name"] == "endpoint"
    assert check["detail"].endswith("speaks plain http, not https")
    assert check["fix"] == (
        f"Use http://{moto_server} (AWS_S3_ENDPOINT_URL, or AWS_S3_USE_SSL = False)."
    )


def test_http_to_a_tls_server_is_named(settings, fresh_storages, credentials, tls_server):
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    settings.AWS_S3_ENDPOINT_URL = f"http://{tls_server}"
    code, output = doctor()
    assert code == 1
    assert "speaks https, not plain http\n" in output
    assert f"fix: Use https://{tls_server} (AWS_S3_ENDPOINT_URL" in output


def test_nothing_listening_is_said_so(settings, fresh_storages, credentials):
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"
    code, output = doctor()
    assert code == 1 and "nothing answers at 127.0.0.1:9" in output


@pytest.mark.parametrize("server", SEAWEEDFS + MOTO, indirect=True)
def test_uploads_open_for_over_a_day_are_reported_with_the_lifecycle_rule(server, fresh_storages):
    """moto dates every multipart upload 2010-11-10 (an upload a day old);
    SeaweedFS dates it now (an upload in flight, not reported)."""
    storage = fresh_storages["default"]
    client = server.client()
    started = client.create_multipart_upload(Bucket=storage.bucket_name, Key="media/big.bin")
    elsewhere = client.create_multipart_upload(Bucket=storage.bucket_name, Key="other/x.bin")
    try:
        code, output = doctor("--json")
        found, data = statuses(output)
        check = next(c for c in data["checks"] if c["name"] == "open uploads")
        if server.kind == "moto":
            assert check["status"] == WARN
            assert check["detail"].startswith(
                "1 multipart upload under 'media/' begun more than a day ago"
            )
            assert "'media/big.bin', 2010-11-10" in check["detail"]
            assert '"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}' in check["fix"]
        else:
            assert check == {
                "name": "open uploads",
                "status": OK,
                "detail": "none under 'media/' older than a day (1 open)",
                "fix": "",
            }
        assert code == 0  # a warning, not a failure
    finally:
        for upload, key in ((started, "media/big.bin"), (elsewhere, "other/x.bin")):
            client.abort_multipart_upload(
                Bucket=storage.bucket_name, Key=key, UploadId=upload["UploadId"]
            )
    found, data = statuses(doctor("--json")[1])
    assert found["open uploads"] == OK


@pytest.mark.parametrize("server", SEAWEEDFS + MOTO + RGW, indirect=True)
def test_direct_uploads_never_submitted_need_a_lifecycle_rule(server, fresh_storages):
    """Once a direct upload waits in the pending folder, the doctor checks that a
    lifecycle rule removes those never submitted, and prints the rule; the rule
    it prints is one each server takes, and then passes the check."""
    storage = fresh_storages["default"]
    client, bucket = server.client(), storage.bucket_name
    assert statuses(doctor("--json")[1])[0]["pending folder"] == OK  # nothing waits
    client.put_object(Bucket=bucket, Key="media/_pending/docs/ab12cd34/1-0-x/a.png", Body=b"x")
    check = next(
        c for c in statuses(doctor("--json")[1])[1]["checks"] if c["name"] == "pending folder"
    )
    assert check["status"] == WARN and "no lifecycle rule removes" in check["detail"]
    printed = json.loads(re.search(r"configuration: (\{.*\}) \(put", check["fix"]).group(1))
    assert printed["Filter"] == {"Prefix": "media/_pending/"}
    assert printed["Expiration"] == {"Days": 2}  # an hour's URLs and a day to submit
    # A rule that removes them before their tokens expire is not enough.
    early = {**printed, "ID": "early", "Filter": {"Prefix": "media/"}, "Expiration": {"Days": 1}}
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [early]}
    )
    found, data = statuses(doctor("--json")[1])
    assert found["pending folder"] == WARN
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [early, printed]}
    )
    check = next(
        c for c in statuses(doctor("--json")[1])[1]["checks"] if c["name"] == "pending folder"
    )
    assert check["status"] == OK, check
    assert (
        "'remove-unsubmitted-uploads' removes what stays under 'media/_pending/'" in check["detail"]
    )
    client.delete_bucket_lifecycle(Bucket=bucket)


# -- what the server honours, per capability (``behaviour``) ---------------------------
#: What each server honours, by ``behaviour`` capability, as this test measures it
#: (``docs/servers.md``'s table is held to it: ``tests/test_docs.py``).
HONOURED = {
    "seaweedfs": {
        "conditional_put": True,
        "conditional_complete": True,
        "conditional_copy": True,
        "pinned_copy": True,
        "post_fields": True,
        "region_reported": False,
    },
    # moto 5: no condition on CopyObject, neither If-None-Match nor the source ETag.
    "moto": {
        "conditional_put": True,
        "conditional_complete": True,
        "conditional_copy": False,
        "pinned_copy": False,
        "post_fields": True,
        "region_reported": True,
    },
    # Ceph RGW 16: If-None-Match on PutObject only; x-amz-copy-source-if-match
    # ignored; the POST form's Content-Disposition not stored; no region header.
    "rgw": {
        "conditional_put": True,
        "conditional_complete": False,
        "conditional_copy": False,
        "pinned_copy": False,
        "post_fields": False,
        "region_reported": False,
    },
}


@pytest.mark.parametrize("server", SEAWEEDFS + MOTO + RGW, indirect=True)
def test_each_capability_is_probed_and_reported(server, fresh_storages):
    from sigv4_storage import behaviour

    code, output = doctor("--write", "--json")
    assert code == 0, output
    found, data = statuses(output)
    honoured = HONOURED[server.kind]
    for name, capability, _ in capabilities.PROBES:
        check = next(c for c in data["checks"] if c["name"] == name)
        assert check["status"] == (OK if honoured[capability.name] else WARN), check
        if not honoured[capability.name] and name != "atomic create":
            assert f"instead: {capability.instead}" in check["detail"], check
    region = next(c for c in data["checks"] if c["name"] == "region")
    assert ("does not report" not in region["detail"]) is honoured["region_reported"]
    # Learned for the process, as the storage's own answers would teach it.
    endpoint = f"http://{server.endpoint}"
    for capability in behaviour.CAPABILITIES:
        learned = behaviour.learned(endpoint, capability)
        assert learned is not None and learned.honoured is honoured[capability.name]
    # Nothing left behind: the probes' scratch objects and uploads are gone.
    client = server.client()
    bucket = data["configuration"]["bucket_name"]["value"]
    assert "Contents" not in client.list_objects_v2(Bucket=bucket, Prefix="s3doctor-probe/")
    assert not client.list_multipart_uploads(Bucket=bucket).get("Uploads")
