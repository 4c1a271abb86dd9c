"""Parsing of endpoint URLs and boto-era ``AWS_S3_HOST`` values.

Pure functions: no Django, no network. Errors are ``HostError`` with a
message about the value only; the resolver adds the setting's name and fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from . import endpoints


class HostError(ValueError):
    pass


@dataclass(frozen=True)
class Endpoint:
    scheme: str  # "http" or "https"
    hostname: str  # lower-case; IPv6 without brackets
    port: int | None
    path: str  # "" or "/prefix" without trailing slash

    @property
    def netloc(self) -> str:
        host = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        default = {"http": 80, "https": 443}[self.scheme]
        if self.port is None or self.port == default:
            return host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.path}"

    def bucket_url(self, bucket: str, style: str) -> str:
        """The root URL of ``bucket``'s objects on this endpoint, without a trailing slash."""
        if style == "path":
            return f"{self.url}/{bucket}"
        return f"{self.scheme}://{bucket}.{self.netloc}{self.path}"


@dataclass(frozen=True)
class AwsHost:
    """What an AWS S3 host name says about the endpoint it stands for."""

    partition: str
    region: str | None  # None: a global host (s3.amazonaws.com, s3-accelerate...)
    dualstack: bool = False
    fips: bool = False
    accelerate: bool = False


def _split(value: str, *, scheme_required: bool) -> tuple[str | None, SplitResult, str]:
    """The scheme (None: not given), the parts, and the host name (never empty)."""
    if "://" in value:
        parts = urlsplit(value)
        scheme: str | None = parts.scheme.lower()
    elif scheme_required:
        raise HostError("it has no scheme (http:// or https://)")
    else:
        parts = urlsplit("//" + value)
        scheme = None
    if scheme is not None and scheme not in ("http", "https"):
        raise HostError(f"its scheme {scheme!r} is neither http nor https")
    if parts.username is not None or parts.password is not None:
        raise HostError("it contains credentials (user:password@); remove them")
    hostname = parts.hostname
    if not hostname:
        raise HostError("it has no host name")
    if parts.query or parts.fragment:
        raise HostError("it has a query string or fragment")
    try:
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise HostError("its port is not a number from 1 to 65535") from None
    if parts.port == 0:
        raise HostError("its port is not a number from 1 to 65535")
    return scheme, parts, hostname


def parse_endpoint_url(value: str) -> Endpoint:
    """``scheme://host[:port][/path]``, as botocore's ``endpoint_url``."""
    scheme, parts, hostname = _split(value.strip(), scheme_required=True)
    if scheme is None:  # not reached: _split requires one
        raise HostError("it has no scheme (http:// or https://)")
    return Endpoint(scheme, hostname.lower(), parts.port, parts.path.rstrip("/"))


def parse_host(value: str, *, default_scheme: str) -> tuple[Endpoint, bool]:
    """A boto-era ``AWS_S3_HOST``: ``host[:port]``.

    Returns the endpoint and whether the value named its own scheme. A path
    cannot be honoured (boto-era hosts had none): that is an error.
    """
    scheme, parts, hostname = _split(value.strip(), scheme_required=False)
    if parts.path.rstrip("/"):
        raise HostError(f"it has a path ({parts.path!r}) and a host setting is host[:port] only")
    endpoint = Endpoint(scheme or default_scheme, hostname.lower(), parts.port, "")
    return endpoint, scheme is not None


def aws_host(hostname: str) -> AwsHost | None:
    """Read an AWS S3 endpoint host name; None for any other host.

    Understood (any AWS partition's DNS suffix): ``s3``, ``s3-external-1``,
    ``s3.<region>``, legacy ``s3-<region>``, ``s3.dualstack.<region>``,
    ``s3-fips.<region>``, ``s3-fips.dualstack.<region>``, ``s3-accelerate``
    and ``s3-accelerate.dualstack``. Other hosts under an AWS suffix that
    name S3 (a bucket in front, a website endpoint) are errors; VPC and
    other hosts are custom endpoints.
    """
    found = _s3_labels(hostname)
    if found is None:
        return None
    suffix, first, rest = found
    dualstack = bool(rest) and rest[0] == "dualstack"
    if dualstack:
        rest = rest[1:]
    if len(rest) > 1:
        raise HostError("it is not an S3 API endpoint host")
    region, fips, accelerate = _first_label(first, rest[0] if rest else None)
    if accelerate and region is not None:
        raise HostError("an accelerate host names no region")
    return AwsHost(_partition(suffix, region), region, dualstack, fips, accelerate)


def _s3_labels(hostname: str) -> tuple[str, str, list[str]] | None:
    """An S3 host under an AWS DNS suffix: the suffix, its first label and the
    labels between; None for a custom endpoint (another host, a VPC endpoint)."""
    hostname = hostname.lower().rstrip(".")
    suffix = next((s for s in endpoints.dns_suffixes() if hostname.endswith("." + s)), None)
    if suffix is None:
        return None
    labels = hostname[: -len(suffix) - 1].split(".")
    if "vpce" in labels or not any(label.startswith("s3") for label in labels):
        return None  # an interface endpoint, or not S3 at all: a custom endpoint
    if not labels[0].startswith("s3"):
        raise HostError(
            "it names a bucket or other prefix in front of the S3 host; "
            "give the S3 endpoint alone (e.g. s3.ap-northeast-2.amazonaws.com)"
        )
    return suffix, labels[0], labels[1:]


def _first_label(first: str, region: str | None) -> tuple[str | None, bool, bool]:
    """What the host's first label says: (region, fips, accelerate)."""
    if first == "s3":
        return region, False, False
    if first == "s3-external-1":
        return region or "us-east-1", False, False
    if first == "s3-accelerate":
        return region, False, True
    if first == "s3-fips":
        return region, True, False
    if first.startswith("s3-website"):
        raise HostError("it is a static-website endpoint, not the S3 API")
    if region is None and first.startswith("s3-fips-"):
        return first[len("s3-fips-") :], True, False
    if region is None and first.startswith("s3-"):
        return first[len("s3-") :], False, False
    raise HostError("it is not an S3 API endpoint host")


def _partition(suffix: str, region: str | None) -> str:
    """The partition of ``region`` under ``suffix``; of a global host (no region),
    the first partition using that suffix."""
    if region is None:
        return next(p for p in endpoints.partitions() if p.dns_suffix == suffix).name
    partition = endpoints.partition_of(region)
    if partition is None or partition.dns_suffix != suffix:
        raise HostError(f"region {region!r} is not an AWS region under .{suffix}")
    return partition.name
