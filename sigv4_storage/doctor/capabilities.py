"""``s3doctor --write``: what this server honours of what the package relies on,
probed with scratch objects under the storage's location and reported in
``behaviour``'s words (OK, or WARN with what the package does instead and
what that costs). What a probe learns is recorded for the process
(``behaviour.learn``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import behaviour, creates
from ..behaviour import (
    CONDITIONAL_COMPLETE,
    CONDITIONAL_COPY,
    CONDITIONAL_PUT,
    PINNED_COPY,
    POST_FIELDS,
    Capability,
)
from ..errors import HINTS, error_status, failure_name
from .report import FAIL, OK, WARN, Finding

#: What ``file_overwrite=False`` does where ``If-None-Match`` is not implemented.
CHECK_THEN_WRITE = (
    "; file_overwrite=False checks the name with HeadObject before writing, and "
    "simultaneous uploads of one name can replace each other"
)
#: An ETag no object has: a copy pinned to it must be refused.
NO_SUCH_ETAG = '"00000000000000000000000000000000"'


@dataclass
class Scratch:
    """Where the probes write: the storage's client and bucket, keys under the
    location (``key``), all deleted at the end (``clean``)."""

    storage: Any
    base: str
    made: list[str] = field(default_factory=list)
    uploads: list[tuple[str, str]] = field(default_factory=list)

    @property
    def client(self) -> Any:
        return self.storage.connection.meta.client

    @property
    def bucket(self) -> str:
        return str(self.storage.bucket_name)

    @property
    def endpoint(self) -> str:
        return str(self.storage.settled().endpoint_url)

    def key(self, suffix: str) -> str:
        key = str(self.storage.s3_key(f"{self.base}.{suffix}"))
        self.made.append(key)
        return key

    def put(self, suffix: str, body: bytes = b"probe") -> str:
        key = self.key(suffix)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body)
        return key

    def clean(self) -> None:
        for key, upload_id in self.uploads:
            with contextlib.suppress(ClientError, BotoCoreError):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        for key in self.made:
            with contextlib.suppress(ClientError, BotoCoreError):
                self.client.delete_object(Bucket=self.bucket, Key=key)


def _verdict(scratch: Scratch, name: str, capability: Capability, honoured: bool) -> Finding:
    behaviour.learn(scratch.endpoint, capability, honoured, "s3doctor's probe")
    if honoured:
        return Finding(name, OK, f"honoured: {capability.what}")
    return Finding(name, WARN, f"ignored: {capability.what}; instead: {capability.instead}")


def _refused(call: Callable[[], Any]) -> bool:
    """Whether the server refused ``call`` with 412 (the condition held it)."""
    try:
        call()
    except ClientError as error:
        if error_status(error) == 412 or isinstance(creates.classify(error, ""), creates.NameTaken):
            return True
        raise
    return False


def atomic_create(scratch: Scratch) -> Finding:
    """Does the server refuse a second create of one name (``If-None-Match: *``)?"""
    name, client, bucket = "atomic create", scratch.client, scratch.bucket
    key = scratch.put("create", b"first")
    try:
        client.put_object(Bucket=bucket, Key=key, Body=b"second", IfNoneMatch="*")
    except ClientError as refused:
        outcome = creates.classify(refused, key)
        if isinstance(outcome, creates.NameTaken):
            behaviour.learn(scratch.endpoint, CONDITIONAL_PUT, True, "s3doctor's probe")
            return Finding(name, OK, "supported: a second create of one name is refused")
        if isinstance(outcome, creates.ConditionalWritesUnsupported):
            creates.mark_unsupported(scratch.endpoint, str(outcome))
            return Finding(name, WARN, f"not supported ({outcome}){CHECK_THEN_WRITE}")
        raise
    behaviour.learn(scratch.endpoint, CONDITIONAL_PUT, False, "s3doctor's probe")
    return Finding(name, WARN, f"not supported: the server ignored If-None-Match{CHECK_THEN_WRITE}")


def conditional_complete(scratch: Scratch) -> Finding:
    """A multipart upload completed onto an existing key with ``If-None-Match: *``."""
    client, bucket = scratch.client, scratch.bucket
    key = scratch.put("complete")
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    scratch.uploads.append((key, upload_id))
    part = client.upload_part(
        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"part"
    )
    honoured = _refused(
        lambda: client.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
            IfNoneMatch="*",
        )
    )
    return _verdict(scratch, "large create", CONDITIONAL_COMPLETE, honoured)


def conditional_copy(scratch: Scratch) -> Finding:
    """A copy onto an existing key with ``If-None-Match: *`` (signed as the storage
    sends it: ``creates.register``)."""
    source, target = scratch.put("source"), scratch.put("target")
    client = scratch.storage._shared(signed=True, create=True).client
    honoured = _refused(
        lambda: client.copy_object(
            Bucket=scratch.bucket, Key=target, CopySource={"Bucket": scratch.bucket, "Key": source}
        )
    )
    return _verdict(scratch, "copy create", CONDITIONAL_COPY, honoured)


def pinned_copy(scratch: Scratch) -> Finding:
    """A copy pinned to a source ETag the source does not have."""
    source, target = scratch.put("pinned"), scratch.key("pinned-copy")
    honoured = _refused(
        lambda: scratch.client.copy_object(
            Bucket=scratch.bucket,
            Key=target,
            CopySource={"Bucket": scratch.bucket, "Key": source},
            CopySourceIfMatch=NO_SUCH_ETAG,
        )
    )
    return _verdict(scratch, "copy source", PINNED_COPY, honoured)


def post_fields(scratch: Scratch, post: Callable[[str, dict[str, Any], bytes], int]) -> Finding:
    """A presigned POST form with a ``Content-Disposition`` field: is it stored?"""
    name = "POST fields"
    key = scratch.key("post")
    form = scratch.storage.presigner().post(
        key, {"Content-Disposition": "attachment"}, [{"Content-Disposition": "attachment"}], 60
    )
    status = post(form["url"], form["fields"], b"probe")
    if status not in (200, 201, 204):
        return Finding(name, FAIL, f"the presigned POST was refused: HTTP {status}", "")
    stored = scratch.client.head_object(Bucket=scratch.bucket, Key=key).get("ContentDisposition")
    return _verdict(scratch, name, POST_FIELDS, stored == "attachment")


#: ``(finding name, capability, probe)``: one row each, run in this order by
#: ``s3doctor --write``.
PROBES: tuple[tuple[str, Capability, Callable[..., Finding]], ...] = (
    ("atomic create", CONDITIONAL_PUT, atomic_create),
    ("large create", CONDITIONAL_COMPLETE, conditional_complete),
    ("copy create", CONDITIONAL_COPY, conditional_copy),
    ("copy source", PINNED_COPY, pinned_copy),
    ("POST fields", POST_FIELDS, post_fields),
)


def run(name: str, probe: Callable[..., Finding], scratch: Scratch, **extra: Any) -> Finding:
    """One probe; a request that fails outright is its FAIL finding."""
    try:
        return probe(scratch, **extra)
    except (ClientError, BotoCoreError) as error:
        code = failure_name(error)
        return Finding(name, FAIL, f"failed: {code}", HINTS.get(code, ""))
