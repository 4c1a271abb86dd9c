"""AWS partitions and S3 endpoints, from botocore's own data.

Nothing here is a hand-kept list: partitions, their DNS suffixes and region
patterns come from botocore's ``partitions.json``, and endpoint URLs from
botocore's S3 endpoint rule set, evaluated by botocore's ``EndpointProvider``
(the same rules a botocore client follows for each request).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.endpoint_provider import EndpointProvider
from botocore.loaders import create_loader
from botocore.regions import EndpointResolver
from botocore.utils import check_dns_name

_DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


@dataclass(frozen=True)
class Partition:
    name: str  # "aws", "aws-cn", "aws-us-gov", ...
    dns_suffix: str  # "amazonaws.com", "amazonaws.com.cn", ...
    regions: frozenset[str]
    region_regex: str


@functools.cache
def _loader() -> Any:
    return create_loader()


@functools.cache
def partitions() -> tuple[Partition, ...]:
    """Every partition botocore knows, in botocore's order."""
    data = _loader().load_data("partitions")
    return tuple(
        Partition(
            name=item["id"],
            dns_suffix=item["outputs"]["dnsSuffix"],
            regions=frozenset(item["regions"]),
            region_regex=item["regionRegex"],
        )
        for item in data["partitions"]
    )


def partition_of(region: str) -> Partition | None:
    """The partition a region belongs to, or None when it fits none."""
    # Listed regions first: aws-global-style names only appear there.
    for partition in partitions():
        if region in partition.regions:
            return partition
    for partition in partitions():
        if re.match(partition.region_regex, region):
            return partition
    return None


def known_regions() -> list[str]:
    """Every real region botocore lists (pseudo-regions like aws-global left out)."""
    return sorted(
        region
        for partition in partitions()
        for region in partition.regions
        if not region.endswith("-global")
    )


def unknown_region(region: str, endpoint_url: str) -> bool:
    """Whether ``region`` is one botocore does not list, for an endpoint on AWS
    (a custom endpoint names regions of its own)."""
    host = urlsplit(endpoint_url).hostname or ""
    on_aws = any(host == s or host.endswith("." + s) for s in dns_suffixes())
    listed = {name for partition in partitions() for name in partition.regions}
    return bool(region) and on_aws and region not in listed


def dns_suffixes() -> list[str]:
    """AWS DNS suffixes, longest first so ``amazonaws.com.cn`` wins over ``.com``."""
    return sorted({p.dns_suffix for p in partitions()}, key=len, reverse=True)


@functools.cache
def _s3_rules() -> EndpointProvider:
    loader = _loader()
    return EndpointProvider(
        ruleset_data=loader.load_service_model("s3", "endpoint-rule-set-1"),
        partition_data=loader.load_data("partitions"),
    )


@functools.cache
def _modelled_endpoints() -> EndpointResolver:
    return EndpointResolver(_loader().load_data("endpoints"), uses_builtin_data=True)


@dataclass(frozen=True)
class AwsEndpoint:
    url: str  # scheme://host[/bucket] as botocore would send it
    signing_region: str
    #: botocore's signer for it: "s3v4", or "s3v4a" (SigV4A, multi-region access points).
    signature_version: str = "s3v4"
    #: The service name in the credential scope: "s3", "s3-object-lambda", "s3-outposts".
    signing_name: str = "s3"


def signing(auth_schemes: list[dict[str, Any]], region: str) -> tuple[str, str, str]:
    """(signature version, signing name, signing region) a client that asks for
    SigV4 gets for an endpoint's ``authSchemes``.

    botocore, told ``signature_version="s3v4"``, takes the rule set's first
    ``sigv4`` scheme; when there is none (S3 Express's ``sigv4-s3express``)
    it signs plain SigV4 for ``s3`` in the client's region. Multi-region
    access points offer only ``sigv4a``: SigV4A, ``"s3v4a"`` in botocore.
    """
    for scheme in auth_schemes:
        if scheme.get("name") == "sigv4":
            return "s3v4", scheme.get("signingName", "s3"), scheme.get("signingRegion", region)
    for scheme in auth_schemes:
        if scheme.get("name") == "sigv4a":
            return "s3v4a", scheme.get("signingName", "s3"), "*"
    return "s3v4", "s3", region


def aws_endpoint(
    region: str,
    *,
    bucket: str | None = None,
    use_ssl: bool = True,
    dualstack: bool = False,
    fips: bool = False,
    accelerate: bool = False,
    global_us_east_1: bool = True,
    path_style: bool = False,
) -> AwsEndpoint:
    """The S3 endpoint botocore's rule set gives for these parameters.

    With ``bucket``, the URL is the bucket's root (virtual-hosted or path
    style); without it, the service endpoint. Raises botocore's
    ``EndpointResolutionError`` for combinations S3 does not serve
    (for example FIPS with acceleration), and ``EndpointVariantError`` for a
    dualstack or FIPS variant botocore refuses to build a client for.
    """
    if dualstack or fips:
        # A botocore client checks variants against endpoints.json when it is
        # created, before the rule set is asked: refuse what it would refuse.
        _modelled_endpoints().construct_endpoint(
            "s3", region, use_dualstack_endpoint=dualstack, use_fips_endpoint=fips
        )
    params: dict[str, Any] = {
        "Region": region,
        "UseFIPS": fips,
        "UseDualStack": dualstack,
        "Accelerate": accelerate,
        "UseGlobalEndpoint": global_us_east_1,
        "ForcePathStyle": path_style,
    }
    if bucket is not None:
        params["Bucket"] = bucket
    endpoint = _s3_rules().resolve_endpoint(**params)
    url = endpoint.url
    if not use_ssl and url.startswith("https://"):
        url = "http://" + url[len("https://") :]
    version, name, signing_region = signing(endpoint.properties.get("authSchemes") or [], region)
    return AwsEndpoint(
        url=url, signing_region=signing_region, signature_version=version, signing_name=name
    )


def virtual_host_compatible(bucket: str, use_ssl: bool) -> bool:
    """Whether ``bucket`` can be a DNS label in front of the S3 host.

    botocore's ``check_dns_name`` refuses every dotted name because
    ``a.b.s3.<region>.amazonaws.com`` does not match the wildcard TLS
    certificate. Over plain http that certificate does not matter, so a
    dotted name whose labels are each valid is accepted there.
    """
    if check_dns_name(bucket):
        return True
    if use_ssl or "." not in bucket:
        return False
    return 3 <= len(bucket) <= 63 and all(_DNS_LABEL.match(label) for label in bucket.split("."))
