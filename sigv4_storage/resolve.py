"""Settings, OPTIONS and environment in; one ``S3Config`` out.

``resolve()`` is a list of steps in the order a reader would apply them:
bucket, scheme, endpoint, region, discovery, endpoint variants, partition,
addressing, signature, expiry, URLs, public endpoint, checksums, client
config. Each step takes what it needs and returns a value with its source
(``conf.Sourced``); only notes and warnings for people are collected on the
way. Bad input raises ``SettingError`` naming the setting at fault and the
fix, before any network request. No message contains a credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from botocore.compat import HAS_CRT
from botocore.config import Config
from botocore.exceptions import EndpointResolutionError, EndpointVariantError

from . import endpoints
from .checkids import E002, E003, E004, SettingError
from .collect import DEFAULT_WORKERS, MAX_WORKERS
from .conf import Kind, Layers, Source, Sourced, default, derived
from .config import FIELDS, S3Config
from .content import CHOICES
from .hosts import AwsHost, Endpoint, HostError, aws_host, parse_endpoint_url, parse_host
from .options import row

#: SigV4 presigned URLs live at most 7 days.
MAX_EXPIRE = 604800

#: Defaults a user's AWS_S3_CLIENT_CONFIG overrides: botocore's standard retry
#: mode (throttling and 5xx retried with backoff), and timeouts that fail a dead
#: endpoint in seconds instead of botocore's 60 s per attempt.
DEFAULT_CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"mode": "standard", "total_max_attempts": 5},
)

DISCOVERED = "the bucket's region (HeadBucket x-amz-bucket-region)"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

SIGV2_WARNING = (
    "{source}={value!r} asks for Signature Version 2, which regions opened "
    "since 2014 and buckets created since mid-2020 refuse. sigv4_storage "
    "signs with SigV4 ('s3v4') instead; remove the setting to silence this."
)


def resolve(layers: Layers, bucket_region: str | None = None) -> S3Config:
    """Resolve everything; ``bucket_region`` is the region the bucket reported."""
    notes: list[str] = []
    warnings: list[str] = []
    bucket = bucket_name(layers)
    arn = Arn.parse(bucket.value)
    user_config = user_client_config(layers)
    at = locate(layers, bucket, arn, user_config, bucket_region, notes)
    discover, mismatch = discovery(layers, at.custom, arn is not None, at.region.named)
    style = addressing(layers, user_config, bucket, arn, at.custom, at.use_ssl.value, at.flags)
    signature = signature_version(layers, user_config, notes, warnings)
    urls = at.urls(bucket, style.value, regional_us_east_1(at.asked, user_config))
    if urls.signature_version == "s3v4a":
        signature = Sourced("s3v4a", derived("SigV4A: S3's only signature for this bucket"))
    public = public_endpoint(layers, bucket, arn)
    checksum = checksums(user_config, layers, at.custom)
    decided: dict[str, Sourced] = {
        "bucket_name": bucket,
        "endpoint_url": at.asked.sourced if at.asked else Sourced(None, default()),
        "region": at.region.found,
        "use_ssl": at.use_ssl,
        "addressing_style": style,
        "signature_version": signature,
        "querystring_expire": expiry(layers),
        "discover_region": discover,
        "region_mismatch": mismatch,
        "active_content": active_content(layers),
        "collectstatic_workers": collectstatic_workers(layers),
        "public_endpoint_url": public or Sourced(None, default()),
        **at.flags.by_option(),
        **checksum,
    }
    if user_config is not None:
        decided["client_config"] = user_config
    # Each field of the options table, as decided; then what the URLs say.
    values = {name: decided[name].value for name in FIELDS}
    values.update(
        endpoint_url=urls.endpoint_url,
        signature_version=urls.signature_version,
        public_endpoint_url=public.value.url if public else None,
    )
    return S3Config(
        **values,
        signing_region=urls.signing_region,
        signing_name=urls.signing_name,
        partition=at.partition,
        bucket_url=urls.bucket_url,
        client_config=build_client_config(
            layers, user_config, urls, style.value, at.flags, checksum if at.custom else {}
        ),
        public_bucket_url=(
            public.value.bucket_url(bucket.value, style.value) if public else urls.bucket_url
        ),
        sources={name: found.source for name, found in decided.items()},
        region_conflicts=at.region.conflicts,
        region_named=at.region.named,
        notes=tuple(notes),
        warnings=tuple(warnings),
    )


@dataclass(frozen=True)
class Location:
    """Where requests go: the endpoint asked for, the scheme, the region, the
    AWS endpoint variants and the partition (None on a custom endpoint)."""

    asked: Asked | None
    use_ssl: Sourced
    region: Region
    flags: Flags
    partition: str | None

    @property
    def custom(self) -> bool:
        return self.partition is None

    def urls(self, bucket: Sourced, style: str, regional: bool) -> Urls:
        """The endpoint and bucket URLs, and how to sign for them."""
        found = self.region.found
        if self.asked is not None and self.custom:
            return custom_urls(self.asked.endpoint, bucket.value, style, found.value, regional)
        use_ssl = self.use_ssl.value
        return aws_urls(found, bucket, self.partition, style, use_ssl, self.flags, regional)


def locate(
    layers: Layers,
    bucket: Sourced,
    arn: Arn | None,
    user_config: Sourced | None,
    bucket_region: str | None,
    notes: list[str],
) -> Location:
    ssl_asked = _bool(layers.first(row("use_ssl")), True)
    asked = endpoint_asked(layers, ssl_asked, notes)
    custom = asked is not None and asked.aws is None
    if arn is not None and asked is not None and custom:
        raise SettingError(
            f"{bucket} is an ARN, which only AWS endpoints serve, but {asked.source} "
            f"names a custom endpoint.",
            "Use the bucket's name on that server, or remove the endpoint.",
        )
    where = region(layers, asked, user_config, bucket, arn, bucket_region, notes)
    flags = variants(layers, asked, user_config, notes)
    if custom and flags.asked():
        raise SettingError(
            f"{', '.join(flags.asked())} cannot apply to the custom endpoint from "
            f"{asked.source if asked else ''}: these are AWS endpoint variants.",
            "Remove them, or remove the custom endpoint.",
        )
    partition = None if custom else partition_of(where.found)
    return Location(asked, scheme(asked, ssl_asked), where, flags, partition)


# -- value checks -------------------------------------------------------------------
def _bool(found: Sourced | None, default_value: bool) -> Sourced:
    if found is None:
        return Sourced(default_value, default())
    value = found.value
    if isinstance(value, bool):
        return found
    if found.source.kind is Kind.ENVIRONMENT and isinstance(value, str):
        if value.strip().lower() in _TRUE:
            return Sourced(True, found.source)
        if value.strip().lower() in _FALSE:
            return Sourced(False, found.source)
    raise SettingError(
        f"{found.source} must be True or False, not {type(value).__name__} {value!r}.",
        "Write it without quotes: True or False.",
    )


def _str(found: Sourced | None) -> Sourced | None:
    if found is not None and not isinstance(found.value, str):
        raise SettingError(
            f"{found.source} must be a string, not {type(found.value).__name__}.",
            "Write it as text, in quotes.",
        )
    return found


def _shown(value: str) -> str:
    return value if "@" not in value else "<value with credentials>"


# -- bucket, client config ----------------------------------------------------------
def bucket_name(layers: Layers) -> Sourced:
    found = _str(layers.first(row("bucket_name")))
    if found is None:
        raise SettingError(
            "no bucket is configured.",
            "Set AWS_STORAGE_BUCKET_NAME, or OPTIONS['bucket_name'] in this storage's "
            "STORAGES entry.",
        )
    return found


def user_client_config(layers: Layers) -> Sourced | None:
    """``AWS_S3_CLIENT_CONFIG``, the user's botocore ``Config``, if any."""
    found = layers.first(row("client_config"))
    if found is not None and not isinstance(found.value, Config):
        raise SettingError(
            f"{found.source} must be a botocore.config.Config, not {type(found.value).__name__}.",
            "Wrap it: Config(**your_dict).",
        )
    return found


