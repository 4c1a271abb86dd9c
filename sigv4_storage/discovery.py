"""The bucket's own region: asked once per bucket per process.

S3 answers ``HeadBucket`` with an ``x-amz-bucket-region`` header, on success
and also on 403 and 301, so even credentials without ``s3:ListBucket`` learn
it. The answer is cached per (endpoint, bucket) for the life of the
process; concurrent first users wait for one request instead of each
sending their own.

An answer counts only when it is a string that looks like a region (on AWS,
one of the endpoint's partition): a proxy, a mock or a server that says
something else "did not say". A failed ask (no network, no answer) is
remembered for ``RETRY_AFTER`` seconds, so an offline process tries once
per bucket in that time, not once per storage; the caller keeps the region
it has.
"""

from __future__ import annotations

import enum
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from . import behaviour, endpoints
from .config import S3Config

__all__ = ["verdict"]

logger = logging.getLogger("sigv4_storage")

#: One quick question: no minute-long hang when the endpoint is unreachable.
PROBE_CONFIG = Config(
    connect_timeout=5, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 2}
)

#: Seconds a failed ask is remembered: no new question for that bucket until then.
RETRY_AFTER = 60.0

#: Custom endpoints: a region is one name ("us-east-1", "auto", "garage").
_REGION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

_regions: dict[tuple[str, str], str] = {}
#: When the last ask of a bucket failed (``clock()`` seconds).
_failed: dict[tuple[str, str], float] = {}
_locks: dict[tuple[str, str], threading.Lock] = {}
_guard = threading.Lock()
#: Monotonic seconds; tests move it.
clock = time.monotonic


class Outcome(enum.Enum):
    """What the bucket's answer means for a storage (``verdict``)."""

    UNREPORTED = "the server did not say"
    SAME = "the bucket is where the storage looks"
    ADOPT = "no region named: the bucket's is used"
    FOLLOW = "a named region the bucket is not in: followed, with a warning"
    RAISE = "a named region the bucket is not in: an error (region_mismatch='raise')"
    IGNORED = "not asked by the storage (discover_region off): requests go elsewhere"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    #: The region the storage resolves again with, or None to keep its own.
    use: str | None = None
    #: Where the bucket is, in words: "in 'x', not in 'y' (settings.AWS_REGION)".
    mismatch: str = ""


def verdict(s3: S3Config, found: str | None) -> Verdict:
    """What the bucket's region ``found`` (None: not reported) means for a storage
    configured as ``s3``. The storage acts on it; ``s3doctor`` reports it."""
    if found is None:
        return Verdict(Outcome.UNREPORTED)
    if found == s3.region:
        # Named: nothing to do. Not named (a guess from the environment or the
        # default that happens to match): resolved again, the bucket as the source.
        return Verdict(Outcome.SAME, use=None if s3.region_named else found)
    mismatch = f"in {found!r}, not in {s3.region!r} ({s3.source('region')})"
    if not s3.discover_region:
        return Verdict(Outcome.IGNORED, mismatch=mismatch)
    if not s3.region_named:
        return Verdict(Outcome.ADOPT, use=found, mismatch=mismatch)
    if s3.region_mismatch == "raise":
        return Verdict(Outcome.RAISE, mismatch=mismatch)
    return Verdict(Outcome.FOLLOW, use=found, mismatch=mismatch)


def cache_key(s3: S3Config) -> tuple[str, str]:
    """Bucket names are unique per AWS partition, and per custom endpoint."""
    return (s3.partition or s3.endpoint_url, s3.bucket_name)


def cached_region(s3: S3Config) -> str | None:
    return _regions.get(cache_key(s3))


def clear_cache() -> None:
    """Forget every bucket's region and failed ask (``sigv4_storage.testing.reset``)."""
    with _guard:
        _regions.clear()
        _failed.clear()
        _locks.clear()


def region_answer(s3: S3Config, value: Any) -> str | None:
    """``value`` if it can be the region of ``s3``'s bucket, else None."""
    if not isinstance(value, str) or not _REGION_NAME.fullmatch(value):
        return None
    if s3.partition is not None:
        partition = endpoints.partition_of(value)
        if partition is None or partition.name != s3.partition:
            return None
    return value


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
        failed_at = _failed.get(key)
        if failed_at is not None and clock() - failed_at < RETRY_AFTER:
            return None
        region = ask(client_factory(), s3)
        if region is None:
            _failed[key] = clock()
        else:
            _regions[key] = region
            _failed.pop(key, None)
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
    metadata = response.get("ResponseMetadata") if isinstance(response, dict) else None
    metadata = metadata if isinstance(metadata, dict) else {}
    headers = metadata.get("HTTPHeaders")
    said = headers.get("x-amz-bucket-region") if isinstance(headers, dict) else None
    region = region_answer(s3, said)
    status = metadata.get("HTTPStatusCode")
    behaviour.learn(
        s3.endpoint_url,
        behaviour.REGION_REPORTED,
        region is not None,
        f"HeadBucket answered HTTP {status}",
        announce=False,  # said below, with the region used
    )
    if region is None:
        warn(
            "Bucket %r at %s did not report its region (HTTP %s%s); using %r.",
            s3.bucket_name,
            s3.endpoint_url,
            status,
            "" if said is None else ", not a region: " + repr(said)[:60],
            s3.region,
        )
        return None
    logger.debug("Bucket %r reports region %r.", s3.bucket_name, region)
    return region
