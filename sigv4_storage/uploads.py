"""Direct browser uploads: the steps a browser asks the server for.

When a file is chosen, the browser sends its field token (``tokens.Limits``),
the file's name, size and type to the sign step; if the permission hook
allows the request for those limits and the uploader has a free slot, the
server picks the *upload key* in the uploader's pending folder (``pending``)
and answers with a presigned POST (S3 enforces the size and type) or, above
the storage's multipart threshold, presigned part URLs, plus an upload token
(``tokens.Upload``). Multipart uploads are joined by
the complete step or dropped by the abort step. Requests are read here too
(``check_content_type``, ``read_json``): hostile input is a refusal, never a 500.
What happens when the form is submitted is ``accept``'s.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.template.defaultfilters import filesizeformat
from django.utils.module_loading import import_string

from . import content as active
from . import pending
from .checkids import E008, PREFIX, SettingError
from .storage import SigV4S3Storage
from .tokens import (
    NOT_ALLOWED,
    NOT_YOURS,
    Limits,
    Upload,
    UploadRefused,
    bindings,
    identities,
    owns,
    refusal,
    storage_for,
)

logger = logging.getLogger("sigv4_storage")

#: ``settings.SIGV4_STORAGE_UPLOAD_PERMISSION``: a dotted path to
#: ``f(request, limits) -> bool``.
PERMISSION_SETTING = "SIGV4_STORAGE_UPLOAD_PERMISSION"
#: ``settings.SIGV4_STORAGE_UPLOAD_MAX_OPEN``: uploads (POST or multipart) one user
#: may have in progress in one field's folder (``pending``).
MAX_OPEN_SETTING = "SIGV4_STORAGE_UPLOAD_MAX_OPEN"
MAX_OPEN_DEFAULT = 10


def run(step: Any, request: Any, data: Any) -> tuple[int, dict[str, Any]]:
    """One upload step (``start``, ``sign``, ``complete``, ``abort``) for the
    views of forms and of APIs: ``(200, its answer)``, or ``(status, refusal)``;
    an S3 failure is logged and answered 502."""
    if not isinstance(data, dict):
        return 400, refusal("The request is not a JSON object.", "bad_request")
    try:
        return 200, step(request, data)
    except UploadRefused as refused:
        return refused.status, refusal(str(refused), refused.code)
    except (ClientError, BotoCoreError):
        logger.exception("The direct-upload step %s failed talking to S3", step.__name__)
        return 502, refusal("The storage did not answer as expected: try again.", "failed")


#: The largest request body the upload views read: a ``complete`` of 10,000 parts
#: (S3's most) fits, with room to spare.
MAX_BODY = 1024 * 1024
#: S3's most parts in one multipart upload.
MAX_PARTS = 10_000


def check_content_type(content_type: str) -> None:
    """Refuse a request the views should not read: one that is not JSON (a form's
    body would be parsed by the CSRF check first)."""
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise UploadRefused("Send JSON (Content-Type: application/json).", status=415)


def read_json(stream: Any) -> Any:
    """The JSON a request's body holds (``stream``: the request, or DRF's stream),
    read once and bounded: at most ``MAX_BODY`` bytes, numbers finite
    (``NaN``, ``Infinity`` and ``1e400`` refused), nesting within Python's own
    recursion limit."""
    body = stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise UploadRefused("The request is too large.", status=413)
    try:
        data = json.loads(body or b"{}", parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise UploadRefused("The request is nested too deeply.") from None
    except ValueError:  # not JSON, not UTF-8, or a number refused above
        raise UploadRefused("The request is not JSON.") from None
    return data


def _no_constant(name: str) -> float:
    raise ValueError(name)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def size_text(size: int) -> str:
    """A size as people read it: "20.0 MB"."""
    return str(filesizeformat(size)).replace("\xa0", " ")


#: A MIME type as browsers send ``File.type``: ``type/subtype``, no parameters, no
#: spaces or line breaks (a CR/LF would reach the signed form and the headers).
_MIME = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")


def permission_hook() -> Callable[[Any, Limits], Any] | None:
    """``SIGV4_STORAGE_UPLOAD_PERMISSION``: a function ``(request, limits) -> bool``
    (or its dotted path), or None. A path that does not import, or a function
    that cannot be called with those two arguments, is a ``SettingError``
    (``sigv4_storage.E008``), which ``manage.py check`` reports at start."""
    found = getattr(settings, PERMISSION_SETTING, None)
    if not found:
        return None
    fix = f"Set {PERMISSION_SETTING} to a function(request, limits) -> bool, or its dotted path."
    try:
        hook = import_string(found) if isinstance(found, str) else found
    except ImportError as error:
        problem = f"{PERMISSION_SETTING}={found!r} does not import ({error})."
        raise SettingError(problem, fix, E008) from None
    if not callable(hook):
        raise SettingError(f"{PERMISSION_SETTING}={found!r} is not a function.", fix, E008)
    try:
        inspect.signature(hook).bind(None, None)
    except TypeError:
        raise SettingError(
            f"{PERMISSION_SETTING}={found!r} cannot be called with (request, limits).", fix, E008
        ) from None
    except ValueError:  # no signature to read (a builtin): it will be called as it is
        pass
    return hook  # type: ignore[no-any-return]


def check_permission(request: Any, limits: Limits) -> None:
    """The permission hook, ``SIGV4_STORAGE_UPLOAD_PERMISSION(request, limits)``
    (``limits.field``, ``.storage``, ``.upload_to``, ``.max_size``,
    ``.content_types``: what is asked for), else signed-in users."""
    hook = permission_hook()
    if hook is not None:
        allowed = hook(request, limits)
    else:
        user = getattr(request, "user", None)
        if user is None:
            raise ImproperlyConfigured(
                f"{PREFIX}: direct uploads allow signed-in users only, and this "
                f"request has no user (django.contrib.auth is not set up). Set "
                f"{PERMISSION_SETTING} to a function(request, limits) -> bool."
            )
        allowed = bool(user.is_authenticated)
    if not allowed:
        raise UploadRefused(NOT_ALLOWED, status=403, code="not_allowed")


def max_open() -> int:
    """``SIGV4_STORAGE_UPLOAD_MAX_OPEN``: a whole number ≥ 1 (``SettingError``,
    ``sigv4_storage.E008``, otherwise)."""
    value = getattr(settings, MAX_OPEN_SETTING, MAX_OPEN_DEFAULT)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingError(
            f"{MAX_OPEN_SETTING}={value!r} must be a whole number ≥ 1 (uploads one "
            f"user may have in progress in a field's folder).",
            f"Set it to a number such as {MAX_OPEN_DEFAULT} (the default), or remove it.",
            E008,
        )
    return value


def start(request: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The sign view's answer for ``data``: field token, file name, size, type."""
    return sign(request, Limits.from_token(data.get("field")), data)