# -- endpoint -----------------------------------------------------------------------
@dataclass(frozen=True)
class Asked:
    """The endpoint a setting asks for, and what its host says about AWS."""

    endpoint: Endpoint
    aws: AwsHost | None
    source: Source

    @property
    def sourced(self) -> Sourced:
        return Sourced(self.endpoint.url, self.source)


#: The places of the ``endpoint_url`` row that give boto-era ``host[:port]``, not a URL.
HOST_PLACES = ("host", "AWS_S3_HOST")


def endpoint_asked(layers: Layers, use_ssl: Sourced, notes: list[str]) -> Asked | None:
    """The endpoint a setting asks for, in the ``endpoint_url`` row's order.

    ``use_ssl`` picks the scheme of a ``host`` that names none.
    """
    chosen = layers.candidates(row("endpoint_url"))
    if not chosen:
        return None
    found = chosen[0]
    for ignored in chosen[1:]:
        notes.append(f"{ignored.source} is ignored: {found.source} takes precedence.")
    kind = "host" if found.source.name in HOST_PLACES else "url"
    _str(found)
    fix = (
        "Give a full URL such as 'https://minio.example.com:9000'."
        if kind == "url"
        else "Give host[:port] only, such as 's3.ap-northeast-2.amazonaws.com' "
        "or 'minio:9000'; put a path prefix in AWS_S3_ENDPOINT_URL instead."
    )
    try:
        if kind == "url":
            endpoint = parse_endpoint_url(found.value)
        else:
            endpoint, own_scheme = parse_host(
                found.value, default_scheme="https" if use_ssl.value else "http"
            )
            contradicts = (endpoint.scheme == "https") != use_ssl.value
            if own_scheme and not use_ssl.source.is_default and contradicts:
                raise HostError(f"its scheme {endpoint.scheme}:// contradicts {use_ssl}")
        aws = aws_host(endpoint.hostname)
        if aws is not None and endpoint.path:
            raise HostError("an AWS endpoint takes no path")
        if aws is not None and endpoint.netloc != endpoint.hostname:
            raise HostError("AWS endpoints listen on the scheme's default port only")
    except HostError as error:
        raise SettingError(
            f"{found.source}={_shown(found.value)!r} cannot be used: {error}.", fix
        ) from None
    return Asked(endpoint, aws, found.source)


