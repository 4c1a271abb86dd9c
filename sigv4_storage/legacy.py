"""The modern ``STORAGES`` equivalent of a project's boto-era settings.

For ``manage.py s3doctor --legacy``: every storage that uses an S3 backend
(this package's, django-storages' ``s3``/``s3boto3``/``s3boto``) becomes an
entry on this package's classes, with OPTIONS holding what the resolver
decided from the legacy settings (region from ``AWS_REGION`` or the host,
endpoint from ``AWS_S3_HOST``, addressing from ``AWS_S3_CALLING_FORMAT``...).
Credentials are never copied: they stay in the environment or settings.
"""

from __future__ import annotations

import pprint
from typing import Any

import django
from django.conf import settings

from .backends import LEGACY_STORAGE_SETTINGS, replacement
from .resolve import resolve

#: Settings this package reads only for their boto-era meaning.
BOTO_ERA = ("AWS_REGION", "AWS_S3_HOST", "AWS_S3_CALLING_FORMAT", "S3_USE_SIGV4")
NEVER_COPIED = {"access_key", "secret_key", "security_token", "session_profile"}


def _entries() -> dict[str, dict[str, Any]]:
    """Every storage entry the project configures, legacy settings included."""
    entries = {
        alias: dict(entry)
        for alias, entry in (getattr(settings, "STORAGES", None) or {}).items()
        if isinstance(entry, dict)
    }
    if django.VERSION >= (5, 1):  # Django 4.2 has already copied them into STORAGES
        for alias, name in LEGACY_STORAGE_SETTINGS.items():
            value = getattr(settings, name, None)  # ignored by Django, meant by the user
            if replacement(value):
                entries[alias] = {"BACKEND": value}
    return entries


def _options(backend: str, options: dict[str, Any]) -> dict[str, Any]:
    from django.utils.module_loading import import_string

    layers, _ = import_string(backend).offline_view(options)
    s3 = resolve(layers)
    result = {k: v for k, v in options.items() if k not in NEVER_COPIED}
    result["bucket_name"] = s3.bucket_name
    if s3.region_named:  # not one from the environment: that stays where it is
        result["region_name"] = s3.region
    if s3.custom_endpoint:
        result["endpoint_url"] = s3.endpoint_url
    for name in ("addressing_style", "querystring_expire"):
        if not s3.sources[name].is_default:
            result[name] = getattr(s3, name)
    for name in ("use_dualstack", "use_fips", "use_accelerate_endpoint"):
        if getattr(s3, name):
            result[name] = True
    for old in ("host", "calling_format", "signature_version"):
        result.pop(old, None)
    return result


def modern_storages() -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The ``STORAGES`` dict, and the settings that become unnecessary."""
    storages: dict[str, dict[str, Any]] = {}
    for alias, entry in _entries().items():
        backend = replacement(entry.get("BACKEND"))
        if backend is None:
            storages[alias] = entry
            continue
        storages[alias] = {
            "BACKEND": backend,
            "OPTIONS": _options(backend, dict(entry.get("OPTIONS") or {})),
        }
    removable = [name for name in BOTO_ERA if getattr(settings, name, None) not in (None, "")]
    if getattr(settings, "AWS_S3_SIGNATURE_VERSION", None) == "s3":
        removable.append("AWS_S3_SIGNATURE_VERSION")
    for name in LEGACY_STORAGE_SETTINGS.values():
        if settings.is_overridden(name):  # type: ignore[misc]
            removable.append(name)
    return storages, removable


def _python(value: Any, indent: int = 0) -> str:
    """A settings-file literal: one key per line, 4-space indents."""
    if isinstance(value, dict) and value:
        pad = " " * (indent + 4)
        items = "".join(f"{pad}{k!r}: {_python(v, indent + 4)},\n" for k, v in value.items())
        return "{\n" + items + " " * indent + "}"
    return pprint.pformat(value)


def as_python() -> str:
    storages, removable = modern_storages()
    lines = [
        "# The modern equivalent of this project's storage settings (django-sigv4-storage).",
        "# Credentials are not copied: keep them in the environment.",
        "STORAGES = " + _python(storages),
    ]
    if removable:
        lines.append("# Then remove: " + ", ".join(removable))
    return "\n".join(lines)
