"""``DirectUploadField``: a form field whose file goes from the browser to S3.

The widget uploads the chosen file straight to the bucket with a progress
bar (``static/sigv4_storage/direct-upload.js``, plain JavaScript) and the
form submits only a signed token; ``clean()`` checks the stored object and
returns its name, which a model's ``FileField`` stores as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.urls import NoReverseMatch, reverse

from . import uploads


def _app_installed() -> None:
    """The widget's template and script live in the app: without it, say so now."""
    if apps.ready and not apps.is_installed("sigv4_storage"):
        raise ImproperlyConfigured(
            "sigv4_storage: DirectUploadField needs 'sigv4_storage' in INSTALLED_APPS: "
            "its widget's template and upload script live in the app. Add it (before "
            "'django.contrib.staticfiles')."
        )


class DirectUploadWidget(forms.Widget):
    template_name = "sigv4_storage/direct_upload_widget.html"

    class Media:
        js = ("sigv4_storage/direct-upload.js",)

    def __init__(self, limits: uploads.Limits | None = None, attrs: Any = None) -> None:
        super().__init__(attrs)
        self.limits = limits

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        _app_installed()  # not a TemplateDoesNotExist when rendered
        context = super().get_context(name, value, attrs)
        try:
            urls = {
                "sign": reverse("sigv4_storage:upload-sign"),
                "complete": reverse("sigv4_storage:upload-complete"),
                "abort": reverse("sigv4_storage:upload-abort"),
            }
        except NoReverseMatch:
            raise ImproperlyConfigured(
                'sigv4_storage: DirectUploadField needs its views: add path("s3/", '
                'include("sigv4_storage.urls")) to your URLconf.'
            ) from None
        limits = self.limits
        assert limits is not None, "DirectUploadWidget is given its limits by DirectUploadField"
        context["upload"] = {
            "urls": urls,
            "field": limits.token(),
            "accept": ",".join(t + "*" if t.endswith("/") else t for t in limits.content_types),
            "max_size": limits.max_size,
        }
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)


class DirectUploadField(forms.Field):
    """A file uploaded by the browser straight to ``storage`` under ``upload_to``.

    ``max_size`` (bytes) is required and enforced by S3 itself and again on
    submit; ``content_types`` lists exact types or ``"type/"`` prefixes
    (empty: any). ``clean()`` returns the stored file's name.
    """

    widget = DirectUploadWidget

    def __init__(
        self,
        *,
        max_size: int,
        upload_to: str = "uploads/",
        content_types: Sequence[str] = (),
        storage: str = "default",
        **kwargs: Any,
    ) -> None:
        _app_installed()  # when the form class is defined: at start-up
        self.limits = uploads.field_limits(storage, upload_to, max_size, content_types)
        kwargs.setdefault("widget", DirectUploadWidget(self.limits))
        super().__init__(**kwargs)
        self.widget.limits = self.limits

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value in self.empty_values:
            return value
        try:
            return uploads.stored_name(value, self.limits)
        except uploads.UploadRefused as refused:
            raise ValidationError(str(refused), code="upload") from None
