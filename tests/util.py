"""Test helpers, including an independent SigV4 verifier.

The verifier is written from AWS's published Signature Version 4 algorithm
with hashlib and hmac only; it shares no code with botocore or the package.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import io
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from sigv4_storage.conf import Layers
from sigv4_storage.resolve import resolve

ACCESS_KEY = "AKIATESTACCESSKEY01"
SECRET_KEY = "tEsT/sEcReT+kEy/thAt-mUsT-nEvEr-lEaK"


def layers(
    options: dict[str, Any] | None = None,
    *,
    class_attrs: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    **settings: Any,
) -> Layers:
    """Layers over plain dicts: no Django settings involved."""
    settings.setdefault("AWS_STORAGE_BUCKET_NAME", "my-bucket")
    return Layers(
        options=options or {},
        class_attrs=class_attrs or {},
        settings=SimpleNamespace(**settings),
        environ=environ or {},
        owner="TestStorage",
    )


def resolved(options: dict[str, Any] | None = None, **kwargs: Any):
    return resolve(layers(options, **kwargs))


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _uri_encode(value: str) -> str:
    return quote(value, safe="-_.~")


@dataclass
class Verified:
    region: str
    access_key: str
    expires: int
    signed_at: dt.datetime
    host: str
    path: str


class SignatureMismatch(AssertionError):
    pass


def verify_presigned_url(
    url: str,
    *,
    secret_key: str,
    method: str = "GET",
    now: dt.datetime | None = None,
    headers: dict[str, str] | None = None,
) -> Verified:
    """Recompute a SigV4 query-string signature; raise unless it matches.

    Also checks the URL is still valid at ``now`` and uses AWS4-HMAC-SHA256.
    ``headers``: the signed headers besides ``host`` (a part URL's
    ``content-length``), lower-case, as the request will send them.
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    params = dict(query)
    if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        raise SignatureMismatch(f"not a SigV4 URL: {url}")
    signature = params.pop("X-Amz-Signature")
    access_key, date, region, service, terminator = params["X-Amz-Credential"].split("/")
    assert (service, terminator) == ("s3", "aws4_request"), params["X-Amz-Credential"]
    amz_date = params["X-Amz-Date"]
    signed_headers = params["X-Amz-SignedHeaders"].split(";")
    values = {"host": parts.netloc, **(headers or {})}  # a non-default port, as Host has
    assert signed_headers == sorted(values), signed_headers

    canonical_query = "&".join(
        f"{_uri_encode(k)}={_uri_encode(v)}"
        for k, v in sorted((k, v) for k, v in query if k != "X-Amz-Signature")
    )
    canonical_request = "\n".join(
        [
            method,
            parts.path or "/",
            canonical_query,
            "".join(f"{name}:{values[name]}\n" for name in signed_headers),
            ";".join(signed_headers),
            "UNSIGNED-PAYLOAD",
        ]
    )
    scope = f"{date}/{region}/s3/aws4_request"
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            scope,
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    if not hmac.compare_digest(_signature(secret_key, date, region, string_to_sign), signature):
        raise SignatureMismatch(f"signature does not match for {url}")

    signed_at = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    expires = int(params["X-Amz-Expires"])
    now = now or dt.datetime.now(dt.timezone.utc)
    if not signed_at - dt.timedelta(minutes=5) <= now <= signed_at + dt.timedelta(seconds=expires):
        raise SignatureMismatch(f"URL not valid now ({amz_date}, {expires}s)")
    return Verified(region, access_key, expires, signed_at, parts.hostname or "", parts.path)


def key_path(key: str) -> str:
    """The URL path S3 expects for a key: each byte percent-encoded but ``/``."""
    return "/" + quote(key, safe="/~")


def unquote_path(path: str) -> str:
    return unquote(path)


