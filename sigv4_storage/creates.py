"""New files created atomically: ``file_overwrite=False`` with S3 conditional writes.

Django's ``Storage.save()`` picks a free name with ``exists()`` (a
``HeadObject``) and then writes: two requests, and a race. Two uploads of
``avatar.jpg`` in the same second both see the name free, both write, and
the second silently replaces the first. ``FileSystemStorage`` avoids this
with ``O_EXCL``; S3's equivalent is a conditional write: ``PutObject`` (and
``CompleteMultipartUpload``) with ``If-None-Match: *`` answers
``412 PreconditionFailed`` when the key exists.

So a storage with ``file_overwrite=False`` asks no ``HeadObject``: it writes
the name Django's ``get_available_name`` gives (its truncation to
``max_length`` and its alternative names, with the names known to be taken
standing in for ``exists()``); on 412 it takes the next alternative name and
writes again, at most ``MAX_ATTEMPTS`` times. One request per save of a new
name. A multipart upload refused at completion is aborted by s3transfer (no
open upload is left) and uploaded again under the next name.

A write whose answer is lost (the server stored the object, the connection
dropped before the response) is retried by botocore and meets its own
object: 412. Each conditional create therefore carries a random write id in
its metadata (``x-amz-meta-sigv4-write-id``); on a 412 after a retry, one
``HeadObject`` tells our own earlier attempt (success, same name) from another
upload's (the next name).

Only a conditional ``PutObject`` is trusted: Ceph RGW ignores the condition
on ``CompleteMultipartUpload`` and ``CopyObject``, and SeaweedFS and moto
server let two simultaneous completions of one name both succeed
(``behaviour``). So a file that may go multipart (``size`` unknown or at least
the transfer's ``multipart_threshold``) and every copy first *claim* the
name: an empty ``PutObject`` with ``If-None-Match: *`` and the write id
(``claim``). The claim's winner then writes over its own claim, unconditionally;
the others take the next name. A write that fails after its claim deletes the
claim (``release``). One more small request per large file or copy; a small
file is still one request.

Servers that do not implement the header (``501 NotImplemented``, or a 400
that names it) are remembered per endpoint (``behaviour.CONDITIONAL_PUT``):
storages on that endpoint go back to Django's check-then-write, with one
warning per process.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from django.core.files.storage import Storage
from storages.utils import clean_name

from . import behaviour
from .behaviour import CONDITIONAL_PUT, PINNED_COPY
from .checkids import PREFIX
from .errors import error_code, error_message, error_status, retry_attempts

__all__ = ["SourceChanged"]

logger = logging.getLogger("sigv4_storage")

#: Writes of one save before giving up: each refused name is replaced by a random one.
MAX_ATTEMPTS = 10

#: The metadata key (``x-amz-meta-…``) that marks which write created an object.
WRITE_ID = "sigv4-write-id"


def new_write_id() -> str:
    return uuid.uuid4().hex


def retried(error: ClientError) -> bool:
    """Whether botocore sent the refused request more than once (an earlier attempt
    may have been stored, its answer lost)."""
    return retry_attempts(error) > 0


def written_by(client: Any, bucket: str, key: str, write_id: str) -> bool:
    """Whether the object at ``key`` was created by the write ``write_id``."""
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return False
    return bool(head.get("Metadata", {}).get(WRITE_ID) == write_id)


class NameTaken(Exception):
    """S3 refused to create ``name``: another write created it first. ``sent``:
    whether the content was read for it (a refused claim reads nothing)."""

    def __init__(self, name: str, sent: bool = True) -> None:
        super().__init__(name)
        self.name = name
        self.sent = sent


class ConditionalWritesUnsupported(Exception):
    """The server does not implement ``If-None-Match`` on writes."""


class KnownNames(Storage):
    """Django's own name picking, with the names known to be taken as ``exists()``.

    ``get_available_name`` is Django's, unchanged (validation, alternative
    names, truncation to ``max_length``); only ``exists()`` answers from the
    names S3 refused, instead of asking S3.
    """

    def __init__(self, storage: Storage, taken: set[str]) -> None:
        self._storage = storage
        self._taken = taken

    def exists(self, name: str) -> bool:
        return name in self._taken

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        alternative: str = self._storage.get_alternative_name(file_root, file_ext)
        return alternative


def add_if_none_match(params: dict[str, Any], **_: Any) -> None:
    """``before-parameter-build`` handler: create only, never replace."""
    params.setdefault("IfNoneMatch", "*")


def add_if_none_match_header(request: Any, **_: Any) -> None:
    """``before-sign`` handler for ``CopyObject`` (signed with the request):
    botocore before 1.40 has no ``IfNoneMatch`` parameter there."""
    request.headers["If-None-Match"] = "*"


def register(events: Any) -> None:
    """Make a client's ``PutObject``, ``CompleteMultipartUpload`` and ``CopyObject``
    conditional."""
    for operation in ("PutObject", "CompleteMultipartUpload"):
        events.register(f"before-parameter-build.s3.{operation}", add_if_none_match)
    events.register("before-sign.s3.CopyObject", add_if_none_match_header)


#: Headers a server-side copy carries over from the source (``HeadObject``'s names).
COPIED = ("ContentType", "ContentDisposition", "ContentEncoding", "ContentLanguage", "CacheControl")
#: S3's largest ``CopyObject`` (and part copy): a larger object is copied in ranges.
COPY_PART = 5 * 1024**3


class SourceChanged(Exception):
    """The object being copied was replaced after it was checked."""


def operation_parameters(client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The ``params`` (a write's, as ``save()`` builds them) that botocore's
    ``operation`` takes: ``CreateMultipartUpload`` and ``CopyObject`` have no
    place for some of ``PutObject``'s."""
    members = client.meta.service_model.operation_model(operation).input_shape.members
    return {name: value for name, value in params.items() if name in members}


