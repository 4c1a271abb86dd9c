"""Private stays private: public and presigned storages never share keys, and the
doctor proves both directions with unsigned fetches (SeaweedFS applies bucket
policies to anonymous requests; moto server does not, so these run there only)."""

import io
import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import StorageHandler
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.servers import ADMIN, Server, use_bucket
from tests.util import fetch

pytestmark = pytest.mark.integration

MEDIA = "sigv4_storage.SigV4S3Storage"
STATIC = "sigv4_storage.SigV4StaticStorage"


@pytest.fixture
def bucket(settings, seaweedfs):
    server = Server("seaweedfs", seaweedfs.endpoint, *ADMIN)
    with server.bucket("privacy") as name:
        use_bucket(settings, server, name)
        yield server, name


def project(settings, media_options, static_options):
    """STORAGES as a project writes them, and the handler the command reads."""
    from django.core.files import storage

    import sigv4_storage.management.commands.s3doctor as command

    settings.STORAGES = {
        "default": {"BACKEND": MEDIA, "OPTIONS": media_options},
        "staticfiles": {"BACKEND": STATIC, "OPTIONS": static_options},
    }
    handler = StorageHandler(settings.STORAGES)
    storage.storages = command.storages = handler
    return handler


@pytest.fixture(autouse=True)
def restore_storages():
    from django.core.files import storage

    import sigv4_storage.management.commands.s3doctor as command

    original = storage.storages
    yield
    storage.storages = command.storages = original


def doctor(*args):
    out = io.StringIO()
    try:
        call_command("s3doctor", *args, stdout=out, stderr=io.StringIO())
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


def findings(output):
    data = json.loads(output)
    reports = data.get("storages", [data])
    return {(r["storage"], c["name"]): c for r in reports for c in r["checks"]}


def grant_anonymous_reads(server, bucket, prefix):
    """A public-read statement on ``prefix``, as a user might apply one."""
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/{prefix}*",
    }
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    server.client().put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def unsigned(storage, name):
    """An anonymous GET of the object, as anyone on the internet would send it."""
    from sigv4_storage.signer import BucketURL

    return fetch(BucketURL(storage.s3_config.public_bucket_url).public(storage.s3_key(name)))[0]


def test_one_bucket_without_locations_is_refused_and_caught(settings, bucket):
    """The layout the README used to show: the doctor prints no whole-bucket grant,
    and once one is applied anyway, it says private files are readable by anyone."""
    server, name = bucket
    handler = project(settings, {}, {})
    media, static = handler["default"], handler["staticfiles"]
    media.save("invoices/2026-11.pdf", ContentFile(b"%PDF private"))
    static.save("site.css", ContentFile(b"body{}"))

    code, output = doctor("staticfiles", "--json")
    found = findings(output)
    read = found[("staticfiles", "public read")]
    assert code == 1 and read["status"] == "FAIL"
    assert read["fix"].startswith("No public-read policy printed:")
    assert '"Principal": "*"' not in read["fix"]
    assert found[("staticfiles", "public/private")]["status"] == "FAIL"

    # Applied anyway (the policy this package printed before): media is public now.
    grant_anonymous_reads(server, name, "")
    assert unsigned(media, "invoices/2026-11.pdf") == 200
    code, output = doctor("--all", "--json")
    found = findings(output)
    private = found[("default", "private read")]
    assert code == 1 and json.loads(output)["ok"] is False
    assert private["status"] == "FAIL"
    assert "private files are readable by anyone" in private["detail"]
    assert "Principal '*'" in private["fix"] and "Block Public Access" in private["fix"]
    assert "{'location': 'media'}" in private["fix"]  # the cause: the shared keys

    # The grant removed, as the fix says: private again, and the doctor agrees.
    server.client().delete_bucket_policy(Bucket=name)
    assert unsigned(media, "invoices/2026-11.pdf") == 403
    code, output = doctor("default", "--json")
    assert findings(output)[("default", "private read")]["status"] == "OK"


def test_two_locations_pass_both_directions(settings, bucket):
    server, name = bucket
    handler = project(settings, {"location": "media"}, {"location": "static"})
    media, static = handler["default"], handler["staticfiles"]
    media.save("invoices/2026-11.pdf", ContentFile(b"%PDF private"))
    static.save("site.css", ContentFile(b"body{}"))

    code, output = doctor("staticfiles", "--json")
    read = findings(output)[("staticfiles", "public read")]
    assert code == 1 and read["status"] == "FAIL"
    policy = json.loads(read["fix"].split("bucket policy: ", 1)[1].split(" On AWS")[0])
    assert policy["Statement"][0]["Resource"] == f"arn:aws:s3:::{name}/static/*"
    server.client().put_bucket_policy(Bucket=name, Policy=json.dumps(policy))

    assert (unsigned(static, "site.css"), unsigned(media, "invoices/2026-11.pdf")) == (200, 403)
    code, output = doctor("--all", "--write", "--json")
    found = findings(output)
    assert code == 0, output
    assert found[("default", "private read")]["status"] == "OK"
    assert "refused without a signature (HTTP 403)" in found[("default", "private read")]["detail"]
    assert found[("staticfiles", "public read")]["status"] == "OK"
    assert found[("default", "public/private")]["status"] == "OK"


def test_the_write_probe_proves_privacy_when_the_location_is_empty(settings, bucket):
    server, name = bucket
    project(settings, {"location": "media"}, {"location": "static"})
    code, output = doctor("default", "--json")
    assert findings(output)[("default", "private read")]["status"] == "SKIP"
    grant_anonymous_reads(server, name, "media/")
    code, output = doctor("default", "--write", "--json")
    private = findings(output)[("default", "private read")]
    assert code == 1 and private["status"] == "FAIL"
    assert "s3doctor-probe/" in private["detail"]
