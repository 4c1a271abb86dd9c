"""SigV4 query-string signing of S3 URLs, byte-identical to botocore's.

botocore's ``generate_presigned_url`` serialises the operation, builds a
request, runs its handlers and signs, for every URL (``benchmarks/run.py``
measures it against this module). The URL of a GET is fully known from the
resolved configuration, so this module signs it directly, in the same order
and encoding as ``botocore.auth.S3SigV4QueryAuth`` (``tests/test_signer.py``
compares the two byte for byte). The day's signing key is cached per secret,
date, region and service.

Secrets travel in a ``Keys`` object whose ``repr`` shows only the masked
access key id, so no frame of this module or the storage holds the secret
key as a plain value; the functions whose locals hold the session token or a
derived signing key are marked with Django's ``sensitive_variables``, which
hides them from error reports when ``DEBUG`` is off (emails, logs).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.views.decorators.debug import sensitive_variables

__all__ = ["Keys"]

ALGORITHM = "AWS4-HMAC-SHA256"
SAFE = "-_.~"  # botocore.utils.SAFE_CHARS

#: url() parameters the fast signer maps to the query (botocore's names).
QUERY_PARAMETERS = {
    "ResponseCacheControl": "response-cache-control",
    "ResponseContentDisposition": "response-content-disposition",
    "ResponseContentEncoding": "response-content-encoding",
    "ResponseContentLanguage": "response-content-language",
    "ResponseContentType": "response-content-type",
    "VersionId": "versionId",
    "PartNumber": "partNumber",
}


class Keys:
    """Credentials to sign with: the access key id, the secret key, the session token.

    Its ``repr`` (what error pages and debuggers show) masks the id and leaves
    the secret and token out.
    """

    __slots__ = ("access_key", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: str | None = None) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token

    @classmethod
    def of(cls, frozen: Any) -> Keys:
        """From botocore's ``ReadOnlyCredentials`` (``get_frozen_credentials()``)."""
        return cls(frozen.access_key, frozen.secret_key, frozen.token)

    def __repr__(self) -> str:
        shown = self.access_key[:4] + "…" if self.access_key else "(none)"
        token = ", with a session token" if self.token else ""
        return f"<Keys {shown}{token}>"


def _quoter(safe: str) -> Callable[[str], str]:
    """``urllib.parse.quote(value.encode(), safe)``, about twice as fast.

    Values made only of unreserved and ``safe`` characters come back as they
    are; others are encoded byte by byte from a table.
    """
    unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
    allowed = frozenset((unreserved + safe).encode())
    table = [chr(b) if b in allowed else f"%{b:02X}" for b in range(256)]
    plain = re.compile(f"[{re.escape(unreserved + safe)}]*").fullmatch

    def quote_value(value: str) -> str:
        if plain(value):
            return value
        return "".join([table[b] for b in value.encode("utf-8")])

    return quote_value


#: An object key in a URL path, as botocore writes it (``/`` and ``~`` kept).
key_path = _quoter("/~")
#: A query-string key or value, as botocore's ``percent_encode`` writes it.
_encode = _quoter(SAFE)


_signing_keys: dict[tuple[str, str, str], bytes] = {}


def clear_cache() -> None:
    """Forget every cached signing key (``sigv4_storage.testing.reset``)."""
    _signing_keys.clear()


def signing_key(keys: Keys, date: str, region: str) -> bytes:
    """The day's S3 signing key, derived once per secret, date and region."""
    # No local holds the key here (error reports show locals); _derive's are hidden.
    return _signing_keys.get((keys.secret_key, date, region)) or _derive(keys, date, region)


@sensitive_variables("key")
def _derive(keys: Keys, date: str, region: str) -> bytes:
    key = hmac.digest(f"AWS4{keys.secret_key}".encode(), date.encode(), "sha256")
    for part in (region, "s3", "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    if len(_signing_keys) >= 256:  # yesterday's keys and rotated secrets
        _signing_keys.clear()
    _signing_keys[(keys.secret_key, date, region)] = key
    return key


def canonical_host(url_parts: tuple[str, str]) -> str:
    """botocore's rule: no port when it is the scheme's default."""
    scheme, netloc = url_parts
    host, _, port = netloc.rpartition("@")[2].partition(":")
    if port and (scheme, port) not in {("http", "80"), ("https", "443")}:
        return f"{host.lower()}:{port}"
    return host.lower()


#: Seconds since the epoch; tests freeze it.
clock = time.time
_last_date: tuple[int, str] = (0, "")


def amz_date(now: dt.datetime | None = None) -> str:
    """``X-Amz-Date`` for ``now`` or the clock, formatted once per second."""
    global _last_date
    if now is not None:
        return now.strftime("%Y%m%dT%H%M%SZ")
    second = int(clock())
    if _last_date[0] != second:
        _last_date = (second, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second)))
    return _last_date[1]


