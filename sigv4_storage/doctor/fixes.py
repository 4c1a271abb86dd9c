"""The fixes ``s3doctor`` prints as JSON to paste: a bucket's CORS rules for direct
uploads, a public-read bucket policy; and ``origin_error`` for ``--origin``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit


def upload_rule(origin: str) -> dict[str, Any]:
    """The bucket CORS rule direct browser uploads from ``origin`` need."""
    return {
        "AllowedOrigins": [origin],
        "AllowedMethods": ["POST", "PUT"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3600,
    }


def cors_rule(origin: str) -> str:
    """That rule as a whole CORS configuration (JSON)."""
    return json.dumps({"CORSRules": [upload_rule(origin)]})


def merged_cors(rules: list[dict[str, Any]], origin: str) -> str:
    """The bucket's ``rules`` (as GetBucketCors returns them) with the upload rule for
    ``origin`` added: a configuration PutBucketCors can take without losing any."""
    kept = [rule for rule in rules if rule != upload_rule(origin)]
    return json.dumps({"CORSRules": [*kept, upload_rule(origin)]})


def origin_error(origin: str) -> str | None:
    """Why ``origin`` is not a browser origin (``scheme://host[:port]``), or None."""
    parts = urlsplit(origin)
    example = "e.g. https://www.example.com or http://127.0.0.1:8000"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--origin {origin!r} is not an origin: give scheme://host[:port], {example}."
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        bare = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
        return (
            f"--origin {origin!r} has more than an origin: browsers send only "
            f"scheme://host[:port] in their Origin header. Use {bare!r}."
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return f"--origin {origin!r} has a port that is not a number: {example}."
    return None


def public_read_policy(partition: str, bucket: str, prefix: str, *, static: bool = True) -> str:
    """The bucket policy that lets anyone read objects under ``prefix`` (of a
    static storage, or of a public media storage)."""
    statement = {
        "Sid": "PublicReadStaticFiles" if static else "PublicReadFiles",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:{partition}:s3:::{bucket}/{prefix}*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
