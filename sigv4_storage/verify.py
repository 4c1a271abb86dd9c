"""Looking at an upload's bytes before it is accepted: type, image, validators.

A direct upload reaches S3 without passing through Django; before ``accept``
makes it final, the stored object is read here as a lazy file
(``StoredUpload``): ranged ``GetObject``\\ s pinned to the ETag the
``HeadObject`` saw (an object changed meanwhile raises
``ranged.ObjectChanged``, never mixes versions), a first window of 64 KiB,
so a check that reads a header costs about the header:

- ``content()``: its first bytes agree with the type it was declared as
  (``sniff``), for every upload;
- ``image()``: it is an image Pillow opens and verifies, as Django's
  ``forms.ImageField`` verifies an upload, within ``Image.MAX_IMAGE_PIXELS``
  (a decompression bomb is refused), reading its header, not its pixels;
- ``run_validators()``: the fields' validators, and any check of the
  project's (a virus scan, content rules), which may read or stream the
  whole file (``chunks()``: parts fetched ahead, in bounded memory).

A refusal is a ``ValidationError``; ``accept`` then deletes the upload, so
nothing refused stays stored.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.core.files.base import File
from django.core.validators import validate_image_file_extension
from django.db import models

from . import sniff
from .checkids import PREFIX
from .content import essence
from .files import BUFFER, download_parameters, ranged_reader
from .ranged import ObjectChanged, PartIncomplete
from .uploads import size_text

__all__ = ["StoredUpload", "content", "image"]

#: A PNG's chunks are all read by Pillow's ``verify()`` (each one's CRC): up to
#: this size; a larger PNG's end is checked instead (its last chunk is ``IEND``).
PNG_VERIFIED_WHOLE = 1024 * 1024
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


class StoredUpload(File):  # type: ignore[type-arg]
    """An uploaded object, read lazily while it is checked.

    ``name`` is the name it will be accepted under (what an extension
    validator looks at); ``size`` and ``content_type`` are what S3 stored;
    ``image`` is Pillow's image once ``image()`` verified it (its ``width``
    and ``height`` too). ``read_range(start, count)`` fetches just those bytes.
    """

    def __init__(self, storage: Any, key_name: str, name: str, head: dict[str, Any]) -> None:
        size = int(head.get("ContentLength", 0))
        self._reader = ranged_reader(
            storage,
            storage.s3_key(key_name),
            name=key_name,
            size=size,
            etag=head.get("ETag"),
            extra=download_parameters(storage, key_name),
        )
        super().__init__(io.BufferedReader(self._reader, buffer_size=BUFFER), name=name)
        self.size = size
        self.content_type: str = essence(str(head.get("ContentType", ""))) or ""
        self.image: Any = None
        self.width: int | None = None
        self.height: int | None = None

    @property
    def requests(self) -> int:
        """The ranged ``GetObject``\\ s sent so far."""
        return self._reader.requests

    def read_range(self, start: int, count: int) -> bytes:
        return self._reader.window(start, count)

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The whole file from its start, in parts fetched ahead (bounded memory)."""
        self.seek(0)
        self._reader.stream()
        yield from super().chunks(chunk_size)

    def __repr__(self) -> str:
        return f"<StoredUpload: {self.name} ({size_text(self.size)}, {self.content_type})>"


def content(upload: StoredUpload) -> None:
    """Refuse a file whose first bytes are not of the type it was declared as."""
    upload.seek(0)
    sample = upload.read(sniff.SAMPLE)
    upload.seek(0)
    found = sniff.mismatch(upload.content_type, sample)
    if found is not None:
        raise ValidationError(
            "The file was sent as %(type)s, but %(found)s: choose the file again.",
            code="wrong_content",
            params={"type": upload.content_type or "no type", "found": found},
        )


def require_pillow() -> Any:
    """Pillow's ``Image`` module, or an error that says to install it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImproperlyConfigured(
            f"{PREFIX}: checking uploaded images needs Pillow, as Django's ImageField "
            "does: pip install Pillow."
        ) from None
    return Image


def image(upload: StoredUpload) -> None:
    """Refuse a file that is not an image Pillow verifies, or has more pixels
    than ``Image.MAX_IMAGE_PIXELS`` (a decompression bomb), or whose name has no
    image extension Pillow knows (as Django's ``forms.ImageField`` does)."""
    Image = require_pillow()
    validate_image_file_extension(upload)
    invalid = forms.ImageField.default_error_messages["invalid_image"]
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            found = Image.open(upload)
            size = found.size
            if found.format == "PNG" and upload.size > PNG_VERIFIED_WHOLE:
                whole = upload.read_range(upload.size - len(_PNG_END), len(_PNG_END))
                if whole != _PNG_END:
                    raise ValueError("the PNG does not end with its IEND chunk: truncated")
            else:
                found.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            "The image has too many pixels: at most %(limit)s are allowed.",
            code="too_many_pixels",
            params={"limit": f"{Image.MAX_IMAGE_PIXELS:,}"},
        ) from None
    except (ObjectChanged, PartIncomplete):  # changed while read, or not read: not "invalid"
        raise
    except Exception as error:  # noqa: BLE001 - what Django's ImageField refuses
        raise ValidationError(invalid, code="invalid_image") from error
    finally:
        upload.seek(0)
    upload.image = found
    upload.width, upload.height = size
    upload.content_type = Image.MIME.get(found.format, upload.content_type)


def run_validators(validators: Iterable[Callable[[Any], Any]], upload: StoredUpload) -> None:
    """Each validator on the file; every refusal is collected, as Django's
    ``Field.run_validators`` does."""
    errors: list[ValidationError] = []
    for validator in validators:
        upload.seek(0)
        try:
            validator(upload)
        except ValidationError as error:
            errors.extend(error.error_list)
    upload.seek(0)
    if errors:
        raise ValidationError(errors)


def model_field(model: Any, name: str | None) -> models.Field[Any, Any] | None:
    """The model field a form or serializer field named ``name`` fills, if any: its
    validators, and whether it is an ``ImageField``, apply to the upload."""
    if model is None or not name or "." in name:
        return None
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.FileField) else None


def is_image(image: bool | None, field: models.Field[Any, Any] | None) -> bool:
    """``image`` as given, else whether the model field is an ``ImageField``."""
    return isinstance(field, models.ImageField) if image is None else image
