"""The region finding: is anything there, and what the bucket's answer means
for this storage (``discovery.verdict``, the rule the storage itself acts on)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import discovery
from ..config import S3Config
from ..errors import WrongScheme
from ..storage import SigV4S3Storage
from .network import connection_cause
from .report import FAIL, OK, SKIP, WARN, Finding


def region(storage: SigV4S3Storage, asked: bool = True) -> tuple[Finding, bool]:
    """The region finding, and whether the endpoint answered at all.

    Without credentials (``asked`` false) the bucket is not asked: only
    whether anything answers at the endpoint.
    """
    s3 = storage.s3_config
    if not asked:
        cause = connection_cause(s3.endpoint_url)
        if cause is not None:
            return unreachable(s3, cause), False
        return Finding("region", SKIP, "not asked: no credentials to sign the question"), True
    client = storage.probe_client()
    found = discovery.ask(client, s3, log=False)  # the finding says it
    if found is None:
        failure = unanswered(client)
        if failure is not None:
            return unreachable(s3, connection_cause(s3.endpoint_url) or failure), False
    return answer(s3, found), True


def unreachable(s3: S3Config, cause: str | WrongScheme) -> Finding:
    """The endpoint finding when nothing usable answers: a server speaking the
    other scheme gets its exact fix, anything else where to look."""
    if isinstance(cause, WrongScheme):
        return Finding(
            "endpoint",
            FAIL,
            f"cannot reach {s3.endpoint_url}: {cause.what}",
            cause.fix[0].upper() + cause.fix[1:] + ".",
        )
    return Finding(
        "endpoint",
        FAIL,
        f"cannot reach {s3.endpoint_url} (region {s3.region}): {cause}",
        "Check the endpoint (AWS_S3_ENDPOINT_URL / AWS_S3_HOST), the network "
        "and any proxy (AWS_S3_PROXIES).",
    )


def answer(s3: S3Config, found: str | None) -> Finding:
    """What the bucket's answer (``found``, None: it gave none) means for this
    storage: ``discovery.verdict``, the storage's own rule, in words."""
    said = discovery.verdict(s3, found)
    mismatch = f"bucket is {said.mismatch}"
    Outcome = discovery.Outcome
    if said.outcome is Outcome.UNREPORTED:
        return Finding(
            "region",
            OK if s3.custom_endpoint else WARN,
            f"the server does not report the bucket's region; using {s3.region!r} "
            f"({s3.source('region')})",
        )
    if said.outcome is Outcome.SAME:
        how = s3.source("region") if s3.region_configured else "nothing configured: discovered"
        return Finding("region", OK, f"bucket is in {found!r} ({how})")
    fix = f"Set AWS_S3_REGION_NAME = {found!r}."
    if said.outcome is Outcome.ADOPT:
        detail = (
            f"bucket is in {found!r}; no region configured, the storage uses it"
            if not s3.region_configured
            else f"{mismatch}; a region from the environment only is a guess, so "
            f"the storage uses the bucket's"
        )
        return Finding(
            "region",
            OK,
            detail,
            f"Optional: set AWS_S3_REGION_NAME = {found!r} to skip the question.",
        )
    if said.outcome is Outcome.FOLLOW:
        detail = f"{mismatch}; requests follow the bucket, with a warning"
        return Finding("region", WARN, detail, fix)
    if said.outcome is Outcome.IGNORED and (s3.region_named or not s3.custom_endpoint):
        why = "the named region is trusted" if s3.region_named else "discovery is off"
        detail = f"{mismatch}; {why}, so requests go there and are refused"
        return Finding("region", FAIL, detail, fix)
    if said.outcome is Outcome.IGNORED:  # the default region: servers differ in what they accept
        detail = (
            f"{mismatch}; requests are signed for {s3.region!r}, which this server "
            f"may refuse (SignatureDoesNotMatch, AuthorizationHeaderMalformed)"
        )
        return Finding("region", WARN, detail, fix)
    detail = f"{mismatch}; AWS_S3_REGION_MISMATCH = 'raise' refuses it"
    return Finding("region", FAIL, detail, fix)


def unanswered(client: Any) -> str | None:
    """Why the endpoint gave no answer at all (a connection failure), or None if it
    answered, even with a refusal."""
    try:
        client.list_buckets()
    except ClientError:
        return None
    except BotoCoreError as error:
        return str(error).split("\n")[0]
    return None