def _signature(secret_key: str, date: str, region: str, string_to_sign: str) -> str:
    key = _hmac(("AWS4" + secret_key).encode("utf-8"), date)
    for part in (region, "s3", "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_signed_request(request: Any, *, secret_key: str) -> str:
    """Recompute the SigV4 ``Authorization`` header of a botocore request.

    ``request`` is what botocore's ``before-send`` event carries. Returns the
    region of the credential scope.
    """
    auth = request.headers["Authorization"]
    if isinstance(auth, bytes):
        auth = auth.decode()
    algorithm, _, fields = auth.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        raise SignatureMismatch(f"not SigV4: {algorithm}")
    values = dict(item.strip().split("=", 1) for item in fields.split(","))
    _, date, region, service, _ = values["Credential"].split("/")
    signed = values["SignedHeaders"].split(";")
    headers = {
        k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
    }
    parts = urlsplit(request.url)
    headers.setdefault("host", parts.netloc)
    query = parse_qsl(parts.query, keep_blank_values=True)
    canonical_query = "&".join(f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in sorted(query))
    canonical_headers = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed)
    canonical_request = "\n".join(
        [
            request.method,
            parts.path or "/",
            canonical_query,
            canonical_headers,
            ";".join(signed),
            headers["x-amz-content-sha256"],
        ]
    )
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            headers["x-amz-date"],
            f"{date}/{region}/{service}/aws4_request",
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    if not hmac.compare_digest(
        _signature(secret_key, date, region, string_to_sign), values["Signature"]
    ):
        raise SignatureMismatch(f"Authorization does not match for {request.method} {request.url}")
    return region


class RequestLog(list):
    """Every request a botocore client sends: (method, url, scope region)."""

    def __init__(self, client: Any, secret_key: str) -> None:
        super().__init__()
        self.secret_key = secret_key
        # First, so moto's in-process stub (also on before-send) cannot hide it.
        client.meta.events.register_first("before-send.s3", self._record)

    def _record(self, request: Any, **kwargs: Any) -> None:
        region = verify_signed_request(request, secret_key=self.secret_key)
        self.append((request.method, request.url, region))

    @property
    def hosts(self) -> set[str]:
        return {urlsplit(url).netloc for _, url, _ in self}


class _Body:
    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        yield self.payload


def aws_response(url: str, status: int, payload: bytes = b"", headers: Any = None) -> Any:
    """A botocore response to return from a ``before-send`` handler: nothing is sent."""
    from botocore.awsrequest import AWSResponse

    return AWSResponse(url, status, headers or {}, _Body(payload))


def create_bucket(name: str, region: str) -> Any:
    """A bucket in ``region`` (moto in-process or AWS semantics); the client."""
    import boto3

    client = boto3.client(
        "s3", region_name=region, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY
    )
    if region == "us-east-1":
        client.create_bucket(Bucket=name)
    else:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    return client


def static_sources(root: Any, logo: str = "logo.png") -> Any:
    """A STATICFILES_DIRS folder: css/site.css referring to img/<logo>."""
    (root / "css").mkdir(parents=True)
    (root / "img").mkdir()
    (root / "img" / logo).write_bytes(b"\x89PNG fake")
    (root / "css" / "site.css").write_text(f"body {{ background: url('../img/{logo}'); }}")
    return root


#: Names that break naive quoting: Korean, spaces, +, ~, %, emoji, #, ?, &.
AWKWARD_NAMES = [
    "한글/보고서 최종.txt",
    "space name.txt",
    "plus+sign.txt",
    "tilde~file.txt",
    "percent%20literal.txt",
    "mix 한 +~%.bin",
    "emoji 😀 #1?.txt",
    "50% off + tax #2 ?q=1&x.txt",
]

#: Object names for the signer comparisons (a trailing slash included).
SIGNER_NAMES = [
    "a.txt",
    "한글/보고서 최종.pdf",
    "plus+sign & eq=.txt",
    "sp ace/#hash?q.txt",
    "~t%20x.bin",
    "dir/",
]

#: The instant the differential signer tests sign at (fixture ``frozen_clock``).
FROZEN = dt.datetime(2026, 11, 28, 9, 30, 15, tzinfo=dt.timezone.utc)