def scheme(asked: Asked | None, use_ssl: Sourced) -> Sourced:
    """https or not: an endpoint URL's own scheme wins over ``use_ssl``."""
    if asked is None or (asked.endpoint.scheme == "https") == use_ssl.value:
        return use_ssl
    return Sourced(asked.endpoint.scheme == "https", derived("scheme of {of}", of=asked.source))


# -- region -------------------------------------------------------------------------
@dataclass(frozen=True)
class Region:
    found: Sourced
    #: Named in settings, OPTIONS, a class attribute, the client config, an
    #: AWS host or an ARN (not only the environment): trusted, never asked.
    named: bool
    #: Region settings set to different values, the one used first.
    conflicts: tuple[Sourced, ...] = ()


def region(
    layers: Layers,
    asked: Asked | None,
    user_config: Sourced | None,
    bucket: Sourced,
    arn: Arn | None,
    bucket_region: str | None,
    notes: list[str],
) -> Region:
    """The region, in the ``region`` row's order (``options``); a configured
    region that contradicts the AWS host's is refused.

    ``bucket_region``, the region the bucket reported (``discovery``),
    beats them all: the storage only passes it when the region was not
    named, or when it follows a bucket that is elsewhere.
    """
    host = asked.aws.region if asked is not None and asked.aws is not None else None
    read_off = _region_read_off(asked, host, bucket, arn)
    places = layers.candidates(row("region"), user_config, read_off)
    conflicts = _region_conflicts(places, notes)
    found = _str(places[0]) if places else None
    # The host comes before the environment in the order: only a configured region
    # can be found over it, and it must agree.
    if found is not None and host is not None and found.value != host:
        raise SettingError(
            f"{found} contradicts the region {host!r} named by the host in {asked.source}.",  # type: ignore[union-attr]
            "Make them agree, or drop one: the host alone is enough.",
            E003,
        )
    named = found is not None and found.source.kind is not Kind.ENVIRONMENT
    if bucket_region is not None:
        return Region(_discovered(bucket_region, found, notes), named, conflicts)
    if found is None:
        # Until the bucket is asked (``discovery``), the region botocore
        # assumes, said plainly in the provenance.
        custom = asked is not None and asked.aws is None
        text = "default for custom endpoints" if custom else "default (no region configured)"
        return Region(Sourced("us-east-1", default(text)), named, conflicts)
    return Region(_region_name(found), named, conflicts)


