"""Storage names to S3 keys, as django-storages normalises them, faster.

django-storages turns a name into a key with ``clean_name`` then
``safe_join(location, name)``: two ``posixpath.normpath`` passes, about
1.5 µs. For the names templates ask for ("photos/2026/a b.jpg") normpath
changes nothing, so ``plain_key`` checks that cheaply and concatenates;
any other name (dot segments, doubled or leading slashes, backslashes,
non-strings) goes through django-storages' own functions. Tests hold the two
equal for arbitrary names (``tests/test_names.py``).
"""

from __future__ import annotations

from typing import Any

from storages.utils import safe_join


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
