"""Direct browser uploads: what the server signs, and what it checks on submit.

The browser never names a key. A form field renders a *field token* (its
storage alias, ``upload_to`` prefix, size limit, allowed types and the form
field's name, signed with Django's ``signing`` so the page cannot change them;
good for a day). When a file is chosen, the browser sends that token, the
file's name, size and type to the sign view (``views.py``); if the permission
hook allows the request for those limits, the server picks the *upload key*
— ``upload_to`` + a folder (8 characters of the uploader, 24 random) + the
cleaned file name — and answers with a presigned POST (S3 enforces the size
and type) or, above the storage's multipart threshold, presigned part URLs;
plus an *upload token* naming that key, bound to the user and to the
browser's session (an HMAC of its CSRF secret, which Django rotates at login).

The form submits only the upload token, and the CSRF token it always carries.
On ``clean()`` the server checks the token (genuine, young, made for this form
field, in this session) and the object with one ``HeadObject``, then *accepts*
it: a server-side copy to a name derived from the upload key that no policy
or part URL ever covered, claimed first with a conditional ``PutObject``
(``creates.claim``), and the upload key is deleted. The model's ``FileField``
stores that name. A second use of the token meets the claim (412) and is
refused, in any process and on every server: the state is S3's own.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.core.files.storage import InvalidStorageError, storages
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.template.defaultfilters import filesizeformat
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.module_loading import import_string

from . import content as active
from .checkids import PREFIX
from .creates import SourceChanged
from .errors import error_status
from .storage import SigV4S3Storage

logger = logging.getLogger("sigv4_storage")

FIELD_SALT = "sigv4_storage.uploads.field"
UPLOAD_SALT = "sigv4_storage.uploads.upload"
#: ``settings.SIGV4_STORAGE_UPLOAD_PERMISSION``: a dotted path to
#: ``f(request, limits) -> bool``.
PERMISSION_SETTING = "SIGV4_STORAGE_UPLOAD_PERMISSION"
#: ``settings.SIGV4_STORAGE_UPLOAD_MAX_OPEN``: unfinished multipart uploads a user
#: may have in one field's folder.
MAX_OPEN_SETTING = "SIGV4_STORAGE_UPLOAD_MAX_OPEN"
MAX_OPEN_DEFAULT = 10
#: Seconds an upload token stays good after its URLs expire: time to submit the form.
SUBMIT_WITHIN = 86400
#: Seconds a rendered field token can start uploads: reload a page older than this.
FIELD_MAX_AGE = 86400
_SESSION_SALT = "sigv4_storage.uploads.session"
_USER_SALT = "sigv4_storage.uploads.user"
_OWNER_SALT = "sigv4_storage.uploads.owner"
_ACCEPTED_SALT = "sigv4_storage.uploads.accepted"


class UploadRefused(Exception):
    """A request the upload views refuse: a message for the person uploading,
    ``status`` the HTTP status, ``code`` a stable word a client can branch on
    (``too_large``, ``wrong_type``, ``not_allowed``, ``not_yours``, ``used``,
    ``too_many``, ``expired``, ``invalid``, ``bad_request``, ``missing``, ``failed``)."""

    def __init__(self, message: str, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def refusal(message: str, code: str) -> dict[str, str]:
    """A refusal as every upload view answers it."""
    return {"error": message, "code": code}


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


def check_body(content_type: str, length: Any) -> None:
    """Refuse a request the views should not read: not JSON (a form's body would
    be parsed by the CSRF check first), or a body over ``MAX_BODY``."""
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise UploadRefused("Send JSON (Content-Type: application/json).", status=415)
    try:
        size = int(length or 0)
    except ValueError:
        raise UploadRefused("The request's Content-Length is not a number.") from None
    if size > MAX_BODY:
        raise UploadRefused("The request is too large.", status=413)


def read_json(body: bytes) -> Any:
    """The JSON ``body`` holds: numbers finite (``NaN``, ``Infinity`` and
    ``1e400`` refused), nesting bounded by Python's own recursion limit."""
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


# -- who is uploading: the user, and the browser session -------------------------------
def csrf_secret(token: Any) -> str:
    """The CSRF secret behind a CSRF token as a form or header carries it (masked,
    64 characters, or the 32-character secret itself), unmasked as Django's
    middleware unmasks it; ``""`` for anything else."""
    chars, length = CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    if not isinstance(token, str) or len(token) not in (length, 2 * length):
        return ""
    if any(c not in chars for c in token):
        return ""
    if len(token) == length:
        return token
    mask, cipher = token[:length], token[length:]
    return "".join(
        chars[(chars.index(c) - chars.index(m)) % len(chars)]
        for c, m in zip(cipher, mask, strict=True)
    )


