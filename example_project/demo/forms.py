from django import forms

from sigv4_storage.forms import DirectUploadField

from .models import Document, Photo, Upload


class UploadForm(forms.ModelForm):
    """Through Django: the file goes browser → Django → S3."""

    class Meta:
        model = Upload
        fields = ["file"]


class DirectUploadForm(forms.ModelForm):
    """Large files: browser → S3 directly (a presigned SigV4 POST, or parts),
    then only a signed token reaches Django."""

    file = DirectUploadField(max_size=500 * 1024 * 1024, upload_to="uploads/")

    class Meta:
        model = Upload
        fields = ["file"]


class DocumentForm(forms.ModelForm):
    """A create and edit form (the edit page and the admin): without a new upload
    the stored file is kept; "Clear" removes it."""

    file = DirectUploadField(
        max_size=500 * 1024 * 1024,
        upload_to="documents/",
        content_types=["application/pdf", "text/plain", "image/"],
        required=False,
    )

    class Meta:
        model = Document
        fields = ["title", "file"]


class PhotoForm(forms.ModelForm):
    """A picture, straight to S3: on a ``models.ImageField`` the upload is checked
    as an image (Pillow, the pixel limit) before it is accepted."""

    image = DirectUploadField(
        max_size=20 * 1024 * 1024,
        upload_to="photos/",
        content_types=["image/jpeg", "image/png", "image/gif", "image/webp"],
    )

    class Meta:
        model = Photo
        fields = ["image"]
