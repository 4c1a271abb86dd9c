"""Multipart uploads nobody will finish: finding them, and aborting them.

A process killed while it uploads in parts (a deploy's ``collectstatic``
stopped with SIGKILL, a worker out of memory) cannot abort what it started:
the parts stay in the bucket, billed, invisible to listings of objects,
until someone aborts the upload. ``collect.Run`` aborts those under its
location that began before the run did; ``s3doctor`` reports those older
than a day, with the lifecycle rule that lets S3 abort them.

Times are the server's: the ``Date`` header of the listing's first page is
"now", so a wrong clock on this machine cannot make a fresh upload look old.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.exceptions import ClientError

from .errors import error_code

#: What S3 answers for an upload already completed or aborted by someone else.
_GONE = {"NoSuchUpload", "404"}

#: The lifecycle rule that aborts uploads left open for a day.
LIFECYCLE_RULE = {
    "ID": "abort-abandoned-uploads",
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
}


@dataclass(frozen=True)
class OpenUpload:
    key: str
    upload_id: str
    initiated: dt.datetime


@dataclass(frozen=True)
class Listing:
    uploads: list[OpenUpload]
    #: The server's time when the listing began.
    now: dt.datetime

    def started_before(self, moment: dt.datetime) -> list[OpenUpload]:
        return [upload for upload in self.uploads if upload.initiated < moment]


def list_open(client: Any, bucket: str, prefix: str) -> Listing:
    """Every multipart upload open under ``prefix`` (paginated)."""
    uploads: list[OpenUpload] = []
    now: dt.datetime | None = None
    for page in client.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, Prefix=prefix
    ):
        if now is None:
            now = server_time(page)
        for item in page.get("Uploads") or ():
            initiated = item["Initiated"]
            if initiated.tzinfo is None:
                initiated = initiated.replace(tzinfo=dt.timezone.utc)
            uploads.append(OpenUpload(item["Key"], item["UploadId"], initiated))
    return Listing(uploads, now or dt.datetime.now(dt.timezone.utc))


def abort(client: Any, bucket: str, uploads: list[OpenUpload]) -> list[str]:
    """Abort ``uploads``; the keys of those aborted (one finished or aborted
    meanwhile by someone else is left out, not an error)."""
    aborted = []
    for upload in uploads:
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=upload.key, UploadId=upload.upload_id)
        except ClientError as error:
            if error_code(error) not in _GONE:
                raise
            continue
        aborted.append(upload.key)
    return aborted


def lifecycle_configuration() -> str:
    """A bucket lifecycle configuration (JSON) holding only ``LIFECYCLE_RULE``."""
    return json.dumps({"Rules": [LIFECYCLE_RULE]})


def server_time(page: dict[str, Any]) -> dt.datetime | None:
    date = page.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        moment = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        return None
    if moment is not None and moment.tzinfo is None:  # "-0000": UTC, as HTTP dates are
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment
