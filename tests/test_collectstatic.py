"""``manage.py collectstatic`` on our storages (``sigv4_storage.collect``).

Every run goes through a counting proxy (``tests/faults.py``) in front of a
real server, so request counts are what the server saw. The reference for
the bucket's contents is Django's own ``ManifestStaticFilesStorage`` writing
the same tree to local disk. The core cases run on moto server in every
environment; every case runs on moto server and SeaweedFS in ``integration``.
"""

from __future__ import annotations

import io
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError

from sigv4_storage import collect
from tests.faults import FaultProxy, Rule
from tests.servers import KINDS, Server, connect, use_bucket
from tests.util import bucket_contents, local_manifest_collect, static_tree

MANIFEST = "sigv4_storage.SigV4ManifestStaticStorage"
#: The longer scenarios run once (tox env ``integration``), not in every matrix env.
ONCE = pytest.mark.integration


@dataclass
class Site:
    server: Server
    proxy: FaultProxy
    bucket: str
    source: Path
    settings: Any
    tmp: Path

    def collectstatic(self, *args: str, verbosity: int = 1) -> str:
        """A run as a deploy makes it: a new storage (it reads the manifest), counted."""
        self.settings.STORAGES = dict(self.settings.STORAGES)  # a new storage instance
        self.proxy.seen.clear()
        out = io.StringIO()
        call_command("collectstatic", *args, interactive=False, verbosity=verbosity, stdout=out)
        return out.getvalue()

    def requests(self, method: str | None = None) -> list[tuple[str, str]]:
        return [seen for seen in self.proxy.seen if method is None or seen[0] == method]

    def run_requests(self) -> list[tuple[str, str]]:
        """Without the storage reading its manifest when it is built (HEAD, GET)."""
        return [
            (method, path)
            for method, path in self.proxy.seen
            if not (method in ("HEAD", "GET") and path.endswith("/staticfiles.json"))
        ]

    def stored(self) -> dict[str, bytes]:
        return bucket_contents(self.server.client(), self.bucket, "static/")

    def expected(self, name: str = "local") -> dict[str, bytes]:
        return local_manifest_collect(self.source, self.tmp / name, self.settings)

    def fresh_checkout(self) -> None:
        """Every source file newer than the bucket's copy, as after git clone."""
        later = time.time() + 60
        for path in self.source.rglob("*"):
            os.utime(path, (later, later))


@pytest.fixture(params=KINDS)
def site(request, settings, tmp_path):
    server = connect(request, request.param)
    proxy = FaultProxy(server.endpoint)
    proxy.start()
    source = static_tree(tmp_path / "src", files=30)
    with server.bucket("static") as bucket:
        use_bucket(settings, server, bucket, endpoint=proxy.endpoint)
        settings.AWS_LOCATION = "static"
        settings.STATICFILES_DIRS = [str(source)]
        # The tree alone (not the apps' own static files, such as our direct-upload.js).
        settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
        settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST}}
        yield Site(server, proxy, bucket, source, settings, tmp_path)
    proxy.stop()


def test_the_bucket_ends_as_djangos_own_storage_writes_local_disk(site):
    site.collectstatic()
    expected = site.expected()
    stored = site.stored()
    assert sorted(stored) == sorted(expected)
    assert stored == expected  # every byte, the manifest included
    assert "staticfiles.json" in stored
    assert site.requests("DELETE") == []
    # One HEAD: the storage reading its (missing) manifest when built; none per file.
    assert [path.rsplit("/", 1)[1] for _, path in site.requests("HEAD")] == ["staticfiles.json"]


def test_an_unchanged_deploy_after_a_fresh_checkout_sends_no_write(site):
    site.collectstatic()
    site.fresh_checkout()

    output = site.collectstatic()

    assert site.requests("PUT") == [] and site.requests("DELETE") == []
    assert site.requests("POST") == []
    assert len(site.requests()) <= 10, site.requests()
    count = len(site.run_requests())
    assert f"; {count} S3 request{'' if count == 1 else 's'} " in output
    assert site.stored() == site.expected()


