"""Reading an S3 object lazily, in ranged GETs, like a local file.

``RangedReader`` is a raw binary stream (``io.RawIOBase``) over one object
as a ``HeadObject`` saw it (its size and ETag). The object is read in
*parts* of ``part_size`` bytes, aligned on multiples of it, each fetched by
one ``GetObject`` with ``Range`` and ``If-Match: <ETag>``:

- a read fetches a *window* of its part, first of ``FIRST_WINDOW`` (64 KiB)
  from where it reads: ``read(1024)`` of a 5 GB object costs one request of
  64 KiB, and a file's header (an image's size, a type's signature) costs
  no more than it needs. A read that goes on where the one before it ended
  fetches a window ``GROWTH`` times larger (never past its part's end), so a
  header that is longer costs a few requests, not many; once a window would
  be a whole part, reads fetch parts. ``seek()`` costs nothing until the
  next read;
- once a read of parts begins where the one before it ended, or the reader
  is told to stream (``read()`` of the rest, ``chunks()``: ``stream()``),
  the part read and the next ``depth`` parts
  are fetched in parallel ahead of the reader (a ``seek()`` elsewhere stops
  it until reads are sequential again), as s3transfer's downloads
  are, into ``depth + 1`` buffers reused from part to part, so memory stays
  within about ``(depth + 1) × part_size`` whatever the object's size (and
  ``read()`` of the whole object adds one buffer of its size, filled in place);
- an object replaced or deleted while it is read answers 412 (or 404):
  ``ObjectChanged`` is raised rather than bytes of two versions mixed;
- a stream broken mid-part (s3transfer's retryable download errors) is
  fetched again, up to ``attempts`` times; a part is only used once all of
  its bytes arrived, so a reader never returns wrong or missing bytes.

``SigV4S3File`` (``files.py``) wraps it in ``io.BufferedReader`` (and in
``GzipFile`` or ``TextIOWrapper`` as django-storages does).
"""

from __future__ import annotations

import io
import os
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

from botocore.exceptions import ClientError
from s3transfer.utils import S3_RETRYABLE_DOWNLOAD_ERRORS

from .checkids import prefixed
from .errors import error_status

__all__ = ["ObjectChanged", "PartIncomplete"]

#: Each part's body is read in pieces of this size into its buffer.
PIECE = 1024 * 1024
#: The first window a read fetches, and how much larger each next one is while
#: reads go on where the last one ended (until a window would be a whole part).
FIRST_WINDOW = 64 * 1024
GROWTH = 4


class ObjectChanged(OSError):
    """The object was replaced or deleted in the bucket while it was read."""


class PartIncomplete(OSError):
    """A part's bytes did not all arrive, after every attempt."""


#: What a ranged GET retries: s3transfer's retryable download errors, and a short body.
_RETRIED: tuple[type[BaseException], ...] = (*S3_RETRYABLE_DOWNLOAD_ERRORS, PartIncomplete)


