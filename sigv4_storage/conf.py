"""Where a storage's values come from, most specific first.

django-storages' contract: a keyword argument (``STORAGES[...]["OPTIONS"]``)
beats a class attribute, which beats a Django setting. This package adds the
environment as the last layer for the few values AWS tools read from it.
``Layers`` answers "what is the first value set, and where was it set?" and
never validates: that is ``resolve``'s job.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Options this package reads, on top of django-storages' own.
#: option name -> Django setting name
NEW_OPTIONS: dict[str, str] = {
    "host": "AWS_S3_HOST",
    "calling_format": "AWS_S3_CALLING_FORMAT",
    "use_dualstack": "AWS_S3_USE_DUALSTACK",
    "use_fips": "AWS_S3_USE_FIPS",
    "use_accelerate_endpoint": "AWS_S3_USE_ACCELERATE_ENDPOINT",
    "discover_region": "AWS_S3_DISCOVER_REGION",
    "region_mismatch": "AWS_S3_REGION_MISMATCH",
    "public_endpoint_url": "AWS_S3_PUBLIC_ENDPOINT_URL",
}


@dataclass(frozen=True)
class Sourced:
    """A value and where it was found, e.g. ``settings.AWS_REGION``."""

    value: Any
    source: str


def _is_set(value: Any) -> bool:
    # None, and "" from `os.environ.get("X", "")`, mean "not set" everywhere.
    return value is not None and value != ""


class Layers:
    def __init__(
        self,
        *,
        options: Mapping[str, Any],
        class_attrs: Mapping[str, Any],
        settings: Any,
        environ: Mapping[str, str],
        owner: str,
    ) -> None:
        self._options = options
        self._class_attrs = class_attrs
        self._settings = settings
        self._environ = environ
        self._owner = owner

    @classmethod
    def for_storage(
        cls, storage_class: type, options: Mapping[str, Any], names: Iterable[str]
    ) -> Layers:
        from django.conf import settings

        class_attrs = {n: getattr(storage_class, n) for n in names if hasattr(storage_class, n)}
        return cls(
            options=options,
            class_attrs=class_attrs,
            settings=settings,
            environ=os.environ,
            owner=storage_class.__name__,
        )

    def option(self, name: str) -> Sourced | None:
        """The OPTIONS keyword argument, else the class attribute."""
        if _is_set(self._options.get(name)):
            return Sourced(self._options[name], f"OPTIONS[{name!r}]")
        if _is_set(self._class_attrs.get(name)):
            return Sourced(self._class_attrs[name], f"{self._owner}.{name}")
        return None

    def setting(self, *names: str) -> Sourced | None:
        for name in names:
            value = getattr(self._settings, name, None)
            if _is_set(value):
                return Sourced(value, f"settings.{name}")
        return None

    def env(self, *names: str) -> Sourced | None:
        for name in names:
            value = self._environ.get(name)
            if _is_set(value):
                return Sourced(value, f"environment {name}")
        return None

    def first(
        self, option: str, settings: Iterable[str] = (), env: Iterable[str] = ()
    ) -> Sourced | None:
        """OPTIONS > class attribute > settings (in order) > environment (in order)."""
        return self.option(option) or self.setting(*settings) or self.env(*env)