@ONCE
def test_one_changed_css_uploads_only_the_files_whose_bytes_changed_and_the_manifest(site):
    site.collectstatic()
    before = site.expected("before")
    theme = site.source / "css" / "theme.css"
    theme.write_text(theme.read_text() + ".changed { color: red; }\n")
    site.fresh_checkout()

    site.collectstatic()

    after = site.expected("after")
    changed = {name for name, data in after.items() if before.get(name) != data}
    put = {path.split("?")[0].split("/static/", 1)[1] for _, path in site.requests("PUT")}
    from urllib.parse import unquote

    assert {unquote(name) for name in put} == changed
    assert "staticfiles.json" in changed and "css/theme.css" in changed
    assert any(name.startswith("css/app.") for name in changed)  # it imports theme.css
    assert site.stored() == {**before, **after}  # older hashed files stay, as on disk


def test_the_manifest_is_uploaded_after_every_file_it_names(site):
    site.collectstatic()
    puts = [path for _, path in site.requests("PUT")]
    assert puts[-1].split("?")[0].endswith("/static/staticfiles.json")


@ONCE
def test_a_failed_upload_keeps_the_previous_manifest_live(site):
    site.collectstatic()
    live = site.stored()
    (site.source / "css" / "base.css").write_text("body { color: blue; }\n")
    site.proxy.rules.append(
        Rule(lambda method, path: method == "PUT" and "/css/base." in path, status=500, code="X")
    )

    with pytest.raises(CommandError, match="previous manifest is still the live one") as failed:
        site.collectstatic()

    assert "css/base." in str(failed.value)
    stored = site.stored()
    assert stored["staticfiles.json"] == live["staticfiles.json"]
    import json

    for hashed in json.loads(live["staticfiles.json"])["paths"].values():
        assert stored[hashed] == live[hashed]
    assert site.requests("DELETE") == []


@ONCE
def test_dry_run_writes_nothing(site):
    site.collectstatic()
    (site.source / "css" / "base.css").write_text("body { color: green; }\n")
    before = site.stored()

    output = site.collectstatic("--dry-run")

    assert "Pretending to copy" in output and "base.css" in output
    assert site.requests("PUT") == site.requests("DELETE") == site.requests("POST") == []
    assert site.stored() == before


@ONCE
def test_clear_leaves_exactly_what_a_fresh_run_writes_and_deletes_last(site):
    site.collectstatic()
    site.server.client().put_object(Bucket=site.bucket, Key="static/old/stale.css", Body=b"x")

    output = site.collectstatic("--clear")

    assert site.stored() == site.expected()
    assert "Deleting 'old/stale.css'" in output
    methods = [method for method, _ in site.requests() if method in ("PUT", "POST")]
    assert methods[-1] == "POST"  # DeleteObjects, after the manifest's PUT
    assert [m for m in methods if m == "POST"] == ["POST"]


@ONCE
def test_no_post_process_and_ignore_behave_as_stock(site):
    site.collectstatic("--no-post-process", "--ignore", "*.js")
    stored = site.stored()
    sources = {
        str(p.relative_to(site.source))
        for p in site.source.rglob("*")
        if p.is_file() and p.suffix != ".js"
    }
    assert set(stored) == sources
    assert "staticfiles.json" not in stored


@ONCE
def test_verbosity(site):
    assert site.collectstatic(verbosity=0) == ""
    site.fresh_checkout()
    quiet = site.collectstatic(verbosity=1)
    assert "files settled" in quiet and "S3 request" in quiet and "Skipping" not in quiet
    assert re.search(r"of the \d+ files Django wrote, 0 uploaded, \d+ already stored", quiet)
    # Nothing to post-process, nothing changed: Django writes nothing, and our line
    # says so (before: "0 uploaded, 0 already stored" beside Django's "30 unmodified").
    again = site.collectstatic("--no-post-process", verbosity=1)
    assert "nothing to upload: Django wrote no file" in again and "30 unmodified" in again
    loud = site.collectstatic(verbosity=2)
    assert "Skipping 'css/base.css' (not modified)" in loud


@ONCE
def test_gzip_and_object_parameters_still_apply_and_reruns_match_the_gzipped_bytes(site):
    site.settings.AWS_IS_GZIPPED = True
    site.settings.AWS_S3_OBJECT_PARAMETERS = {"CacheControl": "max-age=31536000"}
    site.collectstatic()
    client = site.server.client()
    head = client.head_object(Bucket=site.bucket, Key="static/css/base.css")
    assert head.get("ContentEncoding") == "gzip"
    assert head["CacheControl"] == "max-age=31536000"
    site.fresh_checkout()

    site.collectstatic()

    assert site.requests("PUT") == []


