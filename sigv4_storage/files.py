"""Files opened for reading download with no second ``HeadObject``.

django-storages' ``S3File`` sends a ``HeadObject`` when it is opened (so a
missing file raises at once), and boto3's ``download_fileobj`` then sends
another one to learn the size and ETag. The first answer already holds
both: ``SigV4S3File`` hands them to s3transfer (its public subscriber API),
which then skips its own ``HeadObject`` and still pins multipart downloads
to that ETag with ``IfMatch``; below the multipart threshold it sends the one
``GetObject`` itself. One request fewer per read, nothing else changed.
"""

from __future__ import annotations

import shutil
from typing import Any

from boto3.s3.transfer import TransferConfig, create_transfer_manager
from s3transfer.subscribers import BaseSubscriber
from s3transfer.utils import S3_RETRYABLE_DOWNLOAD_ERRORS
from storages.backends.s3 import S3File

CHUNK = 256 * 1024


class _Known(BaseSubscriber):  # type: ignore[misc]
    def __init__(self, size: int, etag: str | None) -> None:
        self.size = size
        self.etag = etag

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        future.meta.provide_transfer_size(self.size)
        future.meta.provide_object_etag(self.etag)


class _HeadedObject:
    """A boto3 ``Object`` already loaded by a ``HeadObject``."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __getattr__(self, name: str) -> Any:
        return getattr(self._obj, name)

    def download_fileobj(
        self,
        Fileobj: Any,  # noqa: N803 - boto3's signature
        ExtraArgs: dict[str, Any] | None = None,  # noqa: N803
        Callback: Any = None,  # noqa: N803
        Config: TransferConfig | None = None,  # noqa: N803
    ) -> Any:
        obj = self._obj
        known = obj.meta.data is not None and type(obj.content_length) is int
        if Callback is not None or not known:  # boto3's own way (also for mocks)
            return obj.download_fileobj(Fileobj, ExtraArgs, Callback, Config)
        config = Config or TransferConfig()  # read only: no copy needed
        if obj.content_length < config.multipart_threshold:
            return self._single_get(Fileobj, ExtraArgs or {}, config.num_download_attempts)
        size_and_etag = _Known(obj.content_length, obj.e_tag)
        with create_transfer_manager(obj.meta.client, config) as manager:
            future = manager.download(
                bucket=obj.bucket_name,
                key=obj.key,
                fileobj=Fileobj,
                extra_args=ExtraArgs,
                subscribers=[size_and_etag],
            )
            return future.result()

    def _single_get(self, fileobj: Any, extra_args: dict[str, Any], attempts: int) -> None:
        """Below the multipart threshold s3transfer sends one GetObject too, from a
        thread pool it builds and tears down per call; here it is sent directly,
        pinned to the ETag seen at open, with s3transfer's retries on broken streams.
        """
        obj = self._obj
        start = fileobj.tell()
        for attempt in range(1, attempts + 1):
            try:
                response = obj.meta.client.get_object(
                    Bucket=obj.bucket_name, Key=obj.key, IfMatch=obj.e_tag, **extra_args
                )
                shutil.copyfileobj(response["Body"], fileobj, CHUNK)
                return
            except S3_RETRYABLE_DOWNLOAD_ERRORS:
                if attempt == attempts:
                    raise
                fileobj.seek(start)
                fileobj.truncate()


class SigV4S3File(S3File):  # type: ignore[misc]
    def __init__(self, name: str, mode: str, storage: Any, buffer_size: int | None = None):
        super().__init__(name, mode, storage, buffer_size)
        if "w" not in mode:
            self.obj: Any = _HeadedObject(self.obj)