def fetch(url: str) -> tuple[int, Message, bytes]:
    """GET with a plain HTTP client: status, headers (any case), body."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers, refused.read()


def allow_public_reads(server: Any, bucket: str) -> None:
    """SeaweedFS ignores object ACLs: a bucket policy grants anonymous reads."""
    if server.kind == "seaweedfs":
        server.client().put_bucket_policy(
            Bucket=bucket,
            Policy=(
                '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
                f'"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}'
            ),
        )


def static_tree(root: Any, files: int = 40, big_mb: int = 0, seed: int = 7) -> Any:
    """A STATICFILES_DIRS folder like a real project's: CSS with ``url()`` and
    ``@import`` (nested, so the manifest storage needs more than one pass), JS,
    images, Korean and spaced names, and optionally one file of ``big_mb`` MB
    (multipart). ``files`` is the total, about."""
    import random

    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    written = 0

    def put(relative: str, data: bytes) -> None:
        nonlocal written
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written += 1

    images = []
    for n in range(max(4, files // 3)):
        name = f"img/{'사진 ' if n % 5 == 0 else ''}{n:04d}.png"
        put(name, b"\x89PNG" + rng.randbytes(200 + n))
        images.append(name)
    put("fonts/icons.woff2", rng.randbytes(3000))
    put("css/base.css", b"body { background: url('../img/0001.png'); }\n")
    # theme.css imports base.css, app.css imports theme.css: hashed names ripple.
    put(
        "css/theme.css", b"@import url('base.css');\n.t { background: url(\"../img/0002.png\"); }\n"
    )
    put(
        "css/app.css",
        b"@import 'theme.css';\n@font-face { src: url('../fonts/icons.woff2'); }\n"
        b".a { background: url('../img/%EC%82%AC%EC%A7%84%200000.png'); }\n",
    )
    n = 0
    while written < files:
        if n % 2:
            image = images[rng.randrange(len(images))].removeprefix("img/")
            put(
                f"css/pages/page {n}.css",
                f".p{n} {{ background: url('../../img/{image}'); }}\n".encode(),
            )
        else:
            put(f"js/module-{n}.js", f"export const n{n} = {rng.random()!r};\n".encode())
        n += 1
    if big_mb:
        put("video/intro.bin", rng.randbytes(big_mb * 1024 * 1024))
    return root


def local_manifest_collect(source: Any, target: Any, settings: Any) -> dict[str, bytes]:
    """What Django's own ManifestStaticFilesStorage writes to local disk for ``source``:
    every file under ``target`` (relative name -> bytes)."""
    from pathlib import Path

    from django.core.management import call_command

    saved = settings.STORAGES, getattr(settings, "STATIC_ROOT", None), settings.STATICFILES_DIRS
    settings.STATICFILES_DIRS = [str(source)]
    settings.STATIC_ROOT = str(target)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    try:
        call_command("collectstatic", interactive=False, verbosity=0)
    finally:
        settings.STORAGES, settings.STATIC_ROOT, settings.STATICFILES_DIRS = saved
    root = Path(target)
    return {
        str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def bucket_contents(client: Any, bucket: str, prefix: str = "") -> dict[str, bytes]:
    """Every object under ``prefix`` (name relative to it -> bytes)."""
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents") or ():
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            found[item["Key"][len(prefix) :]] = body
    return found


#: Configurations the differential signer tests cover (fixture ``configured``).
CONFIGS = {
    "seoul-virtual": {"AWS_S3_REGION_NAME": "ap-northeast-2"},
    "virginia-global": {"AWS_S3_REGION_NAME": "us-east-1"},
    "frankfurt-path": {"AWS_S3_REGION_NAME": "eu-central-1", "AWS_S3_ADDRESSING_STYLE": "path"},
    "china": {"AWS_S3_REGION_NAME": "cn-northwest-1"},
    "govcloud-fips": {"AWS_S3_REGION_NAME": "us-gov-west-1", "AWS_S3_USE_FIPS": True},
    "dualstack": {"AWS_S3_REGION_NAME": "sa-east-1", "AWS_S3_USE_DUALSTACK": True},
    "accelerate": {"AWS_S3_REGION_NAME": "eu-west-1", "AWS_S3_USE_ACCELERATE_ENDPOINT": True},
    "opt-in": {"AWS_S3_REGION_NAME": "ap-southeast-7"},
    "minio-port": {"AWS_S3_ENDPOINT_URL": "http://minio.internal:9000"},
    "r2-path-prefix": {
        "AWS_S3_ENDPOINT_URL": "https://acct.r2.cloudflarestorage.com/prefix",
        "AWS_S3_REGION_NAME": "auto",
    },
    "default-port": {"AWS_S3_ENDPOINT_URL": "https://objects.example.com:443"},
    "session-token": {"AWS_S3_REGION_NAME": "eu-north-1", "AWS_SESSION_TOKEN": "IQo/token+=="},
    "dotted-bucket": {
        "AWS_S3_REGION_NAME": "ca-central-1",
        "AWS_STORAGE_BUCKET_NAME": "my.dotted.bucket",
    },
}


def post(form: dict, filename: str, body: bytes, **extra: str) -> tuple[int, bytes]:
    """multipart/form-data POST as a browser sends it: fields, then the file."""
    import urllib.error
    import urllib.request
    import uuid

    boundary = uuid.uuid4().hex
    parts = []
    for name, value in {**form["fields"], **extra}.items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + body
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    request = urllib.request.Request(
        form["url"],
        data=b"".join(parts),
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def put(url: str, body: bytes) -> tuple[int, str]:
    import urllib.request

    # (urllib would say application/x-www-form-urlencoded, which moto server waits on)
    headers = {"Content-Type": "application/octet-stream"}
    request = urllib.request.Request(url, data=body, method="PUT", headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.headers["ETag"]


def send_parts(started: dict[str, Any], body: bytes) -> list[list[Any]]:
    """PUT each part of ``body`` to its URL in ``started`` (the answer of
    ``start_multipart_upload`` or of the sign view), as the widget does:
    ``[[number, ETag]...]``, for ``complete_multipart_upload`` or the complete view."""
    size = started["part_size"]
    return [
        [n, put(url, body[(n - 1) * size : n * size])[1]]
        for n, url in enumerate(started["urls"], 1)
    ]


def self_signed_certificate(folder: Any) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files in ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def downloads(name: str, method: str | None = None) -> bool:
    """Whether a media storage's presigned GET URL of ``name`` asks S3 for
    ``response-content-disposition=attachment``: the name may be active (an
    extension a browser runs, or none a browser would trust)."""
    from sigv4_storage.content import named_active

    return (method or "GET").upper() == "GET" and named_active(name)


def asked(name: str, parameters: dict | None, method: str | None = None) -> dict:
    """The ``response-*`` parameters a media storage's presigned URL of ``name``
    signs for a caller's ``parameters`` (``content.signed_get``, GET only)."""
    from sigv4_storage.content import signed_get

    if (method or "GET").upper() != "GET":
        return dict(parameters or {})
    return signed_get(name, parameters) or {}


