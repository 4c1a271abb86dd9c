"""Where direct uploads wait to be submitted, how many one user may have open,
and their removal when they never are.

Every upload key lies in the *pending folder* of the field's storage:
``PENDING`` + the field's ``upload_to`` + 8 characters of the uploader + a
folder of its own + the file name. Nothing else is ever stored there: an
accepted upload is copied out to its final name and its key deleted, so what
stays is an upload never submitted. The lifecycle rule ``rule()`` (which
``s3doctor`` prints and checks) expires it once its token can no longer be
submitted; each sign also sweeps the uploader's own leftovers
(``sweep``), so a server without lifecycle rules is cleaned too, at the
uploader's next upload.

Open uploads are counted with *slots*. The sign step claims
``<uploader's folder>.slots/<window>-<k>`` for a ``k`` below the cap, with an
empty conditional ``PutObject`` (``creates.claim``: ``If-None-Match: *``,
atomic on every tested server), so simultaneous signs cannot pass the cap
together. A window is the storage's URL lifetime (``querystring_expire``);
a slot counts in its window and the next (its URLs live no longer), unless
accepting or aborting the upload released it. The slot is in the upload's
folder name, so its release needs no state.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from django.utils.crypto import salted_hmac

from . import abandoned
from .creates import ConditionalWritesUnsupported, NameTaken, claim, new_write_id
from .storage import SigV4S3Storage
from .tokens import SUBMIT_WITHIN, UploadRefused, request_secret, user_key

logger = logging.getLogger("sigv4_storage")

#: The folder, in the field's storage, where uploads wait for their form.
PENDING = "_pending/"
#: The claims on open-upload slots, in each uploader's pending folder.
SLOTS = ".slots/"
_OWNER_SALT = "sigv4_storage.uploads.owner"


def owner(request: Any) -> str:
    """8 characters standing for the uploader (the user, or the browser session)."""
    who = user_key(request) or "session:" + request_secret(request)
    return salted_hmac(_OWNER_SALT, who, algorithm="sha256").hexdigest()[:8]


@dataclass(frozen=True)
class Folder:
    """One uploader's pending folder for one field: ``PENDING`` + ``upload_to``
    + ``owner``, a storage name ending in "/"."""

    storage: SigV4S3Storage
    name: str

    @classmethod
    def of(cls, storage: SigV4S3Storage, upload_to: str, request: Any) -> Folder:
        return cls(storage, f"{PENDING}{upload_to}{owner(request)}/")

    def upload_name(self, slot: str, filename: str) -> str:
        """A new upload's name: its slot and 16 random characters, then the file name."""
        return f"{self.name}{slot}-{uuid.uuid4().hex[:16]}/{filename}"

    def claim_slot(self, limit: int) -> str:
        """Claim one of ``limit`` slots (``"<window>-<k>"``), after sweeping this
        folder; ``UploadRefused`` (429) when all are taken."""
        storage = self.storage
        client, bucket = storage.connection.meta.client, storage.bucket_name
        lifetime = max(1, int(storage.querystring_expire))
        listed, now = self._list()
        window = int(now.timestamp()) // lifetime
        live = self.sweep(listed, now, window)
        previous = sum(1 for w, _ in live if w == window - 1)
        taken = {k for w, k in live if w == window}
        for k in range(limit - previous):
            if k in taken:
                continue
            slot = f"{window}-{k}"
            key = storage.s3_key(f"{self.name}{SLOTS}{slot}")
            try:
                claim(client, bucket, key, new_write_id())
            except NameTaken:
                continue
            except ConditionalWritesUnsupported:
                # No atomic claim on this server: the listing above decides alone.
                client.put_object(Bucket=bucket, Key=key, Body=b"")
            return slot
        logger.warning("Refused an upload in %r: %d in progress.", self.name, limit)
        raise UploadRefused(
            f"You have {limit} uploads in progress here: let them finish, "
            f"or cancel one, before starting another.",
            status=429,
            code="too_many",
        )

    def _list(self) -> tuple[list[dict[str, Any]], dt.datetime]:
        """Every object in this folder, and the server's time when listing began."""
        storage = self.storage
        found: list[dict[str, Any]] = []
        now: dt.datetime | None = None
        paginator = storage.connection.meta.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(
            Bucket=storage.bucket_name, Prefix=storage.s3_key(self.name)
        ):
            now = now or abandoned.server_time(page)
            found += page.get("Contents") or ()
        return found, now or dt.datetime.now(dt.timezone.utc)

    def sweep(
        self, listed: list[dict[str, Any]], now: dt.datetime, window: int
    ) -> list[tuple[int, int]]:
        """Delete what in ``listed`` can no longer be used: claims of windows before
        the last, uploads whose token has expired (and, when any claim was stale,
        this folder's multipart uploads whose part URLs expired an hour ago).
        The slots still live: ``[(window, k)...]``."""
        storage = self.storage
        client, bucket = storage.connection.meta.client, storage.bucket_name
        lifetime = max(1, int(storage.querystring_expire))
        slots_at = storage.s3_key(f"{self.name}{SLOTS}")
        expired = now - dt.timedelta(seconds=lifetime + SUBMIT_WITHIN)
        live, dead, stale = [], [], False
        for item in listed:
            key = item["Key"]
            if key.startswith(slots_at):
                slot = _parse(key[len(slots_at) :])
                if slot is not None and slot[0] >= window - 1:
                    live.append(slot)
                    continue
                stale = True
                dead.append(key)
            elif _aware(item["LastModified"]) < expired:
                dead.append(key)
        for key in dead:
            client.delete_object(Bucket=bucket, Key=key)
        if stale:
            listing = abandoned.list_open(client, bucket, storage.s3_key(self.name))
            then = now - dt.timedelta(seconds=lifetime + 3600)
            abandoned.abort(client, bucket, listing.started_before(then))
        return live


