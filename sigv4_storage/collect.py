"""``collectstatic`` against one listing: what a run asks S3, and what it sends.

Django's command asks ``exists()`` and ``get_modified_time()`` (two HEADs)
per file; a fresh checkout is always newer, so every file is deleted and sent
again; ``HashedFilesMixin`` adds an ``exists()`` per hashed name and saves
rewritten CSS on every pass. A ``Run`` answers all of that from one paginated
``ListObjectsV2`` of the storage's location and an in-memory record of what
this run wrote and deleted, and settles it at the end (``finish``):

1. every file written whose bytes are not stored yet is uploaded, in
   parallel (bounded). Bytes are stored when the listed ETag is the ETag of
   what would be sent (its MD5, gzipped when the storage gzips it; or the
   multipart ETag for the part size the transfer config gives), or when the
   name is a hashed name that is listed (its name is its content). An ETag
   that is no content hash (SSE-KMS, SSE-C, any other form) counts as changed;
2. then the manifest, once every file it names is stored;
3. then the deletes the run asked for (hashed files post-processing replaced,
   everything else under the location with ``--clear``).

Before its uploads, a run aborts the multipart uploads open under its
location that began before the run did (``abandoned``): a run killed while it
sent large files leaves its parts behind, and nobody else will finish them.
So two runs on one location at once are not supported (they would also race
on the manifest).

A failed upload stops the run before the manifest: the previous manifest is
still the live one, and every name in it still exists. While the run is on,
``open()`` of a collected or written name reads the local file or the bytes
in memory: post-processing never reads S3.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import itertools
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import ContentFile, File
from s3transfer.utils import ChunksizeAdjuster
from storages.utils import clean_name

from . import abandoned
from .checkids import PREFIX
from .errors import error_code
from .names import location_prefix

if TYPE_CHECKING:
    from storages.backends.s3 import S3Storage

#: Uploads at a time, unless ``--workers`` or ``AWS_S3_COLLECTSTATIC_WORKERS`` says.
DEFAULT_WORKERS = 10
MAX_WORKERS = 64
#: DeleteObjects takes at most this many keys per request.
DELETE_BATCH = 1000
logger = logging.getLogger("sigv4_storage")

#: A plain MD5 ETag, or a multipart one ("<md5 of the part MD5s>-<parts>").
_CONTENT_ETAG = re.compile(r"[0-9a-f]{32}(-[0-9]+)?")


class UploadFailed(Exception):
    """An upload of the run failed: nothing after it (manifest, deletes) was sent."""

    def __init__(self, name: str, error: BaseException) -> None:
        super().__init__(name, error)
        self.name = name
        self.error = error


@dataclass(frozen=True, slots=True)
class Listed:
    etag: str
    size: int


@dataclass(frozen=True, slots=True)
class Pending:
    """What a run will store under one name: a local file or bytes."""

    path: str | None = None
    data: bytes | None = None

    def open(self) -> File[Any]:
        if self.path is not None:
            return File(open(self.path, "rb"), name=self.path)  # noqa: SIM115 - closed by callers
        return ContentFile(self.data or b"")

    def read(self) -> bytes:
        with self.open() as f:
            return bytes(f.read())

    def size(self) -> int:
        return os.path.getsize(self.path) if self.path is not None else len(self.data or b"")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What django-storages' ``_save`` sends for a file: its bytes (gzipped when
    the storage gzips them, then sent as a stream of unknown size) and the
    write parameters."""

    body: bytes
    streamed: bool
    params: dict[str, Any]


def _pending(content: Any) -> Pending:
    """A local file stays a path (read when it is sent); anything else is read now."""
    path = getattr(getattr(content, "file", None), "name", None)
    if isinstance(path, str) and not isinstance(content, ContentFile):
        try:
            with open(path, "rb"):
                return Pending(path=path)
        except OSError:
            pass
    if hasattr(content, "seek"):
        content.seek(0)
    data = content.read()
    return Pending(data=data.encode() if isinstance(data, str) else bytes(data))