def session_binding(secret: str) -> str:
    """What an upload token stores of the browser session: an HMAC of its CSRF
    secret (``""`` when there is none). Django rotates the secret at login."""
    return _hmac(_SESSION_SALT, secret, settings.SECRET_KEY) if secret else ""


def _user_key(request: Any) -> str:
    user = getattr(request, "user", None)
    return f"user:{user.pk}" if user is not None and user.is_authenticated else ""


def user_binding(request: Any) -> str:
    """What an upload token stores of the signed-in user (``""``: anonymous)."""
    key = _user_key(request)
    return _hmac(_USER_SALT, key, settings.SECRET_KEY) if key else ""


def request_secret(request: Any) -> str:
    """The CSRF secret of a request the views' CSRF check passed."""
    return str(request.META.get("CSRF_COOKIE") or "")


def bindings(request: Any) -> tuple[str, str]:
    """``(session, user)``: what an upload token stores of a request (under
    ``SECRET_KEY``)."""
    return session_binding(request_secret(request)), user_binding(request)


def session_bindings(secret: str) -> tuple[str, ...]:
    """``session_binding(secret)`` under ``SECRET_KEY`` and each of
    ``SECRET_KEY_FALLBACKS``: a token made before a key rotation still matches,
    as Django's own signing allows (``()`` when there is no secret)."""
    return tuple(_hmac(_SESSION_SALT, secret, key) for key in _keys()) if secret else ()


def user_bindings(request: Any) -> tuple[str, ...]:
    """``user_binding(request)`` under every key (``session_bindings``); ``()``:
    anonymous."""
    user = _user_key(request)
    return tuple(_hmac(_USER_SALT, user, key) for key in _keys()) if user else ()


def _keys() -> list[Any]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]


def _hmac(salt: str, value: str, key: Any) -> str:
    return salted_hmac(salt, value, secret=key, algorithm="sha256").hexdigest()


@dataclass(frozen=True)
class Limits:
    """What a form field accepts; signed into the page as the field token."""

    storage: str  # the STORAGES alias
    upload_to: str  # a folder in that storage, "" or ending in "/"
    max_size: int
    content_types: tuple[str, ...] = ()  # exact types or "type/" prefixes; () = any
    field: str = ""  # the form field's name in the page ("" until rendered)

    def allows_type(self, content_type: str) -> bool:
        """Exact types, or ``"type/"`` prefixes, which admit no type a browser runs
        (``"image/"`` is not ``image/svg+xml``: name that one exactly)."""
        if not self.content_types:
            return True
        found = active.essence(content_type)
        if found is None:
            return False
        return any(
            (found.startswith(allowed) and not active.runs_script(found))
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
            field=str(data["field"]),
        )

    @classmethod
    def from_token(cls, token: Any) -> Limits:
        try:
            return cls.from_data(signing.loads(str(token), salt=FIELD_SALT, max_age=FIELD_MAX_AGE))
        except signing.SignatureExpired:
            raise UploadRefused(
                "This page is too old to upload files: reload it.", code="expired"
            ) from None
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise UploadRefused(
                "This upload field's token is not valid: reload the page.", code="invalid"
            ) from None


@dataclass(frozen=True)
class Upload:
    """One upload the server started (or a file it accepted): its name, its
    multipart upload id, and who started it."""

    limits: Limits
    name: str  # the file's name in the storage (no location prefix)
    upload_id: str | None = None
    session: str = ""  # session_binding() of the browser that signed it
    user: str = ""  # user_binding() of the user who signed it
    accepted: bool = False  # a name clean() accepted, not an upload key

    def token(self) -> str:
        data = {**asdict(self), "limits": asdict(self.limits)}
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
            return cls(
                Limits.from_data(data["limits"]),
                str(data["name"]),
                data["upload_id"],
                str(data["session"]),
                str(data["user"]),
                bool(data["accepted"]),
            )
        except signing.SignatureExpired:
            raise UploadRefused(
                "This upload has expired: choose the file again.", code="expired"
            ) from None
        except (signing.BadSignature, KeyError, TypeError, ValueError, InvalidStorageError):
            raise UploadRefused(
                "This upload's token is not valid: choose the file again.", code="invalid"
            ) from None