def _region_read_off(
    asked: Asked | None, host: str | None, bucket: Sourced, arn: Arn | None
) -> dict[str, Sourced | None]:
    """The region row's derived places: the AWS host's region, an ARN's."""
    return {
        "host": Sourced(host, derived("host in {of}", of=asked.source)) if asked and host else None,
        "arn": Sourced(arn.region, derived("the access point ARN in {of}", bucket.source))
        if arn is not None and arn.region
        else None,
    }


def _region_name(found: Sourced) -> Sourced:
    value = str(found.value).strip()
    if not value or any(c.isspace() or c in "/:" for c in value):
        raise SettingError(f"{found} is not a region name.", "Regions look like 'ap-northeast-2'.")
    return Sourced(value, found.source)


def _region_conflicts(places: list[Sourced], notes: list[str]) -> tuple[Sourced, ...]:
    """The region settings and variables, when they disagree (noted for people)."""
    said = [p for p in places if p.source.kind is not Kind.DERIVED]
    if len({str(found.value) for found in said}) <= 1:
        return ()
    notes.append(
        f"region settings disagree ({', '.join(map(str, said))}): {said[0].source} is used."
    )
    return tuple(said)


def _discovered(bucket_region: str, found: Sourced | None, notes: list[str]) -> Sourced:
    """The bucket's own region, over ``found`` (what the settings gave, if anything)."""
    if found is None:
        return Sourced(bucket_region, Source(Kind.DISCOVERED, text=DISCOVERED))
    notes.append(f"{found} is overridden: the bucket is in {bucket_region!r}.")
    over = Source(Kind.DISCOVERED, text=f"{DISCOVERED}, over {found}", of=found.source)
    return Sourced(bucket_region, over)


def discovery(
    layers: Layers, custom: bool, arn: bool, region_named: bool
) -> tuple[Sourced, Sourced]:
    """Whether to ask the bucket its region, and what to do if it differs.

    By default (None) only AWS endpoints are asked, and only when no region
    is named: a region from the environment alone (``AWS_REGION`` on Lambda
    and ECS is the compute's region) is a guess.
    """
    found = layers.first(row("discover_region"))
    if found is not None and not isinstance(found.value, bool):
        raise SettingError(
            f"{found.source} must be True, False or None, not {type(found.value).__name__} "
            f"{found.value!r}.",
            "None (the default) discovers on AWS endpoints, not on custom ones.",
        )
    discover = found or Sourced(not custom and not arn and not region_named, default())
    mismatch = _str(layers.first(row("region_mismatch")))
    mismatch = mismatch or Sourced("follow", default())
    if mismatch.value not in ("follow", "raise"):
        raise SettingError(
            f"{mismatch} is not a choice.",
            "Use 'follow' (use the bucket's region, with a warning) or 'raise'.",
        )
    return discover, mismatch


