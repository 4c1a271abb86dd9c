"""Direct browser uploads: what the server signs, and what it checks on submit.

The browser never names a key. A form field renders a *field token* (its
storage alias, ``upload_to`` prefix, size limit and allowed types, signed with
Django's ``signing`` so the page cannot change them). When a file is chosen,
the browser sends that token, the file's name, size and type to the sign view
(``views.py``); if the permission hook allows the request, the server picks
the key — ``upload_to`` + a random folder + the cleaned file name — and
answers with a presigned POST (S3 enforces the size and type) or, above the
storage's multipart threshold, presigned part URLs; plus an *upload token*
naming that key. The form submits only the upload token; on ``clean()`` the
server checks it with one ``HeadObject``: the object exists, under this
field's prefix, within the size, of an allowed type. The model's
``FileField`` then stores that name: nothing is uploaded again.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.core.files.storage import InvalidStorageError, storages
from django.template.defaultfilters import filesizeformat
from django.utils.module_loading import import_string

from . import content as active
from .storage import SigV4S3Storage

logger = logging.getLogger("sigv4_storage")

FIELD_SALT = "sigv4_storage.uploads.field"
UPLOAD_SALT = "sigv4_storage.uploads.upload"
#: ``settings.SIGV4_STORAGE_UPLOAD_PERMISSION``: a dotted path to ``f(request) -> bool``.
PERMISSION_SETTING = "SIGV4_STORAGE_UPLOAD_PERMISSION"
#: Seconds an upload token stays good after its URLs expire: time to submit the form.
SUBMIT_WITHIN = 86400


class UploadRefused(Exception):
    """A request the upload views refuse: a message for the person uploading,
    ``status`` the HTTP status, ``code`` a stable word a client can branch on
    (``too_large``, ``wrong_type``, ``not_allowed``, ``expired``, ``invalid``,
    ``bad_request``, ``missing``, ``failed``)."""

    def __init__(self, message: str, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def size_text(size: int) -> str:
    """A size as people read it: "20.0 MB"."""
    return str(filesizeformat(size)).replace("\xa0", " ")


#: A MIME type as browsers send ``File.type``: ``type/subtype``, no parameters, no
#: spaces or line breaks (a CR/LF would reach the signed form and the headers).
_MIME = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")


@dataclass(frozen=True)
class Limits:
    """What a form field accepts; signed into the page as the field token."""

    storage: str  # the STORAGES alias
    upload_to: str  # a folder in that storage, "" or ending in "/"
    max_size: int
    content_types: tuple[str, ...] = ()  # exact types or "type/" prefixes; () = any

    def allows_type(self, content_type: str) -> bool:
        """Exact types, or ``"type/"`` prefixes, which admit no type a browser runs
        (``"image/"`` is not ``image/svg+xml``: name that one exactly)."""
        if not self.content_types:
            return True
        found = active.essence(content_type)
        return any(
            (found.startswith(allowed) and not active.is_active(found))
            if allowed.endswith("/")
            else found == allowed
            for allowed in self.content_types
        )

    def token(self) -> str:
        return signing.dumps(asdict(self), salt=FIELD_SALT, compress=True)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Limits:
        """The limits ``asdict()`` gave, back (KeyError, TypeError, ValueError when not)."""
        return cls(
            storage=data["storage"],
            upload_to=data["upload_to"],
            max_size=int(data["max_size"]),
            content_types=tuple(data["content_types"]),
        )

    @classmethod
    def from_token(cls, token: Any) -> Limits:
        try:
            return cls.from_data(signing.loads(str(token), salt=FIELD_SALT))
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise UploadRefused(
                "This upload field's token is not valid: reload the page.", code="invalid"
            ) from None


@dataclass(frozen=True)
class Upload:
    """One upload the server started: its key, and its multipart upload id."""

    limits: Limits
    name: str  # the file's name in the storage (no location prefix)
    upload_id: str | None = None

    def token(self) -> str:
        data = {"limits": asdict(self.limits), "name": self.name, "upload_id": self.upload_id}
        return signing.dumps(data, salt=UPLOAD_SALT, compress=True)

    @classmethod
    def from_token(cls, token: Any) -> Upload:
        """The upload a token stands for, if it is genuine and younger than its
        storage's URLs plus a day to submit the form."""
        try:
            # Its age limit is its storage's, named inside it: read it, then check the age.
            alias = signing.loads(str(token), salt=UPLOAD_SALT)["limits"]["storage"]
            max_age = storage_for(alias).querystring_expire + SUBMIT_WITHIN
            data = signing.loads(str(token), salt=UPLOAD_SALT, max_age=max_age)
            return cls(Limits.from_data(data["limits"]), data["name"], data["upload_id"])
        except signing.SignatureExpired:
            raise UploadRefused(
                "This upload has expired: choose the file again.", code="expired"
            ) from None
        except (signing.BadSignature, KeyError, TypeError, ValueError, InvalidStorageError):
            raise UploadRefused(
                "This upload's token is not valid: choose the file again.", code="invalid"
            ) from None


