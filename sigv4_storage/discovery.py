"""The bucket's own region: asked once per bucket per process.

S3 answers ``HeadBucket`` with an ``x-amz-bucket-region`` header, on success
and also on 403 and 301, so even credentials without ``s3:ListBucket`` learn
it. The answer is cached per (endpoint, bucket) for the life of the
process; concurrent first users wait for one request instead of each
sending their own. Failures (network, a server that does not say) are not
cached: the caller keeps the configured region and a later storage asks
again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .config import S3Config

logger = logging.getLogger("sigv4_storage")

#: One quick question: no minute-long hang when the endpoint is unreachable.
PROBE_CONFIG = Config(
    connect_timeout=5, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 2}
)

_regions: dict[tuple[str, str], str] = {}
_locks: dict[tuple[str, str], threading.Lock] = {}
_guard = threading.Lock()


def cache_key(s3: S3Config) -> tuple[str, str]:
    """Bucket names are unique per AWS partition, and per custom endpoint."""
    return (s3.partition or s3.endpoint_url, s3.bucket_name)


def cached_region(s3: S3Config) -> str | None:
    return _regions.get(cache_key(s3))


def clear_cache() -> None:
    """Forget every bucket's region (tests; a bucket re-created elsewhere)."""
    with _guard:
        _regions.clear()
        _locks.clear()


def bucket_region(s3: S3Config, client_factory: Callable[[], Any]) -> str | None:
    """The bucket's region, asking S3 at most once per bucket per process.

    ``client_factory`` builds a botocore S3 client for ``s3``'s endpoint and
    credentials; it is only called when the region is not cached yet.
    """
    key = cache_key(s3)
    if key in _regions:
        return _regions[key]
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        if key in _regions:  # another thread asked while we waited
            return _regions[key]
        region = ask(client_factory(), s3)
        if region is not None:
            _regions[key] = region
        return region


def ask(client: Any, s3: S3Config, *, log: bool = True) -> str | None:
    """One ``HeadBucket``; the region it reports, or None (logged unless ``log`` is off)."""
    if not log:
        return _ask(client, s3, lambda *args: None)
    return _ask(client, s3, logger.warning)


def _ask(client: Any, s3: S3Config, warn: Callable[..., None]) -> str | None:
    try:
        response = client.head_bucket(Bucket=s3.bucket_name)
    except ClientError as refused:  # 403 and 301 still carry the header
        response = refused.response
    except BotoCoreError as error:
        warn(
            "Could not ask bucket %r at %s for its region (%s); using %r.",
            s3.bucket_name,
            s3.endpoint_url,
            type(error).__name__,
            s3.region,
        )
        return None
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    region = headers.get("x-amz-bucket-region")
    if not region:
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        warn(
            "Bucket %r at %s did not report its region (HTTP %s); using %r.",
            s3.bucket_name,
            s3.endpoint_url,
            status,
            s3.region,
        )
        return None
    logger.debug("Bucket %r reports region %r.", s3.bucket_name, region)
    return str(region)
