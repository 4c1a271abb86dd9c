"""Presigned URLs and POST forms: the one place that chooses who signs.

This package's signer (``signer``: string building and one HMAC chain, about
50 times faster than botocore's) signs what it signs exactly as botocore
would: SigV4 for the ``s3`` service, with string credentials. Everything
else goes to botocore: SigV4A and the other signing names, parameters the
fast signer does not cover, no credentials (botocore raises its own
``NoCredentialsError``), and credentials that are not strings (a test's
``mock.patch("boto3.Session")``, answered as django-storages would).

A ``Presigner`` is built for one settled configuration
(``SigV4S3Storage.presigner()``), so it can only sign for the bucket's region.

Every URL and form it signs lives no longer than the credentials that sign
it: temporary credentials (an assumed role, SSO, a container or instance
role) expire, and a URL signed by them is refused from then on, whatever its
``X-Amz-Expires`` says (a part URL of an hour on a key with 15 minutes left
fails mid-upload). So the lifetime asked for is clamped to the seconds the
credentials have left (``lifetime``). Credentials are read frozen, once per
URL or form: one consistent key, secret and token, never a mix of two
rotations.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import NoCredentialsError
from django.views.decorators.debug import sensitive_variables

from . import clients
from .clients import Shared
from .config import S3Config
from .signer import QUERY_PARAMETERS, BucketURL, Keys, presign_post

__all__ = ["Presigner"]

#: ``shared(signed, public)``: the storage's shared client for that use.
SharedClients = Callable[..., Shared]


class Presigner:
    """URLs and forms for the objects of one bucket, as one configuration signs them."""

    def __init__(self, s3: S3Config, shared: SharedClients) -> None:
        self.s3 = s3
        self.root = BucketURL(s3.public_bucket_url)
        self._shared = shared
        #: The signing client's credentials, for the clients' cache generation.
        self._credentials_of: tuple[int, Any] | None = None
        #: The last frozen credentials seen, and what signs with them (Keys, or None).
        self._last: tuple[Any, Keys | None] = (None, None)

    def credentials(self) -> Any:
        """botocore's credentials object of the signing client (refreshable ones
        refresh themselves), or None; looked up again after ``clients.clear_cache()``."""
        generation = clients.generation()
        found = self._credentials_of
        if found is None or found[0] != generation:
            found = self._credentials_of = (generation, self._shared(signed=True).credentials)
        return found[1]

    def signing(self, expire: int) -> tuple[Keys | None, int]:
        """The credentials the fast signer signs with, frozen (refreshed when due),
        or None when botocore must sign (see the module docstring); and
        ``expire`` clamped to the seconds those credentials have left."""
        credentials = self.credentials()
        if credentials is None:
            return None, expire
        ends = expiry(credentials)
        frozen = credentials.get_frozen_credentials()
        if ends is not None:
            # Read again: a refresh between the two reads gives a later expiry than the
            # frozen keys have; the earlier one is theirs, or sooner (safe).
            expire = lifetime(expire, ends, expiry(credentials))
        seen, keys = self._last
        if frozen != seen:  # new credentials (a rotation): checked once
            keys = Keys.of(frozen) if self._fast(frozen) else None
            self._last = (frozen, keys)
        return keys, expire

    def _fast(self, frozen: Any) -> bool:
        """Whether the fast signer signs with these: string credentials (not a
        test's mocks), and ``fast_signing`` on."""
        return bool(
            self.s3.fast_signing
            and isinstance(frozen.access_key, str)
            and isinstance(frozen.secret_key, str)
            and isinstance(frozen.token, str | None)
        )

    def lifetime(self, expire: int) -> int:
        """``expire`` clamped to the seconds the storage's credentials have left
        (for a URL that django-storages signs)."""
        credentials = self.credentials()
        return lifetime(expire, expiry(credentials)) if credentials is not None else expire

    def _botocore(self, signed: bool = True) -> Any:
        """botocore's client signing for the host browsers use."""
        return self._shared(signed=signed, public=bool(self.s3.public_endpoint_url)).client

    def get_url(
        self,
        key: str,
        *,
        parameters: dict[str, Any],
        expire: int,
        method: str | None,
        signed: bool,
    ) -> str | None:
        """The URL of the object ``key`` (presigned when ``signed``), or None when
        django-storages' own ``url()`` builds it (botocore, on the endpoint)."""
        if not signed and not parameters:
            return self.root.public(key)
        query = _fast_query(parameters) if signed else None
        keys = None
        if signed:
            keys, expire = self.signing(expire)
            keys = keys if query is not None else None
        if keys is not None:
            return self.root.presign(
                key,
                keys=keys,
                region=self.s3.signing_region,
                expires=expire,
                method=(method or "GET").upper(),
                query=query or [],
            )
        if not self.s3.public_endpoint_url:
            return None
        presigned: str = self._botocore(signed).generate_presigned_url(
            "get_object",
            Params={**parameters, "Bucket": self.s3.bucket_name, "Key": key},
            ExpiresIn=expire,
            HttpMethod=method,
        )
        return presigned

    @sensitive_variables("signed", "post")  # the session token, when there is one
    def post(
        self, key: str, fields: dict[str, Any], conditions: list[Any], expire: int
    ) -> dict[str, Any]:
        """boto3's ``generate_presigned_post(Bucket, key, fields, conditions, expire)``."""
        bucket = self.s3.bucket_name
        keys, expire = self.signing(expire)
        if keys is None:
            if self.credentials() is None:
                raise NoCredentialsError()  # botocore's presigner fails on None.access_key
            post: dict[str, Any] = self._botocore().generate_presigned_post(
                bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expire
            )
            return post
        conditions = [*conditions, {"bucket": bucket}]
        if key.endswith("${filename}"):
            conditions.append(["starts-with", "$key", key[: -len("${filename}")]])
        else:
            conditions.append({"key": key})
        signed = presign_post(
            {**fields, "key": key},
            conditions,
            keys=keys,
            region=self.s3.signing_region,
            expires=expire,
        )
        return {"url": self.s3.post_url, "fields": signed}

    def part_urls(self, key: str, upload_id: str, sizes: list[int], expire: int) -> list[str]:
        """One presigned ``UploadPart`` URL per part, each signing its part's
        ``Content-Length``: S3 refuses a body of any other size, so the parts add
        up to the declared size."""
        keys, expire = self.signing(expire)  # once for every part
        return [
            self._part_url(key, upload_id, number, length, expire, keys)
            for number, length in enumerate(sizes, 1)
        ]

    def _part_url(
        self, key: str, upload_id: str, number: int, length: int, expire: int, keys: Keys | None
    ) -> str:
        if keys is None:
            url: str = self._botocore().generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": self.s3.bucket_name,
                    "Key": key,
                    "PartNumber": number,
                    "UploadId": upload_id,
                    "ContentLength": length,
                },
                ExpiresIn=expire,
            )
            return url
        return self.root.presign(
            key,
            keys=keys,
            region=self.s3.signing_region,
            expires=expire,
            method="PUT",
            query=[("partNumber", str(number)), ("uploadId", upload_id)],
            headers={"content-length": str(length)},
        )


def _fast_query(parameters: dict[str, Any]) -> list[tuple[str, str]] | None:
    """The query of a GET URL the fast signer covers (``Response*``, ``VersionId``,
    ``PartNumber``), or None: botocore."""
    query = []
    for param, value in parameters.items():
        if param not in QUERY_PARAMETERS or not isinstance(value, (str, int)):
            return None
        query.append((QUERY_PARAMETERS[param], str(value)))
    return query


def expiry(credentials: Any) -> float | None:
    """When temporary credentials expire (a POSIX time), or None: they do not.

    botocore's ``RefreshableCredentials`` (roles, SSO, container and instance
    credentials) keep it in ``_expiry_time``, with no public accessor; it is
    read, never changed. ``tests/test_presign_lifetime.py`` holds this to
    botocore's behaviour, so a botocore that stores it elsewhere fails there.
    """
    moment = getattr(credentials, "_expiry_time", None)
    return moment.timestamp() if isinstance(moment, dt.datetime) else None


def lifetime(expire: int, *ends: float | None) -> int:
    """``expire`` seconds, or fewer: until the earliest of ``ends`` (at least 1)."""
    known = [end for end in ends if end is not None]
    if not known:
        return expire
    return max(1, min(expire, int(min(known) - time.time())))
