"""``DirectUploadField``: a form field whose file goes from the browser to S3.

The widget uploads the chosen file straight to the bucket with a progress
bar (``static/sigv4_storage/direct-upload.js``, plain JavaScript) and the
form submits only a signed token; ``clean()`` checks the stored object and
returns its name, which a model's ``FileField`` stores as it is.

On an edit form it behaves as Django's ``ClearableFileInput``: the current
file is shown with its link; submitting without a new upload keeps it (a
refused, failed or abandoned upload submits nothing); with ``required=False``
a "Clear" checkbox, and nothing else, clears it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django import forms
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.forms.widgets import FILE_INPUT_CONTRADICTION, CheckboxInput
from django.urls import NoReverseMatch, reverse

from . import accept, tokens, uploads, verify
from .checkids import PREFIX

__all__ = ["DirectUploadField", "DirectUploadWidget"]


def _app_installed() -> None:
    """The widget's template and script live in the app: without it, say so now
    (from the moment the app list is known: a form defined while models import,
    or in an admin module, too)."""
    if apps.apps_ready and not apps.is_installed("sigv4_storage"):
        raise ImproperlyConfigured(
            f"{PREFIX}: DirectUploadField needs 'sigv4_storage' in INSTALLED_APPS: "
            "its widget's template and upload script live in the app. Add it (before "
            "'django.contrib.staticfiles')."
        )


class DirectUploadWidget(forms.Widget):
    template_name = "sigv4_storage/direct_upload_widget.html"
    clear_checkbox_label = "Clear"
    initial_text = "Currently"
    input_text = "Change"

    class Media:
        js = ("sigv4_storage/upload-client.js", "sigv4_storage/direct-upload.js")

    def __init__(self, limits: tokens.Limits | None = None, attrs: Any = None) -> None:
        super().__init__(attrs)
        self.limits = limits
        #: Upload tokens this form's clean() accepted → tokens for the accepted names,
        #: so that a form shown again with errors submits the accepted file.
        self.accepted: dict[str, str] = {}

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        _app_installed()  # not a TemplateDoesNotExist when rendered
        context = super().get_context(name, value, attrs)
        try:
            urls = {
                "sign": reverse("sigv4_storage:upload-sign"),
                "complete": reverse("sigv4_storage:upload-complete"),
                "resume": reverse("sigv4_storage:upload-resume"),
                "abort": reverse("sigv4_storage:upload-abort"),
            }
        except NoReverseMatch:
            raise ImproperlyConfigured(
                f'{PREFIX}: DirectUploadField needs its views: add path("s3/", '
                'include("sigv4_storage.urls")) to your URLconf.'
            ) from None
        limits = self.limits
        if limits is None:
            raise ImproperlyConfigured(
                f"{PREFIX}: DirectUploadWidget is rendered by a DirectUploadField, which "
                "gives it the field's limits: use the field, not the widget alone."
            )
        token = ""  # the hidden input: an upload waiting to be submitted, else nothing
        current = None  # the stored file: (name, url)
        if isinstance(value, tokens.Submitted):  # shown again: only if clean() accepted it
            token = self.accepted.get(value.token, "")
        elif value:
            current = self._current(value, limits)
        context["widget"]["value"] = token
        context["upload"] = {
            "urls": urls,
            "field": replace(limits, field=name).token(),
            "accept": ",".join(t + "*" if t.endswith("/") else t for t in limits.content_types),
            "max_size": limits.max_size,
            "current": current,
            "clear_name": name + "-clear",
            "clear_id": name + "-clear_id",
            "clearable": not self.is_required,
            "initial_text": self.initial_text,
            "input_text": self.input_text,
            "clear_checkbox_label": self.clear_checkbox_label,
        }
        return context

    @staticmethod
    def _current(value: Any, limits: tokens.Limits) -> tuple[str, str]:
        """The stored file's name and URL: a ``FieldFile`` knows its URL; a name
        given as ``initial`` is the field's storage's."""
        name = str(getattr(value, "name", value))
        url = getattr(value, "url", None) if hasattr(value, "storage") else None
        if url is None:
            url = tokens.storage_for(limits.storage).url(name)
        return name, url

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        """A ``Submitted`` upload, ``False`` to clear, ``None`` for no change."""
        token = data.get(name) or ""
        clear = not self.is_required and CheckboxInput().value_from_datadict(
            data, files, name + "-clear"
        )
        if token and clear:
            return FILE_INPUT_CONTRADICTION
        if clear:
            return False
        if not token:
            return None
        csrf = str(data.get("csrfmiddlewaretoken") or "")
        return tokens.Submitted.from_form(str(token), csrf, name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and name + "-clear" not in data


class DirectUploadField(forms.FileField):
    """A file uploaded by the browser straight to ``storage`` under ``upload_to``.

    ``max_size`` (bytes) is required and enforced by S3 itself and again on
    submit; ``content_types`` lists exact types or ``"type/"`` prefixes
    (empty: any). ``clean()`` returns the stored file's name (the current
    file when nothing new was uploaded, ``False`` when cleared).

    Before an upload is accepted its bytes are checked (``verify``): its first
    bytes against its declared type; with ``image=True`` (the default on a
    ModelForm for a ``models.ImageField``) that Pillow verifies it as an image
    within ``Image.MAX_IMAGE_PIXELS``; then the field's ``validators`` and, on a
    ModelForm, the model field's, each given the upload as a lazy file
    (``verify.StoredUpload``). A refused upload is deleted.
    """

    widget: DirectUploadWidget = DirectUploadWidget  # type: ignore[assignment]

    def __init__(
        self,
        *,
        max_size: int,
        upload_to: str = "uploads/",
        content_types: Sequence[str] = (),
        storage: str = "default",
        image: bool | None = None,
        **kwargs: Any,
    ) -> None:
        _app_installed()  # when the form class is defined: at start-up
        self.limits = uploads.field_limits(storage, upload_to, max_size, content_types)
        if image:
            verify.require_pillow()
        self.image = image
        #: The model field this field fills on a ModelForm (``get_bound_field``).
        self.model_field: Any = None
        kwargs.setdefault("widget", DirectUploadWidget(self.limits))
        super().__init__(**kwargs)
        self.widget.limits = self.limits

    def get_bound_field(self, form: Any, field_name: str) -> Any:
        """On a ModelForm, the model field this one fills: its validators, and an
        ``ImageField``'s image check, apply to the upload before it is accepted."""
        model = getattr(getattr(form, "_meta", None), "model", None)
        self.model_field = verify.model_field(model, field_name)
        return super().get_bound_field(form, field_name)

    def check_upload(self, upload: verify.StoredUpload) -> None:
        """Refuse (``ValidationError``) an upload before it is accepted: the image
        check, then the field's validators, then the model field's. Override it to
        add a check (call ``super()``); ``upload`` reads lazily, ``chunks()`` streams."""
        if verify.is_image(self.image, self.model_field):
            verify.image(upload)
        self.run_validators(upload)
        if self.model_field is not None:
            verify.run_validators(self.model_field.validators, upload)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if data is FILE_INPUT_CONTRADICTION:
            raise ValidationError(self.error_messages["contradiction"], code="contradiction")
        if data is False:  # the "Clear" checkbox (only rendered when not required)
            if not self.required:
                return False
            data = None
        if not data:
            if initial:
                return initial
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        if not isinstance(data, tokens.Submitted):  # a token given some other way
            data = tokens.Submitted.from_form(str(data), "", "")
        try:
            name, token = accept.accept(data, self.limits, self.check_upload)
        except tokens.UploadRefused as refused:
            raise ValidationError(str(refused), code="upload") from None
        self.widget.accepted[data.token] = token
        return name

    def bound_data(self, data: Any, initial: Any) -> Any:
        if data in (None, False, FILE_INPUT_CONTRADICTION):
            return initial
        return data

    def has_changed(self, initial: Any, data: Any) -> bool:
        return not self.disabled and data is not None
