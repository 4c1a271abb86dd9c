"""Where a storage's values come from, most specific first.

django-storages' contract: a keyword argument (``STORAGES[...]["OPTIONS"]``)
beats a class attribute, which beats a Django setting. This package adds the
environment as the last layer for the few values AWS tools read from it.
``Layers`` answers "what is the first value set, and where was it set?" and
never validates: that is ``resolve``'s job. It reads each setting and
variable once: a storage that resolves again (with its bucket's region)
sees the values it was built with.
"""

from __future__ import annotations

import difflib
import enum
import functools
import inspect
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .checkids import SettingError
from .options import Option, Place, Where


class Kind(enum.Enum):
    """Where a value came from. Code decides on this; people read ``str(Source)``."""

    OPTION = "option"  # STORAGES[...]["OPTIONS"], a keyword argument
    CLASS_ATTRIBUTE = "class attribute"
    SETTING = "setting"
    ENVIRONMENT = "environment"
    DEFAULT = "default"  # nobody set it
    DERIVED = "derived"  # read off another value (an AWS host, a URL's scheme, an ARN)
    DISCOVERED = "discovered"  # the bucket said it (HeadBucket)


@dataclass(frozen=True)
class Source:
    """Where one value came from, as data.

    ``name`` is the option, attribute, setting or variable name (``"region_name"``,
    ``"AWS_REGION"``); ``owner`` the class of a class attribute; ``of`` the
    source a derived value was read off; ``text`` the words for defaults,
    derived and discovered values. ``str()`` is for people only.
    """

    kind: Kind
    name: str = ""
    owner: str = ""
    text: str = ""
    of: Source | None = None

    def __str__(self) -> str:
        if self.kind is Kind.OPTION:
            return f"OPTIONS[{self.name!r}]"
        if self.kind is Kind.CLASS_ATTRIBUTE:
            return f"{self.owner}.{self.name}"
        if self.kind is Kind.SETTING:
            return f"settings.{self.name}"
        if self.kind is Kind.ENVIRONMENT:
            return f"environment {self.name}"
        if self.of is not None:
            return self.text.replace("{of}", str(self.of))
        return self.text or self.kind.value

    @property
    def is_default(self) -> bool:
        return self.kind is Kind.DEFAULT


def default(text: str = "default") -> Source:
    return Source(Kind.DEFAULT, text=text)


def derived(text: str, of: Source | None = None) -> Source:
    """A value read off another (``of``): ``text`` may name it as ``{of}``."""
    return Source(Kind.DERIVED, text=text, of=of)


@dataclass(frozen=True)
class Sourced:
    """A value and where it was found, e.g. ``settings.AWS_REGION``."""

    value: Any
    source: Source

    def __str__(self) -> str:
        """``source=value``, as messages show it."""
        return f"{self.source}={self.value!r}"


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
        self._read: dict[tuple[str, str], Any] = {}

    @classmethod
    def for_storage(
        cls, storage_class: type, options: Mapping[str, Any], names: Iterable[str]
    ) -> Layers:
        from django.conf import settings

        class_attrs = {n: getattr(storage_class, n) for n in names if hasattr(storage_class, n)}
        return cls(
            options=dict(options),
            class_attrs=class_attrs,
            settings=settings,
            environ=os.environ,
            owner=storage_class.__name__,
        )

    def option(self, name: str) -> Sourced | None:
        """The OPTIONS keyword argument, else the class attribute."""
        if _is_set(self._options.get(name)):
            return Sourced(self._options[name], Source(Kind.OPTION, name))
        if _is_set(self._class_attrs.get(name)):
            return Sourced(
                self._class_attrs[name], Source(Kind.CLASS_ATTRIBUTE, name, owner=self._owner)
            )
        return None

    def _once(self, where: str, name: str, read: Any) -> Any:
        key = (where, name)
        if key not in self._read:
            self._read[key] = read()
        return self._read[key]

    def setting(self, *names: str) -> Sourced | None:
        for name in names:
            value = self._once("settings", name, lambda n=name: getattr(self._settings, n, None))
            if _is_set(value):
                return Sourced(value, Source(Kind.SETTING, name))
        return None

    def env(self, *names: str) -> Sourced | None:
        for name in names:
            value = self._once("environ", name, lambda n=name: self._environ.get(n))
            if _is_set(value):
                return Sourced(value, Source(Kind.ENVIRONMENT, name))
        return None

    def candidates(
        self,
        row: Option,
        client_config: Sourced | None = None,
        derived: Mapping[str, Sourced | None] | None = None,
    ) -> list[Sourced]:
        """Every value set for the option ``row``, in its order: the first wins.

        ``client_config`` is the user's ``AWS_S3_CLIENT_CONFIG``; ``derived``
        the values ``resolve`` read off others, by the name of their place.
        """
        found = (self.at(place, client_config, derived or {}) for place in row.order)
        return [value for value in found if value is not None]

    def first(
        self,
        row: Option,
        client_config: Sourced | None = None,
        derived: Mapping[str, Sourced | None] | None = None,
    ) -> Sourced | None:
        """The value that wins for ``row``, or None when nothing sets it."""
        found = self.candidates(row, client_config, derived)
        return found[0] if found else None

    def at(
        self, place: Place, client_config: Sourced | None, derived: Mapping[str, Sourced | None]
    ) -> Sourced | None:
        if place.where is Where.OPTION:
            return self.option(place.name)
        if place.where is Where.SETTING:
            return self.setting(place.name)
        if place.where is Where.ENVIRONMENT:
            return self.env(place.name)
        if place.where is Where.DERIVED:
            return derived.get(place.name)
        return _in_config(place, client_config)