def sign(request: Any, limits: Limits, data: dict[str, Any]) -> dict[str, Any]:
    """A presigned POST or part URLs for the file ``data`` describes (name, size,
    type), for ``limits``, and an upload token bound to the request's user and
    session."""
    check_permission(request, limits)
    session, user = bindings(request)
    if not session and not user:
        # Nothing to bind the upload to: an anonymous request without a CSRF secret.
        raise UploadRefused(
            "This page's security token is missing or old: reload the page.", 403, "csrf"
        )
    size, content_type = _described(data, limits)
    storage = storage_for(limits.storage)
    filename = _file_name(storage, str(data["name"]), content_type)
    folder = pending.Folder.of(storage, limits.upload_to, request)
    try:
        storage.s3_key(folder.upload_name("0-0", filename))
    except SuspiciousOperation as error:
        raise UploadRefused(f"This file name cannot be stored: {error}") from None
    name = folder.upload_name(folder.claim_slot(max_open()), filename)
    upload = Upload(limits, name, session=session, user=user)
    if size <= storage.transfer_config.multipart_threshold:
        form = storage.presigned_post(name, max_size=size, content_type=content_type)
        return {"mode": "post", **form, "upload": upload.token()}
    started = storage.start_multipart_upload(name, size=size, content_type=content_type)
    upload = replace(upload, upload_id=started["upload_id"], size=size)
    return {
        "mode": "multipart",
        "urls": started["urls"],
        "part_size": started["part_size"],
        "upload": upload.token(),
    }


def _described(data: dict[str, Any], limits: Limits) -> tuple[int, str]:
    """The size and type (lower case) of the file ``data`` describes, refused
    unless ``limits`` allow them."""
    size, content_type, filename = data.get("size"), data.get("type"), data.get("name")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise UploadRefused("The file's size is missing or not a number.")
    if not isinstance(filename, str) or not filename.strip():
        raise UploadRefused("The file's name is missing.")
    if content_type is not None and not isinstance(content_type, str):
        raise UploadRefused("The file's type is not text.")
    if content_type and not _MIME.fullmatch(content_type):
        raise UploadRefused("The file's type is not a MIME type (type/subtype).")
    _check_size(size, limits)
    return size, _allowed_type(content_type, limits)


def _check_size(size: int, limits: Limits) -> None:
    if size > limits.max_size:
        shown, limit = size_text(size), size_text(limits.max_size)
        if shown == limit:  # "195.3 KB; at most 195.3 KB": say the bytes
            shown, limit = f"{size:,} bytes", f"{limits.max_size:,} bytes"
        raise UploadRefused(f"The file is {shown}; at most {limit} is allowed.", code="too_large")