# -- in Chromium: whether a page's script ran (the conftest's ``beacon``) -------------
def scripted(beacon_url, kind, tag):
    """An SVG or HTML document whose script calls the beacon at ``/tag``."""
    call = f"fetch('{beacon_url}/{tag}', {{mode: 'no-cors'}})"
    if kind == "svg":
        return f'<svg xmlns="http://www.w3.org/2000/svg"><script>{call}</script></svg>'.encode()
    return f"<!doctype html><title>x</title><script>{call}</script>".encode()


def opened(browser, url, hits, kind, wait):
    """Open ``url`` in the browser; whether its script called the beacon."""
    browser.get("about:blank")
    with contextlib.suppress(Exception):  # a download can end the navigation early
        browser.get(url)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if any(hit.endswith(kind) for hit in hits):
            return True
        time.sleep(0.1)
    return False


class OneShot(io.RawIOBase):
    """Bytes that can be read once, from the start: a stream that cannot seek."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        return self.data.readinto(b) or 0

    def seekable(self) -> bool:
        return False


def keys(server, bucket):
    """The objects stored in ``bucket``, sorted, without the claims on upload slots
    (``sigv4_storage.pending``: ``slot_claims``)."""
    return [key for key in all_keys(server, bucket) if "/.slots/" not in key]


def slot_claims(server, bucket):
    """The claims on upload slots in ``bucket``."""
    return [key for key in all_keys(server, bucket) if "/.slots/" in key]


def all_keys(server, bucket):
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents") or ())


def on_role(credentials):
    """A storage whose session finds ``credentials`` first, as botocore's
    AssumeRoleProvider hands them out (through django-storages' session hook)."""
    import boto3
    import botocore.session
    from botocore.credentials import CredentialProvider

    from sigv4_storage import SigV4S3Storage

    class Role(CredentialProvider):
        METHOD = "sts-assume-role"

        def load(self):
            return credentials

    class OnARole(SigV4S3Storage):
        def _create_session(self):  # django-storages' hook for the boto3 session
            session = botocore.session.Session()
            session.get_component("credential_provider").insert_before("env", Role())
            return boto3.Session(botocore_session=session)

    return OnARole()
