"""Direct uploads are looked at before they are accepted (``sigv4_storage.verify``).

Their first bytes must be of the type they were sent as; on an image field
Pillow verifies them within ``Image.MAX_IMAGE_PIXELS`` and the model's
``width_field``/``height_field`` are filled; the fields' validators and a
project's checks read the upload as a lazy file. Every refusal deletes the
upload. On moto in server mode, SeaweedFS and Ceph RGW (integration), through
the views and the form, as a browser would; what is read is counted with
botocore's ``before-send`` event (every request, with its ``Range``).
"""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models

from sigv4_storage import verify, views
from sigv4_storage.forms import DirectUploadField
from tests.test_direct_uploads import (
    SERVERS,
    call,
    keys,
    send_parts,
    upload_bucket,
)
from tests.util import post

Image = pytest.importorskip("PIL.Image")

MB = 1024 * 1024


@pytest.fixture(params=SERVERS)
def s3(request, settings):
    yield from upload_bucket(request, settings)


def picture(size=(64, 48), fmt="PNG", **options) -> bytes:
    """An image of ``size`` in ``fmt``: noise, so that it does not compress to nothing."""
    out = io.BytesIO()
    Image.effect_noise(size, 40).convert("RGB").save(out, fmt, **options)
    return out.getvalue()


class Photo(models.Model):
    image = models.ImageField(
        upload_to="photos/",
        width_field="width",
        height_field="height",
        validators=[FileExtensionValidator(["jpg", "jpeg", "png"])],
    )
    width = models.PositiveIntegerField(null=True)
    height = models.PositiveIntegerField(null=True)

    class Meta:
        app_label = "sigv4_storage"
        managed = False


class PhotoForm(forms.ModelForm):
    image = DirectUploadField(max_size=20 * MB, upload_to="photos/", content_types=["image/"])

    class Meta:
        model = Photo
        fields = ["image"]


class AnyFileForm(forms.Form):
    file = DirectUploadField(max_size=20 * MB, upload_to="any/")


def uploaded(form, body, name, type_, field="file") -> str:
    """``body`` signed for ``form``'s ``field`` and sent as a browser sends it (a POST
    form, or parts): its upload token."""
    from tests.test_direct_uploads import field_token

    payload = {"field": field_token(form, field), "name": name, "size": len(body), "type": type_}
    status, answer = call(views.sign, payload)
    assert status == 200, answer
    if answer["mode"] == "post":
        assert post(answer, name, body)[0] in (200, 204)
    else:
        parts = send_parts(answer, body)
        assert call(views.complete, {"upload": answer["upload"], "parts": parts})[0] == 200
    return answer["upload"]


def submitted(form, token, field="file"):
    from tests.test_direct_uploads import SESSION

    return form(data={field: token, "csrfmiddlewaretoken": SESSION})


def reads(storage) -> list[int]:
    """The size of every ranged GET ``storage``'s client sends from now on."""
    sizes: list[int] = []

    def seen(request, **_):
        header = request.headers.get("Range")
        if request.method == "GET" and header:
            first, last = (header.decode() if isinstance(header, bytes) else header)[6:].split("-")
            sizes.append(int(last) - int(first) + 1)

    storage.connection.meta.client.meta.events.register("before-send.s3", seen)
    return sizes


# -- the bytes are of the declared type ------------------------------------------------------
@pytest.mark.parametrize(
    "body, name, type_, words",
    [
        (b"<!doctype html><script>alert(document.cookie)</script>", "a.png", "image/png",
         "its bytes are HTML, not a PNG image"),
        (picture(fmt="PNG"), "a.jpg", "image/jpeg", "its bytes are a PNG image, not a JPEG"),
        (picture(fmt="PNG"), "notes.txt", "text/plain", "a PNG image, not text"),
        (b"PK\x03\x04" + os.urandom(300), "paper.pdf", "application/pdf", "not a PDF document"),
    ],
)  # fmt: skip
def test_bytes_not_of_the_declared_type_are_refused_and_deleted(s3, body, name, type_, words):
    server, bucket = s3
    token = uploaded(AnyFileForm, body, name, type_)
    form = submitted(AnyFileForm, token)
    assert not form.is_valid()
    assert words in str(form.errors["file"]) and f"sent as {type_}" in str(form.errors["file"])
    assert form.errors.as_data()["file"][0].code == "wrong_content"
    assert keys(server, bucket) == []  # the upload is gone; nothing was accepted