@dataclass(frozen=True)
class Submitted:
    """An upload token submitted for a field, and who submitted it: ``session``,
    the ``session_bindings()`` of the CSRF secret the submission carried;
    ``user``, the ``user_bindings()`` of its user (``()``: anonymous), or
    ``None`` where no request is known (a form's ``clean()``); ``field``, the
    field's name."""

    token: str
    session: tuple[str, ...]
    user: tuple[str, ...] | None
    field: str

    @classmethod
    def from_form(cls, token: str, csrf_token: str, field: str) -> Submitted:
        """As a form posts it: the token and its ``csrfmiddlewaretoken``."""
        return cls(token, session_bindings(csrf_secret(csrf_token)), None, field)

    @classmethod
    def from_request(cls, token: str, request: Any, field: str) -> Submitted:
        """As an API view receives it: the request knows its user."""
        return cls(token, *identities(request), field)


def identities(request: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(session, user)`` bindings of a request under every key, to compare a
    token's with (``owns``)."""
    return session_bindings(request_secret(request)), user_bindings(request)


def owns(upload: Upload, session: tuple[str, ...], user: tuple[str, ...] | None) -> bool:
    """Whether the submitter (its ``session``/``user`` bindings under every key;
    ``user=None``: unknown) may use ``upload``: the same user, signed in; or, for
    an anonymous upload or where the user is unknown, the same browser session."""
    if user is not None:
        if not _matches(upload.user, user):
            return False
        if upload.user:
            return True
    return bool(upload.session) and _matches(upload.session, session)


def _matches(stored: str, candidates: tuple[str, ...]) -> bool:
    """``stored`` is one of ``candidates``, or both are empty (anonymous)."""
    if not candidates:
        return not stored
    return any(constant_time_compare(stored, found) for found in candidates)


NOT_YOURS = "This upload was started by someone else, or before you signed in."
NOT_ALLOWED = "You are not allowed to upload files here."


def storage_for(alias: str) -> SigV4S3Storage:
    storage = storages[alias]
    if not isinstance(storage, SigV4S3Storage):
        raise ImproperlyConfigured(
            f"{PREFIX}: direct uploads need STORAGES[{alias!r}] to be a "
            f"sigv4_storage class, not {type(storage).__name__}."
        )
    return storage


def check_permission(request: Any, limits: Limits) -> None:
    """The permission hook, ``SIGV4_STORAGE_UPLOAD_PERMISSION(request, limits)``
    (``limits.field``, ``.storage``, ``.upload_to``, ``.max_size``,
    ``.content_types``: what is asked for), else signed-in users."""
    path = getattr(settings, PERMISSION_SETTING, None)
    if path:
        hook = import_string(path) if isinstance(path, str) else path
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
    value = getattr(settings, MAX_OPEN_SETTING, MAX_OPEN_DEFAULT)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ImproperlyConfigured(
            f"{PREFIX}: {MAX_OPEN_SETTING}={value!r} must be a whole number ≥ 1 "
            f"(unfinished multipart uploads one user may have in a field's folder; "
            f"default {MAX_OPEN_DEFAULT})."
        )
    return value


def _owner(request: Any) -> str:
    """8 characters of the uploader in the upload key's folder: the user, or the
    browser session; their unfinished multipart uploads are listed by it."""
    who = _user_key(request) or "session:" + request_secret(request)
    return salted_hmac(_OWNER_SALT, who, algorithm="sha256").hexdigest()[:8]


def _check_open_uploads(storage: SigV4S3Storage, prefix: str) -> None:
    """Refuse a new multipart upload when the user has ``max_open()`` unfinished
    ones under ``prefix``; those whose part URLs have expired are aborted first."""
    limit = max_open()
    client = storage.connection.meta.client
    listed = client.list_multipart_uploads(
        Bucket=storage.bucket_name, Prefix=storage.s3_key(prefix)
    ).get("Uploads", [])
    if len(listed) < limit:
        return
    dead = time.time() - storage.querystring_expire - 3600  # its URLs expired an hour ago
    open_ = len(listed)
    for found in listed:
        if found["Initiated"].timestamp() < dead:
            client.abort_multipart_upload(
                Bucket=storage.bucket_name, Key=found["Key"], UploadId=found["UploadId"]
            )
            open_ -= 1
    if open_ >= limit:
        logger.warning("Refused a multipart upload under %r: %d unfinished.", prefix, open_)
        raise UploadRefused(
            f"You have {open_} unfinished uploads here: let them finish, or cancel "
            f"one, before starting another.",
            status=429,
            code="too_many",
        )


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
    owner = limits.upload_to + _owner(request)
    name = f"{owner}{uuid.uuid4().hex[:24]}/{filename}"
    try:
        storage.s3_key(name)
    except SuspiciousOperation as error:
        raise UploadRefused(f"This file name cannot be stored: {error}") from None
    upload = Upload(limits, name, session=session, user=user)
    if size <= storage.transfer_config.multipart_threshold:
        form = storage.presigned_post(name, max_size=limits.max_size, content_type=content_type)
        return {"mode": "post", **form, "upload": upload.token()}
    _check_open_uploads(storage, owner)
    started = storage.start_multipart_upload(name, size=size, content_type=content_type)
    upload = replace(upload, upload_id=started["upload_id"])
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
    return {"aborted": True}


def accepted_name(name: str, upload_to: str) -> str:
    """The name a file is accepted under: its folder replaced by one derived from
    it (an HMAC), which no policy or part URL was ever signed for."""
    folder, _, filename = name[len(upload_to) :].partition("/")
    derived = salted_hmac(_ACCEPTED_SALT, folder, algorithm="sha256").hexdigest()[:32]
    return f"{upload_to}{derived}/{filename}"


def _head(storage: SigV4S3Storage, name: str) -> dict[str, Any] | None:
    try:
        head: dict[str, Any] = storage.connection.meta.client.head_object(
            Bucket=storage.bucket_name, Key=storage.s3_key(name)
        )
    except ClientError as error:
        if error_status(error) == 404:
            return None
        raise
    return head


def accept(submitted: Submitted, limits: Limits) -> tuple[str, str]:
    """Check a submitted upload and make it final: ``(name, token)``, the name the
    model stores and a token standing for it (for a form shown again with errors).

    The token must be genuine, young, made for this form field and signed in this
    browser session. The accepted name must be free (a ``HeadObject``), and the
    upload, with a second one, must exist, within ``max_size``, of an allowed type
    (an upload key over the limits is deleted; an accepted file never is). Then
    the object is copied to ``accepted_name()``, which the copy claims first
    (``creates.claim``), and the upload key deleted: no outstanding policy or
    part URL can change the accepted file, and a second use of the token is
    refused (the name is taken; two at once: one claim wins), on every server.
    """
    upload = Upload.from_token(submitted.token)
    if upload.limits != replace(limits, field=submitted.field):
        raise UploadRefused("This upload was made for another field.", code="invalid")
    if not upload.name.startswith(limits.upload_to):
        raise UploadRefused("This upload is outside the field's folder.", code="invalid")
    if not owns(upload, submitted.session, submitted.user):
        if not submitted.session and submitted.user is None:
            logger.warning(
                "A direct-upload field was submitted without csrfmiddlewaretoken: render "
                "the form with {% csrf_token %} (the upload token is bound to it)."
            )
        raise UploadRefused(NOT_YOURS + " Choose the file again.", 403, "not_yours")
    storage = storage_for(limits.storage)
    final = accepted_name(upload.name, limits.upload_to)
    head = _head(storage, upload.name)
    if head is None:  # deleted when it was accepted, or never sent
        if storage.exists(final):
            raise UploadRefused("This upload has been used already.", code="used")
        raise UploadRefused("The file did not arrive in storage: choose it again.", code="missing")
    _check_stored(storage, upload, head, limits)
    # An active type is an attachment whatever the server kept of the POST form
    # (Ceph RGW drops its Content-Disposition field: ``behaviour.POST_FIELDS``).
    downloads = active.stored_as_attachment(
        storage.s3_config.active_content, str(head.get("ContentType", ""))
    )
    try:
        storage.copy_new(
            upload.name, final, head=head, disposition=active.ATTACHMENT if downloads else None
        )
    except FileExistsError:
        if not upload.accepted:
            storage.delete(upload.name)  # used once already: nothing may reach it now
        raise UploadRefused("This upload has been used already.", code="used") from None
    except SourceChanged:
        raise UploadRefused(
            "The file changed while it was checked: choose it again.", code="invalid"
        ) from None
    if not upload.accepted:
        storage.delete(upload.name)
    return final, replace(upload, name=final, upload_id=None, accepted=True).token()


def _check_stored(
    storage: SigV4S3Storage, upload: Upload, head: dict[str, Any], limits: Limits
) -> None:
    """Refuse a stored object outside the field's limits; an upload key is deleted."""
    key = storage.s3_key(upload.name)
    size, content_type = int(head.get("ContentLength", 0)), str(head.get("ContentType", ""))
    if size > limits.max_size or not limits.allows_type(content_type):
        if not upload.accepted:
            storage.delete(upload.name)
        logger.warning(
            "Refused %r: %d bytes of type %r, over the field's limits (%d bytes, %s).",
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
