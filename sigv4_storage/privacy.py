"""Which configured storages are public, which private, and where they overlap.

A storage whose URLs carry no signature (the static classes,
``querystring_auth=False``) or whose objects are written ``public-read`` needs
its keys readable by anyone. A presigned storage needs the opposite. When
both live in one bucket under overlapping locations (one a prefix of the
other; no location is the prefix of everything), the grant the public one
needs makes the private one's files public. The system check (E007) and
``s3doctor`` (which refuses to print such a grant) read this module; it
builds no storage and sends no request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .config import S3Config
from .names import location_prefix

#: Canned ACLs that let anyone read an object.
PUBLIC_ACLS = ("public-read", "public-read-write")


@dataclass(frozen=True)
class Exposure:
    """Where one storage keeps its objects, and whether they must be public."""

    label: str  # "STORAGES['default']"
    bucket: tuple[str, str]  # (the partition, or the custom endpoint; the bucket name)
    prefix: str  # "media/", or "" for the bucket's root
    public: bool
    why: str  # why it is public, or private, in a few words
    legacy: bool = False  # configured by DEFAULT_FILE_STORAGE / STATICFILES_STORAGE

    @classmethod
    def of(cls, label: str, s3: S3Config, values: Any, *, legacy: bool = False) -> Exposure:
        """``values(name)``: the storage's effective option ``name``."""
        where = s3.endpoint_url if s3.custom_endpoint else str(s3.partition)
        prefix = location_prefix(str(values("location") or "")) or ""
        acl = values("default_acl")
        if acl in PUBLIC_ACLS:
            public, why = True, f"default_acl {acl!r}"
        elif not values("querystring_auth"):
            public, why = True, "unsigned URLs: querystring_auth is False"
        else:
            public, why = False, "presigned URLs"
        return cls(label, (where, s3.bucket_name), prefix, public, why, legacy)

    @property
    def location(self) -> str:
        return repr(self.prefix) if self.prefix else "no location (the bucket's root)"

    def overlaps(self, other: Exposure) -> bool:
        return self.bucket == other.bucket and (
            self.prefix.startswith(other.prefix) or other.prefix.startswith(self.prefix)
        )


def collisions(exposures: Iterable[Exposure]) -> Iterator[tuple[Exposure, Exposure]]:
    """Every (public, private) pair whose keys overlap, in settings order."""
    found = list(exposures)
    for public in (e for e in found if e.public):
        for private in (e for e in found if not e.public):
            if public.overlaps(private):
                yield public, private


def describe(public: Exposure, private: Exposure) -> str:
    """The problem, in words the check and the doctor share."""
    return (
        f"{public.label} ({public.why}) and {private.label} ({private.why}) share bucket "
        f"{public.bucket[1]!r} with overlapping keys ({public.location} and "
        f"{private.location}): the public read {public.label} needs would make "
        f"{private.label}'s files readable by anyone."
    )


def separate(public: Exposure, private: Exposure) -> str:
    """The fix: separate locations (or buckets), in the words of the settings used."""
    if public.legacy or private.legacy:
        return (
            f"Give each its own location, neither inside the other. {public.label} "
            f"and {private.label} both read AWS_LOCATION (and take no OPTIONS): keep "
            f"AWS_LOCATION for one, and name a class with a location of its own in the "
            f"other's setting, e.g. in your project `class StaticStorage(SigV4StaticStorage): "
            f"location = 'static'` and STATICFILES_STORAGE = 'yourproject.storage."
            f"StaticStorage'; or put them in separate buckets."
        )
    return (
        f"Give each its own location, neither inside the other: e.g. OPTIONS "
        f"{{'location': 'static'}} for {public.label} and {{'location': 'media'}} for "
        f"{private.label}; or put them in separate buckets."
    )