@pytest.mark.parametrize(
    "body, name, type_",
    [
        (picture(fmt="JPEG"), "a.jpg", "image/jpeg"),
        (b"%PDF-1.7\n" + os.urandom(3000), "a.pdf", "application/pdf"),
        ("Grüße, 사진\n".encode() * 50, "a.txt", "text/plain"),
        (os.urandom(2000), "a.bin", "application/x-custom"),  # no signature: as declared
    ],
)
def test_bytes_of_the_declared_type_are_accepted(s3, body, name, type_):
    server, bucket = s3
    form = submitted(AnyFileForm, uploaded(AnyFileForm, body, name, type_))
    assert form.is_valid(), form.errors
    got = server.client().get_object(Bucket=bucket, Key=f"media/{form.cleaned_data['file']}")
    assert got["Body"].read() == body


# -- images ------------------------------------------------------------------------------------
def test_an_image_field_verifies_the_image_and_fills_its_dimensions(s3):
    server, bucket = s3
    body = picture((120, 80), "JPEG")
    form = submitted(PhotoForm, uploaded(PhotoForm, body, "me.jpg", "image/jpeg", "image"), "image")
    assert form.is_valid(), form.errors
    assert (form.instance.width, form.instance.height) == (120, 80)  # Django's ImageField
    assert form.instance.image.name == form.cleaned_data["image"]
    assert [key.rsplit("/", 1)[1] for key in keys(server, bucket)] == ["me.jpg"]


@pytest.mark.parametrize(
    "body",
    [
        b"\x89PNG\r\n\x1a\n" + b"<html><script>alert(1)</script></html>",  # a PNG's start only
        picture(fmt="PNG")[:60],  # cut short in its header
    ],
    ids=["signature-then-html", "truncated"],
)
def test_a_file_that_is_not_an_image_is_refused_with_djangos_message(s3, body):
    server, bucket = s3
    form = submitted(PhotoForm, uploaded(PhotoForm, body, "me.png", "image/png", "image"), "image")
    assert not form.is_valid()
    assert form.errors["image"] == [forms.ImageField.default_error_messages["invalid_image"]]
    assert keys(server, bucket) == []


def test_a_large_png_cut_short_is_refused(s3):
    """Beyond 1 MiB a PNG is not read whole: its last chunk must be IEND."""
    server, bucket = s3
    whole = picture((800, 600), "PNG")
    assert len(whole) > verify.PNG_VERIFIED_WHOLE
    form = submitted(PhotoForm, uploaded(PhotoForm, whole[:-20], "big.png", "image/png", "image"),
                     "image")  # fmt: skip
    assert not form.is_valid() and form.errors.as_data()["image"][0].code == "invalid_image"
    assert keys(server, bucket) == []
    form = submitted(
        PhotoForm, uploaded(PhotoForm, whole, "big.png", "image/png", "image"), "image"
    )
    assert form.is_valid(), form.errors
    assert (form.instance.width, form.instance.height) == (800, 600)


def test_a_decompression_bomb_is_refused(s3):
    """A small file that would decode to more pixels than Image.MAX_IMAGE_PIXELS
    (89 million by default): 10,000 × 10,000 one-bit pixels, 13 KB as a PNG."""
    server, bucket = s3
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")
    bomb = out.getvalue()
    assert len(bomb) < 100_000
    form = submitted(
        PhotoForm, uploaded(PhotoForm, bomb, "bomb.png", "image/png", "image"), "image"
    )
    assert not form.is_valid()
    assert form.errors.as_data()["image"][0].code == "too_many_pixels"
    assert "89,478,485" in str(form.errors["image"])
    assert keys(server, bucket) == []


