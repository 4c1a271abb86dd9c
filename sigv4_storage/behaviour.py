"""What an S3 server honours, in one place: each capability the package relies
on, what it does where the server lacks it, and what was learned, per endpoint.

S3-compatible servers differ where it hurts. Measured here (``docs/servers.md``
has the table, tested against ``CAPABILITIES``): Ceph RGW 16 honours
``If-None-Match: *`` on ``PutObject`` but ignores it on
``CompleteMultipartUpload`` and ``CopyObject``, ignores
``x-amz-copy-source-if-match``, and does not store a POST form's header
fields (``Content-Disposition``, ``Cache-Control``); moto server and SeaweedFS honour the
conditions one request at a time but let two simultaneous multipart
completions of one name both succeed.

So the package asks of every server only what every tested server does
atomically: a conditional ``PutObject``. Large files and copies *claim* their
name first with one (``creates.claim``), then write; a copy's source is checked
after the copy (``creates.copy``); an active file is made an attachment by
the URL that serves it and by the copy that accepts it, not by trusting the
POST form. Nothing here is guessed from a host name: a server is taken as
honouring a capability until its own answer says otherwise (``learn``), and
the path taken where a capability is missing is the safe one. ``s3doctor
--write`` probes each capability and reports it with ``CAPABILITIES``' words.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from .checkids import PREFIX

logger = logging.getLogger("sigv4_storage")


@dataclass(frozen=True)
class Capability:
    """One thing a server may or may not honour."""

    name: str
    #: What the server is asked to do, in S3's words.
    what: str
    #: What the package relies on it for.
    used_for: str
    #: What the package does where the server lacks it, and what that costs.
    instead: str


CONDITIONAL_PUT = Capability(
    "conditional_put",
    "If-None-Match: * on PutObject (412 when the key exists)",
    "file_overwrite=False: one request per new file, and the claims below",
    "file_overwrite=False checks the name with HeadObject before writing: two "
    "simultaneous uploads of one name can both pass, and one file is lost",
)
CONDITIONAL_COMPLETE = Capability(
    "conditional_complete",
    "If-None-Match: * on CompleteMultipartUpload",
    "nothing: large files claim their name with a conditional PutObject first",
    "nothing more: the claim (one small PUT per large file, on every server) "
    "keeps simultaneous large saves of one name apart",
)
CONDITIONAL_COPY = Capability(
    "conditional_copy",
    "If-None-Match: * on CopyObject",
    "nothing: copies (accepted direct uploads, copy_new) claim their name first",
    "nothing more: the claim (one small PUT per copy) refuses a copy onto a taken name",
)
PINNED_COPY = Capability(
    "pinned_copy",
    "x-amz-copy-source-if-match on CopyObject (412 when the source changed)",
    "refusing early a copy whose source changed after it was checked",
    "the copy's ETag (or the source's, once more) is compared with the checked "
    "one after the copy: a changed source is caught, one HeadObject later",
)
POST_FIELDS = Capability(
    "post_fields",
    "the header fields of a browser's POST form (Content-Disposition, Cache-Control) "
    "stored with the object",
    "active files (HTML, SVG, …) uploaded by browsers stored as attachments",
    "presigned URLs of active files ask for attachment (response-content-disposition) "
    "and accepted uploads are copied with the storage's write parameters; public "
    "(unsigned) URLs of objects POSTed straight to such a server serve what it stored",
)
REGION_REPORTED = Capability(
    "region_reported",
    "x-amz-bucket-region on HeadBucket",
    "signing for the bucket's own region when no setting names it",
    "the configured region (or us-east-1) is used; s3doctor cannot check it",
)

#: Every capability, in the order ``s3doctor`` reports them.
CAPABILITIES = (
    CONDITIONAL_PUT,
    CONDITIONAL_COMPLETE,
    CONDITIONAL_COPY,
    PINNED_COPY,
    POST_FIELDS,
    REGION_REPORTED,
)


@dataclass(frozen=True)
class Learned:
    """What a server's answer said of one capability."""

    honoured: bool
    #: How it was learned: the answer or probe that said so.
    how: str


_learned: dict[tuple[str, str], Learned] = {}
_guard = threading.Lock()


def honours(endpoint: str, capability: Capability) -> bool:
    """Whether ``endpoint`` is taken as honouring ``capability``: yes until its own
    answer said no (``learn``)."""
    found = _learned.get((endpoint, capability.name))
    return found is None or found.honoured


def learned(endpoint: str, capability: Capability) -> Learned | None:
    return _learned.get((endpoint, capability.name))


def learn(
    endpoint: str, capability: Capability, honoured: bool, how: str, *, announce: bool = True
) -> None:
    """Record what ``endpoint`` showed of ``capability``; a newly learned lack is
    logged once per process, with what the package does instead (unless the
    caller says it in its own words: ``announce=False``)."""
    with _guard:
        before = _learned.get((endpoint, capability.name))
        _learned[(endpoint, capability.name)] = Learned(honoured, how)
    if announce and not honoured and (before is None or before.honoured):
        logger.warning(
            "%s: %s does not honour %s (%s): %s.",
            PREFIX,
            endpoint,
            capability.what,
            how,
            capability.instead,
        )


def clear_cache() -> None:
    """Forget what every endpoint showed (``testing.reset``)."""
    with _guard:
        _learned.clear()
