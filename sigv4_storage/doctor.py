"""A live probe of one configured storage, for ``manage.py s3doctor``.

``Doctor.run()`` returns a ``Report``: the resolved configuration with the
source of each value, then one ``Finding`` per probe (credentials, bucket,
region, clock, a presigned URL fetched over HTTP, multipart uploads left
open for over a day, and with ``write`` a put,
head, get and delete of a probe object). It never reports a secret: the
access key id appears masked, botocore's messages carry no credential.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from . import abandoned, creates, discovery, privacy
from .errors import (
    CREDENTIAL_SOURCES,
    HINTS,
    error_code,
    failure_name,
    speaks_plain_http,
    use_http,
    use_https,
)
from .names import location_prefix
from .signer import BucketURL
from .storage import SigV4S3Storage

#: SigV4 refuses requests whose clock is more than 15 minutes off the server's.
MAX_SKEW = dt.timedelta(minutes=15)
WARN_SKEW = dt.timedelta(minutes=5)
#: An upload still open this long after it began is reported as abandoned.
ABANDONED_AFTER = dt.timedelta(days=1)
OK, WARN, FAIL, SKIP = "OK", "WARN", "FAIL", "SKIP"


@dataclass
class Finding:
    name: str
    status: str
    detail: str
    fix: str = ""


@dataclass
class Report:
    alias: str
    storage_class: str
    configuration: dict[str, dict[str, Any]]
    notes: list[str]
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.status != FAIL for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "storage": self.alias,
            "class": self.storage_class,
            "ok": self.ok,
            "configuration": self.configuration,
            "notes": self.notes,
            "checks": [asdict(f) for f in self.findings],
        }

    def as_text(self) -> str:
        lines = [f"s3doctor: storage {self.alias!r} ({self.storage_class})", "", "Configuration"]
        width = max(len(name) for name in self.configuration)
        for name, item in self.configuration.items():
            lines.append(f"  {name:<{width}}  {item['value']!s:<32}  {item['source']}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        lines += ["", "Checks"]
        width = max(len(f.name) for f in self.findings)
        for f in self.findings:
            lines.append(f"  {f.status:<4}  {f.name:<{width}}  {f.detail}")
            if f.fix:
                lines.append(f"        {'':<{width}}  fix: {f.fix}")
        failed = sum(f.status == FAIL for f in self.findings)
        lines += ["", "s3doctor: all checks passed" if self.ok else f"s3doctor: {failed} failed"]
        return "\n".join(lines)


def mask(access_key: str | None) -> str:
    if not access_key:
        return "(none)"
    if len(access_key) <= 8:
        return "…" + access_key[-2:]
    return f"{access_key[:4]}…{access_key[-4:]}"


def _headers(response: dict[str, Any]) -> dict[str, str]:
    return response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) or {}


def fetch(url: str, timeout: float = 15) -> tuple[int, bytes]:
    """GET with a plain HTTP client, as a browser would."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


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
    ) -> None:
        self.storage = storage
        self.alias = alias
        self.write = write
        if origin is not None and (wrong := origin_error(origin)):
            raise ValueError(wrong)
        self.origin = origin
        self.clock = clock
        self.http_get = http_get
        self.probe_name = f"s3doctor-probe/{uuid.uuid4().hex}.txt"

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
        return report

    def _reachable(self, report: Report) -> bool:
        """Credentials, the region and the settled configuration: whether any
        signed probe can be sent (if not, the findings say why)."""
        add = report.findings.append
        credentials = self.credentials_found()
        add(credentials)
        signs = credentials.status == OK
        region, reachable = self.region(asked=signs)
        add(region)
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
        if bucket_missing:  # reads would only repeat NoSuchBucket; a write may make it
            report.findings += self.skipped("the bucket does not exist", write=False)
        else:
            add(self.presigned_url() if self.presigned else self.public_read())
            add(self.open_uploads())
            if self.origin:
                add(self.cors(self.origin))
        if self.write:
            written, private = self.write_probe()
            add(written)
            add(self.atomic_create())
            if self.presigned and not bucket_missing:
                add(private or self.private_read())
            if bucket_missing and self.bucket()[0].status == OK:
                self.made_by_the_probe(bucket)
        elif self.presigned and not bucket_missing:
            add(self.private_read())

    def skipped(self, why: str, *first: str, write: bool = True) -> list[Finding]:
        """SKIP findings for the probes ``why`` makes pointless, after ``first``."""
        names = [*first, "presigned URL" if self.presigned else "public read"]
        if self.presigned:
            names.append("private read")
        if write and self.write:
            names.append("write")
        return [Finding(name, SKIP, f"skipped: {why}") for name in names]

    def made_by_the_probe(self, bucket: Finding) -> None:
        """Some servers make a bucket on the first PUT: say so on the bucket finding."""
        bucket.status = WARN
        bucket.detail += "; the write probe's PUT created it (this server makes buckets on PUT)"
        bucket.fix = (
            f"Fine if that is the bucket you meant; otherwise fix "
            f"{self.storage.s3_config.source('bucket_name')}."
        )

    @functools.cached_property
    def _exposures(self) -> tuple[privacy.Exposure, list[privacy.Exposure]]:
        """This storage's exposure, and every other configured storage's (offline,
        resolved once per run: the separation, both fixes read it)."""
        from .checks import exposures

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

    def region(self, asked: bool = True) -> tuple[Finding, bool]:
        """The region finding, and whether the endpoint answered at all.

        Without credentials (``asked`` false) the bucket is not asked: only
        whether anything answers at the endpoint.
        """
        s3 = self.storage.s3_config
        if not asked:
            cause = connection_cause(s3.endpoint_url)
            if cause is not None:
                return self._unreachable(cause), False
            return Finding("region", SKIP, "not asked: no credentials to sign the question"), True
        client = self.storage.probe_client()
        found = discovery.ask(client, s3, log=False)  # the finding says it
        if found is None:
            failure = self._unanswered(client)
            if failure is not None:
                return self._unreachable(connection_cause(s3.endpoint_url) or failure), False
        return self.region_answer(found), True

    def _unreachable(self, cause: str) -> Finding:
        s3 = self.storage.s3_config
        return Finding(
            "region",
            FAIL,
            f"cannot reach {s3.endpoint_url} (region {s3.region}): {cause}",
            "Check the endpoint (AWS_S3_ENDPOINT_URL / AWS_S3_HOST), the network "
            "and any proxy (AWS_S3_PROXIES).",
        )

    def region_answer(self, found: str | None) -> Finding:
        """What the bucket's answer (``found``, None: it gave none) means for this
        storage: ``discovery.verdict``, the storage's own rule, in words."""
        s3 = self.storage.s3_config
        said = discovery.verdict(s3, found)
        mismatch = f"bucket is {said.mismatch}"
        Outcome = discovery.Outcome
        if said.outcome is Outcome.UNREPORTED:
            return Finding(
                "region",
                OK if s3.custom_endpoint else WARN,
                f"the server does not report the bucket's region; using {s3.region!r} "
                f"({s3.source('region')})",
            )
        if said.outcome is Outcome.SAME:
            how = s3.source("region") if s3.region_configured else "nothing configured: discovered"
            return Finding("region", OK, f"bucket is in {found!r} ({how})")
        fix = f"Set AWS_S3_REGION_NAME = {found!r}."
        if said.outcome is Outcome.ADOPT:
            detail = (
                f"bucket is in {found!r}; no region configured, the storage uses it"
                if not s3.region_configured
                else f"{mismatch}; a region from the environment only is a guess, so "
                f"the storage uses the bucket's"
            )
            return Finding(
                "region",
                OK,
                detail,
                f"Optional: set AWS_S3_REGION_NAME = {found!r} to skip the question.",
            )
        if said.outcome is Outcome.FOLLOW:
            detail = f"{mismatch}; requests follow the bucket, with a warning"
            return Finding("region", WARN, detail, fix)
        if said.outcome is Outcome.IGNORED and (s3.region_named or not s3.custom_endpoint):
            why = "the named region is trusted" if s3.region_named else "discovery is off"
            detail = f"{mismatch}; {why}, so requests go there and are refused"
            return Finding("region", FAIL, detail, fix)
        if (
            said.outcome is Outcome.IGNORED
        ):  # the default region: servers differ in what they accept
            detail = (
                f"{mismatch}; requests are signed for {s3.region!r}, which this server "
                f"may refuse (SignatureDoesNotMatch, AuthorizationHeaderMalformed)"
            )
            return Finding("region", WARN, detail, fix)
        detail = f"{mismatch}; AWS_S3_REGION_MISMATCH = 'raise' refuses it"
        return Finding("region", FAIL, detail, fix)

    def _unanswered(self, client: Any) -> str | None:
        """Why the endpoint gave no answer at all (a connection failure), or None if it
        answered, even with a refusal."""
        try:
            client.list_buckets()
        except ClientError:
            return None
        except BotoCoreError as error:
            return str(error).split("\n")[0]
        return None

    def signed_request(self) -> tuple[Finding, str | None]:
        """A signed GET of a key that does not exist: how S3 refuses tells all.

        Also returns the server's ``Date`` header, if it sent one (``clock_skew``).
        """
        client = self.storage.connection.meta.client
        key = self.storage.s3_key(self.probe_name)
        try:
            response = client.get_object(Bucket=self.storage.bucket_name, Key=key)
            return Finding("signed request", OK, "accepted"), _headers(response).get("date")
        except ClientError as refused:
            date = _headers(refused.response).get("date")
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
        code = _xml_code(body)
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
            f"{key!r} refused without a signature: HTTP {status} {_xml_code(body)}".rstrip()
            + "; browsers get the same for every static file",
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
        policy = public_read_policy(s3.partition or "aws", s3.bucket_name, prefix)
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

    def private_read(self, key: str | None = None) -> Finding:
        """Presigned storages: an object fetched with no signature must be refused.

        ``key``: the write probe's; else one object listed under the location.
        """
        storage = self.storage
        name = "private read"
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

    def write_probe(self) -> tuple[Finding, Finding | None]:
        """Put, head, get, fetch by URL and delete a probe object; with presigned URLs
        also the private-read finding for the probe (fetched without a signature)."""
        storage = self.storage
        body = f"s3doctor {uuid.uuid4()}".encode()
        done: list[str] = []
        try:
            name = storage.save(self.probe_name, ContentFile(body))
            done.append("put")
            if storage.size(name) != len(body):
                return Finding("write", FAIL, "head: wrong size"), None
            done.append("head")
            with storage.open(name) as f:
                if f.read() != body:
                    return Finding("write", FAIL, "get: different bytes"), None
            done.append("get")
            url = storage.object_url(name, expire=60 if self.presigned else None)
            status, fetched = self.http_get(url)
            if (status, fetched) != (200, body) and self.presigned:
                return Finding("write", FAIL, f"presigned GET of the probe: HTTP {status}"), None
            if (status, fetched) != (200, body):
                return Finding(
                    "write",
                    FAIL,
                    f"public GET of the probe (no signature): HTTP {status} "
                    f"{_xml_code(fetched)}".rstrip(),
                    self.public_read_fix(),
                ), None
            done.append("presigned get" if self.presigned else "public get")
            private = self.private_read(storage.s3_key(name)) if self.presigned else None
            storage.delete(name)
            done.append("delete")
            return Finding("write", OK, ", ".join(done)), private
        except (ClientError, BotoCoreError) as error:
            code = failure_name(error)
            step = ["put", "head", "get", "url get", "delete"][len(done)]
            return Finding(
                "write", FAIL, f"{step} failed: {code}", HINTS.get(code, str(error).split("\n")[0])
            ), None
        finally:
            if "delete" not in done and "put" in done:
                with contextlib.suppress(ClientError, BotoCoreError):
                    storage.delete(self.probe_name)

    def cors(self, origin: str) -> Finding:
        """Can a page on ``origin`` upload straight to the bucket (``presigned_post``
        with POST, multipart parts with PUT, reading each part's ETag)?"""
        name = "CORS"
        s3 = self.storage.s3_config
        targets = {  # where forms POST, and where part URLs PUT (never a custom domain)
            "POST": s3.post_url,
            "PUT": BucketURL(s3.public_bucket_url).public(self.storage.s3_key(self.probe_name)),
        }
        refused = []
        for method, url in targets.items():
            try:
                answer = preflight(url, origin, method)
            except OSError as error:
                return Finding(name, FAIL, f"cannot send a preflight to {url}: {error}")
            allowed_origin = answer.get("access-control-allow-origin", "")
            methods = {
                m.strip() for m in answer.get("access-control-allow-methods", "").upper().split(",")
            }
            if allowed_origin not in (origin, "*") or not methods & {method, "*"}:
                refused.append(method)
        rules, read = self._cors_rules()
        fix = (
            "Set this bucket CORS configuration (PutBucketCors; it replaces the whole "
            f"configuration, so the bucket's {len(rules)} existing rule(s) are kept in it): "
            f"{merged_cors(rules, origin)}"
        )
        if not read:
            fix = (
                "Add this rule to the bucket's CORS configuration (PutBucketCors replaces "
                "the whole configuration: keep the rules it has; they could not be read "
                f"here): {cors_rule(origin)}"
            )
        if refused:
            return Finding(
                name, FAIL, f"{origin} may not {' or '.join(refused)} to the bucket", fix
            )
        if not read:
            return Finding(name, OK, f"{origin} may POST and PUT (the rules themselves unread)")
        exposed = any(
            "etag" in (h.lower() for h in rule.get("ExposeHeaders", [])) for rule in rules
        )
        if not exposed:
            return Finding(
                name,
                WARN,
                f"{origin} may POST and PUT, but no rule exposes ETag: multipart uploads "
                "from the browser cannot read their parts' ETags",
                fix,
            )
        return Finding(name, OK, f"{origin} may POST and PUT, and read ETags")

    def _cors_rules(self) -> tuple[list[dict[str, Any]], bool]:
        """The bucket's CORS rules, and whether they could be read (none set: [])."""
        try:
            found = self.storage.connection.meta.client.get_bucket_cors(
                Bucket=self.storage.bucket_name
            )
        except ClientError as error:
            return [], error_code(error) == "NoSuchCORSConfiguration"
        except BotoCoreError:
            return [], False
        return list(found.get("CORSRules") or []), True

    def atomic_create(self) -> Finding:
        """Does the server refuse a second create of one name (``If-None-Match: *``)?

        ``file_overwrite=False`` relies on it to never replace a file.
        """
        storage = self.storage
        client = storage.connection.meta.client
        key = storage.s3_key(self.probe_name + ".create")
        name = "atomic create"
        try:
            client.put_object(Bucket=storage.bucket_name, Key=key, Body=b"first")
            try:
                client.put_object(
                    Bucket=storage.bucket_name, Key=key, Body=b"second", IfNoneMatch="*"
                )
            except ClientError as refused:
                outcome = creates.classify(refused, key)
                if isinstance(outcome, creates.NameTaken):
                    return Finding(name, OK, "supported: a second create of one name is refused")
                if isinstance(outcome, creates.ConditionalWritesUnsupported):
                    return Finding(name, WARN, f"not supported ({outcome}){_CHECK_THEN_WRITE}")
                raise
            return Finding(
                name, WARN, f"not supported: the server ignored If-None-Match{_CHECK_THEN_WRITE}"
            )
        except (ClientError, BotoCoreError) as error:
            code = failure_name(error)
            return Finding(name, FAIL, f"put failed: {code}", HINTS.get(code, ""))
        finally:
            with contextlib.suppress(ClientError, BotoCoreError):
                client.delete_object(Bucket=storage.bucket_name, Key=key)


