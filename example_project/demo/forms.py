from django import forms

from sigv4_storage.forms import DirectUploadField

from .models import Document, Upload


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
