"""Recognising the storage backends a project names in its settings.

One home for two questions: is a ``BACKEND`` path one of this package's
classes (or a subclass)? — asked by the system checks and ``s3doctor
--all``; and which of our classes stands in for a django-storages S3 backend?
— asked by ``s3doctor --legacy``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from .storage import SigV4S3Storage

#: Settings Django < 5.1 reads instead of STORAGES[alias]: alias -> setting.
LEGACY_STORAGE_SETTINGS = {"default": "DEFAULT_FILE_STORAGE", "staticfiles": "STATICFILES_STORAGE"}

MEDIA = "sigv4_storage.SigV4S3Storage"
STATIC = "sigv4_storage.SigV4StaticStorage"
MANIFEST = "sigv4_storage.SigV4ManifestStaticStorage"

#: Class name of a django-storages S3 backend (boto-era ones included) -> ours.
DJANGO_STORAGES = {
    "S3Storage": MEDIA,
    "S3Boto3Storage": MEDIA,
    "S3BotoStorage": MEDIA,
    "S3StaticStorage": STATIC,
    "S3ManifestStaticStorage": MANIFEST,
}
OURS = {path.rsplit(".", 1)[-1]: path for path in (MEDIA, STATIC, MANIFEST)}


def our_class(path: Any) -> type[SigV4S3Storage] | None:
    """The class ``path`` names if it is one of ours or a subclass, else None."""
    from .storage import SigV4S3Storage

    if not isinstance(path, str):
        return None
    try:
        cls = import_string(path)
    except ImportError:
        return None  # Django's own checks and errors report it
    return cls if isinstance(cls, type) and issubclass(cls, SigV4S3Storage) else None


def replacement(path: Any) -> str | None:
    """Our class for a storage backend path: ours (a subclass stays itself), or
    the one that replaces a django-storages S3 backend; None for any other."""
    cls = our_class(path)
    if cls is not None:
        ours = cls.__module__.startswith("sigv4_storage")
        return OURS.get(cls.__name__, str(path)) if ours else str(path)
    if isinstance(path, str) and "storage" in path.lower():
        return DJANGO_STORAGES.get(path.rsplit(".", 1)[-1])
    return None