def active_content(layers: Layers) -> Sourced:
    """How files of types a browser runs are stored: "attachment" (the default) or
    "inline" (the static classes' class attribute: static files are the site's own)."""
    found = _str(layers.first(row("active_content")))
    found = found or Sourced("attachment", default())
    if found.value not in CHOICES:
        raise SettingError(
            f"{found} is not a choice.",
            "Use 'attachment' (files a browser would run are downloaded, not opened) or "
            "'inline' (served as they are: only for files the site itself wrote).",
        )
    return found


def partition_of(found: Sourced) -> str:
    """The AWS partition of a region on an AWS endpoint."""
    partition = endpoints.partition_of(found.value)
    if partition is None:
        raise SettingError(
            f"{found} is not an AWS region botocore knows (regions look like "
            f"'ap-northeast-2', 'eu-central-1', 'cn-north-1').",
            "Fix the region, or for an S3-compatible server set AWS_S3_ENDPOINT_URL "
            "(or AWS_S3_HOST).",
            E004,
        )
    return partition.name


# -- endpoint variants: dualstack, FIPS, accelerate ---------------------------------
#: Each variant's ``options`` row, and the ``AwsHost`` attribute (and ``Flags``
#: field) that names it.
VARIANTS = {
    "use_dualstack": "dualstack",
    "use_fips": "fips",
    "use_accelerate_endpoint": "accelerate",
}


@dataclass(frozen=True)
class Flags:
    dualstack: Sourced
    fips: Sourced
    accelerate: Sourced

    def by_option(self) -> dict[str, Sourced]:
        return {option: getattr(self, field) for option, field in VARIANTS.items()}

    def asked(self) -> list[str]:
        """The sources of the variants switched on, for error messages."""
        return [str(found.source) for found in self.by_option().values() if found.value]


def variants(
    layers: Layers, asked: Asked | None, user_config: Sourced | None, notes: list[str]
) -> Flags:
    """Each variant, in its row's order (``options``)."""
    aws = asked.aws if asked is not None else None
    chosen: dict[str, Sourced] = {}
    for option, field in VARIANTS.items():
        from_host = aws is not None and getattr(aws, field)
        read_off = {
            "host": Sourced(True, derived("host in {of}", of=asked.source))  # type: ignore[union-attr]
            if from_host
            else None
        }
        found = _bool(layers.first(row(option), user_config, read_off), False)
        if from_host and not found.value:
            notes.append(
                f"{found.source}=False is followed, although the host in "
                f"{asked.source} names that variant."  # type: ignore[union-attr]
            )
        chosen[field] = found
    return Flags(**chosen)


# -- addressing, signature, expiry --------------------------------------------------
#: The places of the ``addressing_style`` row that give boto's calling format.
CALLING_FORMAT_PLACES = ("calling_format", "AWS_S3_CALLING_FORMAT")
_CALLING_FORMATS = {
    "OrdinaryCallingFormat": "path",
    "ProtocolIndependentOrdinaryCallingFormat": "path",
    "SubdomainCallingFormat": "virtual",
}


def addressing(
    layers: Layers,
    user_config: Sourced | None,
    bucket: Sourced,
    arn: Arn | None,
    custom: bool,
    use_ssl: bool,
    flags: Flags,
) -> Sourced:
    """``addressing_style`` > the client config's > boto's ``AWS_S3_CALLING_FORMAT``
    > path style on custom endpoints, virtual on AWS where the bucket name allows
    (the configuration reference's order; ``tests/test_resolve.py::test_addressing`` pins it)."""
    style = asked_style(layers, user_config)
    if style is not None and style.value == "path" and arn is not None:
        raise SettingError(
            f"{style.source}='path' cannot address the access point {bucket.value!r}: "
            f"access points have hosts of their own.",
            "Remove it (or use 'virtual' or 'auto').",
        )
    if style is None:
        virtual = arn is not None or (
            not custom and endpoints.virtual_host_compatible(bucket.value, use_ssl)
        )
        text = "default for custom endpoints" if custom else "default for this bucket name"
        style = Sourced("virtual" if virtual else "path", default(text))
    if flags.accelerate.value and style.value == "path":
        raise SettingError(
            f"{flags.accelerate.source} needs virtual-hosted addressing, but "
            f"{style.source} gives path style.",
            "Remove one of them.",
        )
    return style