@ONCE
def test_file_overwrite_false_keeps_the_manifests_own_name(site):
    site.settings.AWS_S3_FILE_OVERWRITE = False
    site.collectstatic()
    (site.source / "css" / "base.css").write_text("body { color: navy; }\n")
    site.collectstatic()
    stored = site.stored()
    assert not [name for name in stored if name.startswith("staticfiles_")]
    assert not [name for name in stored if name.startswith("css/base_")]
    assert stored["css/base.css"] == b"body { color: navy; }\n"


def test_a_bad_worker_count_is_refused_before_any_request(site):
    site.settings.AWS_S3_COLLECTSTATIC_WORKERS = 0
    with pytest.raises(CommandError, match="AWS_S3_COLLECTSTATIC_WORKERS"):
        site.collectstatic()
    assert site.run_requests() == []


def test_other_storages_get_djangos_command_unchanged(settings, tmp_path):
    source = static_tree(tmp_path / "src", files=10)
    expected = local_manifest_collect(source, tmp_path / "a", settings)
    settings.STATICFILES_DIRS = [str(source)]
    settings.STATIC_ROOT = str(tmp_path / "b")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    root = tmp_path / "b"
    written = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert written == expected


# -- what counts as stored ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("parameters", "comparable"),
    [
        ({}, True),
        ({"ServerSideEncryption": "AES256"}, True),
        ({"ServerSideEncryption": "aws:kms"}, False),
        ({"SSECustomerKey": "k", "SSECustomerAlgorithm": "AES256"}, False),
    ],
)
def test_etags_that_are_no_content_hash_count_as_changed(
    settings, no_network, parameters, comparable
):
    from sigv4_storage import SigV4StaticStorage

    settings.AWS_STORAGE_BUCKET_NAME = "static"
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    storage = SigV4StaticStorage(object_parameters=parameters)
    run = collect.Run(storage, key=storage.s3_key, write=storage._save)
    pending = collect.Pending(data=b"body{}")
    md5 = "bd1f4bba96d2a4c2b0e5e2a2f6a5e0f4"  # not it
    right = run.etag(run.outgoing("a.css", pending))
    assert run.stored("a.css", pending, collect.Listed(right, 6)) is comparable
    assert run.stored("a.css", pending, collect.Listed(md5, 6)) is False
    assert run.stored("a.css", pending, collect.Listed("opaque-etag", 6)) is False


def test_multipart_etags_are_computed_with_the_part_size_uploads_use(settings, no_network):
    import hashlib

    from sigv4_storage import SigV4StaticStorage

    settings.AWS_STORAGE_BUCKET_NAME = "static"
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    storage = SigV4StaticStorage()
    size = storage.transfer_config.multipart_chunksize
    body = os.urandom(size * 2 + 10)
    parts = [body[:size], body[size : 2 * size], body[2 * size :]]
    joined = b"".join(hashlib.md5(p).digest() for p in parts)
    expected = hashlib.md5(joined).hexdigest() + "-3"
    run = collect.Run(storage, key=storage.s3_key, write=storage._save)
    assert run.etag(run.outgoing("big.bin", collect.Pending(data=body))) == expected


# -- the check -----------------------------------------------------------------------------
def test_a_check_warns_when_djangos_collectstatic_would_run(settings, no_network):
    settings.AWS_STORAGE_BUCKET_NAME = "static"
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST}}
    ours = [m for m in run_checks() if m.id == "sigv4_storage.W006"]
    assert ours == []
    settings.INSTALLED_APPS = ["django.contrib.staticfiles", "sigv4_storage"]
    ours = [m for m in run_checks() if m.id == "sigv4_storage.W006"]
    assert len(ours) == 1
    assert "django.contrib.staticfiles" in ours[0].msg
    assert "before 'django.contrib.staticfiles'" in ours[0].hint


