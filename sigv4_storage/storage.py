"""The storage classes: django-storages' S3 storages, built from an ``S3Config``.

They stay thin. ``resolve`` decides region, endpoint, addressing and
signature; the storage hands the result to the attributes django-storages
already reads (``region_name``, ``endpoint_url``, ``use_ssl``,
``client_config``...), so every inherited behaviour keeps working.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from storages.backends.s3 import S3ManifestStaticStorage, S3StaticStorage, S3Storage
from storages.utils import setting

from .conf import NEW_OPTIONS, Layers
from .config import S3Config
from .errors import RefusalHints
from .resolve import MAX_EXPIRE, resolve

logger = logging.getLogger("sigv4_storage")


class SigV4StorageWarning(UserWarning):
    """A setting was overridden to keep requests and URLs working."""


class SigV4S3Storage(S3Storage):  # type: ignore[misc]
    """S3 storage that always signs with SigV4 on the right regional endpoint."""

    def __init__(self, **options: Any) -> None:
        # Resolve first: a bad setting fails here, before anything is built.
        layers = Layers.for_storage(type(self), options, self.get_default_settings())
        s3 = resolve(layers)
        for message in s3.warnings:
            warnings.warn(message, SigV4StorageWarning, stacklevel=2)
        super().__init__(**options)
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
        self.refuse_unworkable_options()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s resolved: %s; notes: %s",
                type(self).__name__,
                ", ".join(f"{k}={v!r} ({src})" for k, (v, src) in s3.describe().items()),
                " ".join(s3.notes) or "none",
            )

    def _create_session(self) -> Any:
        # Clients and resources copy the session's event handlers when built.
        session = super()._create_session()
        s3 = self.s3_config
        RefusalHints(s3.bucket_name, s3.endpoint_url, s3.region).register(session.events)
        return session

    def refuse_unworkable_options(self) -> None:
        """Raise ``ImproperlyConfigured`` for options that cannot work together.

        Runs at the end of ``__init__``: before the manifest storage reads its
        manifest, so before any request.
        """

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
        if expire is not None and (
            isinstance(expire, bool) or not isinstance(expire, int) or not 1 <= expire <= MAX_EXPIRE
        ):
            raise ValueError(
                f"url(expire={expire!r}): SigV4 presigned URLs live from 1 to "
                f"{MAX_EXPIRE} seconds (7 days)."
            )
        result: str = super().url(
            name, parameters=parameters, expire=expire, http_method=http_method
        )
        return result

    def __repr__(self) -> str:
        s3 = self.s3_config
        return (
            f"<{type(self).__name__} bucket={s3.bucket_name!r} region={s3.region!r} "
            f"endpoint={s3.endpoint_url!r} addressing={s3.addressing_style!r}>"
        )


class SigV4StaticStorage(SigV4S3Storage, S3StaticStorage):  # type: ignore[misc]
    """For static files: public URLs, no query-string signature."""


class SigV4ManifestStaticStorage(S3ManifestStaticStorage, SigV4StaticStorage):  # type: ignore[misc]
    """Static files with Django's ``ManifestFilesMixin`` (hashed names).

    The mixin comes first in the method order, as Django requires, so its
    ``url()`` maps names to hashed names before ours signs or builds them.
    Its URLs must be public: the mixin writes URLs into the CSS it rewrites
    and unquotes them, which a presigned URL does not survive.
    """

    def refuse_unworkable_options(self) -> None:
        if self.querystring_auth:
            raise ImproperlyConfigured(
                f"sigv4_storage: {type(self).__name__} has querystring_auth on. Django's "
                "ManifestFilesMixin writes URLs into the CSS it rewrites, and presigned "
                "URLs there break (and expire). Serve static files publicly: remove "
                "querystring_auth from OPTIONS (static storages default to False) and "
                "grant public read on the static prefix."
            )
