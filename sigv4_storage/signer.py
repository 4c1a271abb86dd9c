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


class DayKey:
    """The day's S3 signing key for one secret, date and region, ready to sign.

    HMAC-SHA256 (RFC 2104) is SHA-256 over the key XOR ``ipad`` and the message,
    then over the key XOR ``opad`` and that digest. The two keyed states are
    hashed once here and copied per signature, instead of keyed again by
    ``hmac.digest`` each time (about a quarter of its cost). ``tests/test_signer.py``
    holds every signature byte-identical to botocore's.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        block = key.ljust(64, b"\0")  # SHA-256's block; a derived key is 32 bytes
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def __repr__(self) -> str:
        return "<DayKey>"

    def sign(self, message: str) -> str:
        """The hex HMAC-SHA256 of ``message`` (UTF-8) under this key."""
        inner = self._inner.copy()
        inner.update(message.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


_day_keys: dict[tuple[str, str, str], DayKey] = {}


def clear_cache() -> None:
    """Forget every cached signing key (``sigv4_storage.testing.reset``)."""
    _day_keys.clear()


def day_key(keys: Keys, date: str, region: str) -> DayKey:
    """The day's S3 signing key, derived once per secret, date and region."""
    # No local holds the key here (error reports show locals); _derive's are hidden.
    return _day_keys.get((keys.secret_key, date, region)) or _derive(keys, date, region)


@sensitive_variables("key")
def _derive(keys: Keys, date: str, region: str) -> DayKey:
    key = hmac.digest(f"AWS4{keys.secret_key}".encode(), date.encode(), "sha256")
    for part in (region, "s3", "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    if len(_day_keys) >= 256:  # yesterday's keys and rotated secrets
        _day_keys.clear()
    found = _day_keys[(keys.secret_key, date, region)] = DayKey(key)
    return found


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


class Signing:
    """What every URL signed with one set of credentials in one second shares:
    the scope and the ``X-Amz-*`` query, in canonical (sorted) and URL order.
    Its ``repr`` shows none of it (the query holds the session token)."""

    __slots__ = ("canonical", "pairs", "query", "scope")

    def __init__(self, pairs: list[tuple[str, str]], scope: str) -> None:
        self.pairs = pairs
        self.scope = scope
        self.canonical = "&".join(f"{k}={v}" for k, v in sorted(pairs))
        self.query = "&".join(f"{k}={v}" for k, v in pairs)

    def __repr__(self) -> str:
        return "<Signing>"


class BucketURL:
    """A bucket's root URL, split once: origin, path, and the host SigV4 signs."""

    def __init__(self, bucket_url: str) -> None:
        parts = urlsplit(bucket_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.path = parts.path.rstrip("/")
        self.host = canonical_host((parts.scheme, parts.netloc))
        self._host_line = f"host:{self.host}\n"
        #: The last ``Signing`` built, and what it was built for (one per second).
        self._last: tuple[tuple[Any, ...], Signing] | None = None

    def object_path(self, key: str) -> str:
        return f"{self.path}/{key_path(key)}"

    def public(self, key: str) -> str:
        return f"{self.origin}{self.object_path(key)}"

    def _signing(
        self, keys: Keys, region: str, signed_at: str, expires: int, signed: str
    ) -> Signing:
        """The ``X-Amz-*`` query of these credentials in this second, built once."""
        wanted = (keys.access_key, keys.token, region, signed_at, expires, signed)
        last = self._last
        if last is not None and last[0] == wanted:
            return last[1]
        scope = f"{signed_at[:8]}/{region}/s3/aws4_request"
        pairs = [
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", _encode(f"{keys.access_key}/{scope}")),
            ("X-Amz-Date", signed_at),
            ("X-Amz-Expires", str(expires)),
            ("X-Amz-SignedHeaders", _encode(signed)),
        ]
        if keys.token is not None:
            pairs.append(("X-Amz-Security-Token", _encode(keys.token)))
        found = Signing(pairs, scope)
        self._last = (wanted, found)
        return found

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
        _hiding: bool = False,
    ) -> str:
        """The presigned URL of ``key``: query in botocore's order and encoding.

        ``query`` holds the operation's parameters (S3's names), in the order
        botocore serialises them; ``headers`` (lower-case names) are signed
        beside ``host``, so the request must carry them with these values
        (``content-length`` for a part: no other size is accepted).
        """
        if keys.token is not None and not _hiding:
            # The query and canonical request will hold the session token: sign in a
            # frame whose locals error reports hide. Without one they hold nothing secret.
            return self._presign_hiding_the_token(
                key,
                keys=keys,
                region=region,
                expires=expires,
                method=method,
                query=query,
                headers=headers,
                now=now,
                _hiding=True,
            )
        signed_at = amz_date(now)
        if headers:
            canonical_headers = {**headers, "host": self.host}
            names = sorted(canonical_headers)
            signed = ";".join(names)
            header_lines = "".join(f"{n}:{canonical_headers[n]}\n" for n in names)
        else:  # a GET: only the host is signed
            signed, header_lines = "host", self._host_line
        signing = self._signing(keys, region, signed_at, expires, signed)
        pairs = [(_encode(k), _encode(v)) for k, v in query] if query else []
        if not pairs:
            canonical_query, query_string = signing.canonical, signing.query
        else:
            query_string = "".join(f"{k}={v}&" for k, v in pairs) + signing.query
            if all(k[:1] > "X" for k, _ in pairs):  # S3's names sort after every X-Amz-*
                canonical_query = signing.canonical + "".join(f"&{k}={v}" for k, v in sorted(pairs))
            else:
                canonical_query = "&".join(f"{k}={v}" for k, v in sorted(pairs + signing.pairs))
        path = self.object_path(key)
        canonical_request = (
            f"{method}\n{path}\n{canonical_query}\n{header_lines}\n{signed}\nUNSIGNED-PAYLOAD"
        )
        string_to_sign = (
            f"{ALGORITHM}\n{signed_at}\n{signing.scope}\n"
            + hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
        )
        signature = day_key(keys, signed_at[:8], region).sign(string_to_sign)
        return f"{self.origin}{path}?{query_string}&X-Amz-Signature={signature}"

    _presign_hiding_the_token = sensitive_variables(
        "pairs", "canonical_query", "canonical_request", "query_string"
    )(presign)


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
    fields["x-amz-signature"] = day_key(keys, date, region).sign(fields["policy"])
    return fields