def release(storage: SigV4S3Storage, name: str, *, delete: bool = False) -> None:
    """Free the slot an upload's name holds (its upload was accepted, refused or
    aborted), and with ``delete`` delete the upload key too, in one request. A
    slot already freed is no error."""
    keys = [storage.s3_key(name)] if delete else []
    slot = _slot_of(name)
    if slot is not None:
        keys.append(storage.s3_key(slot))
    if not keys:
        return
    client = storage.connection.meta.client
    try:
        if len(keys) == 1:
            client.delete_object(Bucket=storage.bucket_name, Key=keys[0])
            return
        answer = client.delete_objects(
            Bucket=storage.bucket_name,
            Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
        )
    except ClientError:
        if delete:
            raise
        logger.warning("Could not free the upload slot of %r.", name, exc_info=True)
        return
    if answer.get("Errors"):
        failed = ", ".join(f"{e.get('Key')}: {e.get('Code')}" for e in answer["Errors"])
        raise OSError(f"Could not delete the upload {name!r} ({failed}).")


def _slot_of(name: str) -> str | None:
    """The name of the claim on the slot an upload's name holds."""
    folder, _, rest = name.rpartition("/")[0].rpartition("/")
    slot = rest.rsplit("-", 1)[0]
    if not name.startswith(PENDING) or _parse(slot) is None:
        return None
    return f"{folder}/{SLOTS}{slot}"


def _parse(slot: str) -> tuple[int, int] | None:
    window, _, k = slot.partition("-")
    if window.isdigit() and k.isdigit() and window.isascii() and k.isascii():
        return int(window), int(k)
    return None


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def keep_days(storage: SigV4S3Storage) -> int:
    """Days an upload must be kept for its token to be submitted (S3 counts
    lifecycle days from the next midnight, so it keeps them a little longer)."""
    return max(1, math.ceil((int(storage.querystring_expire) + SUBMIT_WITHIN) / 86400))


def prefix(storage: SigV4S3Storage) -> str:
    """The key prefix of the storage's pending folder."""
    return storage.s3_key(PENDING)


def rule(storage: SigV4S3Storage) -> dict[str, Any]:
    """The lifecycle rule that removes uploads never submitted (and aborts
    multipart uploads never finished) in the storage's pending folder."""
    return {
        "ID": "remove-unsubmitted-uploads",
        "Status": "Enabled",
        "Filter": {"Prefix": prefix(storage)},
        "Expiration": {"Days": keep_days(storage)},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }


def covering_rules(
    rules: list[dict[str, Any]], storage: SigV4S3Storage
) -> Iterator[dict[str, Any]]:
    """The enabled rules of a bucket's lifecycle configuration that expire every
    object of the pending folder (a prefix of it, no tag or size filter)."""
    at = prefix(storage)
    for found in rules:
        if found.get("Status") != "Enabled" or "Days" not in (found.get("Expiration") or {}):
            continue
        where = found.get("Filter", {"Prefix": found.get("Prefix", "")})
        if set(where) <= {"Prefix"} and at.startswith(where.get("Prefix", "")):
            yield found