def storage_for(alias: str) -> SigV4S3Storage:
    storage = storages[alias]
    if not isinstance(storage, SigV4S3Storage):
        raise ImproperlyConfigured(
            f"sigv4_storage: direct uploads need STORAGES[{alias!r}] to be a "
            f"sigv4_storage class, not {type(storage).__name__}."
        )
    return storage


def check_permission(request: Any) -> None:
    """The permission hook: ``SIGV4_STORAGE_UPLOAD_PERMISSION``, else signed-in users."""
    path = getattr(settings, PERMISSION_SETTING, None)
    if path:
        allowed = import_string(path)(request) if isinstance(path, str) else path(request)
    else:
        user = getattr(request, "user", None)
        if user is None:
            raise ImproperlyConfigured(
                f"sigv4_storage: direct uploads allow signed-in users only, and this "
                f"request has no user (django.contrib.auth is not set up). Set "
                f"{PERMISSION_SETTING} to a function(request) -> bool."
            )
        allowed = bool(user.is_authenticated)
    if not allowed:
        raise UploadRefused(
            "You are not allowed to upload files here.", status=403, code="not_allowed"
        )


def start(request: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The sign view's answer for ``data``: field token, file name, size, type."""
    check_permission(request)
    limits = Limits.from_token(data.get("field"))
    size, content_type, filename = data.get("size"), data.get("type"), data.get("name")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise UploadRefused("The file's size is missing or not a number.")
    if not isinstance(filename, str) or not filename.strip():
        raise UploadRefused("The file's name is missing.")
    if content_type is not None and not isinstance(content_type, str):
        raise UploadRefused("The file's type is not text.")
    if content_type and not _MIME.fullmatch(content_type):
        raise UploadRefused("The file's type is not a MIME type (type/subtype).")
    if size > limits.max_size:
        shown, limit = size_text(size), size_text(limits.max_size)
        if shown == limit:  # "195.3 KB; at most 195.3 KB": say the bytes
            shown, limit = f"{size:,} bytes", f"{limits.max_size:,} bytes"
        raise UploadRefused(f"The file is {shown}; at most {limit} is allowed.", code="too_large")
    content_type = (content_type or "").lower()
    if not content_type or not limits.allows_type(content_type):
        allowed = ", ".join(t + "*" if t.endswith("/") else t for t in limits.content_types)
        raise UploadRefused(
            f"Files of type {content_type or 'unknown'!r} are not allowed here"
            + (f" (allowed: {allowed})." if allowed else "."),
            code="wrong_type",
        )
    storage = storage_for(limits.storage)
    filename = storage.get_valid_name(filename.replace("\\", "/").rsplit("/", 1)[-1])
    guessed = active.guessed_type(filename)
    if (
        guessed
        and active.essence(guessed) != content_type
        and (active.is_active(guessed) or active.is_active(content_type))
    ):
        raise UploadRefused(
            f"The file's name ({filename}) does not match its type ({content_type}).",
            code="wrong_type",
        )
    name = f"{limits.upload_to}{uuid.uuid4().hex}/{filename}"
    try:
        storage.s3_key(name)
    except SuspiciousOperation as error:
        raise UploadRefused(f"This file name cannot be stored: {error}") from None
    if size <= storage.transfer_config.multipart_threshold:
        form = storage.presigned_post(name, max_size=limits.max_size, content_type=content_type)
        return {"mode": "post", **form, "upload": Upload(limits, name).token()}
    started = storage.start_multipart_upload(name, size=size, content_type=content_type)
    upload = Upload(limits, name, started["upload_id"])
    return {
        "mode": "multipart",
        "urls": started["urls"],
        "part_size": started["part_size"],
        "upload": upload.token(),
    }


def _upload(request: Any, data: dict[str, Any]) -> tuple[Upload, SigV4S3Storage]:
    check_permission(request)
    upload = Upload.from_token(data.get("upload"))
    if upload.upload_id is None:
        raise UploadRefused("This upload was not sent in parts.", code="invalid")
    storage = storage_for(upload.limits.storage)
    return upload, storage


def complete(request: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Join the parts of a multipart upload (``data["parts"]``: ``[[number, etag]...]``)."""
    upload, storage = _upload(request, data)
    parts = data.get("parts")
    if not isinstance(parts, list) or not parts:
        raise UploadRefused("The parts of the upload are missing.")
    try:
        pairs = [(int(number), str(etag)) for number, etag in parts]
    except (TypeError, ValueError):
        raise UploadRefused("The parts of the upload are not [number, ETag] pairs.") from None
    key = storage.s3_key(upload.name)
    # The token the sign view gave, verified: the same answer however often it is
    # asked (its age counts from signing, which the part URLs' expiry bounds anyway).
    answer = {"upload": str(data["upload"])}
    try:
        storage.complete_multipart_upload(key, str(upload.upload_id), pairs)
    except (ClientError, FileExistsError) as error:
        # A second complete (a double click, a retry, botocore's retry after a lost
        # answer): the key is this upload's alone (a random folder), so an object
        # there is this upload, joined already. Answer as the first time.
        if storage.exists(upload.name):
            return answer
        logger.warning("Completing the multipart upload of %r failed: %s", key, error)
        raise UploadRefused(
            "The upload could not be completed: choose the file again.", code="failed"
        ) from None
    return answer


def abort(request: Any, data: dict[str, Any]) -> dict[str, Any]:
    upload, storage = _upload(request, data)
    storage.abort_multipart_upload(storage.s3_key(upload.name), str(upload.upload_id))
    return {"aborted": True}


def stored_name(token: Any, limits: Limits) -> str:
    """The name a submitted upload token stands for, after checking the object.

    One ``HeadObject``: it must exist under this field's prefix and storage,
    within ``max_size``, with an allowed type. An object over the limit or of
    another type is deleted.
    """
    upload = Upload.from_token(token)
    if (upload.limits.storage, upload.limits.upload_to) != (limits.storage, limits.upload_to):
        raise UploadRefused("This upload was made for another field.", code="invalid")
    if not upload.name.startswith(limits.upload_to):
        raise UploadRefused("This upload is outside the field's folder.", code="invalid")
    storage = storage_for(limits.storage)
    key = storage.s3_key(upload.name)
    try:
        head = storage.connection.meta.client.head_object(Bucket=storage.bucket_name, Key=key)
    except ClientError as error:
        if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            raise UploadRefused(
                "The file did not arrive in storage: choose it again.", code="missing"
            ) from None
        raise
    size, content_type = int(head.get("ContentLength", 0)), str(head.get("ContentType", ""))
    opens = active.stored_as_attachment(storage.s3_config.active_content, content_type)
    if opens and not str(head.get("ContentDisposition", "")).startswith(active.ATTACHMENT):
        storage.delete(upload.name)  # a server that did not hold the form to its policy
        logger.warning("Deleted %r: type %r stored without Content-Disposition.", key, content_type)
        raise UploadRefused("The stored file is not allowed here.", code="wrong_type")
    if size > limits.max_size or not limits.allows_type(content_type):
        storage.delete(upload.name)
        logger.warning(
            "Deleted %r: %d bytes of type %r, over the field's limits (%d bytes, %s).",
            key,
            size,
            content_type,
            limits.max_size,
            limits.content_types or "any type",
        )
        raise UploadRefused(
            f"The stored file ({size_text(size)}, {content_type or 'no type'}) is not "
            f"allowed here: at most {size_text(limits.max_size)}.",
            code="too_large" if size > limits.max_size else "wrong_type",
        )
    return upload.name


def field_limits(
    storage: str, upload_to: str, max_size: int, content_types: Sequence[str]
) -> Limits:
    if upload_to and not upload_to.endswith("/"):
        upload_to += "/"
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
        raise ImproperlyConfigured(
            f"sigv4_storage: max_size={max_size!r} must be a number of bytes ≥ 1."
        )
    return Limits(storage, upload_to, max_size, tuple(content_types))