def asked_style(layers: Layers, user_config: Sourced | None) -> Sourced | None:
    """The style a setting asks for; None (or 'auto') lets ``addressing`` pick."""
    found = layers.first(row("addressing_style"), user_config)
    if found is None:
        return None
    if found.source.name not in CALLING_FORMAT_PLACES:
        if found.value not in ("virtual", "path", "auto"):
            raise SettingError(
                f"{found} is not an addressing style.", "Use 'virtual', 'path' or 'auto'."
            )
        return found if found.value != "auto" else None
    calling = found
    value = calling.value
    name = value if isinstance(value, str) else getattr(value, "__name__", type(value).__name__)
    name = name.rsplit(".", 1)[-1]
    if name not in _CALLING_FORMATS:
        raise SettingError(
            f"{calling} cannot be translated.",
            "Replace it with AWS_S3_ADDRESSING_STYLE = 'path' or 'virtual' (for a CNAME, "
            "use AWS_S3_CUSTOM_DOMAIN).",
        )
    return Sourced(_CALLING_FORMATS[name], calling.source)


def signature_version(
    layers: Layers, user_config: Sourced | None, notes: list[str], warnings: list[str]
) -> Sourced:
    """SigV4 always: 's3v4' is accepted, SigV2 ('s3') overridden with a warning."""
    found = layers.first(row("signature_version"), user_config)
    always = Sourced("s3v4", default("SigV4 always"))
    legacy = layers.first(row("S3_USE_SIGV4"))
    if legacy is not None:
        notes.append(f"{legacy.source} is redundant: SigV4 is always used.")
    if found is None:
        return always
    if found.value in ("s3v4", "v4"):
        return Sourced("s3v4", found.source)
    if found.value == "s3":
        warnings.append(SIGV2_WARNING.format(source=found.source, value=found.value))
        notes.append(f"{found} is overridden: SigV4 is used.")
        return always
    raise SettingError(
        f"{found} is not supported: this storage signs with SigV4 only.",
        "Set 's3v4' or remove the setting. For public, unsigned URLs set "
        "AWS_QUERYSTRING_AUTH = False.",
    )


def expiry(layers: Layers) -> Sourced:
    found = layers.first(row("querystring_expire"))
    if found is None:
        return Sourced(3600, default())
    value = found.value
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingError(
            f"{found.source} must be a whole number of seconds, not "
            f"{type(value).__name__} {value!r}.",
            "Write it as a number, such as 3600.",
        )
    if not 1 <= value <= MAX_EXPIRE:
        raise SettingError(
            f"{found.source}={value} is out of range: SigV4 presigned URLs live from 1 to "
            f"{MAX_EXPIRE} seconds (7 days).",
            f"Use {MAX_EXPIRE} or less; for longer-lived links serve the files publicly "
            f"or sign them with CloudFront.",
            E002,
        )
    return found


def collectstatic_workers(layers: Layers) -> Sourced:
    """Uploads at a time in ``collectstatic`` (its ``--workers`` wins)."""
    found = layers.first(row("collectstatic_workers"))
    if found is None:
        return Sourced(DEFAULT_WORKERS, default())
    value = found.value
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WORKERS:
        raise SettingError(
            f"{found.source} must be a whole number from 1 to {MAX_WORKERS}, not {value!r}.",
            f"Write it as a number, such as {DEFAULT_WORKERS}.",
        )
    return found


