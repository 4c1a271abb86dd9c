"""Storage names to S3 keys, as django-storages normalises them, faster.

django-storages turns a name into a key with ``clean_name`` then
``safe_join(location, name)``: two ``posixpath.normpath`` passes. For the
names templates ask for ("photos/2026/a b.jpg") normpath changes nothing,
so ``plain_key`` checks that cheaply and concatenates;
any other name (dot segments, doubled or leading slashes, backslashes,
non-strings) goes through django-storages' own functions. Tests hold the two
equal for arbitrary names (``tests/test_names.py``).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from storages.utils import safe_join

from .checkids import PREFIX


def _plain(name: str) -> bool:
    """True when normpath would leave ``name`` (a relative path) unchanged."""
    return not (
        not name
        or name[0] == "/"
        or "//" in name
        or "\\" in name
        or name in (".", "..")
        or name.startswith(("./", "../"))
        or "/./" in name
        or "/../" in name
        or name.endswith(("/.", "/.."))
    )


def location_prefix(location: str) -> str | None:
    """The normalised location with its slash ("static/"), "" at the root.

    None when django-storages refuses every name under it ("a//b"): then
    every name takes the slow path, and gets django-storages' own error.
    """
    try:
        joined: str = safe_join(location, "_")
        return joined[:-1]
    except ValueError:
        return None


def plain_key(prefix: str | None, name: Any) -> str | None:
    """The key for ``name`` under ``prefix``, or None: ask django-storages."""
    if prefix is not None and type(name) is str and _plain(name):
        return prefix + name
    return None


#: S3 refuses longer keys.
MAX_KEY_BYTES = 1024
#: Control characters, and lone surrogates (no UTF-8 encoding: S3 cannot store them).
_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_SEGMENT = re.compile(r"[/\\]")


def check_key(name: Any, key: str) -> str:
    """Refuse keys S3 cannot store or list safely, naming the name and the fix.

    Raised before any request, as ``SuspiciousFileOperation`` (Django turns it
    into a 400 in a view, as it does its own file-name checks).
    """
    found = _UNSTORABLE.search(key)
    if found and found.group() >= "\ud800":
        raise SuspiciousFileOperation(
            f"{PREFIX}: the name {name!r} contains the lone surrogate "
            f"U+{ord(found.group()):04X}, which is not a character and has no UTF-8 "
            f"form, so S3 cannot store it. Decode the name properly (it usually comes "
            f"from bytes decoded with errors='surrogateescape')."
        )
    if found:
        raise SuspiciousFileOperation(
            f"{PREFIX}: the name {name!r} contains the control character "
            f"U+{ord(found.group()):04X}; S3 keys with control characters break listings "
            f"and URLs. Remove it (django.utils.text.get_valid_filename does)."
        )
    if len(key) > MAX_KEY_BYTES // 4 and len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise SuspiciousFileOperation(
            f"{PREFIX}: the key for {str(name)[:40]!r}... is "
            f"{len(key.encode('utf-8'))} bytes in UTF-8; S3 keys are at most "
            f"{MAX_KEY_BYTES}. Shorten the name (FileField max_length, upload_to)."
        )
    return key


def check_not_empty(name: Any) -> None:
    """Refuse a name that escapes the root, or names no file ('', '/', '.')."""
    check_no_parent(name)
    if name is None or str(name).strip("/. ") == "":
        raise SuspiciousFileOperation(
            f"{PREFIX}: {name!r} names no file. Pass the file's name, e.g. 'uploads/report.pdf'."
        )


def check_no_parent(name: Any) -> None:
    """Refuse a name with a ``..`` segment anywhere ('../x', 'x/..', 'a/b/../..').

    django-storages' ``clean_name`` would fold it ('x/..' becomes the root,
    'a/../b' becomes 'b'), so the request would act on another key than the
    one named; Django's own ``validate_file_name`` refuses such names on save().
    """
    text = str(name) if name is not None else ""
    if ".." in text and ".." in _SEGMENT.split(text):
        raise SuspiciousFileOperation(
            f"{PREFIX}: the name {text!r} has a '..' segment, which would name "
            f"another file than the one written (or the storage's root). Pass the "
            f"file's own path, e.g. 'uploads/report.pdf'."
        )
