from django import forms

from sigv4_storage.forms import DirectUploadField

from .models import Upload


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