# -- the URLs -----------------------------------------------------------------------
@dataclass(frozen=True)
class Urls:
    endpoint_url: str
    bucket_url: str
    signing_region: str
    #: False when us-east-1 is reached on botocore's global host.
    regional_us_east_1: bool = True
    signature_version: Literal["s3v4", "s3v4a"] = "s3v4"
    signing_name: str = "s3"


def regional_us_east_1(asked: Asked | None, user_config: Sourced | None) -> bool:
    """us-east-1 keeps botocore's global host unless the regional one is asked for."""
    user_s3 = (user_config.value.s3 if user_config is not None else None) or {}
    return user_s3.get("us_east_1_regional_endpoint") == "regional" or (
        asked is not None and asked.endpoint.hostname.startswith("s3.us-east-1.")
    )


def custom_urls(
    endpoint: Endpoint, bucket: str, style: str, region_name: str, regional: bool
) -> Urls:
    return Urls(endpoint.url, endpoint.bucket_url(bucket, style), region_name, regional)


def aws_urls(
    found_region: Sourced,
    bucket: Sourced,
    partition: str | None,
    style: str,
    use_ssl: bool,
    flags: Flags,
    regional: bool,
) -> Urls:
    """The endpoint and bucket URLs botocore's rule set gives, and how to sign for them."""

    def rule_set_url(bucket_name: str | None) -> endpoints.AwsEndpoint:
        return endpoints.aws_endpoint(
            found_region.value,
            bucket=bucket_name,
            path_style=style == "path",
            use_ssl=use_ssl,
            dualstack=flags.dualstack.value,
            fips=flags.fips.value,
            accelerate=flags.accelerate.value,
            global_us_east_1=not regional,
        )

    try:
        service = rule_set_url(None)
    except (EndpointResolutionError, EndpointVariantError):
        raise SettingError(
            f"S3 has no endpoint in {found_region.value!r} ({partition}) for "
            f"{' + '.join(flags.asked())}.",
            "Remove one of them.",
        ) from None
    try:
        objects = rule_set_url(bucket.value)
    except (EndpointResolutionError, EndpointVariantError) as refused:
        raise SettingError(
            f"{bucket} cannot be used in {found_region.value!r} ({found_region.source}): "
            f"botocore says {refused}.",
            "Check the bucket name (or ARN) and the region.",
        ) from None
    if objects.signature_version == "s3v4a" and not HAS_CRT:
        raise SettingError(
            f"{bucket} is a multi-region access point, which S3 only accepts signed with "
            f"SigV4A, and SigV4A needs the AWS CRT.",
            'Install it: pip install "botocore[crt]".',
        )
    return Urls(
        service.url,
        objects.url,
        objects.signing_region,
        regional,
        objects.signature_version,  # type: ignore[arg-type]
        objects.signing_name,
    )


def public_endpoint(layers: Layers, bucket: Sourced, arn: Arn | None) -> Sourced | None:
    """Where browsers reach the server, when it is not where Django does; its
    host is signed into every URL (requests still go to the endpoint)."""
    found = _str(layers.first(row("public_endpoint_url")))
    if found is None:
        return None
    try:
        endpoint = parse_endpoint_url(found.value)
    except HostError as error:
        raise SettingError(
            f"{found.source}={_shown(found.value)!r} cannot be used: {error}.",
            "Give the URL browsers use, such as 'https://files.example.com' (a path "
            "prefix must reach the server unchanged).",
        ) from None
    if arn is not None:
        raise SettingError(
            f"{found.source} cannot carry the access point {bucket.value!r}: access "
            f"points have hosts of their own.",
            "Remove one of them.",
        )
    custom_domain = layers.first(row("custom_domain"))
    if custom_domain is not None:
        raise SettingError(
            f"{found.source} and {custom_domain.source} both say where browsers fetch files.",
            "Keep public_endpoint_url for presigned URLs through a proxy, or custom_domain "
            "for a CDN, not both.",
        )
    return Sourced(endpoint, found.source)


