"""Accepting a submitted direct upload: what the server checks on submit.

The form submits only the upload token (and the CSRF token it always
carries). On ``clean()`` the server checks the token (genuine, young, made
for this form field, in this session: ``tokens``) and the object with one
``HeadObject``, then *accepts* it: a server-side copy to a name derived from
the upload key that no policy or part URL ever covered, claimed first with a
conditional ``PutObject`` (``creates.claim``), and the upload key is deleted
(its slot freed: ``pending``). The model's ``FileField`` stores that name. A
second use of the token meets the claim (412) and is refused, in any process
and on every server: the state is S3's own. The token of the accepted file
(for a form shown again) stands for that file as it is: submitted again, it
is the same name, with no copy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError
from django.core.exceptions import ValidationError
from django.utils.crypto import salted_hmac

from . import pending, verify
from .creates import SourceChanged
from .errors import error_status
from .pending import PENDING
from .ranged import ObjectChanged
from .storage import SigV4S3Storage
from .tokens import NOT_YOURS, Limits, Submitted, Upload, UploadRefused, owns, storage_for
from .uploads import size_text

logger = logging.getLogger("sigv4_storage")

_ACCEPTED_SALT = "sigv4_storage.uploads.accepted"


def accepted_name(name: str, upload_to: str) -> str:
    """The name an upload is accepted under: out of the pending folder, in
    ``upload_to``, its folders replaced by one derived from them (an HMAC), which
    no policy or part URL was ever signed for."""
    folder, _, filename = name[len(PENDING + upload_to) :].rpartition("/")
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


#: A check of the upload's bytes before it is accepted: raises ``ValidationError``.
Check = Callable[[verify.StoredUpload], None]


def accept(submitted: Submitted, limits: Limits, check: Check | None = None) -> tuple[str, str]:
    """Check a submitted upload and make it final: ``(name, token)``, the name the
    model stores and a token standing for it (for a form shown again with errors).

    The token must be genuine, young, made for this form field and signed in this
    browser session. An accepted file's token gives its name back if the file
    is still stored (one ``HeadObject``). An upload must exist (a ``HeadObject``),
    within ``max_size``, of an allowed type, its first bytes of the type it was
    sent as (``verify.content``), and pass ``check`` (the field's image check and
    validators): an upload refused is deleted. Then the object is copied to
    ``accepted_name()``, which the copy claims first (``creates.claim``), and the
    upload key deleted: no outstanding policy or part URL can change the accepted
    file, and a second use of the token is refused (the name is taken; two at
    once: one claim wins), on every server.
    """
    upload = Upload.from_token(submitted.token)
    if upload.limits != replace(limits, field=submitted.field):
        raise UploadRefused("This upload was made for another field.", code="invalid")
    folder = limits.upload_to if upload.accepted else PENDING + limits.upload_to
    if not upload.name.startswith(folder):
        raise UploadRefused("This upload is outside the field's folder.", code="invalid")
    if not owns(upload, submitted.session, submitted.user):
        if not submitted.session and submitted.user is None:
            logger.warning(
                "A direct-upload field was submitted without csrfmiddlewaretoken: render "
                "the form with {% csrf_token %} (the upload token is bound to it)."
            )
        raise UploadRefused(NOT_YOURS + " Choose the file again.", 403, "not_yours")
    storage = storage_for(limits.storage)
    if upload.accepted:  # a form shown again: the file it accepted, as it is
        if not storage.exists(upload.name):
            raise UploadRefused("The file is no longer stored: choose it again.", code="missing")
        return upload.name, submitted.token
    final = accepted_name(upload.name, limits.upload_to)
    head = _head(storage, upload.name)
    if head is None:  # deleted when it was accepted, or never sent
        if storage.exists(final):
            raise UploadRefused("This upload has been used already.", code="used")
        raise UploadRefused("The file did not arrive in storage: choose it again.", code="missing")
    _check_stored(storage, upload, head, limits)
    _check_content(storage, upload.name, final, head, check)
    # The accepted file is written as save() writes it (object parameters, ACL, an
    # active type as an attachment), whatever the server kept of the POST form
    # (Ceph RGW drops its Content-Disposition field: ``behaviour.POST_FIELDS``).
    parameters = storage.write_parameters(final, str(head.get("ContentType", "")) or None)
    try:
        storage.copy_new(upload.name, final, head=head, parameters=parameters)
    except FileExistsError:
        # Used already, or being used by a simultaneous submission, whose copy may
        # still need the upload key: it deletes the key; a replayed POST's object
        # left there is removed with the pending folder (``pending``).
        raise UploadRefused("This upload has been used already.", code="used") from None
    except SourceChanged:
        raise UploadRefused(
            "The file changed while it was checked: choose it again.", code="invalid"
        ) from None
    _drop(storage, upload.name)
    return final, replace(upload, name=final, upload_id=None, accepted=True).token()


def _check_stored(
    storage: SigV4S3Storage, upload: Upload, head: dict[str, Any], limits: Limits
) -> None:
    """Refuse a stored object outside the field's limits; an upload key is deleted."""
    key = storage.s3_key(upload.name)
    size, content_type = int(head.get("ContentLength", 0)), str(head.get("ContentType", ""))
    if size > limits.max_size or not limits.allows_type(content_type):
        _drop(storage, upload.name)
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


def _check_content(
    storage: SigV4S3Storage, name: str, final: str, head: dict[str, Any], check: Check | None
) -> None:
    """Read what the upload key holds (the version ``head`` saw) and refuse it, deleted,
    unless its bytes are of its declared type and pass ``check``."""
    stored = verify.StoredUpload(storage, name, final, head)
    try:
        verify.content(stored)
        if check is not None:
            check(stored)
    except ValidationError as refused:
        _drop(storage, name)
        logger.warning(
            "Refused %r (%s): %s",
            storage.s3_key(name),
            stored.content_type,
            "; ".join(refused.messages),
        )
        raise
    except ObjectChanged:
        _drop(storage, name)
        raise UploadRefused(
            "The file changed while it was checked: choose it again.", code="invalid"
        ) from None
    finally:
        stored.close()


def _drop(storage: SigV4S3Storage, name: str) -> None:
    """Delete an upload key, and free its slot (one request)."""
    pending.release(storage, name, delete=True)
