"""A live probe of one configured storage, for ``manage.py s3doctor``.

``Doctor.run()`` returns a ``Report``: the resolved configuration with the
source of each value, then one ``Finding`` per probe. First what every other
probe needs (credentials, region, a signed request, the bucket, the clock),
then the rows of ``PROBES``, each saying what it needs (the bucket to exist,
``--write``) and when it applies: a presigned URL fetched over HTTP (or a
public read), multipart uploads left open for over a day, the lifecycle
rule that removes direct uploads never submitted, CORS, and with
``write`` a probe object put, read and deleted, then what the server honours
(``capabilities``). It never reports a secret: the access key id appears
masked, botocore's messages carry no credential.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from .. import abandoned, pending, privacy
from ..errors import CREDENTIAL_SOURCES, HINTS, error_code, failure_name
from ..names import location_prefix
from ..signer import BucketURL
from ..storage import SigV4S3Storage, SigV4StaticStorage
from . import capabilities, cors, region
from .fixes import origin_error, public_read_policy
from .network import fetch, headers_of, post_form, xml_code
from .report import FAIL, OK, SKIP, WARN, Finding, Report, mask

#: SigV4 refuses requests whose clock is more than 15 minutes off the server's.
MAX_SKEW = dt.timedelta(minutes=15)
WARN_SKEW = dt.timedelta(minutes=5)
#: An upload still open this long after it began is reported as abandoned.
ABANDONED_AFTER = dt.timedelta(days=1)


class Doctor:
    def __init__(
        self,
        storage: SigV4S3Storage,
        alias: str,
        *,
        write: bool = False,
        origin: str | None = None,
        clock: Callable[[], float] = time.time,
        http_get: Callable[[str], tuple[int, bytes]] = fetch,
        http_post: Callable[[str, dict[str, Any], bytes], int] = post_form,
    ) -> None:
        self.storage = storage
        self.alias = alias
        self.write = write
        if origin is not None and (wrong := origin_error(origin)):
            raise ValueError(wrong)
        self.origin = origin
        self.clock = clock
        self.http_get = http_get
        self.http_post = http_post
        self.probe_name = f"s3doctor-probe/{uuid.uuid4().hex}.txt"
        #: The write probe's key, while it exists (the private read fetches it).
        self.written: str | None = None

    def run(self) -> Report:
        s3 = self.storage.s3_config
        report = Report(
            alias=self.alias,
            storage_class=type(self.storage).__name__,
            configuration={
                name: {"value": value, "source": source, "kind": s3.source(name).kind.value}
                for name, (value, source) in s3.describe().items()
            },
            notes=list(s3.notes),
        )
        if self._reachable(report):
            self._probes(report)
        if not self.write:
            report.untested.append(
                "writes and what the server honours (run s3doctor --write: it puts, "
                "reads and deletes a probe object)"
            )
        return report

    def _reachable(self, report: Report) -> bool:
        """Credentials, the region and the settled configuration: whether any
        signed probe can be sent (if not, the findings say why)."""
        add = report.findings.append
        credentials = self.credentials_found()
        add(credentials)
        signs = credentials.status == OK
        found, reachable = region.region(self.storage, asked=signs)
        add(found)
        if not reachable:
            return False
        if not signs:  # every later probe is a signed request: say why none was sent
            report.findings += self.skipped(
                "no credentials to sign with", "signed request", "bucket"
            )
            add(self.separation())
            return False
        try:
            self.storage.settled()
        except ImproperlyConfigured as refused:  # region_mismatch = "raise"
            add(Finding("storage", FAIL, str(refused)))
            return False
        return True

    def _probes(self, report: Report) -> None:
        add = report.findings.append
        signed, server_date = self.signed_request()
        add(signed)
        bucket, bucket_missing = self.bucket()
        add(bucket)
        add(self.clock_skew(server_date))
        add(self.separation())
        if signed.status == FAIL:
            report.findings += self.skipped("requests are refused")
            return
        for probe in self.applicable():
            if bucket_missing and probe.needs_bucket:
                add(Finding(probe.name, SKIP, "skipped: the bucket does not exist"))
            else:
                add(probe.run(self))
        if bucket_missing and self.write and self.bucket()[0].status == OK:
            self.made_by_the_probe(bucket)

    def applicable(self) -> list[Probe]:
        """The rows of ``PROBES`` for this storage and run."""
        return [p for p in PROBES if (self.write or not p.needs_write) and p.applies(self)]

    def skipped(self, why: str, *first: str) -> list[Finding]:
        """SKIP findings for the probes ``why`` makes pointless, after ``first``."""
        names = [*first, *(probe.name for probe in self.applicable())]
        return [Finding(name, SKIP, f"skipped: {why}") for name in names]

    def made_by_the_probe(self, bucket: Finding) -> None:
        """Some servers make a bucket on the first PUT: say so on the bucket finding."""
        bucket.status = WARN
        bucket.detail += "; the write probe's PUT created it (this server makes buckets on PUT)"
        bucket.fix = (
            f"Fine if that is the bucket you meant; otherwise fix "
            f"{self.storage.s3_config.source('bucket_name')}."
        )

    def capability(self, name: str, probe: Callable[..., Finding]) -> Finding:
        """One of ``capabilities.PROBES``, on scratch objects deleted afterwards."""
        scratch = capabilities.Scratch(self.storage, self.probe_name)
        extra = {"post": self.http_post} if probe is capabilities.post_fields else {}
        try:
            return capabilities.run(name, probe, scratch, **extra)
        finally:
            scratch.clean()

    @functools.cached_property
    def _exposures(self) -> tuple[privacy.Exposure, list[privacy.Exposure]]:
        """This storage's exposure, and every other configured storage's (offline,
        resolved once per run: the separation, both fixes read it)."""
        from ..checks import exposures

        storage = self.storage
        label = f"STORAGES[{self.alias!r}]"
        mine = privacy.Exposure.of(label, storage.s3_config, lambda n: getattr(storage, n, None))
        return mine, [e for e in exposures() if e.label != label]

    @property
    def presigned(self) -> bool:
        """Whether the storage's URLs are presigned (else public: querystring_auth off)."""
        return bool(self.storage.querystring_auth)

    @property
    def location_prefix(self) -> str:
        """The keys under the storage's location start with this ("static/", or "")."""
        return location_prefix(self.storage.location) or ""

    # -- the probes --------------------------------------------------------------
    def credentials_found(self) -> Finding:
        credentials = self.storage.credentials()
        if credentials is None:
            return Finding(
                "credentials",
                FAIL,
                "none found; looked in: " + "; ".join(CREDENTIAL_SOURCES),
                "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or "
                "give the machine a role (instance profile, task role).",
            )
        frozen = credentials.get_frozen_credentials()
        method = getattr(credentials, "method", "unknown")
        detail = f"access key {mask(frozen.access_key)} ({method})"
        if frozen.token:
            detail += ", with a session token"
        return Finding("credentials", OK, detail)

    def signed_request(self) -> tuple[Finding, str | None]:
        """A signed GET of a key that does not exist: how S3 refuses tells all.

        Also returns the server's ``Date`` header, if it sent one (``clock_skew``).
        """
        client = self.storage.connection.meta.client
        key = self.storage.s3_key(self.probe_name)
        try:
            response = client.get_object(Bucket=self.storage.bucket_name, Key=key)
            return Finding("signed request", OK, "accepted"), headers_of(response).get("date")
        except ClientError as refused:
            date = headers_of(refused.response).get("date")
            code = error_code(refused)
            if code in ("NoSuchKey", "NoSuchBucket", "404", "AccessDenied", "403"):
                denied = code in ("AccessDenied", "403")
                more = " (no permission to read this key)" if denied else ""
                return Finding("signed request", OK, f"signature accepted{more}"), date
            return Finding(
                "signed request", FAIL, f"refused: {code}", HINTS.get(code, str(refused))
            ), date
        except BotoCoreError as error:
            return Finding("signed request", FAIL, f"{type(error).__name__}: {error}"), None

    def bucket(self) -> tuple[Finding, bool]:
        """The bucket finding, and whether the bucket is missing."""
        client = self.storage.connection.meta.client
        name = self.storage.bucket_name
        try:
            client.head_bucket(Bucket=name)
        except ClientError as refused:
            code = error_code(refused)
            if code in ("404", "NoSuchBucket"):
                return Finding(
                    "bucket",
                    FAIL,
                    f"{name!r} does not exist at {self.storage.s3_config.endpoint_url}",
                    f"Create it, or fix {self.storage.s3_config.source('bucket_name')}.",
                ), True
            if code in ("403", "AccessDenied"):
                return Finding(
                    "bucket",
                    WARN,
                    f"{name!r}: HeadBucket refused (403)",
                    "Fine if the credentials lack s3:ListBucket on purpose; otherwise grant it.",
                ), False
            return Finding("bucket", FAIL, f"{name!r}: {code}", HINTS.get(code, "")), False
        except BotoCoreError as error:
            return Finding("bucket", FAIL, f"{type(error).__name__}: {error}"), False
        return Finding("bucket", OK, f"{name!r} exists"), False

    def clock_skew(self, server_date: str | None) -> Finding:
        """This machine's clock against the server's ``Date`` header."""
        if not server_date:
            return Finding("clock", SKIP, "the server sent no Date header")
        server = parsedate_to_datetime(server_date).timestamp()
        skew = dt.timedelta(seconds=self.clock() - server)
        side = "ahead of" if skew.total_seconds() >= 0 else "behind"
        text = f"{abs(skew.total_seconds()):.0f} s {side} the server"
        if abs(skew) > MAX_SKEW:
            return Finding(
                "clock",
                FAIL,
                text,
                "SigV4 refuses requests more than 15 minutes off: synchronise the clock (NTP).",
            )
        if abs(skew) > WARN_SKEW:
            return Finding("clock", WARN, text, "Synchronise the clock (NTP).")
        return Finding("clock", OK, text)

    def presigned_url(self) -> Finding:
        url = self.storage.object_url(self.probe_name, expire=60)
        try:
            status, body = self.http_get(url)
        except OSError as error:
            return Finding("presigned URL", FAIL, f"cannot fetch it: {error}", "Check the network.")
        code = xml_code(body)
        if status == 200 or code in ("NoSuchKey", "AccessDenied"):
            return Finding(
                "presigned URL", OK, f"signature accepted (HTTP {status}, {code or 'ok'})"
            )
        return Finding(
            "presigned URL",
            FAIL,
            f"HTTP {status} {code}".strip(),
            HINTS.get(code, "Compare the URL's host and region with the configuration above."),
        )

    def open_uploads(self) -> Finding:
        """Multipart uploads under the location begun more than a day ago (the
        server's day) and never finished: parts billed that nobody will use."""
        storage, name = self.storage, "open uploads"
        where = self.location_prefix or "the bucket"
        try:
            found = abandoned.list_open(
                storage.connection.meta.client, storage.bucket_name, self.location_prefix
            )
        except (ClientError, BotoCoreError) as error:
            code = failure_name(error)
            why = f"cannot list the multipart uploads under {where!r} ({code})"
            return Finding(name, SKIP, why)
        old = found.started_before(found.now - ABANDONED_AFTER)
        if not old:
            return Finding(
                name, OK, f"none under {where!r} older than a day ({len(found.uploads)} open)"
            )
        oldest = min(old, key=lambda upload: upload.initiated)
        return Finding(
            name,
            WARN,
            f"{len(old)} multipart upload{'s' if len(old) > 1 else ''} under {where!r} begun "
            f"more than a day ago and never finished (the oldest: {oldest.key!r}, "
            f"{oldest.initiated:%Y-%m-%d %H:%M} UTC); their parts are stored and billed",
            "Add a lifecycle rule that aborts incomplete uploads after a day: "
            f"{abandoned.lifecycle_configuration()} (aws s3api put-bucket-lifecycle-configuration "
            "--bucket BUCKET --lifecycle-configuration file://rule.json). collectstatic aborts "
            "those under its own location.",
        )

    def unsubmitted_uploads(self) -> Finding:
        """Direct uploads wait in the pending folder (``pending``); once some do,
        a lifecycle rule should remove those never submitted."""
        storage, name = self.storage, "pending folder"
        client, bucket = storage.connection.meta.client, storage.bucket_name
        where = pending.prefix(storage)
        try:
            waiting = client.list_objects_v2(Bucket=bucket, Prefix=where, MaxKeys=1)
            if not waiting.get("Contents"):
                return Finding(name, OK, f"no direct upload waits under {where!r}")
            rules = client.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
        except ClientError as error:
            if error_code(error) != "NoSuchLifecycleConfiguration":
                why = f"cannot read the bucket's lifecycle rules ({failure_name(error)})"
                return Finding(name, SKIP, why)
            rules = []
        except BotoCoreError as error:
            return Finding(name, SKIP, f"cannot read the bucket's lifecycle rules ({error})")
        days = pending.keep_days(storage)
        found = list(pending.covering_rules(rules, storage))
        if any(rule["Expiration"]["Days"] >= days for rule in found):
            rule = next(rule for rule in found if rule["Expiration"]["Days"] >= days)
            return Finding(
                name,
                OK,
                f"the lifecycle rule {rule.get('ID', '')!r} removes what stays under "
                f"{where!r} after {rule['Expiration']['Days']} days",
            )
        if found:
            detail = (
                f"a lifecycle rule removes uploads under {where!r} after "
                f"{found[0]['Expiration']['Days']} days, before their tokens expire "
                f"(submitted later, they are refused as missing)"
            )
        else:
            detail = (
                f"no lifecycle rule removes direct uploads never submitted under "
                f"{where!r}: each is removed only when its uploader uploads again"
            )
        return Finding(
            name,
            WARN,
            detail,
            f"Add this rule to the bucket's lifecycle configuration: "
            f"{json.dumps(pending.rule(storage))} (put-bucket-lifecycle-configuration "
            f"replaces every rule: send the bucket's existing rules with it).",
        )

    def _one_key(self, name: str, then: str) -> tuple[str | None, Finding]:
        """One key under the location to fetch, or None and the SKIP finding ``name``."""
        storage, prefix = self.storage, self.location_prefix
        try:
            listed = storage.connection.meta.client.list_objects_v2(
                Bucket=storage.bucket_name, Prefix=prefix, MaxKeys=1
            )
        except (ClientError, BotoCoreError) as error:
            code = failure_name(error)
            return None, Finding(
                name, SKIP, f"cannot list objects to fetch one ({code}); try {then}"
            )
        contents = listed.get("Contents") or []
        if not contents:
            where = prefix or "the bucket root"
            return None, Finding(name, SKIP, f"no object under {where!r} to fetch yet ({then})")
        return str(contents[0]["Key"]), Finding(name, OK, "")

    def public_read(self) -> Finding:
        """Public URLs (``querystring_auth=False``): an object fetched with no signature."""
        storage = self.storage
        prefix = self.location_prefix
        name = "public read"
        key, missing = self._one_key(name, "run collectstatic, or s3doctor --write")
        if key is None:
            return missing
        url = storage.object_url(key[len(prefix) :])
        try:
            status, body = self.http_get(url)
        except OSError as error:
            return Finding(name, FAIL, f"cannot fetch {url}: {error}", "Check the network.")
        if status == 200:
            return Finding(name, OK, f"{key!r} fetched without a signature (HTTP 200)")
        return Finding(
            name,
            FAIL,
            f"{key!r} refused without a signature: HTTP {status} {xml_code(body)}".rstrip()
            + (
                "; browsers get the same for every static file"
                if isinstance(storage, SigV4StaticStorage)
                else "; browsers get the same for every file of this storage"
            ),
            self.public_read_fix(),
        )

    def public_read_fix(self) -> str:
        s3 = self.storage.s3_config
        prefix = self.location_prefix
        mine, others = self._exposures
        private = [other for other in others if not other.public and mine.overlaps(other)]
        if private:  # the grant would publish them: no policy printed
            return (
                "No public-read policy printed: "
                + privacy.describe(mine, private[0])
                + " "
                + privacy.separate(mine, private[0])
            )
        static = isinstance(self.storage, SigV4StaticStorage)
        policy = public_read_policy(s3.partition or "aws", s3.bucket_name, prefix, static=static)
        return (
            "This storage's URLs carry no signature, so its objects must be publicly "
            f"readable. Grant anonymous s3:GetObject on {prefix or 'the bucket'!r} with a "
            f"bucket policy: {policy} On AWS, allow it first: new buckets block public "
            "policies (S3 Block Public Access: BlockPublicPolicy) and disable ACLs "
            "(Object Ownership 'bucket owner enforced'), so default_acl='public-read' "
            "does nothing there. MinIO: mc anonymous set download ALIAS/BUCKET/"
            f"{prefix}. SeaweedFS, Ceph, R2 and others: the same bucket policy."
        )

    def separation(self) -> Finding:
        """Offline: no public storage and presigned storage share keys in one bucket."""
        mine, others = self._exposures
        for other in others:
            if other.public != mine.public and mine.overlaps(other):
                public, private = (mine, other) if mine.public else (other, mine)
                return Finding(
                    "public/private",
                    FAIL,
                    privacy.describe(public, private),
                    privacy.separate(public, private),
                )
        side = "public" if mine.public else "private"
        return Finding(
            "public/private",
            OK,
            f"{side} ({mine.why}); no configured storage of the other kind shares its keys",
        )

    def private_read(self) -> Finding:
        """Presigned storages: an object fetched with no signature must be refused:
        the write probe's, else one object listed under the location."""
        storage = self.storage
        name = "private read"
        key = self.written
        if key is None:
            key, missing = self._one_key(name, "s3doctor --write")
            if key is None:
                return missing
        url = BucketURL(storage.s3_config.public_bucket_url).public(key)
        try:
            status, _ = self.http_get(url)
        except OSError as error:
            return Finding(name, FAIL, f"cannot fetch {url}: {error}", "Check the network.")
        if status != 200:
            return Finding(name, OK, f"{key!r} refused without a signature (HTTP {status})")
        return Finding(
            name,
            FAIL,
            f"private files are readable by anyone: {key!r} fetched without a signature "
            "(HTTP 200), though this storage's URLs are presigned",
            self.private_read_fix(),
        )

    def private_read_fix(self) -> str:
        s3 = self.storage.s3_config
        mine, others = self._exposures
        cause = next((o for o in others if o.public and mine.overlaps(o)), None)
        first = privacy.separate(cause, mine) + " Then: " if cause is not None else ""
        where = f"arn:{s3.partition or 'aws'}:s3:::{s3.bucket_name}/{self.location_prefix}*"
        return (
            f"{first}Remove what grants anonymous reads here: the bucket policy "
            f"statement with Principal '*' and s3:GetObject on a resource covering {where} "
            "(GetBucketPolicy shows it; MinIO: mc anonymous set none), and any "
            "public-read ACL on the objects (default_acl / AWS_DEFAULT_ACL). On AWS, turn "
            "on S3 Block Public Access for the bucket."
        )

    def write_probe(self) -> Finding:
        """Put, head, get and fetch by URL a probe object, left for the private
        read (``written``) and deleted by ``clean_up``."""
        storage = self.storage
        body = f"s3doctor {uuid.uuid4()}".encode()
        done: list[str] = []
        try:
            name = storage.save(self.probe_name, ContentFile(body))
            self.written = storage.s3_key(name)  # deleted by the last row, whatever happens
            done.append("put")
            if storage.size(name) != len(body):
                return Finding("write", FAIL, "head: wrong size")
            done.append("head")
            with storage.open(name) as f:
                if f.read() != body:
                    return Finding("write", FAIL, "get: different bytes")
            done.append("get")
            url = storage.object_url(name, expire=60 if self.presigned else None)
            status, fetched = self.http_get(url)
            if (status, fetched) != (200, body) and self.presigned:
                return Finding("write", FAIL, f"presigned GET of the probe: HTTP {status}")
            if (status, fetched) != (200, body):
                return Finding(
                    "write",
                    FAIL,
                    f"public GET of the probe (no signature): HTTP {status} "
                    f"{xml_code(fetched)}".rstrip(),
                    self.public_read_fix(),
                )
            done.append("presigned get" if self.presigned else "public get")
            return Finding("write", OK, ", ".join(done))
        except (ClientError, BotoCoreError) as error:
            code = failure_name(error)
            step = ["put", "head", "get", "url get"][len(done)]
            return Finding(
                "write", FAIL, f"{step} failed: {code}", HINTS.get(code, str(error).split("\n")[0])
            )

    def clean_up(self) -> Finding:
        """Delete the write probe's object (the last row with ``--write``)."""
        if self.written is None:
            return Finding("delete", SKIP, "nothing written")
        try:
            self.storage.delete(self.probe_name)
        except (ClientError, BotoCoreError) as error:
            code = failure_name(error)
            return Finding("delete", FAIL, f"failed: {code}", HINTS.get(code, ""))
        self.written = None
        return Finding("delete", OK, "the probe object is gone")