@pytest.mark.integration
def test_a_multipart_file_is_not_uploaded_again(site):
    """Above the multipart threshold the ETag is no MD5: it is computed with the part size."""
    (site.source / "video").mkdir()
    (site.source / "video" / "intro.bin").write_bytes(os.urandom(12 * 1024 * 1024))
    site.collectstatic()
    head = site.server.client().head_object(Bucket=site.bucket, Key="static/video/intro.bin")
    assert head["ETag"].strip('"').endswith("-2")
    site.fresh_checkout()

    site.collectstatic()

    assert site.requests("PUT") == [] and site.requests("POST") == []


@ONCE
def test_the_plain_static_storage_too(site):
    """No post-processing, no manifest: copies only, and an unchanged rerun writes nothing."""
    site.settings.STORAGES = {
        **site.settings.STORAGES,
        "staticfiles": {"BACKEND": "sigv4_storage.SigV4StaticStorage"},
    }
    site.collectstatic()
    sources = {str(p.relative_to(site.source)) for p in site.source.rglob("*") if p.is_file()}
    assert set(site.stored()) == sources
    site.fresh_checkout()

    site.collectstatic()

    assert [method for method, _ in site.requests()] == ["GET", "GET"]  # the two listings


def open_uploads(client, bucket: str, prefix: str = "") -> list[str]:
    listed = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
    return sorted(upload["Key"] for upload in listed.get("Uploads", []))