def upload_rule(origin: str) -> dict[str, Any]:
    """The bucket CORS rule direct browser uploads from ``origin`` need."""
    return {
        "AllowedOrigins": [origin],
        "AllowedMethods": ["POST", "PUT"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3600,
    }


def cors_rule(origin: str) -> str:
    """That rule as a whole CORS configuration (JSON)."""
    return json.dumps({"CORSRules": [upload_rule(origin)]})


def merged_cors(rules: list[dict[str, Any]], origin: str) -> str:
    """The bucket's ``rules`` (as GetBucketCors returns them) with the upload rule for
    ``origin`` added: a configuration PutBucketCors can take without losing any."""
    kept = [rule for rule in rules if rule != upload_rule(origin)]
    return json.dumps({"CORSRules": [*kept, upload_rule(origin)]})


def origin_error(origin: str) -> str | None:
    """Why ``origin`` is not a browser origin (``scheme://host[:port]``), or None."""
    parts = urlsplit(origin)
    example = "e.g. https://www.example.com or http://127.0.0.1:8000"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--origin {origin!r} is not an origin: give scheme://host[:port], {example}."
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        bare = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
        return (
            f"--origin {origin!r} has more than an origin: browsers send only "
            f"scheme://host[:port] in their Origin header. Use {bare!r}."
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return f"--origin {origin!r} has a port that is not a number: {example}."
    return None


def connection_cause(endpoint_url: str, timeout: float = 5) -> str | None:
    """Why nothing usable answers at ``endpoint_url``'s host and port, or None if a
    server there speaks the URL's scheme. Names the mismatch when the server speaks
    the other one (TLS on an http:// URL, plain http on an https:// URL)."""
    parts = urlsplit(endpoint_url)
    host = parts.hostname or ""
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    netloc = parts.netloc
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as error:
        return f"nothing answers at {host}:{port} ({error.strerror or error})"
    if tls:
        sock.close()
        failed = _tls_handshake(host, port, timeout)
        if failed is None:
            return None
        return (
            use_http(netloc) if speaks_plain_http(failed) else f"TLS failed at {netloc}: {failed}"
        )
    with sock:
        try:
            request = f"HEAD / HTTP/1.1\r\nHost: {netloc}\r\nConnection: close\r\n\r\n"
            sock.sendall(request.encode())
            answer = sock.recv(5)
        except OSError:  # a TLS server resets a plain-text request
            answer = b""
    if answer.startswith(b"HTTP/"):
        return None
    if _tls_handshake(host, port, timeout) is None:
        return use_https(netloc)
    return f"the server at {netloc} does not answer HTTP"


def _tls_handshake(host: str, port: int, timeout: float) -> Exception | None:
    """A TLS handshake that only asks "is this TLS?" (no certificate check): None
    when it succeeds, else why not."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            context.wrap_socket(sock, server_hostname=host).close()
    except (OSError, ssl.SSLError) as error:
        return error
    return None


def preflight(url: str, origin: str, method: str, timeout: float = 15) -> dict[str, str]:
    """A browser's CORS preflight (OPTIONS); the answer's headers, lower-cased
    (empty when refused)."""
    request = urllib.request.Request(
        url,
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError:
        return {}


def public_read_policy(partition: str, bucket: str, prefix: str) -> str:
    """The bucket policy that lets anyone read objects under ``prefix``."""
    statement = {
        "Sid": "PublicReadStaticFiles",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:{partition}:s3:::{bucket}/{prefix}*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


_CHECK_THEN_WRITE = (
    "; file_overwrite=False checks the name with HeadObject before writing, and "
    "simultaneous uploads of one name can replace each other"
)


def _xml_code(body: bytes) -> str:
    found = re.search(rb"<Code>([^<]+)</Code>", body or b"")
    return found.group(1).decode("ascii", "replace") if found else ""