def test_the_image_check_reads_the_header_not_the_photo(s3):
    """A 3000 × 2000 photo of several MB (with a 60 KB ICC profile before its pixels,
    as phones write) is checked, and its dimensions read, in well under 1 MiB."""
    from django.core.files.storage import default_storage

    server, bucket = s3
    photo = picture((3000, 2000), "JPEG", quality=92, icc_profile=os.urandom(60_000))
    assert len(photo) > 3 * MB
    token = uploaded(PhotoForm, photo, "photo.jpg", "image/jpeg", "image")
    sizes = reads(default_storage)
    form = submitted(PhotoForm, token, "image")
    assert form.is_valid(), form.errors
    assert (form.instance.width, form.instance.height) == (3000, 2000)
    # clean()'s check, then Django reading the dimensions of the accepted file.
    assert sum(sizes) <= MB, sizes
    assert len(sizes) <= 6, sizes


def test_image_false_turns_the_image_check_off(s3):
    class PlainPhotoForm(PhotoForm):
        image = DirectUploadField(max_size=MB, upload_to="photos/", image=False)

    body = b"\x89PNG\r\n\x1a\n" + os.urandom(100)  # a PNG's signature, no image
    form = submitted(PlainPhotoForm, uploaded(PlainPhotoForm, body, "x.png", "image/png", "image"),
                     "image")  # fmt: skip
    assert form.is_valid(), form.errors


# -- validators and checks ---------------------------------------------------------------------
def test_the_fields_validators_run_on_the_upload_and_a_refusal_deletes_it(s3):
    server, bucket = s3

    class PdfForm(forms.Form):
        file = DirectUploadField(max_size=MB, validators=[FileExtensionValidator(["pdf"])])

    form = submitted(PdfForm, uploaded(PdfForm, b"plain words\n", "notes.txt", "text/plain"))
    assert not form.is_valid()
    assert form.errors.as_data()["file"][0].code == "invalid_extension"
    assert keys(server, bucket) == []


def test_the_model_fields_validators_run_before_it_is_accepted(s3):
    """The model field's validators (here: JPEG and PNG only) refuse the upload before
    the copy: nothing stays stored, where the model's full_clean() alone would
    leave the accepted file behind."""
    server, bucket = s3
    gif = uploaded(PhotoForm, picture(fmt="GIF"), "me.gif", "image/gif", "image")
    form = submitted(PhotoForm, gif, "image")
    assert not form.is_valid()
    assert form.errors.as_data()["image"][0].code == "invalid_extension"
    assert "gif" in str(form.errors["image"])
    assert keys(server, bucket) == []


def test_an_image_needs_an_image_extension(s3):
    """As Django's forms.ImageField: a name whose extension Pillow does not know."""
    server, bucket = s3

    class AnyImage(forms.Form):
        file = DirectUploadField(max_size=MB, image=True)

    form = submitted(AnyImage, uploaded(AnyImage, picture(), "me.notanimage", "image/png"))
    assert not form.is_valid()
    assert form.errors.as_data()["file"][0].code == "invalid_extension"
    assert keys(server, bucket) == []


def test_a_validator_that_reads_a_little_costs_a_little(s3):
    from django.core.files.storage import default_storage

    seen = []

    def first_kilobyte(upload):
        seen.append((upload.name, upload.size, upload.content_type, upload.read(1024)))

    class Checked(forms.Form):
        file = DirectUploadField(max_size=20 * MB, validators=[first_kilobyte])

    body = b"%PDF-1.7\n" + os.urandom(9 * MB)  # sent in parts
    token = uploaded(Checked, body, "report.pdf", "application/pdf")
    sizes = reads(default_storage)
    form = submitted(Checked, token)
    assert form.is_valid(), form.errors
    [(name, size, content_type, first)] = seen
    assert name.endswith("/report.pdf") and name == form.cleaned_data["file"]
    assert (size, content_type, first) == (len(body), "application/pdf", body[:1024])
    assert sizes == [64 * 1024]  # the type's check and the validator: one first window