def copy(
    client: Any,
    bucket: str,
    source: str,
    target: str,
    head: dict[str, Any],
    write_id: str,
    parameters: dict[str, Any] | None = None,
) -> None:
    """Copy ``source`` (as ``head``, its ``HeadObject`` answer, describes it) to
    ``target`` on the server, with its type, disposition and metadata, each
    replaced by ``parameters`` (a write's: ``ACL``, ``CacheControl``,
    ``Metadata`` merged, ...) where given, plus the write id. The target is
    claimed already (``claim``): the copy writes over the claim, unconditionally.

    The source is pinned to the checked version twice: ``CopySourceIfMatch``
    (a 412 or 404 where the server honours it: ``SourceChanged``), and, as Ceph
    RGW ignores that header, by comparing after the copy the copy's ETag, else
    the source's, with the checked one (``SourceChanged`` when neither matches;
    the target is then the caller's to release). Up to ``COPY_PART`` bytes one
    ``CopyObject``; above, ``UploadPartCopy`` in ranges, aborted on failure.
    """
    extra: dict[str, Any] = {name: head[name] for name in COPIED if head.get(name)}
    given = dict(parameters or {})
    metadata = {**head.get("Metadata", {}), **given.pop("Metadata", {}), WRITE_ID: write_id}
    extra.update(given, Metadata=metadata)
    if "Tagging" in extra:  # a copy keeps the source's tags unless told otherwise
        extra["TaggingDirective"] = "REPLACE"
    pinned = {"Bucket": bucket, "Key": source}
    size, etag = int(head.get("ContentLength") or 0), str(head.get("ETag", ""))
    try:
        if size <= COPY_PART:
            answer = client.copy_object(
                Bucket=bucket,
                Key=target,
                CopySource=pinned,
                CopySourceIfMatch=etag,
                MetadataDirective="REPLACE",
                **operation_parameters(client, "CopyObject", extra),
            )
            copied = str(answer.get("CopyObjectResult", {}).get("ETag", ""))
        else:
            _copy_in_parts(client, bucket, pinned, target, size, etag, extra)
            copied = ""
    except ClientError as error:
        if error_status(error) in (404, 412):
            raise SourceChanged(source) from None
        raise
    if same_etag(copied, etag):
        return
    try:  # the server gave the copy another ETag, or ignored CopySourceIfMatch
        now = str(client.head_object(Bucket=bucket, Key=source).get("ETag", ""))
    except ClientError as error:
        if error_status(error) == 404:
            raise SourceChanged(source) from None
        raise
    if not same_etag(now, etag):
        behaviour.learn(client.meta.endpoint_url, PINNED_COPY, False, "a changed source was copied")
        raise SourceChanged(source)


