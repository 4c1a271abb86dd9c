"""The resolved configuration: one frozen object a storage is built from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.config import Config

from .conf import Source, Sourced, default
from .options import OPTIONS

__all__ = ["S3Config"]

#: The fields the ``options`` rows fill, in the table's order (``describe()``).
FIELDS = tuple(row.field for row in OPTIONS if row.field)


@dataclass(frozen=True)
class S3Config:
    """Everything resolved about where and how a storage talks to S3.

    ``sources`` says where each value came from, as ``conf.Source`` data
    (kind and name: an option, a class attribute, a setting, the environment,
    a default, derived from another value, discovered); ``str()`` of one is
    for people (``settings.AWS_REGION``, ``host in settings.AWS_S3_HOST``).
    It holds no secret: credentials stay with django-storages.
    """

    bucket_name: str
    region: str
    signing_region: str
    #: AWS partition ("aws", "aws-cn", ...), or None for a custom endpoint.
    partition: str | None
    #: The service endpoint requests go to, e.g. https://s3.ap-northeast-2.amazonaws.com
    endpoint_url: str
    #: The root URL of the bucket's objects, without a trailing slash.
    bucket_url: str
    addressing_style: Literal["virtual", "path"]
    use_ssl: bool
    use_dualstack: bool
    use_fips: bool
    use_accelerate_endpoint: bool
    querystring_expire: int
    #: Ask the bucket its region (one HeadBucket per bucket per process).
    discover_region: bool
    #: When the bucket is not in the configured region: "follow" it or "raise".
    region_mismatch: Literal["follow", "raise"]
    #: Files of types a browser runs: stored "attachment" (downloaded) or "inline".
    active_content: Literal["attachment", "inline"]
    #: Uploads at a time in ``collectstatic``.
    collectstatic_workers: int
    client_config: Config = field(repr=False)
    #: Where browsers reach the server (``AWS_S3_PUBLIC_ENDPOINT_URL``), if not at endpoint_url.
    public_endpoint_url: str | None = None
    #: The bucket's root URL for url(): public_endpoint_url's, else bucket_url.
    public_bucket_url: str = ""
    sources: Mapping[str, Source] = field(default_factory=dict)
    #: Region settings that disagree, each with its source, the one used first.
    region_conflicts: tuple[Sourced, ...] = ()
    #: The region was named in settings, OPTIONS, a class attribute, the client
    #: config or an AWS host (not only the environment): trusted, never asked.
    region_named: bool = False
    #: botocore's CRC checksums: "when_required" on custom endpoints unless set.
    request_checksum_calculation: str = "when_supported"
    response_checksum_validation: str = "when_supported"
    #: Settings read but not used (overridden, redundant), in words.
    notes: tuple[str, ...] = ()
    #: What the storage should warn about when it is built.
    warnings: tuple[str, ...] = ()
    #: SigV4 always: "s3v4a" (SigV4A) only for multi-region access points.
    signature_version: Literal["s3v4", "s3v4a"] = "s3v4"
    #: The service in the credential scope ("s3", "s3-object-lambda", "s3-outposts").
    signing_name: str = "s3"

    @property
    def fast_signing(self) -> bool:
        """Whether ``signer.BucketURL.presign`` signs exactly as botocore would:
        plain SigV4 for the ``s3`` service (not SigV4A, not Object Lambda or Outposts)."""
        return self.signature_version == "s3v4" and self.signing_name == "s3"

    @property
    def post_url(self) -> str:
        """Where a browser POSTs a presigned form: the bucket's public root, as
        botocore's ``generate_presigned_post`` gives it."""
        root = self.public_bucket_url
        return root if self.addressing_style == "path" else root + "/"

    @property
    def custom_endpoint(self) -> bool:
        return self.partition is None

    @property
    def region_configured(self) -> bool:
        """Whether the region came from somewhere (a setting, the host, the bucket)
        rather than the default."""
        return not self.source("region").is_default

    def source(self, name: str) -> Source:
        """Where the value ``name`` came from (a default when nothing set it)."""
        return self.sources.get(name, default())

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``boto3.Session.client/resource("s3", ...)``.

        On AWS no ``endpoint_url`` is passed: botocore's rule set picks the
        endpoint from the region and flags (``endpoints.aws_endpoint`` gives
        the same URL, and the tests hold the two together).
        """
        return {
            "region_name": self.region,
            "endpoint_url": self.endpoint_url if self.custom_endpoint else None,
            "use_ssl": self.use_ssl,
            "config": self.client_config,
        }

    def describe(self) -> dict[str, tuple[Any, str]]:
        """Each resolved value with its source in words, for logs and the doctor."""
        return {name: (getattr(self, name), str(self.source(name))) for name in FIELDS}