@dataclass
class Summary:
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: Keys of the multipart uploads earlier runs left open, aborted.
    aborted: list[str] = field(default_factory=list)
    requests: int = 0

    def line(self) -> str:
        aborted = len(self.aborted)
        left = ""
        if aborted:
            left = f", {aborted} abandoned upload{'' if aborted == 1 else 's'} aborted"
        written = len(self.uploaded) + len(self.unchanged)
        what = (
            f"of the {written} file{'' if written == 1 else 's'} Django wrote, "
            f"{len(self.uploaded)} uploaded, {len(self.unchanged)} already stored with the "
            f"same bytes"
            if written
            else "nothing to upload: Django wrote no file (its count of unmodified files is above)"
        )
        return (
            f"{PREFIX}: {what}; {len(self.deleted)} deleted{left}; {self.requests} S3 "
            f"request{'' if self.requests == 1 else 's'} (listings, uploads, deletes)."
        )


class Run:
    """One ``collectstatic`` run on one storage (``CollectstaticMixin.collecting``).

    ``key`` is the storage's name-to-key function (with its name checks);
    ``write`` stores a file now, bypassing the run; ``put``, when given, stores
    a file smaller than the multipart threshold in one ``PutObject`` of the
    bytes and parameters ``write`` would send (``Outgoing``), without
    s3transfer's manager, threads and boto3 resource per file.
    """

    def __init__(
        self,
        storage: S3Storage,
        *,
        key: Callable[[str], str],
        write: Callable[[str, Any], str],
        put: Callable[[str, Outgoing], None] | None = None,
        clear: bool = False,
    ) -> None:
        self.storage = storage
        self.key = key
        self.write = write
        self.put = put
        self.threshold: int = storage.transfer_config.multipart_threshold
        self.clear = clear
        self.prefix = location_prefix(storage.location) or ""
        self.listing: dict[str, Listed] = {}
        self.written: dict[str, Pending] = {}
        #: Collected names whose local source stands in for the stored object.
        self.local: dict[str, str] = {}
        self.deleted: set[str] = set()
        #: Names post-processing gave files (``hashed_files``): their bytes are in the name.
        self.hashed: set[str] = set()
        #: Multipart uploads under the location begun before this run (``abandoned``).
        self.abandoned: list[abandoned.OpenUpload] = []
        self.requests = 0
        self._lock = threading.Lock()

    @contextmanager
    def counting_requests(self) -> Iterator[None]:
        """Count the requests the storage's client sends while the block runs."""

        def count(**_: Any) -> None:
            with self._lock:
                self.requests += 1

        events = self.storage.connection.meta.client.meta.events
        events.register("before-send.s3", count, unique_id="sigv4_storage.collect")
        try:
            yield
        finally:
            events.unregister("before-send.s3", unique_id="sigv4_storage.collect")

    # -- what the storage asks while the run is on ------------------------------------
    def load_listing(self) -> None:
        """One paginated ListObjectsV2 of the location."""
        client = self.storage.connection.meta.client
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self.storage.bucket_name, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents") or ():
                name = item["Key"][len(self.prefix) :]
                self.listing[name] = Listed(str(item.get("ETag", "")).strip('"'), item["Size"])
        if self.clear:
            self.deleted = set(self.listing)
        self.abandoned = self._abandoned_uploads(client)

    def _abandoned_uploads(self, client: Any) -> list[abandoned.OpenUpload]:
        """The location's open multipart uploads begun before now (the server's
        now). A server or policy that does not allow listing them costs a
        warning, not the deploy."""
        try:
            found = abandoned.list_open(client, self.storage.bucket_name, self.prefix)
        except ClientError as error:
            logger.warning(
                "%s: collectstatic could not list the multipart uploads under %r (%s), so "
                "uploads earlier runs left open are not aborted. Allow "
                "s3:ListBucketMultipartUploads and s3:AbortMultipartUpload, or add a "
                "lifecycle rule that aborts incomplete uploads.",
                PREFIX,
                self.prefix or "/",
                error_code(error),
            )
            return []
        return found.started_before(found.now)

    def exists(self, name: str) -> bool:
        self.key(name)  # the name checks every operation makes, no request
        name = clean_name(name)
        return name in self.written or (name in self.listing and name not in self.deleted)

    def open(self, name: str) -> File[Any] | None:
        """The run's bytes for ``name``, or None: not written nor collected by this run."""
        name = clean_name(name)
        if name in self.written:
            return self.written[name].open()
        if name in self.local and name not in self.deleted:
            return Pending(path=self.local[name]).open()
        return None

    def save(self, name: str, content: Any) -> str:
        name = clean_name(name)
        self.written[name] = _pending(content)
        self.deleted.discard(name)
        return name

    def delete(self, name: str) -> None:
        self.key(name)
        name = clean_name(name)
        self.written.pop(name, None)
        self.local.pop(name, None)
        self.deleted.add(name)

    def unchanged(self, name: str, local_path: str | None, content: Any) -> bool:
        """Whether ``name`` is stored with these bytes; if so the local file stands in."""
        name = clean_name(name)
        listed = self.listing.get(name)
        if listed is None or name in self.deleted:
            return False
        pending = Pending(path=local_path) if local_path else _pending(content)
        if not self.stored(name, pending, listed):
            return False
        if local_path:
            self.local[name] = local_path
        return True

    # -- comparing bytes ----------------------------------------------------------------
    def stored(
        self, name: str, pending: Pending, listed: Listed, outgoing: Outgoing | None = None
    ) -> bool:
        if name in self.hashed:
            return True  # a hashed name's bytes are in its name
        if not _CONTENT_ETAG.fullmatch(listed.etag) or not self.etags_are_hashes(name):
            return False
        return listed.etag == self.etag(outgoing or self.outgoing(name, pending))

    def etags_are_hashes(self, name: str) -> bool:
        """S3's ETag is the MD5 of the bytes, except with SSE-KMS and SSE-C."""
        params = self.storage.get_object_parameters(self.key(name))
        return params.get("ServerSideEncryption") != "aws:kms" and "SSECustomerKey" not in params

    def etag(self, outgoing: Outgoing) -> str:
        """The ETag S3 gives the bytes this storage sends (``outgoing``)."""
        body = outgoing.body
        config = self.storage.transfer_config
        if len(body) < config.multipart_threshold:
            return hashlib.md5(body, usedforsecurity=False).hexdigest()
        size = ChunksizeAdjuster().adjust_chunksize(
            config.multipart_chunksize, None if outgoing.streamed else len(body)
        )
        view = memoryview(body)
        digests = b"".join(
            hashlib.md5(view[i : i + size], usedforsecurity=False).digest()
            for i in range(0, len(body), size)
        )
        parts = -(-len(body) // size)
        return f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{parts}"

    def outgoing(self, name: str, pending: Pending) -> Outgoing:
        """The bytes and parameters django-storages' ``_save`` sends for ``pending``
        (gzipped by its own rules and function; a stream of unknown size then)."""
        storage = self.storage
        raw = pending.read()
        params = storage._get_write_parameters(self.key(name), ContentFile(raw))
        if (
            storage.gzip
            and params["ContentType"] in storage.gzip_content_types
            and "ContentEncoding" not in params
        ):
            params["ContentEncoding"] = "gzip"
            return Outgoing(storage._compress_content(io.BytesIO(raw)).read(), True, params)
        return Outgoing(raw, False, params)

    # -- the end ------------------------------------------------------------------------
    def finish(
        self,
        workers: int,
        progress: Callable[[int, int, Summary], None],
        *,
        manifest: str | None = None,
        hashed: Any = (),
    ) -> Summary:
        """Upload what changed, then the manifest, then delete; see the module docstring.

        ``hashed``: the names post-processing gave files; ``manifest``: sent last.
        """
        self.hashed = {clean_name(name) for name in hashed}
        summary = Summary()
        client = self.storage.connection.meta.client
        summary.aborted = abandoned.abort(client, self.storage.bucket_name, self.abandoned)
        manifest = clean_name(manifest) if manifest else None
        names = sorted(name for name in self.written if name != manifest)
        waiting = iter(names)
        #: At most two per worker in flight: a future per file would cost memory per file.
        in_flight: dict[concurrent.futures.Future[bool], str] = {}
        done = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            try:
                while True:
                    for name in itertools.islice(waiting, 2 * workers - len(in_flight)):
                        in_flight[pool.submit(self._settle, name)] = name
                    if not in_flight:
                        break
                    finished, _ = concurrent.futures.wait(
                        in_flight, return_when=concurrent.futures.FIRST_COMPLETED
                    )
                    for future in finished:
                        name = in_flight.pop(future)
                        (summary.uploaded if future.result() else summary.unchanged).append(name)
                        done += 1
                        progress(done, len(names), summary)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        if manifest is not None and manifest in self.written:
            sent = self._settle(manifest)
            (summary.uploaded if sent else summary.unchanged).append(manifest)
        summary.deleted = self._delete_listed(self.deleted - set(self.written))
        return summary

    def _settle(self, name: str) -> bool:
        """Upload ``name`` unless its bytes are stored; True when it was sent.
        ``UploadFailed`` when it cannot be read or sent."""
        pending = self.written[name]
        listed = self.listing.get(name)
        try:
            put = self.put if pending.size() < self.threshold else None
            outgoing = self.outgoing(name, pending) if put or listed is not None else None
            if (
                listed is not None
                and not self.clear
                and self.stored(name, pending, listed, outgoing)
            ):
                return False
            if put is not None and outgoing is not None and len(outgoing.body) < self.threshold:
                put(self.key(name), outgoing)
            else:
                with pending.open() as content:
                    self.write(name, content)
        except (ClientError, BotoCoreError, OSError) as error:
            raise UploadFailed(name, error) from error
        return True

    def _delete_listed(self, names: set[str]) -> list[str]:
        gone = sorted(name for name in names if name in self.listing)
        client = self.storage.connection.meta.client
        for start in range(0, len(gone), DELETE_BATCH):
            batch = gone[start : start + DELETE_BATCH]
            response = client.delete_objects(
                Bucket=self.storage.bucket_name,
                Delete={"Objects": [{"Key": self.prefix + n} for n in batch], "Quiet": True},
            )
            if response.get("Errors"):
                first = response["Errors"][0]
                raise ClientError({"Error": first}, "DeleteObjects")
        return gone


def every(seconds: float, clock: Callable[[], float] = time.monotonic) -> Callable[[], bool]:
    """A gate that opens at most once per ``seconds`` (progress lines)."""
    last = [clock()]

    def due() -> bool:
        now = clock()
        if now - last[0] >= seconds:
            last[0] = now
            return True
        return False

    return due


class CollectstaticMixin:
    """A storage's side of a run: while ``collecting()`` is on, ``exists``,
    ``open`` (for reading), ``_save`` and ``delete`` answer from the run.

    Composed before django-storages' ``S3Storage``, whose methods it defers to
    outside a run. ``s3_key`` is the storage's (name checks and location).
    """

    _run: Run | None = None

    if TYPE_CHECKING:
        connection: Any
        bucket_name: str

        def s3_key(self, name: Any) -> str: ...

    @property
    def collecting_now(self) -> bool:
        """Whether a run records this storage's writes (sent at its end)."""
        return self._run is not None

    @contextmanager
    def collecting(self, *, clear: bool = False) -> Iterator[Run]:
        """A collectstatic run: ``exists``/``open``/``_save``/``delete`` answer from one
        listing and the run's record until ``run.finish()`` settles it with S3."""
        write = super()._save  # type: ignore[misc]  # the write that bypasses the run
        # A subclass's _save ran when the file was recorded (it comes before this
        # mixin); what the run sends it sends as django-storages' _save would.
        run = Run(self, key=self.s3_key, write=write, put=self._put, clear=clear)
        with run.counting_requests():
            run.load_listing()
            self._run = run
            try:
                yield run
            finally:
                self._run = None

    def _put(self, key: str, outgoing: Outgoing) -> None:
        self.connection.meta.client.put_object(
            Bucket=self.bucket_name, Key=key, Body=outgoing.body, **outgoing.params
        )

    def exists(self, name: str) -> bool:
        if self._run is not None:
            return self._run.exists(name)
        return bool(super().exists(name))  # type: ignore[misc]

    def delete(self, name: str) -> None:
        if self._run is not None:
            self._run.delete(name)
            return
        super().delete(name)  # type: ignore[misc]

    def _save(self, name: str, content: Any) -> str:
        if self._run is not None:  # recorded, sent at the end of the run
            return self._run.save(name, content)
        return str(super()._save(name, content))  # type: ignore[misc]

    def _open(self, name: str, mode: str = "rb") -> Any:
        if self._run is not None and "r" in mode:
            found = self._run.open(name)
            if found is not None:
                return found
        return super()._open(name, mode)  # type: ignore[misc]

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()  # type: ignore[assignment]
        state.pop("_run", None)
        return state