@ONCE
def test_uploads_a_killed_run_left_open_are_aborted_by_the_next(site):
    """A deploy killed (SIGKILL) while it sends large files leaves its multipart
    uploads open, parts billed; the next run of that location aborts them, and
    leaves alone an upload open elsewhere in the bucket."""
    import signal
    import subprocess
    import sys

    big = {f"video/clip{n}.bin": os.urandom(11 * 1024 * 1024) for n in range(3)}
    for name, data in big.items():
        (site.source / name).parent.mkdir(exist_ok=True)
        (site.source / name).write_bytes(data)
    client = site.server.client()
    elsewhere = client.create_multipart_upload(Bucket=site.bucket, Key="media/upload.bin")
    # Every second part stalls: the child has begun all three uploads when it dies.
    site.proxy.rules.append(Rule(lambda method, path: "partNumber=2" in path, delay=30))
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.collectstatic_child"],
        cwd=Path(__file__).resolve().parent.parent,
        env=dict(
            os.environ,
            CHILD_ENDPOINT=f"http://{site.proxy.endpoint}",
            CHILD_BUCKET=site.bucket,
            CHILD_ACCESS_KEY=site.server.access_key,
            CHILD_SECRET_KEY=site.server.secret_key,
            CHILD_SOURCE=str(site.source),
            CHILD_LOCATION="static",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while len(open_uploads(client, site.bucket, "static/")) < len(big):
            assert child.poll() is None, child.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the child never began its uploads"
            time.sleep(0.2)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stderr.close()
    site.proxy.rules.clear()
    left = open_uploads(client, site.bucket, "static/")
    assert left == sorted(f"static/{name}" for name in big)  # what reruns never cleaned
    # An HTTP Date has one-second precision: an upload begun in the second the
    # next run lists counts as that run's own. A deploy comes later than this.
    time.sleep(1.2)

    output = site.collectstatic()

    assert open_uploads(client, site.bucket, "static/") == []
    assert f"{len(big)} abandoned uploads aborted" in output
    assert "Aborted an upload an earlier run left open: 'static/video/clip0.bin'" in output
    stored = site.stored()
    assert all(stored[name] == data for name, data in big.items())
    assert open_uploads(client, site.bucket, "media/") == ["media/upload.bin"]
    client.abort_multipart_upload(
        Bucket=site.bucket, Key="media/upload.bin", UploadId=elsewhere["UploadId"]
    )


def test_a_policy_that_cannot_list_uploads_costs_a_warning_not_the_deploy(site, caplog):
    site.proxy.rules.append(
        Rule(lambda method, path: method == "GET" and "uploads" in path, 403, "AccessDenied")
    )
    with caplog.at_level("WARNING", logger="sigv4_storage"):
        site.collectstatic()
    assert site.proxy.injected == 1
    assert site.stored() == site.expected()
    (warning,) = [r.getMessage() for r in caplog.records if "multipart" in r.getMessage()]
    assert "could not list the multipart uploads under 'static/' (AccessDenied)" in warning
    assert "s3:ListBucketMultipartUploads" in warning


# -- time linear in the files: comparisons counted, not seconds ------------------------------
class Counted(str):
    """A name that counts how often it is compared for equality: a list search
    compares with every element before the match; a set or dict lookup with none
    (distinct names) or the one match."""

    compared = 0

    def __eq__(self, other: object) -> bool:
        Counted.compared += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_the_commands_lists_of_names_answer_in_without_a_search():
    from sigv4_storage.management.commands.collectstatic import Command, Names

    command = Command()
    for attribute in ("copied_files", "unmodified_files", "symlinked_files"):
        assert isinstance(getattr(command, attribute), Names)
    names = Names()
    Counted.compared = 0
    for n in range(2000):
        name = Counted(f"css/page {n}.css")
        assert name not in names  # Django's copy_file asks this of every file
        names.append(name)
    assert Counted.compared < 100  # a list: about 2,000,000
    assert names == [f"css/page {n}.css" for n in range(2000)]  # still Django's list
    assert names + ["x"] == [*names, "x"]
    with pytest.raises(TypeError, match="only grow"):
        names.remove("css/page 1.css")


def test_post_processing_compares_no_name_per_file_and_writes_djangos_names(
    settings, moto_aws, tmp_path
):
    import boto3
    from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
    from django.core.files.storage import FileSystemStorage

    from sigv4_storage import SigV4ManifestStaticStorage

    source = static_tree(tmp_path / "src", files=600)
    found = FileSystemStorage(location=str(source))
    names = sorted(str(p.relative_to(source)) for p in source.rglob("*") if p.is_file())

    def paths() -> dict[str, tuple[Any, str]]:
        return {Counted(name): (found, name) for name in names}

    stock = ManifestStaticFilesStorage(location=str(tmp_path / "stock"))
    Counted.compared = 0
    stock_yielded = [(o, h) for o, h, _ in stock.post_process(paths())]
    djangos_comparisons = Counted.compared

    settings.AWS_STORAGE_BUCKET_NAME = "static"
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    boto3.client("s3", region_name="eu-central-1").create_bucket(
        Bucket="static", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    ours = SigV4ManifestStaticStorage()
    with ours.collecting() as run:
        Counted.compared = 0
        our_yielded = [(o, h) for o, h, _ in ours.post_process(paths())]
        our_comparisons = Counted.compared
        run.finish(2, lambda *_: None, manifest=ours.manifest_name)
    assert djangos_comparisons > 50_000  # what this replaces: a list search per file
    assert our_comparisons < len(names)
    assert our_yielded == stock_yielded  # the same files, names and order
    assert ours.hashed_files == stock.hashed_files
    manifest = boto3.client("s3").get_object(Bucket="static", Key="staticfiles.json")
    assert manifest["Body"].read() == (tmp_path / "stock" / "staticfiles.json").read_bytes()


def test_what_a_subclass_save_changes_is_what_a_run_uploads(settings, moto_aws):
    """A run sends small files itself (one PutObject each): a subclass's ``_save``
    comes before the run in the method order, so its changes are recorded."""
    import mimetypes

    import boto3
    from django.core.files.base import ContentFile

    from sigv4_storage import SigV4StaticStorage

    class Shouting(SigV4StaticStorage):
        def _save(self, name: str, content: Any) -> str:
            return super()._save(name, ContentFile(content.read().upper()))

    settings.AWS_STORAGE_BUCKET_NAME = "static"
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    client = boto3.client("s3", region_name="eu-central-1")
    client.create_bucket(
        Bucket="static", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    storage = Shouting(object_parameters={"CacheControl": "max-age=60"})
    with storage.collecting() as run:
        storage.save("app.js", ContentFile(b"let quiet = 1;"))
        summary = run.finish(2, lambda *_: None)
    assert summary.uploaded == ["app.js"]
    stored = client.get_object(Bucket="static", Key="app.js")
    assert stored["Body"].read() == b"LET QUIET = 1;"
    assert stored["CacheControl"] == "max-age=60"
    assert stored["ContentType"] == mimetypes.guess_type("app.js")[0]  # as save() sets it