def test_a_check_can_stream_the_whole_file_and_refuse_it(s3):
    """A project's check (a virus scan) reads all of a 9 MiB upload in order, in parts,
    and refuses it: nothing stays stored."""
    server, bucket = s3
    body = b"%PDF-1.7\n" + os.urandom(9 * MB) + b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR"
    digests = []

    def scan(upload):
        digest, found = hashlib.sha256(), False
        for chunk in upload.chunks():
            digest.update(chunk)
            found = found or b"EICAR" in chunk
        digests.append(digest.hexdigest())
        if found:
            raise ValidationError("This file carries a virus.", code="virus")

    class Scanned(forms.Form):
        file = DirectUploadField(max_size=20 * MB, validators=[scan])

    form = submitted(Scanned, uploaded(Scanned, body, "report.pdf", "application/pdf"))
    assert not form.is_valid()
    assert form.errors["file"] == ["This file carries a virus."]
    assert digests == [hashlib.sha256(body).hexdigest()]
    assert keys(server, bucket) == []


def test_check_upload_can_be_overridden(s3):
    server, bucket = s3

    class NoEmptyCSV(DirectUploadField):
        def check_upload(self, upload):
            super().check_upload(upload)
            if not upload.read(100).strip():
                raise ValidationError("The CSV file is empty.", code="empty")

    class CsvForm(forms.Form):
        file = NoEmptyCSV(max_size=MB, content_types=["text/csv"])

    form = submitted(CsvForm, uploaded(CsvForm, b"   \n", "a.csv", "text/csv"))
    assert form.errors["file"] == ["The CSV file is empty."]
    assert keys(server, bucket) == []
    form = submitted(CsvForm, uploaded(CsvForm, b"a,b\n1,2\n", "a.csv", "text/csv"))
    assert form.is_valid(), form.errors


def test_an_upload_replaced_while_it_is_checked_is_refused(s3):
    """The check reads the version the HeadObject saw: replaced meanwhile (by the
    same policy, still valid), the reads answer 412 and the upload is refused."""
    server, bucket = s3
    from sigv4_storage.tokens import Upload

    token = uploaded(AnyFileForm, b"%PDF-1.7 first", "a.pdf", "application/pdf")
    key = "media/" + Upload.from_token(token).name

    def replace_it(upload):
        server.client().put_object(Bucket=bucket, Key=key, Body=b"%PDF-1.7 other!")
        upload.read_range(0, 5)

    class Racing(forms.Form):
        file = DirectUploadField(max_size=MB, upload_to="any/", validators=[replace_it])

    Racing.base_fields["file"].limits = AnyFileForm.base_fields["file"].limits
    form = submitted(Racing, token)
    assert not form.is_valid()
    assert "changed while it was checked" in str(form.errors["file"])
    assert keys(server, bucket) == []


@pytest.mark.parametrize("s3", SERVERS[1:], indirect=True)  # not moto: it runs in this process
def test_a_check_streams_the_upload_in_bounded_memory(s3, settings):
    """``chunks()`` of a 24 MiB upload holds a few parts at a time, not the file
    (parts of 1 MiB, 2 fetched ahead here; traced by tracemalloc)."""
    import tracemalloc

    from boto3.s3.transfer import TransferConfig

    from sigv4_storage import SigV4S3Storage

    server, bucket = s3
    settings.AWS_S3_TRANSFER_CONFIG = TransferConfig(multipart_chunksize=MB, max_concurrency=2)
    storage = SigV4S3Storage()
    body = os.urandom(24 * MB)
    server.client().put_object(Bucket=bucket, Key="media/big.bin", Body=body)
    head = storage.connection.meta.client.head_object(Bucket=bucket, Key="media/big.bin")
    upload = verify.StoredUpload(storage, "big.bin", "uploads/big.bin", head)
    digest = hashlib.sha256()
    tracemalloc.start()
    try:
        for chunk in upload.chunks():
            digest.update(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        upload.close()
    assert digest.hexdigest() == hashlib.sha256(body).hexdigest()
    assert peak < 12 * MB, peak
    assert upload.requests == 24  # each part once, no window before them
