"""Which files a browser may show inline, and which it must download: one rule,
applied on every path that stores, signs or serves a file.

An uploaded ``.html`` or ``.svg`` served inline from the bucket's origin (or
the site's own, through ``serving.stream``) runs its script there: stored
XSS. So media storages (``active_content = "attachment"``, the default; the
static classes default to ``"inline"``: static files are the site's own)
serve inline only files of a type on an allow-list of types browsers show
without running anything (``INLINE_TYPES``: images other than SVG, audio,
video, PDF, plain text); every other file, and every type a browser would
read differently from how it is written (``"text/plain,text/html"``, an
invalid type, no type), is an *attachment*: stored with
``Content-Disposition: attachment``, signed with
``response-content-disposition=attachment``, streamed with it.
``<img>``, ``<video>``, ``<audio>`` and CSS ignore the header, so images
still show; a link to the file downloads it instead of opening it.

Types are read as browsers read them (WHATWG's MIME type parsing): a
``Content-Type`` is safe only when it is exactly one valid type whose essence
is on the list, so a comma list (which a browser reads as its last type) or
a type that fails to parse (which it sniffs) is not.
"""

from __future__ import annotations

import functools
import mimetypes
import posixpath
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["shown_inline", "signed_get"]

#: Types a browser shows without running script, whatever the bytes.
INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/apng",
        "image/jpeg",
        "image/pjpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "image/x-icon",
        "image/vnd.microsoft.icon",
        "image/tiff",
        "image/heic",
        "image/heif",
        "image/jxl",
        "application/pdf",
        "text/plain",
        "text/csv",
    }
)
#: Whole top-level types a browser shows without running script.
INLINE_TOP_LEVEL = ("audio/", "video/")

#: Types a browser renders as a document that can run script: an upload field's
#: ``"type/"`` prefix does not admit them (name one exactly to allow it).
SCRIPTED_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "text/ecmascript",
        "application/vnd.wap.xhtml+xml",
        "multipart/x-mixed-replace",
        "application/x-shockwave-flash",
        "text/vtt",
        "application/rss+xml",
        "application/atom+xml",
        "application/mathml+xml",
        "text/rdf",
        "application/rdf+xml",
    }
)
#: Types a browser sniffs (it may decide the bytes are HTML).
SNIFFED_TYPES = frozenset({"unknown/unknown", "application/unknown", "*/*"})

ATTACHMENT = "attachment"
CHOICES = ("attachment", "inline")

#: An HTTP token (RFC 9110), as WHATWG's MIME type parser checks type and subtype.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_TYPE = re.compile(rf"[ \t\r\n]*({_TOKEN})/({_TOKEN})[ \t\r\n]*(?:;.*)?", re.ASCII | re.DOTALL)


def essence(content_type: str | None) -> str | None:
    """The one type a ``Content-Type`` value names, lowercased, as a browser reads
    it: ``"Text/HTML; charset=utf-8"`` → ``"text/html"``; ``None`` for no type,
    a type that does not parse, or a comma list (a browser takes its last type)."""
    if not content_type or "," in content_type:
        return None
    found = _TYPE.fullmatch(content_type)
    if found is None:
        return None
    return f"{found[1]}/{found[2]}".lower()


def shown_inline(content_type: str | None) -> bool:
    """Whether a browser shows a file served with this ``Content-Type`` without
    running anything (``INLINE_TYPES``)."""
    found = essence(content_type)
    return found is not None and (found in INLINE_TYPES or found.startswith(INLINE_TOP_LEVEL))


def is_active(content_type: str | None) -> bool:
    """Whether a file of this type is an attachment: not ``shown_inline``."""
    return not shown_inline(content_type)


def runs_script(content_type: str | None) -> bool:
    """Whether a browser may run script from a document of this type: a scripted
    type, an XML type, or one it would sniff (none, unparsable, a list)."""
    found = essence(content_type)
    return (
        found is None or found in SCRIPTED_TYPES or found in SNIFFED_TYPES or found.endswith("+xml")
    )


def stored_as_attachment(active_content: str, content_type: str | None) -> bool:
    """Whether a storage with this ``active_content`` stores a file of ``content_type``
    with ``Content-Disposition: attachment``."""
    return active_content == ATTACHMENT and is_active(content_type)


def may_be_active(allowed: str | None) -> bool:
    """Whether a POST policy's type (exact, a ``"type/"`` prefix, or None: any) admits
    an attachment. S3 checks a prefix with ``starts-with``, which admits
    ``"video/mp4,text/html"``: a prefix always may."""
    if not allowed or allowed.endswith("/"):
        return True
    return is_active(allowed)


def guessed_type(name: str) -> str | None:
    """The type a file's extension says, as Django and browsers guess it."""
    return mimetypes.guess_type(name, strict=False)[0]


def named_active(name: str) -> bool:
    """Whether a file named ``name`` is an attachment by its name: its extension's
    type is not ``shown_inline`` (or it has none)."""
    return _extension_active(posixpath.splitext(name)[1].lower())


@functools.lru_cache(maxsize=512)
def _extension_active(extension: str) -> bool:
    return is_active(guessed_type("x" + extension) if extension else None)


def is_attachment(disposition: str | None) -> bool:
    """Whether a ``Content-Disposition`` value asks for a download."""
    return (disposition or "").strip().lower().startswith(ATTACHMENT)


def as_attachment(disposition: str | None) -> str:
    """``disposition`` made an attachment, its file name kept."""
    value = (disposition or "").strip()
    if not value or is_attachment(value):
        return value or ATTACHMENT
    _kind, _semicolon, rest = value.partition(";")
    return f"{ATTACHMENT}; {rest.strip()}" if rest.strip() else ATTACHMENT


def signed_get(name: str, parameters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The ``response-*`` parameters a presigned GET of ``name`` signs, under the
    rule: the file is inline only when the type it is served as is shown inline.

    The type served is the caller's ``ResponseContentType``, else, when the caller
    asks for inline, the name's (signed too, so a stored type of another kind
    cannot take over), else the stored one (the name's type stands in for it).
    Anything else asks for ``attachment``, keeping the caller's file name."""
    disposition = (parameters or {}).get("ResponseContentDisposition")
    served = (parameters or {}).get("ResponseContentType")
    if served is None and disposition is None:
        if not named_active(name):
            return dict(parameters) if parameters else None
        return {"ResponseContentDisposition": ATTACHMENT, **(parameters or {})}
    result = dict(parameters or {})
    if is_attachment(disposition):
        return result
    if served is None:
        served = guessed_type(name)
    if is_active(served):
        result["ResponseContentDisposition"] = as_attachment(disposition)
    elif disposition is not None:  # inline: as the type signed, not the stored one
        result["ResponseContentType"] = served
    return result
