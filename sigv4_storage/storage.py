"""The three storage classes: django-storages' S3 storages, built from an ``S3Config``.

``resolve`` decides region, endpoint, addressing and signature; the storage
hands the result to the attributes django-storages already reads
(``region_name``, ``endpoint_url``, ``use_ssl``, ``client_config``...), so
every inherited behaviour keeps working. The storage's own methods check
names before any request and settle the configuration (the bucket's region,
once, through ``settled()``: every shared client and the ``Presigner`` are
built from it). Each further behaviour is a mixin in the module that owns it:
``collect.CollectstaticMixin``, ``creates.AtomicCreatesMixin``,
``direct.DirectUploadsMixin`` and ``files.LazyFilesMixin``.
"""

from __future__ import annotations

import inspect
import logging
import threading
import warnings
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import BotoCoreError
from django.apps import apps
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage
from storages.backends.s3 import S3ManifestStaticStorage, S3StaticStorage, S3Storage
from storages.utils import clean_name, setting

from . import clients, discovery
from . import content as active
from .checkids import E006, PREFIX, SettingError
from .collect import CollectstaticMixin
from .conf import Layers, refuse_unknown_options
from .config import S3Config
from .creates import AtomicCreatesMixin
from .direct import DirectUploadsMixin
from .errors import RefusalHints, with_context
from .files import LazyFilesMixin
from .hashing import LinearPostProcessMixin
from .names import check_key, check_no_parent, check_not_empty, location_prefix, plain_key
from .options import NEW_OPTIONS
from .presign import Presigner
from .resolve import check_expire, resolve

logger = logging.getLogger("sigv4_storage")


class SigV4StorageWarning(UserWarning):
    """A setting was overridden to keep requests and URLs working."""


_app_checked = False


def _warn_if_app_missing() -> None:
    """Once per process: the storages work without the app, but nothing checks them.
    Said as soon as the app list is known (a storage built while models import,
    as Wagtail's are, too); before that, by the next storage built."""
    global _app_checked
    if _app_checked or not apps.apps_ready:
        return
    _app_checked = True
    if not apps.is_installed("sigv4_storage"):
        warnings.warn(
            "sigv4_storage is used but not in INSTALLED_APPS: its system checks (a bad "
            "region, an expiry over 7 days, settings Django ignores) and `manage.py "
            "s3doctor` are off. Add 'sigv4_storage' to INSTALLED_APPS.",
            SigV4StorageWarning,
            stacklevel=3,
        )


