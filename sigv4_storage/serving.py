"""Serving a stored file from a Django view, whatever its size.

Two ways, for a view that has checked who may download what:

- ``redirect(storage, name)``: a 302 to a presigned URL; the browser
  downloads from S3, Django sends no byte of the file. ``as_attachment``,
  ``filename`` and ``content_type`` become ``response-content-disposition``
  / ``response-content-type`` in the signed URL, so S3 answers with those
  headers. The redirect is never cached (the URL expires).
- ``stream(request, storage, name)``: the file through Django, in bounded
  memory (``files.SigV4S3File`` reads ranged parts), with HTTP ``Range``
  (one range, ``If-Range`` honoured: a 206 with the bytes asked for, 416
  past the end), so media players can seek in a large video. For a private
  bucket the server can reach but browsers cannot. A small range costs one
  ``GetObject`` of just its bytes. Files of a signed storage are sent
  ``Cache-Control: private, no-store`` (a shared cache keeps none); a
  public storage's stored ``Cache-Control`` is kept.

Both follow ``content``'s one rule on a media storage (``active_content =
"attachment"``): a file is inline only when the type it is served as is one
browsers show without running script; ``filename=`` and ``content_type=``
never make an HTML, SVG or untyped file inline (``stream`` also honours an
``attachment`` the object was stored with, and sends ``X-Content-Type-Options:
nosniff``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header

from . import content as active

__all__ = ["redirect", "stream"]

#: One range of bytes: ``bytes=0-99``, ``bytes=100-``, ``bytes=-100`` (ASCII digits,
#: at most 19: beyond any object's size; RFC 9110 lets a server ignore the rest).
_RANGE = re.compile(r"bytes=([0-9]{0,19})-([0-9]{0,19})", re.ASCII)
#: A longer ``Range`` header is ignored (the whole file is sent).
RANGE_HEADER_MAX = 64
#: What a 206 sends per iteration; a range no larger is fetched in one request.
BLOCK = 256 * 1024


def redirect(
    storage: Any,
    name: str,
    *,
    as_attachment: bool = False,
    filename: str | None = None,
    content_type: str | None = None,
    expire: int | None = None,
) -> HttpResponse:
    """A redirect to a presigned URL of ``name``, valid ``expire`` seconds
    (the storage's ``querystring_expire`` by default)."""
    parameters = {}
    if as_attachment or filename:
        shown = filename or os.path.basename(name)
        parameters["ResponseContentDisposition"] = content_disposition_header(as_attachment, shown)
    if content_type:
        parameters["ResponseContentType"] = content_type
    # storage.url() applies the rule (``content.signed_get``): inline only as a
    # type browsers show; ``filename`` or ``content_type`` cannot undo an attachment.
    response = HttpResponse(status=302)
    response["Location"] = storage.url(name, parameters=parameters or None, expire=expire)
    add_never_cache_headers(response)
    return response


def stream(
    request: HttpRequest,
    storage: Any,
    name: str,
    *,
    as_attachment: bool = False,
    filename: str | None = None,
    content_type: str | None = None,
) -> HttpResponseBase:
    """``name`` streamed through Django, with ``Range`` support. Raises
    ``FileNotFoundError`` (a 404 for the view to give) when it is missing."""
    f = storage.open(name)
    obj = getattr(f, "obj", None)
    # The version ranges are served from; gzip'd objects are sent whole (no ranges).
    etag: str | None = getattr(obj, "e_tag", None)
    if getattr(obj, "content_encoding", None) == "gzip":
        etag = None
    content_type = content_type or getattr(obj, "content_type", None) or None
    shown = filename or os.path.basename(name)
    as_attachment = as_attachment or _downloads(storage, obj, content_type)
    size = f.size
    wanted = None
    if etag is not None and _if_range_holds(request, etag):
        wanted = byte_range(request.headers.get("Range", ""), size)
    if wanted == "unsatisfiable":
        f.close()
        response: HttpResponseBase = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    elif isinstance(wanted, tuple):
        start, end = wanted
        count = end - start + 1
        if count <= BLOCK and hasattr(f, "read_range"):  # one GET of just these bytes
            response = HttpResponse(_read_range(f, start, count), status=206)
        else:
            f.seek(start)
            if hasattr(f, "read_through"):
                f.read_through()
            response = StreamingHttpResponse(_blocks(f, count), status=206)
        response["Content-Type"] = content_type or "application/octet-stream"
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(count)
        disposition = content_disposition_header(as_attachment, shown)
        if disposition and (as_attachment or filename):
            response["Content-Disposition"] = disposition
    else:
        if hasattr(f, "read_through"):  # the whole file, in order: parts, ahead
            f.read_through()
        response = FileResponse(
            f, as_attachment=as_attachment, filename=shown, content_type=content_type
        )
    if etag is not None:
        response["Accept-Ranges"] = "bytes"
        response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    _cache_headers(response, storage, obj)
    return response


def _downloads(storage: Any, obj: Any, content_type: str | None) -> bool:
    """Whether a media storage's file must be an attachment: it was stored as one,
    or the type it is served as is not one browsers show inline."""
    config = getattr(storage, "s3_config", None)
    if config is None or config.active_content != active.ATTACHMENT:
        return False
    stored = getattr(obj, "content_disposition", None)
    return active.is_attachment(stored) or active.is_active(content_type)


def _cache_headers(response: HttpResponseBase, storage: Any, obj: Any) -> None:
    """A signed storage's files are nobody else's: no shared cache keeps them. A
    public storage's file keeps the ``Cache-Control`` it was stored with."""
    if getattr(storage, "querystring_auth", True):
        response["Cache-Control"] = "private, no-store"
    elif stored := getattr(obj, "cache_control", None):
        response["Cache-Control"] = stored


def _read_range(f: Any, start: int, count: int) -> bytes:
    try:
        return bytes(f.read_range(start, count))
    finally:
        f.close()


def byte_range(header: str, size: int) -> tuple[int, int] | str | None:
    """The one range ``header`` asks for, as ``(first, last)`` byte positions
    within ``size``; ``"unsatisfiable"`` for a range past the end; ``None``
    for no header, a malformed one or several ranges (then the whole file is
    sent, as RFC 9110 allows)."""
    header = header.strip()
    found = _RANGE.fullmatch(header) if len(header) <= RANGE_HEADER_MAX else None
    if found is None:
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        count = int(last)
        if count == 0:
            return "unsatisfiable"
        return max(0, size - count), size - 1
    start = int(first)
    end = size - 1 if not last else min(int(last), size - 1)
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        return "unsatisfiable"
    return start, end


def _if_range_holds(request: HttpRequest, etag: str) -> bool:
    """``If-Range`` names this version (by its strong ETag), or is absent."""
    condition = request.headers.get("If-Range")
    return condition is None or condition.strip() == etag


def _blocks(f: Any, count: int) -> Iterator[bytes]:
    try:
        while count > 0:
            block = f.read(min(BLOCK, count))
            if not block:
                break
            count -= len(block)
            yield block
    finally:
        f.close()