def _in_config(place: Place, client_config: Sourced | None) -> Sourced | None:
    """The value at ``place`` inside the user's client config, sourced to it."""
    if client_config is None:
        return None
    value: Any = client_config.value
    for part in place.path:
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    if not _is_set(value):
        return None
    text = str(place).strip("`")
    return Sourced(value, derived(text, of=client_config.source))


#: Keyword arguments a storage takes besides its default settings: django-storages'
#: S3Storage pops ``cloudfront_signer`` from its keyword arguments (the keyword-only
#: parameters of every ``__init__``, such as ManifestFilesMixin's ``manifest_storage``,
#: are read off the class).
_CONSTRUCTOR_OPTIONS = ("cloudfront_signer",)


def accepted_options(storage_class: type, defaults: Iterable[str]) -> list[str]:
    """Every OPTIONS key ``storage_class`` accepts: its default settings (django-storages'
    and ours), and the keyword arguments its constructors take."""
    return sorted(set(defaults) | _constructor_options(storage_class))


@functools.cache
def _constructor_options(storage_class: type) -> frozenset[str]:
    """The keyword-only parameters of every ``__init__`` in the class's MRO, plus
    ``_CONSTRUCTOR_OPTIONS``: fixed per class, so read once."""
    names = set(_CONSTRUCTOR_OPTIONS)
    for base in storage_class.__mro__:
        init = base.__dict__.get("__init__")
        if inspect.isfunction(init):
            parameters = inspect.signature(init).parameters.values()
            names.update(p.name for p in parameters if p.kind is p.KEYWORD_ONLY)
    return frozenset(names)


def refuse_unknown_options(
    storage_class: type, options: Mapping[str, Any], defaults: Iterable[str]
) -> SettingError | None:
    """An error naming the first OPTIONS key the storage does not take, and the
    closest it does (``regoin_name`` → ``region_name``, ``bucket`` → ``bucket_name``).

    django-storages refuses such a key too, but only when the storage is first
    used, with a bare "Invalid setting"; the system check gives these words.
    """
    accepted = accepted_options(storage_class, defaults)
    unknown = [key for key in options if key not in accepted]
    if not unknown:
        return None
    key = unknown[0]
    close = difflib.get_close_matches(str(key), accepted, n=1, cutoff=0.6)
    problem = f"OPTIONS has the key {key!r}, which {storage_class.__name__} does not take."
    if close:
        fix = f"Did you mean {close[0]!r}? Rename the key."
    else:
        fix = (
            "Remove it, or see the Settings table in docs/configuration.md for the option "
            "you meant."
        )
    return SettingError(problem, fix)
