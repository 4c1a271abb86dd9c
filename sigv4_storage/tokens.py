"""Upload tokens, and who they are bound to.

The browser never names a key. A form field renders a *field token*
(``Limits``: its storage alias, ``upload_to`` prefix, size limit, allowed
types and the form field's name, signed with Django's ``signing`` so the page
cannot change them; good for a day). The sign step answers with an *upload
token* (``Upload``: the key the server picked, its multipart upload id) bound
to the user and to the browser's session (an HMAC of its CSRF secret, which
Django rotates at login). A form or an API submits it back (``Submitted``);
``owns`` says whether the submitter may use it, under ``SECRET_KEY`` or any
of ``SECRET_KEY_FALLBACKS``. Every refusal is an ``UploadRefused``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import InvalidStorageError, storages
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.crypto import constant_time_compare, salted_hmac

from . import content as active
from .checkids import PREFIX
from .storage import SigV4S3Storage

__all__ = ["Limits"]

FIELD_SALT = "sigv4_storage.uploads.field"
UPLOAD_SALT = "sigv4_storage.uploads.upload"
#: Seconds an upload token stays good after its URLs expire: time to submit the form.
SUBMIT_WITHIN = 86400
#: Seconds a rendered field token can start uploads: reload a page older than this.
FIELD_MAX_AGE = 86400
_SESSION_SALT = "sigv4_storage.uploads.session"
_USER_SALT = "sigv4_storage.uploads.user"


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


def user_key(request: Any) -> str:
    """Who the request's user is, for an HMAC (``""``: anonymous)."""
    user = getattr(request, "user", None)
    return f"user:{user.pk}" if user is not None and user.is_authenticated else ""


def user_binding(request: Any) -> str:
    """What an upload token stores of the signed-in user (``""``: anonymous)."""
    key = user_key(request)
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
    user = user_key(request)
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
    size: int | None = None  # the declared size of an upload sent in parts (to resume it)

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
                None if data.get("size") is None else int(data["size"]),
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