def _copy_in_parts(
    client: Any,
    bucket: str,
    pinned: dict[str, str],
    target: str,
    size: int,
    etag: str,
    extra: dict[str, Any],
) -> None:
    upload_id = client.create_multipart_upload(
        Bucket=bucket, Key=target, **operation_parameters(client, "CreateMultipartUpload", extra)
    )["UploadId"]
    try:
        parts = []
        for number, start in enumerate(range(0, size, COPY_PART), 1):
            answer = client.upload_part_copy(
                Bucket=bucket,
                Key=target,
                UploadId=upload_id,
                PartNumber=number,
                CopySource=pinned,
                CopySourceIfMatch=etag,
                CopySourceRange=f"bytes={start}-{min(start + COPY_PART, size) - 1}",
            )
            parts.append({"PartNumber": number, "ETag": answer["CopyPartResult"]["ETag"]})
        client.complete_multipart_upload(
            Bucket=bucket, Key=target, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        client.abort_multipart_upload(Bucket=bucket, Key=target, UploadId=upload_id)
        raise


def same_etag(a: str, b: str) -> bool:
    """ETags equal, quoted or not (Ceph RGW answers CopyObject's unquoted)."""
    return bool(a) and a.strip('"') == b.strip('"')


def claim(client: Any, bucket: str, key: str, write_id: str) -> None:
    """Take ``key`` for the write ``write_id`` before a multipart upload or a copy
    onto it: an empty object, created only if the key is free (``If-None-Match:
    *``, the one condition every tested server honours atomically). A refusal
    is ``NameTaken`` (or ``ConditionalWritesUnsupported``); a refusal of a
    retried claim that meets this write's own claim is success."""
    try:
        client.put_object(
            Bucket=bucket, Key=key, Body=b"", IfNoneMatch="*", Metadata={WRITE_ID: write_id}
        )
    except ClientError as error:
        outcome = classify(error, key)
        if outcome is error:
            raise
        if (
            isinstance(outcome, NameTaken)
            and retried(error)  # an earlier attempt may be this claim, its answer lost
            and written_by(client, bucket, key, write_id)
        ):
            return
        raise outcome from None


def release(client: Any, bucket: str, key: str, write_id: str) -> None:
    """Delete ``key`` if the write ``write_id`` made it (its claim, or a copy that
    was refused after it landed): a failed write leaves nothing behind."""
    try:
        if written_by(client, bucket, key, write_id):
            client.delete_object(Bucket=bucket, Key=key)
    except ClientError:
        logger.warning("%s: could not delete the claim on %r of a failed write.", PREFIX, key)


def classify(error: ClientError, name: str) -> Exception:
    """``NameTaken`` or ``ConditionalWritesUnsupported`` for a refused write, else ``error``."""
    status, code = error_status(error), error_code(error)
    message = error_message(error).lower()
    # 409 ConditionalRequestConflict: a concurrent conditional write won.
    if status == 412 or code in ("PreconditionFailed", "ConditionalRequestConflict"):
        return NameTaken(name)
    if status == 501 or code == "NotImplemented":
        return ConditionalWritesUnsupported(code or str(status))
    if status == 400 and ("if-none-match" in message or "conditional" in message):
        return ConditionalWritesUnsupported(code or str(status))
    return error


def supported(endpoint: str) -> bool:
    """Whether ``endpoint`` is taken as honouring ``If-None-Match`` on ``PutObject``."""
    return behaviour.honours(endpoint, CONDITIONAL_PUT)


def mark_unsupported(endpoint: str, why: str) -> None:
    behaviour.learn(endpoint, CONDITIONAL_PUT, False, f"answered {why}")


class AtomicCreatesMixin:
    """A storage's side of atomic creates: with ``file_overwrite=False``, ``save()``
    writes conditionally and takes the next name on 412 (see the module docstring).

    Composed before django-storages' ``S3Storage``. Inside such a ``save()``, in
    that thread only, ``bucket`` is a ``Bucket`` on the client whose writes are
    conditional, so django-storages' own ``_save`` (and s3transfer's multipart
    uploads) send ``If-None-Match: *`` without being changed.
    """

    if TYPE_CHECKING:
        bucket_name: str
        default_acl: str | None
        file_overwrite: bool
        connection: Any
        transfer_config: Any

        def settled(self) -> Any: ...
        def s3_key(self, name: Any) -> str: ...
        def _shared(self, signed: bool, public: bool = ..., create: bool = ...) -> Any: ...

    def _creates_atomically(self) -> bool:
        """Whether ``save()`` creates new files with conditional writes now."""
        return not self.file_overwrite and supported(self.settled().endpoint_url)

    @property
    def _create_state(self) -> threading.local:
        state = self.__dict__.get("_create_local")
        if state is None:
            state = self.__dict__["_create_local"] = threading.local()
        return state

    @property
    def bucket(self) -> Any:
        """boto3's ``s3.Bucket``, as django-storages gives it (the conditional one
        inside an atomic ``save()``, in that thread)."""
        creating = getattr(self._create_state, "bucket", None)
        if creating is not None:
            return creating
        return super().bucket  # type: ignore[misc]

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        if not self._creates_atomically():
            return str(super().save(name, content, max_length))  # type: ignore[misc]
        state = self._create_state
        taken: set[str] = set()
        try:
            for _ in range(MAX_ATTEMPTS):
                state.taken = taken
                try:
                    return str(super().save(name, content, max_length))  # type: ignore[misc]
                except NameTaken as refused:
                    taken.add(refused.name)
                    if refused.sent and not _seekable(content):
                        raise FileExistsError(
                            f"{PREFIX}: {refused.name!r} was created by another upload "
                            f"while this one was sent, and this content cannot be read again "
                            f"to send it under another name. Pass a seekable file."
                        ) from None
                except ConditionalWritesUnsupported as why:
                    mark_unsupported(self.settled().endpoint_url, str(why))
                    state.taken = None
                    return str(super().save(name, content, max_length))  # type: ignore[misc]
        finally:
            state.taken = None
        raise FileExistsError(
            f"{PREFIX}: no free name for {name!r} after {MAX_ATTEMPTS} "
            f"attempts: each was created by another upload first ({sorted(taken)[:3]}...)."
        )

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        taken = getattr(self._create_state, "taken", None)
        if taken is None:  # called directly, or file_overwrite: django-storages' answer
            return str(super().get_available_name(name, max_length))  # type: ignore[misc]
        # Django's algorithm; the names S3 refused stand in for exists(): no HeadObject.
        known = KnownNames(self, taken)  # type: ignore[arg-type]
        return str(known.get_available_name(clean_name(name), max_length))

    def _save(self, name: str, content: Any) -> str:
        state = self._create_state
        if getattr(state, "taken", None) is None:
            return str(super()._save(name, content))  # type: ignore[misc]
        state.write_id = write_id = new_write_id()
        try:
            if self._may_go_multipart(content):
                return self._save_claimed(name, content, write_id)
            state.bucket = (
                self._shared(signed=True, create=True).resource().Bucket(self.bucket_name)
            )
            try:
                return str(super()._save(name, content))  # type: ignore[misc]
            except ClientError as error:
                outcome = classify(error, name)
                if outcome is error:
                    raise
                if (
                    isinstance(outcome, NameTaken)
                    and retried(error)  # a first attempt's 412 is another upload's
                    and written_by(
                        self.connection.meta.client, self.bucket_name, self.s3_key(name), write_id
                    )
                ):  # our own write, whose answer was lost: botocore's retry met it
                    return str(clean_name(name))
                raise outcome from None
        finally:
            state.bucket = None
            state.write_id = None

    def _may_go_multipart(self, content: Any) -> bool:
        """Whether s3transfer may upload ``content`` in parts (its size unknown, or at
        least ``multipart_threshold``): then the name is claimed first."""
        try:
            size = int(content.size)
        except (AttributeError, TypeError, ValueError, OSError):
            return True
        return bool(size >= self.transfer_config.multipart_threshold)

    def _save_claimed(self, name: str, content: Any, write_id: str) -> str:
        """Claim the name (``claim``), then upload over the claim; a failed upload
        releases it."""
        client, key = self.connection.meta.client, self.s3_key(name)
        try:
            claim(self._shared(signed=True).client, self.bucket_name, key, write_id)
        except NameTaken:
            raise NameTaken(name, sent=False) from None
        try:
            return str(super()._save(name, content))  # type: ignore[misc]
        except BaseException:
            release(client, self.bucket_name, key, write_id)
            raise

    def _get_write_parameters(self, name: str, content: Any = None) -> dict[str, Any]:
        params: dict[str, Any] = super()._get_write_parameters(name, content)  # type: ignore[misc]
        write_id = getattr(self._create_state, "write_id", None)
        if write_id is not None:  # a conditional create: mark the object as this write's
            params["Metadata"] = {**params.get("Metadata", {}), WRITE_ID: write_id}
        return params

    def copy_new(
        self,
        name: str,
        new_name: str,
        *,
        head: dict[str, Any],
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """Copy the file ``name`` to the new name ``new_name`` on the server.

        ``head`` is ``name``'s ``HeadObject`` answer, as the caller checked it:
        the copy keeps its type, disposition and metadata, each replaced by
        ``parameters`` where given (a write's, as ``write_parameters`` builds
        them, or a few: ``{"ContentDisposition": "attachment"}``), with
        ``default_acl`` unless they name an ``ACL``, and is refused if ``name``
        changed or was deleted since
        (``SourceChanged``). It never replaces a file (``FileExistsError``) on
        servers with conditional writes: the new name is claimed first
        (``claim``); a copy refused after its claim leaves nothing behind.
        """
        source, target = self.s3_key(name), self.s3_key(new_name)
        endpoint = self.settled().endpoint_url
        write_id = new_write_id()
        client = self._shared(signed=True).client
        if supported(endpoint):
            try:
                claim(client, self.bucket_name, target, write_id)
            except NameTaken:
                raise FileExistsError(f"{PREFIX}: {target!r} exists already.") from None
            except ConditionalWritesUnsupported as why:
                mark_unsupported(endpoint, str(why))
        try:
            copy(
                client,
                self.bucket_name,
                source,
                target,
                head,
                write_id,
                {"ACL": self.default_acl, **(parameters or {})} if self.default_acl else parameters,
            )
        except BaseException:
            release(client, self.bucket_name, target, write_id)
            raise

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()  # type: ignore[assignment]
        state.pop("_create_local", None)
        return state


def _seekable(content: Any) -> bool:
    try:
        return bool(content.seekable())
    except (AttributeError, ValueError):
        return False
