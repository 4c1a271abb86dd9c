"""The CORS finding (``s3doctor --origin``): can a page on that origin upload
straight to the bucket, and the configuration to set when not."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import error_code
from ..signer import BucketURL
from ..storage import SigV4S3Storage
from .fixes import cors_rule, merged_cors
from .network import preflight
from .report import FAIL, OK, WARN, Finding


def cors(storage: SigV4S3Storage, origin: str, probe_key: str) -> Finding:
    """Can a page on ``origin`` upload straight to the bucket (``presigned_post``
    with POST, multipart parts with PUT, reading each part's ETag)?"""
    name = "CORS"
    s3 = storage.s3_config
    targets = {  # where forms POST, and where part URLs PUT (never a custom domain)
        "POST": s3.post_url,
        "PUT": BucketURL(s3.public_bucket_url).public(probe_key),
    }
    refused = []
    for method, url in targets.items():
        try:
            answer = preflight(url, origin, method)
        except OSError as error:
            return Finding(name, FAIL, f"cannot send a preflight to {url}: {error}")
        allowed_origin = answer.get("access-control-allow-origin", "")
        methods = {
            m.strip() for m in answer.get("access-control-allow-methods", "").upper().split(",")
        }
        if allowed_origin not in (origin, "*") or not methods & {method, "*"}:
            refused.append(method)
    rules, read = cors_rules(storage)
    fix = (
        "Set this bucket CORS configuration (PutBucketCors; it replaces the whole "
        f"configuration, so the bucket's {len(rules)} existing rule(s) are kept in it): "
        f"{merged_cors(rules, origin)}"
    )
    if not read:
        fix = (
            "Add this rule to the bucket's CORS configuration (PutBucketCors replaces "
            "the whole configuration: keep the rules it has; they could not be read "
            f"here): {cors_rule(origin)}"
        )
    if refused:
        return Finding(name, FAIL, f"{origin} may not {' or '.join(refused)} to the bucket", fix)
    if not read:
        return Finding(name, OK, f"{origin} may POST and PUT (the rules themselves unread)")
    exposed = any("etag" in (h.lower() for h in rule.get("ExposeHeaders", [])) for rule in rules)
    if not exposed:
        return Finding(
            name,
            WARN,
            f"{origin} may POST and PUT, but no rule exposes ETag: multipart uploads "
            "from the browser cannot read their parts' ETags",
            fix,
        )
    return Finding(name, OK, f"{origin} may POST and PUT, and read ETags")


def cors_rules(storage: SigV4S3Storage) -> tuple[list[dict[str, Any]], bool]:
    """The bucket's CORS rules, and whether they could be read (none set: [])."""
    try:
        found = storage.connection.meta.client.get_bucket_cors(Bucket=storage.bucket_name)
    except ClientError as error:
        return [], error_code(error) == "NoSuchCORSConfiguration"
    except BotoCoreError:
        return [], False
    return list(found.get("CORSRules") or []), True