def _allowed_type(content_type: str | None, limits: Limits) -> str:
    content_type = (content_type or "").lower()
    if not content_type or not limits.allows_type(content_type):
        allowed = ", ".join(t + "*" if t.endswith("/") else t for t in limits.content_types)
        raise UploadRefused(
            f"Files of type {content_type or 'unknown'!r} are not allowed here"
            + (f" (allowed: {allowed})." if allowed else "."),
            code="wrong_type",
        )
    return content_type


def _file_name(storage: SigV4S3Storage, filename: str, content_type: str) -> str:
    """The browser's file name, made valid by the storage, refused when its
    extension says a type a browser runs that its declared type does not (or
    the reverse)."""
    filename = storage.get_valid_name(filename.replace("\\", "/").rsplit("/", 1)[-1])
    guessed = active.guessed_type(filename)
    if (
        guessed
        and active.essence(guessed) != active.essence(content_type)
        and (active.runs_script(guessed) or active.runs_script(content_type))
    ):
        raise UploadRefused(
            f"The file's name ({filename}) does not match its type ({content_type}).",
            code="wrong_type",
        )
    return str(filename)


def _upload(request: Any, data: dict[str, Any]) -> tuple[Upload, SigV4S3Storage]:
    """The multipart upload a ``complete`` or ``abort`` names, if this user in this
    session started it."""
    upload = Upload.from_token(data.get("upload"))
    check_permission(request, upload.limits)
    if upload.upload_id is None:
        raise UploadRefused("This upload was not sent in parts.", code="invalid")
    if not owns(upload, *identities(request)):
        raise UploadRefused(NOT_YOURS, status=403, code="not_yours")
    return upload, storage_for(upload.limits.storage)


def complete(request: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Join the parts of a multipart upload (``data["parts"]``: ``[[number, etag]...]``)."""
    upload, storage = _upload(request, data)
    parts = data.get("parts")
    if not isinstance(parts, list) or not parts:
        raise UploadRefused("The parts of the upload are missing.")
    if len(parts) > MAX_PARTS:
        raise UploadRefused(f"An upload has at most {MAX_PARTS:,} parts.")
    pairs = [_part(entry) for entry in parts]
    # The token the sign view gave, verified: the same answer however often it is
    # asked (its age counts from signing, which the part URLs' expiry bounds anyway).
    answer = {"upload": str(data["upload"])}
    try:
        storage.complete_multipart_upload(upload.name, str(upload.upload_id), pairs)
    except (ClientError, FileExistsError) as error:
        # A second complete (a double click, a retry, botocore's retry after a lost
        # answer): the key is this upload's alone (a random folder), so an object
        # there is this upload, joined already. Answer as the first time.
        if storage.exists(upload.name):
            return answer
        logger.warning("Completing the multipart upload of %r failed: %s", upload.name, error)
        raise UploadRefused(
            "The upload could not be completed: choose the file again.", code="failed"
        ) from None
    return answer


def resume(request: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The parts S3 already has of an interrupted multipart upload (``data["upload"]``:
    its token), and new URLs for the others: a page reloaded, or a connection lost,
    sends only what is missing. Bound as ``complete`` is, to the user and session
    that started it."""
    upload, storage = _upload(request, data)
    if upload.size is None:
        raise UploadRefused("This upload cannot be resumed: choose the file again.", code="expired")
    try:
        found = storage.resume_multipart_upload(
            upload.name, str(upload.upload_id), size=upload.size
        )
    except FileNotFoundError:  # completed, aborted, or removed as abandoned
        raise UploadRefused(
            "This upload can no longer be resumed: choose the file again.", code="expired"
        ) from None
    return {"mode": "multipart", "upload": str(data["upload"]), **found}


def _part(entry: Any) -> tuple[int, str]:
    """``[number, etag]`` of one part: a whole number from 1 to ``MAX_PARTS``, and text."""
    if isinstance(entry, list) and len(entry) == 2:
        number, etag = entry
        if (
            isinstance(number, int)
            and not isinstance(number, bool)
            and 1 <= number <= MAX_PARTS
            and isinstance(etag, str)
            and 0 < len(etag) <= 1024
        ):
            return number, etag
    raise UploadRefused("The parts of the upload are not [number, ETag] pairs.")


def abort(request: Any, data: dict[str, Any]) -> dict[str, Any]:
    upload, storage = _upload(request, data)
    storage.abort_multipart_upload(upload.name, str(upload.upload_id))
    pending.release(storage, upload.name)
    return {"aborted": True}


def field_limits(
    storage: str, upload_to: str, max_size: int, content_types: Sequence[str]
) -> Limits:
    if upload_to and not upload_to.endswith("/"):
        upload_to += "/"
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
        raise ImproperlyConfigured(
            f"{PREFIX}: max_size={max_size!r} must be a number of bytes ≥ 1."
        )
    return Limits(storage, upload_to, max_size, tuple(content_types))