class RangedReader(io.RawIOBase):
    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        *,
        name: str,
        size: int,
        etag: str | None,
        part_size: int,
        depth: int,
        attempts: int = 5,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if part_size < 1:
            raise ValueError(f"part_size must be positive, not {part_size!r}")
        self._client = client
        self._bucket = bucket
        self._key = key
        self.name = name
        self.size = size
        self.etag = etag
        self.part_size = part_size
        self.depth = max(0, depth)
        self.attempts = max(1, attempts)
        self._extra = dict(extra or {})
        self._pos = 0
        #: Parts fetched or being fetched: (the bytes or their future, the buffer).
        self._parts: dict[int, tuple[Future[memoryview] | memoryview, bytearray]] = {}
        self._free: list[bytearray] = []  # buffers of parts the reader left
        self._last: int | None = None  # the part the last read was served from
        self._read_end: int | None = None  # where the last read ended
        #: A read began where the one before it ended (or ``readall``): fetch ahead.
        self._streaming = False
        #: The bytes of the last window fetched: (where they start, the bytes).
        self._window: tuple[int, memoryview] | None = None
        #: The size of the next window; parts once it reaches ``part_size``.
        self._span = min(FIRST_WINDOW, part_size)
        self._pool: ThreadPoolExecutor | None = None
        #: Requests sent (GetObject calls), for tests and benchmarks.
        self.requests = 0

    # -- io.RawIOBase --------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._check_open()
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._check_open()
        if whence == os.SEEK_SET:
            position = offset
        elif whence == os.SEEK_CUR:
            position = self._pos + offset
        elif whence == os.SEEK_END:
            position = self.size + offset
        else:
            raise ValueError(f"invalid whence ({whence!r}, should be 0, 1 or 2)")
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        if position != self._pos:
            self._streaming = False
        self._pos = position
        return position

    def readinto(self, buffer: Any) -> int:
        self._check_open()
        view = memoryview(buffer).cast("B")
        if self._pos >= self.size or not len(view):
            return 0
        self._streaming = self._streaming or self._pos == self._read_end
        data = self._at(self._pos)
        count = min(len(view), len(data))
        view[:count] = data[:count]
        self._pos += count
        self._read_end = self._pos
        return count

    def readall(self) -> bytes:
        """The rest of the object, in one buffer filled in place from the parts:
        its size in memory, not twice it (parts copied, then joined)."""
        self._check_open()
        self._streaming = True
        left = self.size - self._pos
        if left <= 0:
            return b""
        # A BytesIO made on a zeroed bytes object it alone holds lends that very
        # object to getbuffer() and gives it back from getvalue(): no copy in
        # CPython (another Python copies once more, and is still right).
        result = io.BytesIO(bytes(left))
        filled = 0
        with result.getbuffer() as out:
            while self._pos < self.size:
                data = self._at(self._pos, rest=True)
                count = len(data)
                out[filled : filled + count] = data
                filled += count
                self._pos += count
        return result.getvalue()

    def stream(self) -> None:
        """Reads from here on go through the rest of the object in order (``chunks()``,
        a whole file served): fetch parts, and ahead, at once, without windows."""
        self._span = self.part_size
        self._streaming = True

    def close(self) -> None:
        if not self.closed:
            self._forget(keep=range(0))
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
            self._free.clear()
            self._window = None
        super().close()

    # -- windows and parts -----------------------------------------------------------
    def _at(self, position: int, *, rest: bool = False) -> memoryview:
        """Bytes from ``position`` on, as many as one window or part holds there.

        With ``rest``, the reader wants everything after ``position``: the rest of
        its part comes as one window, then whole parts."""
        index, offset = divmod(position, self.part_size)
        if index in self._parts:
            return self._part(index)[offset:]
        window = self._window
        if window is not None and window[0] <= position < window[0] + len(window[1]):
            return window[1][position - window[0] :]
        if self._span < self.part_size:
            boundary = min((index + 1) * self.part_size, self.size)
            if rest:
                end = boundary
            else:
                if window is not None and position == self._read_end:  # goes on: grow
                    self._span = min(self._span * GROWTH, self.part_size)
                end = min(boundary, position + self._span)
            if offset or end < boundary:  # less than a whole part
                data = self._get(position, memoryview(bytearray(end - position)))
                self._window = (position, data)
                return data
        return self._part(index)[offset:]

    def _part(self, index: int) -> memoryview:
        """The bytes of part ``index``, fetched now or ahead of time."""
        if index != self._last:  # parts behind, or beyond the read-ahead, go
            self._forget(keep=range(index, index + self.depth + 1))
        if self._streaming and self.depth:
            last = min(index + self.depth, (self.size - 1) // self.part_size)
            for ahead in range(index, last + 1):
                if ahead not in self._parts:
                    buffer = self._buffer()
                    future = self._executor().submit(self._fetch, ahead, buffer)
                    self._parts[ahead] = (future, buffer)
        entry = self._parts.get(index)
        if entry is None:
            buffer = self._buffer()
            entry = self._parts[index] = (self._fetch(index, buffer), buffer)
        elif isinstance(entry[0], Future):
            entry = self._parts[index] = (entry[0].result(), entry[1])
        self._last = index
        return entry[0]  # type: ignore[return-value]

    def _buffer(self) -> bytearray:
        """A part's buffer: one freed by a part the reader left, or a new one.

        Buffers are allocated here, in the reading thread, and reused: with
        a new buffer per part, filled by worker threads, glibc keeps freed
        parts in each thread's arena and the process grows far beyond the
        parts alive at any time."""
        # No larger than the object: a 1 MiB file costs no 8 MiB part.
        return self._free.pop() if self._free else bytearray(min(self.part_size, self.size))

    def _forget(self, keep: range) -> None:
        for index in [index for index in self._parts if index not in keep]:
            result, buffer = self._parts.pop(index)
            if not isinstance(result, Future) or result.cancel():
                self._recycle(buffer)
            else:  # being fetched: its buffer is free once the fetch ends
                result.add_done_callback(partial(self._recycled_after, buffer))

    def _recycled_after(self, buffer: bytearray, _fetch: Future[Any]) -> None:
        self._recycle(buffer)

    def _recycle(self, buffer: bytearray) -> None:
        if len(self._free) <= self.depth:
            self._free.append(buffer)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.depth, thread_name_prefix="sigv4-read")
        return self._pool

    def _fetch(self, index: int, buffer: bytearray) -> memoryview:
        start = index * self.part_size
        length = min(self.part_size, self.size - start)
        return self._get(start, memoryview(buffer)[:length])

    def window(self, start: int, count: int) -> bytes:
        """``count`` bytes from ``start`` (within the object), in one ``GetObject``
        of just those bytes: for a small range that should not cost a part
        (``serving.stream``). The position does not move."""
        self._check_open()
        if start < 0 or count < 1 or start + count > self.size:
            raise ValueError(f"bytes {start}-{start + count - 1} are not within {self.size}")
        return bytes(self._get(start, memoryview(bytearray(count))))

    def _get(self, start: int, view: memoryview) -> memoryview:
        """Bytes ``start`` to ``start + len(view) - 1`` into ``view``: one ranged
        ``GetObject`` of this version, fetched again while the stream breaks."""
        length = len(view)
        params = dict(self._extra, Bucket=self._bucket, Key=self._key)
        params["Range"] = f"bytes={start}-{start + length - 1}"
        if self.etag:
            params["IfMatch"] = self.etag
        for attempt in range(1, self.attempts + 1):
            self.requests += 1
            try:
                body = self._client.get_object(**params)["Body"]
                return self._receive(body, view)
            except ClientError as error:
                if error_status(error) in (404, 412):
                    raise self._changed() from None
                raise
            except _RETRIED as error:
                if attempt == self.attempts:
                    raise PartIncomplete(
                        prefixed(
                            f"reading {self.name!r}: bytes {start}-{start + length - 1} did "
                            f"not arrive whole after {self.attempts} attempts ({error})."
                        )
                    ) from error
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _receive(body: Any, view: memoryview) -> memoryview:
        length, received = len(view), 0
        try:
            while received < length:
                piece = body.read(min(PIECE, length - received))
                if not piece:
                    break
                view[received : received + len(piece)] = piece
                received += len(piece)
            extra = body.read(1) if received == length else b""
        finally:
            body.close()
        if received != length or extra:
            raise PartIncomplete(f"{received} bytes of {length}{' and more' if extra else ''}")
        return view.toreadonly()

    def _changed(self) -> ObjectChanged:
        return ObjectChanged(
            prefixed(
                f"{self.name!r} was replaced or deleted in bucket {self._bucket!r} while "
                f"it was read (it no longer has ETag {self.etag}); nothing of the new "
                f"version was returned. Open it again to read what is there now."
            )
        )

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
