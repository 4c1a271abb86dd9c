"""Settings, OPTIONS and environment in; one ``S3Config`` out.

Every rule of the package lives here, in the order a reader would apply it:
bucket, endpoint, region, flags, addressing, signature, expiry, client
config. Bad input raises ``ImproperlyConfigured`` naming the setting at
fault and the fix, before any network request. No message contains a
credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from botocore.compat import HAS_CRT
from botocore.config import Config
from botocore.exceptions import EndpointResolutionError, EndpointVariantError
from django.core.exceptions import ImproperlyConfigured

from . import endpoints
from .conf import Layers, Sourced
from .config import DEFAULT_CUSTOM_REGION, DEFAULT_REGION, S3Config
from .hosts import AwsHost, Endpoint, HostError, aws_host, parse_endpoint_url, parse_host

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


class SettingError(ImproperlyConfigured):
    """A setting that cannot work; ``check_id`` is its system check id."""

    def __init__(self, message: str, check_id: str = "sigv4_storage.E001") -> None:
        super().__init__(message)
        self.check_id = check_id


def _fail(message: str, check_id: str = "sigv4_storage.E001") -> SettingError:
    return SettingError(f"sigv4_storage: {message}", check_id)


def _bool(found: Sourced | None, default: bool) -> bool:
    if found is None:
        return default
    value = found.value
    if isinstance(value, bool):
        return value
    if found.source.startswith("environment") and isinstance(value, str):
        if value.strip().lower() in _TRUE:
            return True
        if value.strip().lower() in _FALSE:
            return False
    raise _fail(
        f"{found.source} must be True or False, not {type(value).__name__} {value!r}. "
        f"Write it without quotes: True or False."
    )


def _str(found: Sourced | None) -> Sourced | None:
    if found is not None and not isinstance(found.value, str):
        raise _fail(f"{found.source} must be a string, not {type(found.value).__name__}.")
    return found


class _Resolver:
    """One resolution; its ``sources`` fill as values are decided."""

    def __init__(self, layers: Layers) -> None:
        self.layers = layers
        self.sources: dict[str, str] = {}
        self.notes: list[str] = []
        self.warnings: list[str] = []
        #: Region settings set to different values (the first one wins).
        self.region_conflicts: tuple[str, ...] = ()
        #: The region was named in settings, OPTIONS, a class attribute, the
        #: client config or an AWS host: trusted, the bucket is not asked.
        self.region_named = False

    def take(self, name: str, found: Sourced | None, default: Any = None) -> Any:
        if found is None:
            self.sources[name] = "default"
            return default
        self.sources[name] = found.source
        return found.value

    # -- bucket -----------------------------------------------------------
    def bucket(self) -> str:
        found = _str(self.layers.first("bucket_name", ["AWS_STORAGE_BUCKET_NAME"]))
        if found is None:
            raise _fail(
                "no bucket is configured. Set AWS_STORAGE_BUCKET_NAME, or "
                "OPTIONS['bucket_name'] in this storage's STORAGES entry."
            )
        return str(self.take("bucket_name", found))

    # -- client config ----------------------------------------------------
    def user_client_config(self) -> Config | None:
        found = self.layers.first("client_config", ["AWS_S3_CLIENT_CONFIG"])
        if found is None:
            return None
        if not isinstance(found.value, Config):
            raise _fail(
                f"{found.source} must be a botocore.config.Config, not "
                f"{type(found.value).__name__}. Wrap it: Config(**your_dict)."
            )
        self.sources["client_config"] = found.source
        return found.value

    # -- endpoint ---------------------------------------------------------
    def endpoint(self, use_ssl: bool) -> tuple[Endpoint | None, AwsHost | None, str | None]:
        """The endpoint asked for, what it says about AWS, and its source.

        OPTIONS/class ``endpoint_url`` > ``host`` > settings
        ``AWS_S3_ENDPOINT_URL`` > ``AWS_S3_HOST`` > environment
        ``AWS_ENDPOINT_URL_S3`` > ``AWS_ENDPOINT_URL``.
        """
        layers = self.layers
        candidates = [
            ("url", layers.option("endpoint_url")),
            ("host", layers.option("host")),
            ("url", layers.setting("AWS_S3_ENDPOINT_URL")),
            ("host", layers.setting("AWS_S3_HOST")),
            ("url", layers.env("AWS_ENDPOINT_URL_S3")),
            ("url", layers.env("AWS_ENDPOINT_URL")),
        ]
        chosen = [(kind, found) for kind, found in candidates if found is not None]
        if not chosen:
            return None, None, None
        kind, found = chosen[0]
        for _, ignored in chosen[1:]:
            self.notes.append(f"{ignored.source} is ignored: {found.source} takes precedence.")
        _str(found)
        shown = found.value if "@" not in found.value else "<value with credentials>"
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
                    found.value, default_scheme="https" if use_ssl else "http"
                )
                ssl_set = self.sources.get("use_ssl", "default") != "default"
                if own_scheme and ssl_set and (endpoint.scheme == "https") != use_ssl:
                    raise HostError(
                        f"its scheme {endpoint.scheme}:// contradicts "
                        f"{self.sources['use_ssl']}={use_ssl}"
                    )
            aws = aws_host(endpoint.hostname)
            if aws is not None and endpoint.path:
                raise HostError("an AWS endpoint takes no path")
            if aws is not None and endpoint.netloc != endpoint.hostname:
                raise HostError("AWS endpoints listen on the scheme's default port only")
        except HostError as error:
            raise _fail(f"{found.source}={shown!r} cannot be used: {error}. {fix}") from None
        self.sources["endpoint_url"] = found.source
        return endpoint, aws, found.source

    # -- region -----------------------------------------------------------
    def region(
        self,
        aws: AwsHost | None,
        endpoint_source: str | None,
        custom: bool,
        user_config: Config | None,
        bucket_region: str | None,
        arn: Arn | None = None,
    ) -> str:
        """OPTIONS/class ``region_name`` > ``AWS_S3_REGION_NAME`` > ``AWS_REGION``
        > ``AWS_S3_CLIENT_CONFIG.region_name`` > the AWS host's region >
        environment ``AWS_S3_REGION_NAME``, ``AWS_REGION``, ``AWS_DEFAULT_REGION``.

        ``bucket_region``, the region the bucket reported (``discovery``),
        beats them all: the storage only passes it when the region was not
        configured, or when it follows a bucket that is elsewhere.
        """
        layers = self.layers
        configured = _str(
            layers.option("region_name") or layers.setting("AWS_S3_REGION_NAME", "AWS_REGION")
        )
        named = [
            found
            for found in (
                layers.option("region_name"),
                layers.setting("AWS_S3_REGION_NAME"),
                layers.setting("AWS_REGION"),
                layers.env("AWS_S3_REGION_NAME"),
                layers.env("AWS_REGION"),
                layers.env("AWS_DEFAULT_REGION"),
            )
            if found is not None
        ]
        if len({str(found.value) for found in named}) > 1:
            self.region_conflicts = tuple(f"{f.source}={f.value!r}" for f in named)
            self.notes.append(
                f"region settings disagree ({', '.join(self.region_conflicts)}): "
                f"{named[0].source} is used."
            )
        config_region = getattr(user_config, "region_name", None)
        if configured is None and config_region:
            configured = Sourced(config_region, "AWS_S3_CLIENT_CONFIG.region_name")
        host_region = aws.region if aws is not None else None
        if configured is not None and host_region is not None and configured.value != host_region:
            raise _fail(
                f"{configured.source}={configured.value!r} contradicts the region "
                f"{host_region!r} named by the host in {endpoint_source}. Make them "
                f"agree, or drop one: the host alone is enough.",
                "sigv4_storage.E003",
            )
        found = configured
        if found is None and host_region is not None:
            found = Sourced(host_region, f"host in {endpoint_source}")
        if found is None and arn is not None and arn.region:
            found = Sourced(arn.region, f"the access point ARN in {self.sources['bucket_name']}")
        self.region_named = found is not None
        if found is None:
            found = _str(layers.env("AWS_S3_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"))
        if bucket_region is not None:
            if found is None:
                self.sources["region"] = DISCOVERED
            else:
                self.sources["region"] = f"{DISCOVERED}, over {found.source}={found.value!r}"
                self.notes.append(
                    f"{found.source}={found.value!r} is overridden: the bucket is in "
                    f"{bucket_region!r}."
                )
            return bucket_region
        if found is None:
            # Until the bucket is asked (``discovery``), the region botocore
            # assumes, said plainly in the provenance.
            default = "us-east-1"
            self.sources["region"] = DEFAULT_CUSTOM_REGION if custom else DEFAULT_REGION
            return default
        region = str(found.value).strip()
        if not region or any(c.isspace() or c in "/:" for c in region):
            raise _fail(f"{found.source}={found.value!r} is not a region name.")
        self.sources["region"] = found.source
        return region

    # -- public endpoint ---------------------------------------------------------
    def public_endpoint(self) -> Endpoint | None:
        """Where browsers reach the server, when it is not where Django does."""
        found = _str(self.layers.first("public_endpoint_url", ["AWS_S3_PUBLIC_ENDPOINT_URL"]))
        if found is None:
            return None
        shown = found.value if "@" not in found.value else "<value with credentials>"
        try:
            endpoint = parse_endpoint_url(found.value)
        except HostError as error:
            raise _fail(
                f"{found.source}={shown!r} cannot be used: {error}. Give the URL browsers "
                f"use, such as 'https://files.example.com' (a path prefix must reach the "
                f"server unchanged)."
            ) from None
        self.sources["public_endpoint_url"] = found.source
        return endpoint

    # -- discovery ----------------------------------------------------------
    def discovery(self, custom: bool, arn: bool) -> tuple[bool, Literal["follow", "raise"]]:
        """Whether to ask the bucket its region, and what to do if it differs.

        By default (None) only AWS endpoints are asked, and only when no
        region is named in settings: a region from the environment alone
        (``AWS_REGION`` on Lambda and ECS is the compute's region) is a guess.
        """
        found = self.layers.first("discover_region", ["AWS_S3_DISCOVER_REGION"])
        if found is not None and not isinstance(found.value, bool):
            raise _fail(
                f"{found.source} must be True, False or None (None: discover on AWS "
                f"endpoints, not on custom ones), not {type(found.value).__name__} "
                f"{found.value!r}."
            )
        asked = not custom and not arn and not self.region_named
        discover = self.take("discover_region", found, asked)
        found = _str(self.layers.first("region_mismatch", ["AWS_S3_REGION_MISMATCH"]))
        mismatch = self.take("region_mismatch", found, "follow")
        if mismatch not in ("follow", "raise"):
            raise _fail(
                f"{found.source}={mismatch!r} is not a choice. Use 'follow' (use the "  # type: ignore[union-attr]
                f"bucket's region, with a warning) or 'raise'."
            )
        return discover, mismatch

    # -- endpoint flags -----------------------------------------------------
    def flag(
        self,
        name: str,
        setting: str,
        from_host: bool,
        from_config: bool | None,
        env: tuple[str, ...],
        endpoint_source: str | None,
    ) -> bool:
        layers = self.layers
        found = layers.option(name) or layers.setting(setting)
        if found is None and from_host:
            found = Sourced(True, f"host in {endpoint_source}")
        if found is None and from_config is not None:
            found = Sourced(from_config, "AWS_S3_CLIENT_CONFIG")
        if found is None:
            found = layers.env(*env)
        value = _bool(found, False)
        self.take(name, found)
        if from_host and not value:
            self.notes.append(
                f"{self.sources[name]}=False is followed, although the host in "
                f"{endpoint_source} names that variant."
            )
        return value

    # -- addressing ---------------------------------------------------------
    def addressing(self, user_config: Config | None) -> Literal["virtual", "path"] | None:
        """The style asked for; None to let ``resolve`` pick."""
        layers = self.layers
        found = layers.first("addressing_style", ["AWS_S3_ADDRESSING_STYLE"])
        if found is None and user_config is not None:
            style = (getattr(user_config, "s3", None) or {}).get("addressing_style")
            if style:
                found = Sourced(style, "AWS_S3_CLIENT_CONFIG.s3['addressing_style']")
        if found is not None:
            if found.value not in ("virtual", "path", "auto"):
                raise _fail(
                    f"{found.source}={found.value!r} is not an addressing style. "
                    f"Use 'virtual', 'path' or 'auto'."
                )
            if found.value != "auto":
                self.sources["addressing_style"] = found.source
                return found.value  # type: ignore[no-any-return]
        calling = layers.first("calling_format", ["AWS_S3_CALLING_FORMAT"])
        if calling is not None:
            value = calling.value
            name = (
                value
                if isinstance(value, str)
                else getattr(value, "__name__", type(value).__name__)
            )
            name = name.rsplit(".", 1)[-1]
            style_for = {
                "OrdinaryCallingFormat": "path",
                "ProtocolIndependentOrdinaryCallingFormat": "path",
                "SubdomainCallingFormat": "virtual",
            }
            if name not in style_for:
                raise _fail(
                    f"{calling.source}={value!r} cannot be translated. Replace it with "
                    f"AWS_S3_ADDRESSING_STYLE = 'path' or 'virtual' (for a CNAME, "
                    f"use AWS_S3_CUSTOM_DOMAIN)."
                )
            self.sources["addressing_style"] = calling.source
            return style_for[name]  # type: ignore[return-value]
        return None

    # -- signature ----------------------------------------------------------
    def signature(self, user_config: Config | None) -> None:
        found = self.layers.first("signature_version", ["AWS_S3_SIGNATURE_VERSION"])
        if found is None and user_config is not None and user_config.signature_version:
            found = Sourced(user_config.signature_version, "AWS_S3_CLIENT_CONFIG.signature_version")
        self.sources["signature_version"] = "SigV4 always"
        if found is not None:
            if found.value in ("s3v4", "v4"):
                self.sources["signature_version"] = found.source
            elif found.value == "s3":
                self.warnings.append(SIGV2_WARNING.format(source=found.source, value=found.value))
                self.notes.append(f"{found.source}={found.value!r} is overridden: SigV4 is used.")
            else:
                raise _fail(
                    f"{found.source}={found.value!r} is not supported: this storage "
                    f"signs with SigV4 only. Set 's3v4' or remove the setting. For "
                    f"public, unsigned URLs set AWS_QUERYSTRING_AUTH = False."
                )
        legacy = self.layers.setting("S3_USE_SIGV4") or self.layers.env("S3_USE_SIGV4")
        if legacy is not None:
            self.notes.append(f"{legacy.source} is redundant: SigV4 is always used.")

    # -- expiry -------------------------------------------------------------
    def expire(self) -> int:
        found = self.layers.first("querystring_expire", ["AWS_QUERYSTRING_EXPIRE"])
        value = self.take("querystring_expire", found, 3600)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(
                f"{found.source} must be a whole number of seconds, not "  # type: ignore[union-attr]
                f"{type(value).__name__} {value!r}."
            )
        if not 1 <= value <= MAX_EXPIRE:
            raise _fail(
                f"{found.source}={value} is out of range: SigV4 presigned URLs "  # type: ignore[union-attr]
                f"live from 1 to {MAX_EXPIRE} seconds (7 days). Use {MAX_EXPIRE} "
                f"or less; for longer-lived links use public objects or CloudFront.",
                "sigv4_storage.E002",
            )
        return value


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


#: botocore's checksum options, each with the environment variable botocore reads.
CHECKSUM_OPTIONS = {
    "request_checksum_calculation": "AWS_REQUEST_CHECKSUM_CALCULATION",
    "response_checksum_validation": "AWS_RESPONSE_CHECKSUM_VALIDATION",
}
_CHECKSUM_VALUES = ("when_supported", "when_required")


def checksums(user_config: Config | None, layers: Layers, custom: bool) -> dict[str, Sourced]:
    """botocore's CRC checksum options, each with its source.

    boto3 >= 1.36 adds CRC32 checksums (and ``aws-chunked`` bodies for
    streams) to every upload; many S3-compatible servers refuse them. On
    custom endpoints both options default to ``"when_required"``; on AWS
    botocore's own default (``"when_supported"``) stays. A value in
    ``AWS_S3_CLIENT_CONFIG`` or botocore's environment variable wins.
    """
    chosen: dict[str, Sourced] = {}
    for option, env_name in CHECKSUM_OPTIONS.items():
        value = getattr(user_config, option, None)
        found = Sourced(value, f"AWS_S3_CLIENT_CONFIG.{option}") if value else None
        found = found or layers.env(env_name)
        if found is None:
            found = (
                Sourced("when_required", "default for custom endpoints")
                if custom
                else Sourced("when_supported", "default (botocore's)")
            )
        if str(found.value).lower() not in _CHECKSUM_VALUES:
            raise _fail(
                f"{found.source}={found.value!r} is not a choice. Use 'when_required' "
                f"(checksums only where S3 requires them) or 'when_supported'."
            )
        chosen[option] = Sourced(str(found.value).lower(), found.source)
    return chosen


@dataclass(frozen=True)
class _Variants:
    dualstack: bool
    fips: bool
    accelerate: bool

    def asked(self, sources: dict[str, str]) -> list[str]:
        """The sources of the variants switched on, for error messages."""
        pairs = (
            ("use_dualstack", self.dualstack),
            ("use_fips", self.fips),
            ("use_accelerate_endpoint", self.accelerate),
        )
        return [sources[name] for name, on in pairs if on]


def resolve(layers: Layers, bucket_region: str | None = None) -> S3Config:
    """Resolve everything; ``bucket_region`` is the region the bucket reported."""
    r = _Resolver(layers)
    bucket = r.bucket()
    found_ssl = layers.first("use_ssl", ["AWS_S3_USE_SSL"])
    use_ssl = _bool(found_ssl, True)
    r.take("use_ssl", found_ssl)
    user_config = r.user_client_config()
    user_s3 = dict(getattr(user_config, "s3", None) or {})

    # Where: an endpoint asked for (custom, or an AWS host), else the region's.
    endpoint, aws, endpoint_source = r.endpoint(use_ssl)
    custom = endpoint is not None and aws is None
    if endpoint is not None:
        if endpoint.scheme != ("https" if use_ssl else "http"):
            r.sources["use_ssl"] = f"scheme of {endpoint_source}"
        use_ssl = endpoint.scheme == "https"
    arn = Arn.parse(bucket)
    if arn is not None and custom:
        raise _fail(
            f"{r.sources['bucket_name']}={bucket!r} is an ARN, which only AWS endpoints "
            f"serve, but {endpoint_source} names a custom endpoint. Use the bucket's "
            f"name on that server, or remove the endpoint."
        )
    region = r.region(aws, endpoint_source, custom, user_config, bucket_region, arn)
    discover_region, region_mismatch = r.discovery(custom, arn is not None)
    variants = _Variants(
        dualstack=r.flag(
            "use_dualstack",
            "AWS_S3_USE_DUALSTACK",
            bool(aws and aws.dualstack),
            getattr(user_config, "use_dualstack_endpoint", None),
            ("AWS_USE_DUALSTACK_ENDPOINT",),
            endpoint_source,
        ),
        fips=r.flag(
            "use_fips",
            "AWS_S3_USE_FIPS",
            bool(aws and aws.fips),
            getattr(user_config, "use_fips_endpoint", None),
            ("AWS_USE_FIPS_ENDPOINT",),
            endpoint_source,
        ),
        accelerate=r.flag(
            "use_accelerate_endpoint",
            "AWS_S3_USE_ACCELERATE_ENDPOINT",
            bool(aws and aws.accelerate),
            user_s3.get("use_accelerate_endpoint"),
            (),
            endpoint_source,
        ),
    )
    if custom and variants.asked(r.sources):
        raise _fail(
            f"{', '.join(variants.asked(r.sources))} cannot apply to the custom "
            f"endpoint from {endpoint_source}: these are AWS endpoint variants. "
            f"Remove them, or remove the custom endpoint."
        )
    partition = None
    if not custom:
        found_partition = endpoints.partition_of(region)
        if found_partition is None:
            raise _fail(
                f"{r.sources['region']}={region!r} is not an AWS region botocore knows "
                f"(regions look like 'ap-northeast-2', 'eu-central-1', 'cn-north-1'). "
                f"Fix the region, or for an S3-compatible server set "
                f"AWS_S3_ENDPOINT_URL (or AWS_S3_HOST).",
                "sigv4_storage.E004",
            )
        partition = found_partition.name

    # How: addressing style, signature, expiry.
    style = r.addressing(user_config)
    if style == "path" and arn is not None:
        raise _fail(
            f"{r.sources['addressing_style']}='path' cannot address the access point "
            f"{bucket!r}: access points have hosts of their own. Remove it (or use "
            f"'virtual' or 'auto')."
        )
    if style is None:
        virtual = arn is not None or (
            not custom and endpoints.virtual_host_compatible(bucket, use_ssl)
        )
        style = "virtual" if virtual else "path"
        r.sources["addressing_style"] = (
            "default for custom endpoints" if custom else "default for this bucket name"
        )
    if variants.accelerate and style == "path":
        raise _fail(
            f"{r.sources['use_accelerate_endpoint']} needs virtual-hosted addressing, "
            f"but {r.sources['addressing_style']} gives path style. Remove one of them."
        )
    r.signature(user_config)
    expire = r.expire()

    # The URLs, from the endpoint asked for or from botocore's rule set.
    # us-east-1 keeps botocore's global host unless the regional one is asked for.
    global_us_east_1 = user_s3.get("us_east_1_regional_endpoint") != "regional" and not (
        endpoint is not None and endpoint.hostname.startswith("s3.us-east-1.")
    )
    signature_version, signing_name = "s3v4", "s3"
    if endpoint is not None and custom:
        endpoint_url = endpoint.url
        signing_region = region
        if style == "path":
            bucket_url = f"{endpoint_url}/{bucket}"
        else:
            bucket_url = f"{endpoint.scheme}://{bucket}.{endpoint.netloc}{endpoint.path}"
    else:

        def rule_set_url(bucket_name: str | None) -> endpoints.AwsEndpoint:
            return endpoints.aws_endpoint(
                region,
                bucket=bucket_name,
                path_style=style == "path",
                use_ssl=use_ssl,
                dualstack=variants.dualstack,
                fips=variants.fips,
                accelerate=variants.accelerate,
                global_us_east_1=global_us_east_1,
            )

        try:
            service = rule_set_url(None)
        except (EndpointResolutionError, EndpointVariantError):
            raise _fail(
                f"S3 has no endpoint in {region!r} ({partition}) for "
                f"{' + '.join(variants.asked(r.sources))}. Remove one of them."
            ) from None
        try:
            objects = rule_set_url(bucket)
        except (EndpointResolutionError, EndpointVariantError) as refused:
            raise _fail(
                f"{r.sources['bucket_name']}={bucket!r} cannot be used in {region!r} "
                f"({r.sources['region']}): botocore says {refused}"
            ) from None
        endpoint_url, bucket_url = service.url, objects.url
        signing_region = objects.signing_region
        signature_version, signing_name = objects.signature_version, objects.signing_name
        if signature_version == "s3v4a":
            r.sources["signature_version"] = "SigV4A: S3's only signature for this bucket"
        if signature_version == "s3v4a" and not HAS_CRT:
            raise _fail(
                f"{r.sources['bucket_name']}={bucket!r} is a multi-region access point, "
                f"which S3 only accepts signed with SigV4A, and SigV4A needs the AWS CRT. "
                f'Install it: pip install "botocore[crt]".'
            )

    # The host browsers use, signed into every URL (requests still go to endpoint_url).
    public = r.public_endpoint()
    public_bucket_url = bucket_url
    if public is not None and arn is not None:
        raise _fail(
            f"{r.sources['public_endpoint_url']} cannot carry the access point "
            f"{bucket!r}: access points have hosts of their own. Remove one of them."
        )
    if public is not None:
        custom_domain = layers.first("custom_domain", ["AWS_S3_CUSTOM_DOMAIN"])
        if custom_domain is not None:
            raise _fail(
                f"{r.sources['public_endpoint_url']} and {custom_domain.source} both say "
                f"where browsers fetch files. Keep public_endpoint_url for presigned URLs "
                f"through a proxy, or custom_domain for a CDN, not both."
            )
        if style == "path":
            public_bucket_url = f"{public.url}/{bucket}"
        else:
            public_bucket_url = f"{public.scheme}://{bucket}.{public.netloc}{public.path}"

    checksum = checksums(user_config, layers, custom)
    r.sources.update({option: found.source for option, found in checksum.items()})

    # The client config: the user's, with only what makes requests right forced.
    if user_config is not None:
        base = user_config
    else:  # what django-storages builds when no client config is given
        proxies = layers.first("proxies", ["AWS_S3_PROXIES"])
        base = Config(proxies=proxies.value if proxies else None)
    client_config = DEFAULT_CLIENT_CONFIG.merge(base).merge(
        Config(
            signature_version=signature_version,
            s3={
                **user_s3,
                "addressing_style": style,
                "use_accelerate_endpoint": variants.accelerate,
                "us_east_1_regional_endpoint": "legacy" if global_us_east_1 else "regional",
            },
            use_dualstack_endpoint=variants.dualstack,
            use_fips_endpoint=variants.fips,
            # Only what was resolved here counts: no AWS_ENDPOINT_URL* behind our back.
            ignore_configured_endpoint_urls=True,
        )
    )
    if custom:  # on AWS, botocore keeps reading its own config file too
        client_config = client_config.merge(
            Config(**{option: found.value for option, found in checksum.items()})
        )
    return S3Config(
        bucket_name=bucket,
        region=region,
        signing_region=signing_region,
        signing_name=signing_name,
        signature_version=signature_version,  # type: ignore[arg-type]
        partition=partition,
        endpoint_url=endpoint_url,
        bucket_url=bucket_url,
        addressing_style=style,
        use_ssl=use_ssl,
        use_dualstack=variants.dualstack,
        use_fips=variants.fips,
        use_accelerate_endpoint=variants.accelerate,
        querystring_expire=expire,
        discover_region=discover_region,
        region_mismatch=region_mismatch,
        client_config=client_config,
        public_endpoint_url=public.url if public is not None else None,
        public_bucket_url=public_bucket_url,
        sources=dict(r.sources),
        region_conflicts=r.region_conflicts,
        region_named=r.region_named,
        request_checksum_calculation=checksum["request_checksum_calculation"].value,
        response_checksum_validation=checksum["response_checksum_validation"].value,
        notes=tuple(r.notes),
        warnings=tuple(r.warnings),
    )
