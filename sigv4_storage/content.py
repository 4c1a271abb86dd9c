"""Types a browser runs, and how this package keeps them from running.

An uploaded ``.html`` or ``.svg`` stored with its own type is served inline
from the bucket's origin (or the custom domain's), where its script runs:
stored XSS. Media storages therefore store such files with
``Content-Disposition: attachment`` (``active_content = "attachment"``, the
default; the static classes default to ``"inline"``: static files are the
site's own). ``<img src>`` and ``<video src>`` ignore the header, so images
still show; a link to the file downloads it instead of opening it.
"""

from __future__ import annotations

import functools
import mimetypes
import posixpath

#: Types a browser renders as a document that can run script.
ACTIVE_TYPES = frozenset(
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
SNIFFED_TYPES = frozenset({"", "unknown/unknown", "application/unknown", "*/*"})

ATTACHMENT = "attachment"
CHOICES = ("attachment", "inline")


def essence(content_type: str | None) -> str:
    """``"Text/HTML; charset=utf-8"`` → ``"text/html"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_active(content_type: str | None) -> bool:
    """Whether a browser may run script from a document of this type."""
    found = essence(content_type)
    return found in ACTIVE_TYPES or found in SNIFFED_TYPES or found.endswith("+xml")


def stored_as_attachment(active_content: str, content_type: str | None) -> bool:
    """Whether a storage with this ``active_content`` stores a file of ``content_type``
    with ``Content-Disposition: attachment``."""
    return active_content == ATTACHMENT and is_active(content_type)


def may_be_active(allowed: str | None) -> bool:
    """Whether a policy's type (exact, a ``"type/"`` prefix, or None: any) admits one."""
    if not allowed:
        return True
    if allowed.endswith("/"):
        return any(t.startswith(allowed.lower()) for t in ACTIVE_TYPES) or allowed == "*/"
    return is_active(allowed)


def guessed_type(name: str) -> str | None:
    """The type a file's extension says, as Django and browsers guess it."""
    return mimetypes.guess_type(name, strict=False)[0]


def named_active(name: str) -> bool:
    """Whether a file named ``name`` may be served as a type a browser runs: its
    extension's type is active, or it has none a browser would trust (sniffed)."""
    return _extension_active(posixpath.splitext(name)[1].lower())


@functools.lru_cache(maxsize=512)
def _extension_active(extension: str) -> bool:
    return is_active(guessed_type("x" + extension) if extension else None)
