"""The file ``open()`` returns: lazy ranged reads, writes that never half-land.

django-storages' ``S3File`` downloads the whole object on the first read
(into a ``SpooledTemporaryFile``): ``read(1024)`` of a 5 GB object moves
5 GB. ``SigV4S3File`` reads through ``ranged.RangedReader`` instead: one
ranged, ETag-pinned ``GetObject`` per part actually read, parts fetched in
parallel ahead of a sequential reader, memory bounded by the transfer
configuration (``AWS_S3_TRANSFER_CONFIG``: ``multipart_chunksize`` bytes a
part, ``max_concurrency`` parts ahead; none ahead with
``TransferConfig(use_threads=False)``). The ``HeadObject`` sent at open stays the
only one: a missing file still raises ``FileNotFoundError`` at once, and
its size and ETag pin the reads. Opened again after ``close()``, a file is
looked up again (a new ``HeadObject``), as a local file shows what is on
disk now. gzip'd objects (``AWS_IS_GZIPPED``) and text mode read as in
django-storages.

Writes stream in parts of ``AWS_S3_FILE_BUFFER_SIZE`` as django-storages'
do; here a failure while writing or completing, or an exception that
leaves a ``with`` block, aborts the multipart upload: nothing is stored
under the name and no open upload is left behind (django-storages
completes the upload with what was written so far).
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from s3transfer.constants import ALLOWED_DOWNLOAD_ARGS
from storages.backends.s3 import S3File
from storages.utils import clean_name

from .checkids import PREFIX, prefixed
from .errors import error_status, failure_name
from .ranged import RangedReader

logger = logging.getLogger("sigv4_storage")

#: ``io.BufferedReader``'s own buffer over the parts (small reads, readline).
BUFFER = 256 * 1024


class SigV4S3File(S3File):  # type: ignore[misc]
    _file: Any
    _multipart: Any

    def __init__(self, name: str, mode: str, storage: Any, buffer_size: int | None = None):
        super().__init__(name, mode, storage, buffer_size)
        self._reader: RangedReader | None = None
        self._looked_up = "w" not in mode  # the HeadObject just sent is current
        self._aborted = False

    # -- reading -------------------------------------------------------------------
    def _get_file(self) -> Any:
        if self._file is None and "r" in self._mode and self._knows_object():
            self._file = self._lazy_stream()
            self._closed = False
        return super()._get_file()

    file = property(_get_file, S3File._set_file)

    def _knows_object(self) -> bool:
        """Whether ``obj`` is boto3's, loaded (a test's mock reads the old way)."""
        obj = self.obj
        return getattr(obj, "meta", None) is not None and type(obj.content_length) is int

    def _lazy_stream(self) -> Any:
        storage, obj = self._storage, self.obj
        params = download_parameters(storage, self.name)
        if not self._looked_up:  # opened again: what the bucket holds now
            obj.load(**params)
        self._looked_up = False
        self._reader = ranged_reader(
            storage, obj.key, name=self.name, size=obj.content_length, etag=obj.e_tag, extra=params
        )
        stream: Any = io.BufferedReader(self._reader, buffer_size=BUFFER)
        if storage.gzip and obj.content_encoding == "gzip":
            return self._decompress_file(mode=self._mode, file=stream)
        if "b" not in self._mode:
            return io.TextIOWrapper(stream, encoding="utf-8")
        return stream

    def read_through(self) -> None:
        """Say the rest will be read in order (a whole file sent or copied): reads
        fetch parts, and ahead, from here on, without first windows that grow."""
        self._get_file()
        if self._reader is not None:
            self._reader.stream()

    def chunks(self, chunk_size: int | None = None) -> Any:
        """Django's ``chunks()``: the whole file from its start, in parts fetched ahead."""
        self._get_file()
        if self._reader is not None:
            self.seek(0)
            self.read_through()
        yield from super().chunks(chunk_size)

    def read_range(self, start: int, count: int) -> bytes:
        """``count`` bytes from ``start``, in one ranged ``GetObject`` of just those
        bytes (``RangedReader.window``): for small ranges, which ``read()``
        would fetch a whole part for. The file's position does not move."""
        self._get_file()
        if self._reader is None:  # not read in ranges (a test's mock): seek and read
            position = self.tell()
            try:
                self.seek(start)
                return bytes(self.read(count))
            finally:
                self.seek(position)
        return self._reader.window(start, count)

    # -- writing -------------------------------------------------------------------
    def write(self, content: Any) -> int:
        if self._aborted:
            raise ValueError(
                prefixed(f"the upload of {self.name!r} failed and was aborted: open it again.")
            )
        try:
            return int(super().write(content))
        except BaseException:
            self._abort()
            raise

    def _abort(self) -> None:
        """Abort the multipart upload, if one was started: nothing is stored."""
        self._aborted = True
        multipart, self._multipart = self._multipart, None
        self._is_dirty = False
        if multipart is None:
            return
        try:
            multipart.abort()
        except Exception as error:  # noqa: BLE001 - the first failure is the one raised
            logger.warning(
                "%s: could not abort the multipart upload of %r (%s): it stays open"
                " until a lifecycle rule (AbortIncompleteMultipartUpload) or "
                "collectstatic/s3doctor removes it.",
                PREFIX,
                self.name,
                failure_name(error),
            )

    # -- both ----------------------------------------------------------------------
    def close(self) -> None:
        try:
            if self._aborted:  # nothing to complete, nothing empty to create
                if self._file is not None:
                    self._file.close()
                    self._file = None
                self._reset_file_properties()
                self._closed = True
            else:
                try:
                    super().close()
                except BaseException:
                    self._abort()
                    self.close()
                    raise
        finally:
            self._aborted = False
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def __exit__(self, exc_type: Any, exc_value: Any, tb: Any) -> None:
        if exc_type is not None and "w" in self._mode:
            self._abort()  # the block failed: what it wrote is not the file
        self.close()


def ranged_reader(
    storage: Any,
    key: str,
    *,
    name: str,
    size: int,
    etag: str | None,
    extra: dict[str, Any] | None = None,
) -> RangedReader:
    """A ``RangedReader`` of ``key`` in ``storage``'s bucket (its size and ETag as a
    ``HeadObject`` saw them), in parts and read-ahead of its transfer configuration."""
    config = storage.transfer_config
    return RangedReader(
        storage.connection.meta.client,
        storage.bucket_name,
        key,
        name=name,
        size=size,
        etag=etag,
        part_size=config.multipart_chunksize,
        depth=config.max_request_concurrency if config.use_threads else 0,
        attempts=config.num_download_attempts,
        extra=extra,
    )


def download_parameters(storage: Any, name: str) -> dict[str, Any]:
    params = storage.get_object_parameters(name)
    return {key: value for key, value in params.items() if key in ALLOWED_DOWNLOAD_ARGS}


class LazyFilesMixin:
    """``open()`` gives a ``SigV4S3File``: django-storages' ``_open``, with the file
    that reads in ranges and sends no second ``HeadObject``."""

    if TYPE_CHECKING:

        def _normalize_name(self, name: Any) -> str: ...

    def _open(self, name: str, mode: str = "rb") -> Any:
        name = self._normalize_name(clean_name(name))
        try:
            return SigV4S3File(name, mode, self)
        except ClientError as err:
            if error_status(err) == 404:
                raise FileNotFoundError(f"File does not exist: {name}") from None
            raise