def _credential(access_key: str, scope: str) -> str:
    return _encode(f"{access_key}/{scope}")


class BucketURL:
    """A bucket's root URL, split once: origin, path, and the host SigV4 signs."""

    def __init__(self, bucket_url: str) -> None:
        parts = urlsplit(bucket_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.path = parts.path.rstrip("/")
        self.host = canonical_host((parts.scheme, parts.netloc))

    def object_path(self, key: str) -> str:
        return f"{self.path}/{key_path(key)}"

    def public(self, key: str) -> str:
        return f"{self.origin}{self.object_path(key)}"

    @sensitive_variables("pairs", "canonical_query", "canonical_request", "query_string")
    def presign(
        self,
        key: str,
        *,
        keys: Keys,
        region: str,
        expires: int,
        method: str = "GET",
        query: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        now: dt.datetime | None = None,
    ) -> str:
        """The presigned URL of ``key``: query in botocore's order and encoding.

        ``query`` holds the operation's parameters (S3's names), in the order
        botocore serialises them; ``headers`` (lower-case names) are signed
        beside ``host``, so the request must carry them with these values
        (``content-length`` for a part: no other size is accepted).
        """
        signed_at = amz_date(now)
        date = signed_at[:8]
        scope = f"{date}/{region}/s3/aws4_request"
        if headers:
            canonical_headers = {**headers, "host": self.host}
            names = sorted(canonical_headers)
            signed = ";".join(names)
            header_lines = "".join(f"{n}:{canonical_headers[n]}\n" for n in names)
        else:  # a GET: only the host is signed
            signed, header_lines = "host", f"host:{self.host}\n"
        pairs = [(_encode(k), _encode(v)) for k, v in query] if query else []
        pairs += [
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", _credential(keys.access_key, scope)),
            ("X-Amz-Date", signed_at),
            ("X-Amz-Expires", str(expires)),
            ("X-Amz-SignedHeaders", _encode(signed) if headers else "host"),
        ]
        if keys.token is not None:
            pairs.append(("X-Amz-Security-Token", _encode(keys.token)))
        path = self.object_path(key)
        canonical_query = "&".join(f"{k}={v}" for k, v in sorted(pairs))
        canonical_request = (
            f"{method}\n{path}\n{canonical_query}\n{header_lines}\n{signed}\nUNSIGNED-PAYLOAD"
        )
        string_to_sign = (
            f"{ALGORITHM}\n{signed_at}\n{scope}\n"
            + hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
        )
        signature = hmac.digest(
            signing_key(keys, date, region), string_to_sign.encode("utf-8"), "sha256"
        ).hex()
        query_string = "&".join(f"{k}={v}" for k, v in pairs)
        return f"{self.origin}{path}?{query_string}&X-Amz-Signature={signature}"


@sensitive_variables("fields", "conditions", "policy")
def presign_post(
    fields: dict[str, Any],
    conditions: list[Any],
    *,
    keys: Keys,
    region: str,
    expires: int,
) -> dict[str, Any]:
    """A browser form's fields for a SigV4-signed POST, as botocore's
    ``S3SigV4PostAuth`` writes them: the policy (``conditions`` then the
    signature's own) in base64 JSON, and its signature."""
    now = int(clock())
    signed_at = amz_date()
    date = signed_at[:8]
    credential = f"{keys.access_key}/{date}/{region}/s3/aws4_request"
    expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + expires))
    fields = {
        **fields,
        "x-amz-algorithm": ALGORITHM,
        "x-amz-credential": credential,
        "x-amz-date": signed_at,
    }
    conditions = [
        *conditions,
        {"x-amz-algorithm": ALGORITHM},
        {"x-amz-credential": credential},
        {"x-amz-date": signed_at},
    ]
    if keys.token is not None:
        fields["x-amz-security-token"] = keys.token
        conditions.append({"x-amz-security-token": keys.token})
    policy = {"expiration": expiration, "conditions": conditions}
    fields["policy"] = base64.b64encode(json.dumps(policy).encode("utf-8")).decode("utf-8")
    fields["x-amz-signature"] = hmac.digest(
        signing_key(keys, date, region), fields["policy"].encode("utf-8"), "sha256"
    ).hex()
    return fields
