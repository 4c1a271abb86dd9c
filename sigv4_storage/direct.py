"""The storage methods behind direct browser uploads (``DirectUploadsMixin``).

A browser sends a file straight to S3, never through Django, with one of two
things the server signs: a presigned POST form (``presigned_post``: one
request, S3 enforces the size, type and key the policy names) or, for large
files, a multipart upload the server starts and finishes
(``start_multipart_upload``: one presigned ``UploadPart`` URL per part, each
signing its part's ``Content-Length``; ``complete_multipart_upload``,
``abort_multipart_upload``). ``uploads``, ``views`` and ``forms`` build the
tokens, views and form field on top of these.

Signing goes through the storage's ``presign.Presigner``, as ``url()`` does.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from django.views.decorators.debug import sensitive_variables

from . import clients, creates
from . import content as active
from .checkids import PREFIX
from .config import S3Config
from .errors import error_status
from .names import check_not_empty
from .presign import Presigner
from .resolve import check_expire


class DirectUploadsMixin:
    """Presigned POST forms and server-driven multipart uploads, for browsers."""

    if TYPE_CHECKING:  # provided by the storage it is mixed into (SigV4S3Storage)
        bucket_name: str
        file_overwrite: bool
        querystring_expire: int
        s3_config: S3Config
        _key_prefix: str | None

        @property
        def connection(self) -> Any: ...
        def settled(self) -> S3Config: ...
        def presigner(self) -> Presigner: ...
        def write_parameters(self, name: str, content_type: str | None = None) -> Any: ...
        def s3_key(self, name: Any) -> str: ...
        def _shared(
            self, signed: bool, public: bool = False, create: bool = False
        ) -> clients.Shared: ...
        def _in_context(self, error: BotoCoreError) -> Exception: ...

    def presigned_post(
        self,
        name: str,
        *,
        max_size: int,
        content_type: str | None = None,
        expire: int | None = None,
        fields: dict[str, Any] | None = None,
        conditions: list[Any] | None = None,
    ) -> dict[str, Any]:
        """A SigV4-signed form for a browser to POST one file straight to S3.

        The shape of boto3's ``generate_presigned_post``: ``{"url": ...,
        "fields": {...}}``. ``name`` ending in ``/`` is a key prefix (the
        browser's file name fills ``${filename}``), otherwise the exact name;
        both go under ``location`` through the checks every operation makes.
        S3 itself refuses a body over ``max_size`` bytes (``content-length-range``)
        and, with ``content_type``, another type (an exact type, or a
        ``"type/"`` prefix the form's ``Content-Type`` field must start with).
        ``expire`` defaults to ``querystring_expire``. ``fields`` and
        ``conditions`` are added as boto3 adds them.
        """
        try:
            return self._presigned_post(name, max_size, content_type, expire, fields, conditions)
        except BotoCoreError as error:
            raise self._in_context(error) from None

    def _presigned_post(
        self,
        name: str,
        max_size: int,
        content_type: str | None,
        expire: int | None,
        fields: dict[str, Any] | None,
        conditions: list[Any] | None,
    ) -> dict[str, Any]:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise ValueError(
                f"presigned_post(max_size={max_size!r}): a whole number of bytes, ≥ 1."
            )
        check_expire("presigned_post", expire)
        if name.endswith("/"):
            key = self.s3_key(name + "_")[:-1] + "${filename}"
        else:
            key = self.s3_key(name)
        post_fields = dict(fields or {})
        post_conditions = list(conditions or [])
        check_json("fields", post_fields)
        check_json("conditions", post_conditions)
        post_conditions.append(["content-length-range", 0, max_size])
        if self.s3_config.active_content == active.ATTACHMENT and active.may_be_active(
            content_type
        ):
            post_fields.setdefault("Content-Disposition", active.ATTACHMENT)
            post_conditions.append({"Content-Disposition": post_fields["Content-Disposition"]})
        for field, value in post_form_fields(self.write_parameters(name, content_type)).items():
            if field not in post_fields:  # the object as save() would store it
                post_fields[field] = value
                post_conditions.append({field: value})
        if content_type and content_type.endswith("/"):
            post_conditions.append(["starts-with", "$Content-Type", content_type])
        elif content_type:
            post_fields["Content-Type"] = content_type
            post_conditions.append({"Content-Type": content_type})
        return self._presign_post(
            key,
            post_fields,
            post_conditions,
            self.querystring_expire if expire is None else expire,
        )

    def _presign_post(
        self, key: str, fields: dict[str, Any], conditions: list[Any], expire: int
    ) -> dict[str, Any]:
        """boto3's ``generate_presigned_post(Bucket, key, fields, conditions, expire)``."""
        return self.presigner().post(key, fields, conditions, expire)

    # -- direct uploads of large files: multipart, driven by the server --------------
    @sensitive_variables("urls")  # the session token, when there is one
    def start_multipart_upload(
        self,
        name: str,
        *,
        size: int,
        content_type: str | None = None,
        expire: int | None = None,
    ) -> dict[str, Any]:
        """Start a multipart upload of ``size`` bytes for a browser to send in parts.

        Returns ``{"name", "key", "upload_id", "part_size", "urls"}``: the
        file's name in this storage and its S3 key, and one presigned
        ``UploadPart`` URL (HTTP PUT) per part, the part size chosen so there are
        at most 10,000 parts. Each URL signs its part's ``Content-Length``: S3
        refuses a larger (or smaller) body, so no more than ``size`` can arrive.
        The browser PUTs ``part_size`` bytes (the last part: the rest) to each
        URL, keeps each response's ``ETag``, and the server calls
        ``complete_multipart_upload`` (or ``abort_multipart_upload`` on cancel or
        failure).
        """
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_OBJECT:
            raise ValueError(f"start_multipart_upload(size={size!r}): 1 byte to 5 TiB.")
        check_expire("start_multipart_upload", expire)
        key = self.s3_key(name)
        client = self.connection.meta.client
        extra = creates.operation_parameters(  # the object as save() would store it
            client, "CreateMultipartUpload", self.write_parameters(name, content_type)
        )
        upload_id = client.create_multipart_upload(Bucket=self.bucket_name, Key=key, **extra)[
            "UploadId"
        ]
        part_size, _, urls = self._part_urls(key, upload_id, size, expire)
        return {
            "name": self._name_of(key),
            "key": key,
            "upload_id": upload_id,
            "part_size": part_size,
            "urls": urls,
        }

    @sensitive_variables("urls")  # the session token, when there is one
    def resume_multipart_upload(
        self, name: str, upload_id: str, *, size: int, expire: int | None = None
    ) -> dict[str, Any]:
        """What a browser needs to finish an interrupted upload of ``size`` bytes that
        ``start_multipart_upload`` started: ``{"part_size", "parts", "urls"}``, the
        parts S3 has whole (``[number, ETag]``, from ``ListParts``), and one new
        presigned URL per part, ``None`` for those it has. Raises
        ``FileNotFoundError`` when the upload is no longer open."""
        check_expire("resume_multipart_upload", expire)
        key = self.s3_key(name)
        part_size, sizes, urls = self._part_urls(key, upload_id, size, expire)
        stored: dict[int, str] = {}
        pages = self.connection.meta.client.get_paginator("list_parts")
        try:
            for page in pages.paginate(Bucket=self.bucket_name, Key=key, UploadId=upload_id):
                for part in page.get("Parts", []):
                    number = int(part["PartNumber"])
                    if 1 <= number <= len(sizes) and int(part["Size"]) == sizes[number - 1]:
                        stored[number] = str(part["ETag"])
        except ClientError as error:
            if error_status(error) == 404:  # NoSuchUpload
                raise FileNotFoundError(f"no open upload of {name!r}") from None
            raise
        return {
            "part_size": part_size,
            "parts": [[number, stored[number]] for number in sorted(stored)],
            "urls": [None if number in stored else url for number, url in enumerate(urls, 1)],
        }

    def _part_urls(
        self, key: str, upload_id: str, size: int, expire: int | None
    ) -> tuple[int, list[int], list[str]]:
        """The part size of an upload of ``size`` bytes, each part's size, and one
        presigned ``UploadPart`` URL per part, each signing its part's ``Content-Length``."""
        part_size = multipart_part_size(size)
        sizes = [min(part_size, size - offset) for offset in range(0, size, part_size)]
        expires = self.querystring_expire if expire is None else expire
        try:
            return part_size, sizes, self.presigner().part_urls(key, upload_id, sizes, expires)
        except BotoCoreError as error:
            raise self._in_context(error) from None

    def complete_multipart_upload(
        self, name: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> str:
        """Join the parts (``(number, ETag)`` as the browser collected them) into
        the file ``name``; returns its name, as ``save()`` does. With
        ``file_overwrite=False`` the name is claimed first (``creates.claim``: not
        every server honours a condition on the completion itself), and a taken
        name is refused (``FileExistsError``), the upload left open to abort.

        Asked again once it is done (its answer was lost, and the caller or
        botocore retried), it answers as the first time: the object at ``name``
        is this upload's when the upload is no longer open and the object's ETag
        is the one S3 gives these parts (``multipart_etag``)."""
        check_not_empty(name)
        key = self.s3_key(name)
        endpoint = self.settled().endpoint_url
        client = self._shared(signed=True).client
        write_id = creates.new_write_id()
        ordered = [{"PartNumber": int(n), "ETag": str(etag)} for n, etag in sorted(parts)]
        claimed = not self.file_overwrite and creates.supported(endpoint)
        if claimed:
            try:
                creates.claim(client, self.bucket_name, key, write_id)
            except creates.NameTaken:
                if self._completed(client, key, upload_id, ordered):
                    return self._name_of(key)
                raise FileExistsError(f"{PREFIX}: {key!r} exists already.") from None
            except creates.ConditionalWritesUnsupported as why:
                creates.mark_unsupported(endpoint, str(why))
                claimed = False
        try:
            client.complete_multipart_upload(
                Bucket=self.bucket_name,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": ordered},
            )
        except BaseException as error:
            if claimed:
                creates.release(client, self.bucket_name, key, write_id)
            if (
                isinstance(error, ClientError)
                and error_status(error) == 404
                and self._completed(client, key, upload_id, ordered)
            ):
                return self._name_of(key)  # NoSuchUpload: completed by an earlier attempt
            raise
        return self._name_of(key)

    def _completed(
        self, client: Any, key: str, upload_id: str, parts: list[dict[str, Any]]
    ) -> bool:
        """Whether the upload ``upload_id`` was completed already as ``key``: it is
        no longer open, and ``key`` holds exactly its parts."""
        try:
            client.list_parts(Bucket=self.bucket_name, Key=key, UploadId=upload_id, MaxParts=1)
            return False  # still open: not completed
        except ClientError as error:  # RGW says NoSuchKey of a completed upload
            if error_status(error) != 404:
                raise
        try:
            head = client.head_object(Bucket=self.bucket_name, Key=key)
        except ClientError as error:
            if error_status(error) == 404:
                return False
            raise
        expected = multipart_etag([str(part["ETag"]) for part in parts])
        return expected is not None and head.get("ETag", "").strip('"') == expected

    def _name_of(self, key: str) -> str:
        """The name, in this storage, of its key ``key``."""
        return key[len(self._key_prefix or "") :]

    def abort_multipart_upload(self, name: str, upload_id: str) -> None:
        """Drop an unfinished upload of the file ``name`` and the parts sent so far."""
        check_not_empty(name)
        self.connection.meta.client.abort_multipart_upload(
            Bucket=self.bucket_name, Key=self.s3_key(name), UploadId=upload_id
        )


#: S3's largest object, and its multipart limits.
MAX_OBJECT = 5 * 1024**4
MIN_PART = 5 * 1024**2
MAX_PARTS = 10_000


#: A write's parameters (``write_parameters``) a browser's POST form can carry, as
#: the form's field names (AWS's "POST Object" form fields); the others (a
#: language, tags, object lock...) reach an accepted upload through the
#: accepting copy.
POST_FORM_FIELDS = {
    "ACL": "acl",
    "CacheControl": "Cache-Control",
    "ContentDisposition": "Content-Disposition",
    "ContentEncoding": "Content-Encoding",
    "Expires": "Expires",
    "ServerSideEncryption": "x-amz-server-side-encryption",
    "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
    "SSEKMSEncryptionContext": "x-amz-server-side-encryption-context",
    "StorageClass": "x-amz-storage-class",
    "WebsiteRedirectLocation": "x-amz-website-redirect-location",
}


def post_form_fields(parameters: dict[str, Any]) -> dict[str, str]:
    """A write's ``parameters`` as a POST form's fields (``POST_FORM_FIELDS``,
    ``Metadata`` as ``x-amz-meta-*``); the type is the form's own business."""
    fields: dict[str, str] = {}
    for name, value in parameters.items():
        if name == "Metadata":
            fields.update({f"x-amz-meta-{key}": str(item) for key, item in value.items()})
        elif name in POST_FORM_FIELDS:
            if isinstance(value, datetime.datetime):
                value = format_datetime(value.astimezone(datetime.timezone.utc), usegmt=True)
            fields[POST_FORM_FIELDS[name]] = str(value)
    return fields


def multipart_etag(part_etags: list[str]) -> str | None:
    """The ETag S3 gives an object joined from parts with these ETags (the MD5 of
    their MD5s, ``-`` their count); ``None`` where a part's ETag is not an MD5
    (SSE-KMS, SSE-C: then nothing can be told from it)."""
    try:
        digests = b"".join(bytes.fromhex(etag.strip('"')) for etag in part_etags)
    except ValueError:
        return None
    if len(digests) != 16 * len(part_etags) or not part_etags:
        return None
    return f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(part_etags)}"


def multipart_part_size(size: int) -> int:
    """The smallest whole number of MiB ≥ 5 MiB that splits ``size`` into ≤ 10,000 parts."""
    mib = 1024**2
    needed = -(-size // MAX_PARTS)
    return max(MIN_PART, -(-needed // mib) * mib)


def check_json(argument: str, value: Any) -> None:
    """A POST policy is JSON: refuse, before signing, a value JSON cannot carry."""
    try:
        json.dumps(value)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"presigned_post({argument}=...): {error}. The policy is JSON: pass strings "
            f"and numbers (str(value) for a UUID, a date or a Decimal)."
        ) from None