@dataclass(frozen=True)
class Arn:
    """An S3 bucket name that is an ARN: an access point (``s3``,
    ``s3-object-lambda``, ``s3-outposts``) or a multi-region access point."""

    partition: str
    service: str
    region: str  # "" for a multi-region access point

    @classmethod
    def parse(cls, bucket: str) -> Arn | None:
        if not bucket.startswith("arn:"):
            return None
        parts = bucket.split(":", 5)
        if len(parts) < 6:
            return None  # botocore's rule set says what is wrong with it
        return cls(partition=parts[1], service=parts[2], region=parts[3])


# -- checksums, client config -------------------------------------------------------
#: botocore's checksum options (``options`` rows: the client config, then botocore's
#: environment variable).
CHECKSUM_OPTIONS = ("request_checksum_calculation", "response_checksum_validation")
_CHECKSUM_VALUES = ("when_supported", "when_required")


def checksums(user_config: Sourced | None, layers: Layers, custom: bool) -> dict[str, Sourced]:
    """botocore's CRC checksum options, each with its source.

    boto3 >= 1.36 adds CRC32 checksums (and ``aws-chunked`` bodies for
    streams) to every upload; many S3-compatible servers refuse them. On
    custom endpoints both options default to ``"when_required"``; on AWS
    botocore's own default (``"when_supported"``) stays. A value in
    ``AWS_S3_CLIENT_CONFIG`` or botocore's environment variable wins.
    """
    chosen: dict[str, Sourced] = {}
    for option in CHECKSUM_OPTIONS:
        found = layers.first(row(option), user_config)
        if found is None:
            found = (
                Sourced("when_required", default("default for custom endpoints"))
                if custom
                else Sourced("when_supported", default("default (botocore's)"))
            )
        if str(found.value).lower() not in _CHECKSUM_VALUES:
            raise SettingError(
                f"{found} is not a choice.",
                "Use 'when_required' (checksums only where S3 requires them) or 'when_supported'.",
            )
        chosen[option] = Sourced(str(found.value).lower(), found.source)
    return chosen


def build_client_config(
    layers: Layers,
    user_config: Sourced | None,
    urls: Urls,
    style: str,
    flags: Flags,
    checksum: dict[str, Sourced],
) -> Config:
    """The user's client config (or the one django-storages would build), with our
    defaults under it and only what makes requests right forced over it.

    ``checksum`` is forced too when given (custom endpoints); on AWS botocore keeps
    reading its own config file for those.
    """
    if user_config is not None:
        base = user_config.value
    else:  # what django-storages builds when no client config is given
        proxies = layers.first(row("proxies"))
        base = Config(proxies=proxies.value if proxies else None)
    user_s3 = dict(getattr(base, "s3", None) or {})
    s3: Any = {
        **user_s3,
        "addressing_style": style,
        "use_accelerate_endpoint": flags.accelerate.value,
        "us_east_1_regional_endpoint": "regional" if urls.regional_us_east_1 else "legacy",
    }
    forced = Config(  # type: ignore[call-arg]  # botocore-stubs lack ignore_configured_endpoint_urls
        signature_version=urls.signature_version,
        s3=s3,
        use_dualstack_endpoint=flags.dualstack.value,
        use_fips_endpoint=flags.fips.value,
        # Only what was resolved here counts: no AWS_ENDPOINT_URL* behind our back.
        ignore_configured_endpoint_urls=True,
        **{option: found.value for option, found in checksum.items()},
    )
    return DEFAULT_CLIENT_CONFIG.merge(base).merge(forced)


def check_expire(method: str, expire: Any) -> None:
    """Refuse an ``expire`` argument SigV4 cannot sign (``None``: the default)."""
    if expire is not None and (
        isinstance(expire, bool) or not isinstance(expire, int) or not 1 <= expire <= MAX_EXPIRE
    ):
        raise ValueError(
            f"{method}(expire={expire!r}): SigV4 presigned URLs live from 1 to "
            f"{MAX_EXPIRE} seconds (7 days)."
        )