@dataclass(frozen=True)
class Probe:
    """One row of ``PROBES``: a finding, what it needs and when it applies."""

    name: str
    run: Callable[[Doctor], Finding]
    #: Skipped (SKIP) when the bucket does not exist.
    needs_bucket: bool = True
    #: Only with ``--write``.
    needs_write: bool = False
    applies: Callable[[Doctor], bool] = lambda doctor: True


def _capability(name: str, probe: Callable[..., Finding]) -> Probe:
    return Probe(name, lambda d: d.capability(name, probe), needs_bucket=False, needs_write=True)


#: The probes after the signed request and the bucket, in the order they run. A new
#: finding is one method (or function) and one row.
PROBES: tuple[Probe, ...] = (
    Probe("presigned URL", Doctor.presigned_url, applies=lambda d: d.presigned),
    Probe("public read", Doctor.public_read, applies=lambda d: not d.presigned),
    Probe("open uploads", Doctor.open_uploads),
    Probe(
        "pending folder",
        Doctor.unsubmitted_uploads,
        applies=lambda d: not isinstance(d.storage, SigV4StaticStorage),
    ),
    Probe(
        "CORS",
        lambda d: cors.cors(d.storage, str(d.origin), d.storage.s3_key(d.probe_name)),
        applies=lambda d: bool(d.origin),
    ),
    Probe("write", Doctor.write_probe, needs_bucket=False, needs_write=True),
    Probe("private read", Doctor.private_read, applies=lambda d: d.presigned),
    *(_capability(name, probe) for name, _, probe in capabilities.PROBES),
    Probe("delete", Doctor.clean_up, needs_bucket=False, needs_write=True),
)