class SigV4S3Storage(
    CollectstaticMixin,
    AtomicCreatesMixin,
    DirectUploadsMixin,
    LazyFilesMixin,
    S3Storage,  # type: ignore[misc]
):
    """S3 storage that always signs with SigV4 on the right regional endpoint.

    Its own methods check names and settle the configuration; each mixin holds
    one behaviour, in the module that owns it (the code map in docs/development.md).
    """

    def __new__(cls, *args: Any, **options: Any) -> Any:
        # Built while Django loads its apps (a framework's models touching
        # default_storage at import), a storage whose settings cannot work would
        # stop django.setup(), and with it `check`, which says what to fix. Then
        # it stands in as an UnusableStorage: `check` reports the error, and the
        # first use raises it.
        if not apps.ready and (refused := cls.refusal(options)) is not None:
            return UnusableStorage(cls.__name__, refused)
        return super().__new__(cls, *args, **options)

    @classmethod
    def refusal(cls, options: dict[str, Any]) -> SettingError | None:
        """What ``__init__`` would raise for ``options`` (an unknown option, a
        setting that cannot work, a presigned manifest storage), offline."""
        layers, defaults = cls.offline_view(options)
        unknown = refuse_unknown_options(cls, options, defaults)
        if unknown is not None:
            return unknown
        try:
            resolve(layers)
        except SettingError as error:
            return error
        found = layers.option("querystring_auth")
        querystring_auth = found.value if found is not None else defaults.get("querystring_auth")
        return refuse_presigned_static(cls, querystring_auth)

    def __init__(self, **options: Any) -> None:
        _warn_if_app_missing()
        # Resolve first: a bad setting fails here, before anything is built.
        # (django-storages' own __init__ also starts with get_default_settings().)
        self._options = options
        defaults = self.get_default_settings()
        unknown = refuse_unknown_options(type(self), options, defaults)
        if unknown is not None:
            raise unknown
        self._layers = Layers.for_storage(type(self), options, defaults)
        s3 = resolve(self._layers)
        for message in s3.warnings:
            warnings.warn(message, SigV4StorageWarning, stacklevel=2)
        super().__init__(**options)
        # Before ManifestFilesMixin reads its manifest: no request for a storage that cannot work.
        refusal = refuse_presigned_static(type(self), self.querystring_auth)
        if refusal is not None:
            raise refusal
        self._region_lock = threading.Lock()
        self._region_settled = not s3.discover_region
        self._use(s3)

    @classmethod
    def offline_view(cls, options: dict[str, Any]) -> tuple[Layers, dict[str, Any]]:
        """The layers and django-storages defaults an instance would read.

        For system checks: nothing is built, no manifest is read, no request
        is sent.
        """
        # object.__new__: no __new__ of ours (it calls this) and no constructor record.
        defaults: dict[str, Any] = cls.get_default_settings(object.__new__(cls))
        return Layers.for_storage(cls, options, defaults), defaults

    def _use(self, s3: S3Config) -> None:
        """Hand the resolved values to the attributes django-storages reads.

        ``s3_config`` is the truth; the attributes mirror it for django-storages'
        inherited code and for users who read them. This package's modules read
        ``s3_config`` (``settled()``), except ``querystring_expire``, read from the
        attribute as django-storages reads it (code may set it on an instance).
        """
        self.s3_config: S3Config = s3
        client = s3.client_kwargs()
        self.bucket_name = s3.bucket_name
        self.region_name = client["region_name"]
        self.endpoint_url = client["endpoint_url"]
        self.use_ssl = client["use_ssl"]
        self.client_config = client["config"]
        self.signature_version = s3.signature_version
        self.addressing_style = s3.addressing_style
        self.querystring_expire = s3.querystring_expire
        self._shared_clients: dict[clients.Want, clients.Shared] = {}
        self._clients_generation = clients.generation()
        self._presigner: Presigner | None = None
        self._key_prefix = location_prefix(self.location)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s resolved: %s; notes: %s",
                type(self).__name__,
                ", ".join(f"{k}={v!r} ({src})" for k, (v, src) in s3.describe().items()),
                " ".join(s3.notes) or "none",
            )

    # -- connections: shared clients, after the bucket's region is settled ---------
    @property
    def connection(self) -> Any:
        """This thread's boto3 resource, on the process-wide client (``clients``)."""
        return self._thread_resource("_connections", signed=True)

    @property
    def unsigned_connection(self) -> Any:
        return self._thread_resource("_unsigned_connections", signed=False)

    def _thread_resource(self, slot: str, signed: bool) -> Any:
        self._follow_client_reset()
        local: threading.local = getattr(self, slot)
        resource = getattr(local, "connection", None)
        if resource is None:
            resource = local.connection = self._shared(signed).resource()
        return resource

    def _follow_client_reset(self) -> None:
        """After ``clients.clear_cache()`` (``testing.reset()``), drop what was built on
        the old clients: this instance's clients, every thread's resource, the bucket."""
        if self._clients_generation != clients.generation():
            self._clients_generation = clients.generation()
            self._shared_clients = {}
            self._connections = threading.local()
            self._unsigned_connections = threading.local()
            self._bucket = None

    def _shared(self, signed: bool, public: bool = False, create: bool = False) -> clients.Shared:
        """The process-wide client for this use, on the settled configuration."""
        s3 = self.settled()
        self._follow_client_reset()
        want = clients.Want(signed, public, create)
        found = self._shared_clients.get(want)
        if found is None:
            found = self._shared_clients[want] = clients.shared(s3, want, self._access())
        return found

    def presigner(self) -> Presigner:
        """The signer of this storage's URLs and forms, for the settled configuration."""
        s3 = self.settled()
        signer = self._presigner
        if signer is None or signer.s3 is not s3:
            signer = self._presigner = Presigner(s3, self._shared)
        return signer

    def _access(self) -> clients.Access:
        """This storage's credentials (django-storages' attributes) and TLS verification."""
        return clients.Access.of(
            self._create_session,
            profile=self.session_profile,
            access_key=self.access_key,
            secret_key=self.secret_key,
            token=self.security_token,
            verify=self.verify,
        )

    # -- writes: names checked first; atomic creates (``creates``), runs (``collect``) --
    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        check_no_parent(content.name if name is None else name)
        return str(super().save(name, content, max_length))

    def _creates_atomically(self) -> bool:
        # A collectstatic run records writes and sends them at its end: none now.
        return not self.collecting_now and super()._creates_atomically()

    def _save(self, name: str, content: Any) -> str:
        check_not_empty(name)
        return str(super()._save(name, content))

    def _get_write_parameters(self, name: str, content: Any = None) -> dict[str, Any]:
        params: dict[str, Any] = super()._get_write_parameters(name, content)
        if self._downloads(params.get("ContentType")):
            params.setdefault("ContentDisposition", active.ATTACHMENT)
        return params

    def write_parameters(self, name: str, content_type: str | None = None) -> dict[str, Any]:
        """What every write of ``name`` stores it with, as ``save()`` does:
        ``get_object_parameters(name)`` (``AWS_S3_OBJECT_PARAMETERS``), the type
        (``content_type``, else the name's), ``default_acl``, and
        ``Content-Disposition: attachment`` for a type browsers must download.
        Direct uploads (presigned POST forms, multipart uploads and the copy that
        accepts an upload) write with it too."""
        return self._get_write_parameters(name, SimpleNamespace(content_type=content_type))

    def _downloads(self, content_type: str | None) -> bool:
        """Whether a file of ``content_type`` is stored ``Content-Disposition:
        attachment``: a type a browser runs, unless ``active_content="inline"``."""
        return active.stored_as_attachment(self.s3_config.active_content, content_type)

    # -- the bucket's region: settled once, before any client or signer is built -----
    def settled(self) -> S3Config:
        """The configuration every client, signer and ``s3doctor`` use: with the
        bucket's region settled (``settle_region``)."""
        if not self._region_settled:
            self.settle_region()
        return self.s3_config

    def settle_region(self) -> None:
        """Ask the bucket its region (once per bucket per process) and act on it.

        Only when ``s3_config.discover_region``: by default, on AWS endpoints
        whose region no setting names. ``discovery.verdict`` says what the
        answer means: no region named, use the bucket's (over a region from the
        environment, a guess); a region named with ``discover_region=True`` that
        the bucket is not in, follow the bucket with a ``SigV4StorageWarning``
        (``region_mismatch="follow"``, the default) or raise
        ``ImproperlyConfigured`` (``"raise"``). Runs on first use, never in
        ``__init__``, so building a storage stays offline.
        """
        if self._region_settled:
            return
        with self._region_lock:
            if self._region_settled:
                return
            s3 = self.s3_config
            found = discovery.bucket_region(s3, self.probe_client)
            said = discovery.verdict(s3, found)
            mismatch = f"bucket {s3.bucket_name!r} is {said.mismatch}"
            if said.outcome is discovery.Outcome.RAISE:
                raise ImproperlyConfigured(
                    f"{PREFIX}: {mismatch}. Set the region to {found!r}, or "
                    f"AWS_S3_REGION_MISMATCH = 'follow' to use the bucket's region."
                )
            if said.outcome is discovery.Outcome.FOLLOW:
                warnings.warn(
                    f"{mismatch}: requests and URLs use {found!r}. Set the region to "
                    f"{found!r} to silence this.",
                    SigV4StorageWarning,
                    stacklevel=3,
                )
            if said.use is not None:
                # The layers __init__ read, so the same values (and the same
                # warnings, given then) with the bucket's region.
                self._use(resolve(self._layers, bucket_region=said.use))
            self._region_settled = True

    def _create_session(self) -> Any:
        # Clients and resources copy the session's event handlers when built.
        session = super()._create_session()
        s3 = self.s3_config
        RefusalHints(s3.bucket_name, s3.endpoint_url, s3.region).register(session.events)
        return session

    def probe_client(self) -> Any:
        """A new botocore S3 client for this storage's configuration and credentials,
        with short timeouts and two attempts: for one-off questions (the bucket's
        region, ``s3doctor``). Not shared, not cached."""
        kwargs = self.s3_config.client_kwargs()
        kwargs["config"] = kwargs["config"].merge(discovery.PROBE_CONFIG)
        return self._create_session().client("s3", verify=self.verify, **kwargs)

    def credentials(self) -> Any:
        """botocore's credentials this storage signs with (settings, OPTIONS,
        environment, profile or role), or None when none are found."""
        return self._create_session().get_credentials()

    def _open(self, name: str, mode: str = "rb") -> Any:
        check_not_empty(name)
        return super()._open(name, mode)

    def get_default_settings(self) -> dict[str, Any]:
        defaults: dict[str, Any] = super().get_default_settings()
        defaults.update({option: setting(name) for option, name in NEW_OPTIONS.items()})
        return defaults

    def url(
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        try:  # no cost on the fast path: nothing is entered unless botocore raised
            return self._build_url(name, parameters, expire, http_method)
        except BotoCoreError as error:
            raise self._in_context(error) from None

    def _in_context(self, error: BotoCoreError) -> Exception:
        """botocore's own presigning raises a bare ``NoCredentialsError``: the same
        error with where and the fix, as requests get them (``errors.RefusalHints``);
        any other error as it is."""
        s3 = self.s3_config
        where = RefusalHints(s3.bucket_name, s3.endpoint_url, s3.region).where
        return with_context(error, where) or error

    def _build_url(  # not _url: HashedFilesMixin has one
        self,
        name: str,
        parameters: dict[str, Any] | None,
        expire: int | None,
        http_method: str | None,
    ) -> str:
        check_expire("url", expire)
        if (
            self.querystring_auth
            and not self.custom_domain  # S3 answers response-* only to requests it signs
            and (http_method or "GET").upper() == "GET"
            and self.s3_config.active_content == active.ATTACHMENT
        ):  # whatever disposition the server kept (``behaviour.POST_FIELDS``)
            parameters = active.signed_get(name, parameters)
        if not self.custom_domain:  # a CDN (and CloudFront signing): django-storages'
            built = self.presigner().get_url(
                self.s3_key(name),
                parameters=parameters or {},
                expire=self.querystring_expire if expire is None else expire,
                method=http_method,
                signed=self.querystring_auth,
            )
            if built is not None:
                return built
            if self.querystring_auth:  # django-storages signs: as briefly as ours
                asked = self.querystring_expire if expire is None else expire
                expire = self.presigner().lifetime(asked)
        check_no_parent(name)
        result: str = super().url(
            name, parameters=parameters, expire=expire, http_method=http_method
        )
        return result

    def object_url(self, name: str, *, expire: int | None = None) -> str:
        """The URL of the object stored under ``name``, as this storage signs or
        builds it, without a subclass's name mapping (``ManifestFilesMixin`` maps
        ``url(name)`` to the hashed name and takes no ``expire``). ``s3doctor``
        fetches these.
        """
        return SigV4S3Storage.url(self, name, expire=expire)

    def s3_key(self, name: Any) -> str:
        """The S3 key of the file ``name``: under the storage's ``location``, checked
        as every operation checks it (django-storages' ``_normalize_name(clean_name())``,
        without its normpath for plain names)."""
        key = plain_key(self._key_prefix, name)
        if key is None:
            check_no_parent(name)
            return self._normalize_name(clean_name(name))
        return check_key(name, key)

    def _normalize_name(self, name: Any) -> str:
        # Every operation goes through here: refuse what S3 cannot store safely.
        key: str = super()._normalize_name(name)
        return check_key(name, key)

    # Names that name no file are refused before any request (listdir("") is fine).
    def exists(self, name: str) -> bool:
        check_not_empty(name)
        return bool(super().exists(name))

    def delete(self, name: str) -> None:
        check_not_empty(name)
        super().delete(name)

    def size(self, name: str) -> int:
        check_not_empty(name)
        return int(super().size(name))

    def get_modified_time(self, name: str) -> Any:
        check_not_empty(name)
        return super().get_modified_time(name)

    def listdir(self, path: str) -> Any:
        check_no_parent(path)  # "" is the root, and fine
        return super().listdir(path)

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state.pop("_region_lock", None)
        state.pop("_shared_clients", None)
        state.pop("_presigner", None)
        state.pop("_layers", None)  # Django's settings: read again where it is unpickled
        # boto3's TransferConfig marks unset values with an object() sentinel it
        # compares by identity, which pickling breaks: keep the values set, rebuild.
        config = state.pop("transfer_config", None)
        if config is not None:
            names = list(inspect.signature(type(config).__init__).parameters)[1:]
            state["_transfer_config_args"] = (
                type(config),
                {
                    n: getattr(config, n)
                    for n in names
                    if type(getattr(config, n, None)) is not object
                },
            )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._region_lock = threading.Lock()
        self._presigner = None
        self._shared_clients = {}
        self._clients_generation = clients.generation()
        self._layers = Layers.for_storage(type(self), self._options, self.get_default_settings())
        if "_transfer_config_args" in state:
            config_class, kwargs = self.__dict__.pop("_transfer_config_args")
            self.transfer_config = config_class(**kwargs)

    def __repr__(self) -> str:
        s3 = self.s3_config
        return (
            f"<{type(self).__name__} bucket={s3.bucket_name!r} region={s3.region!r} "
            f"endpoint={s3.endpoint_url!r} addressing={s3.addressing_style!r}>"
        )


class SigV4StaticStorage(SigV4S3Storage, S3StaticStorage):  # type: ignore[misc]
    """For static files: public URLs, no query-string signature."""

    #: Static files are the site's own: its SVG icons and XML are served as they are.
    active_content = "inline"


class SigV4ManifestStaticStorage(
    LinearPostProcessMixin,
    S3ManifestStaticStorage,  # type: ignore[misc]
    SigV4StaticStorage,
):
    """Static files with Django's ``ManifestFilesMixin`` (hashed names).

    Its ``post_process`` is Django's, in time linear in the files (``hashing``).

    The mixin comes first in the method order, as Django requires, so its
    ``url()`` maps names to hashed names before ours signs or builds them.
    Its URLs must be public: the mixin writes URLs into the CSS it rewrites
    and unquotes them, which a presigned URL does not survive.
    """


def refuse_presigned_static(cls: type, querystring_auth: Any) -> SettingError | None:
    """E006: a storage with Django's ``ManifestFilesMixin`` and presigned URLs."""
    if not (querystring_auth and issubclass(cls, ManifestFilesMixin)):
        return None
    return SettingError(
        f"{cls.__name__} has querystring_auth on. Django's ManifestFilesMixin writes "
        "URLs into the CSS it rewrites, and presigned URLs there break (and expire).",
        "Serve static files publicly: remove querystring_auth from OPTIONS (static "
        "storages default to False) and grant public read on the static prefix.",
        E006,
    )


class UnusableStorage(Storage):
    """Stands for a storage whose settings cannot work, built before Django's
    apps were ready: the error it holds is raised by any use of it (an
    attribute, a method), and ``manage.py check`` reports the same error with
    its check id and fix. A ``Storage`` only so that a model field handed it
    at import (Wagtail's renditions: ``FileField(storage=callable)``) accepts
    it; nothing can be done with it."""

    _OWN = frozenset({"_error", "_class_name", "_constructor_args", "__class__", "__dict__"})

    def __init__(self, class_name: str, error: SettingError) -> None:
        object.__setattr__(self, "_class_name", class_name)
        object.__setattr__(self, "_error", error)

    def __getattribute__(self, name: str) -> Any:
        if name in UnusableStorage._OWN:
            return object.__getattribute__(self, name)
        raise object.__getattribute__(self, "_error")

    def __repr__(self) -> str:
        return f"<{self._class_name}, unusable: {self._error}>"
