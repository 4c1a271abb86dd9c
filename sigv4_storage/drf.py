"""Direct uploads for APIs, with Django REST framework (``pip install
"django-sigv4-storage[drf]"``; nothing else in the package imports DRF).

A client (a single-page app, a mobile app) asks this module's sign view for a
presigned POST or part URLs, naming the serializer's field; sends the file
straight to S3; for parts, asks the complete view to join them; then submits
the upload token as the field's value. ``DirectUploadSerializerField``
checks it exactly as ``DirectUploadField`` does (``accept.accept``: bound to
the requesting user, one use, limits re-checked, copied to a final name) and
gives the model's ``FileField`` the stored name; on output it renders the
file's URL (presigned for private storages).

The views are DRF views: the project's (or the view's) authentication and
permission classes apply, then the upload permission hook. Every refusal is
``{"error": message, "code": word}``, as the form views answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import URLPattern, path
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from . import accept, tokens, uploads, verify
from .checkids import PREFIX

__all__ = ["DirectUploadSerializerField", "DirectUploadView", "upload_urls"]

if TYPE_CHECKING:  # generic in the stubs only
    _Field = serializers.Field[Any, Any, Any, Any]
else:
    _Field = serializers.Field


class DirectUploadSerializerField(_Field):
    """An upload token in, the stored name out to the model; the file's URL in
    the representation.

    ``max_size`` (bytes, required), ``upload_to``, ``content_types``,
    ``storage`` and ``image`` mean what they mean for ``DirectUploadField``, and
    the upload is checked as it checks it: its first bytes, the image (by
    default on a ModelSerializer for a ``models.ImageField``), the field's
    ``validators`` and the model field's, on the upload as a lazy file, before
    it is accepted. Leaving the
    field out of a ``partial=True`` update keeps the stored file; with
    ``allow_null=True``, ``null`` clears it.
    """

    default_error_messages = {"invalid": "Expected an upload token (a string)."}

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
        self.base_limits = uploads.field_limits(storage, upload_to, max_size, content_types)
        if image:
            verify.require_pillow()
        self.image = image
        super().__init__(**kwargs)

    @property
    def limits(self) -> tokens.Limits:
        """The field's limits, named by its name in the serializer."""
        return replace(self.base_limits, field=self.field_name or "")

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        empty, value = super().validate_empty_values(data)
        if empty and data is None:  # null: cleared; a FileField stores "" for no file
            return True, ""
        return empty, value

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or not data:
            self.fail("invalid")
        request = self.context.get("request")
        if request is None:
            raise ImproperlyConfigured(
                f"{PREFIX}: DirectUploadSerializerField needs the request in its "
                "serializer's context (DRF's generic views pass it; otherwise "
                "Serializer(data=..., context={'request': request}))."
            )
        submitted = tokens.Submitted.from_request(data, request, self.field_name or "")
        try:
            name, _ = accept.accept(submitted, self.limits, self.check_upload)
        except tokens.UploadRefused as refused:
            raise serializers.ValidationError(str(refused), code=refused.code) from None
        return name

    def run_validators(self, value: Any) -> None:
        """The validators ran on the upload itself (``check_upload``), not on its name."""

    def check_upload(self, upload: verify.StoredUpload) -> None:
        """Refuse an upload before it is accepted, as ``DirectUploadField.check_upload``
        does: the image check, the field's validators, the model field's."""
        model = getattr(getattr(self.parent, "Meta", None), "model", None)
        model_field = verify.model_field(model, self.source)
        if verify.is_image(self.image, model_field):
            verify.image(upload)
        validators = [*self.validators, *(model_field.validators if model_field else ())]
        try:
            verify.run_validators(validators, upload)
        except serializers.ValidationError as refused:  # a DRF validator's: Django's
            raise DjangoValidationError([str(detail) for detail in _details(refused)]) from None

    def to_representation(self, value: Any) -> str | None:
        if not value:
            return None
        if hasattr(value, "storage"):  # a FieldFile
            return str(value.url)
        return tokens.storage_for(self.base_limits.storage).url(str(value))


def _details(refused: serializers.ValidationError) -> list[Any]:
    detail = refused.detail
    if isinstance(detail, dict):
        return [item for items in detail.values() for item in items]
    return list(detail) if isinstance(detail, list) else [detail]


class _Refused(exceptions.APIException):
    """An ``tokens.UploadRefused`` raised while DRF parses the request."""

    def __init__(self, refused: tokens.UploadRefused) -> None:
        super().__init__(str(refused))
        self.status_code = refused.status
        self.refusal = tokens.refusal(str(refused), refused.code)


class BoundedJSONParser(JSONParser):
    """JSON read as the form views read it (``uploads.read_json``): at most
    ``uploads.MAX_BODY`` bytes, finite numbers, nesting bounded (DRF's own
    parser lets ``1e400`` through and a body nested 200,000 deep is a 500)."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return uploads.read_json(stream)
        except tokens.UploadRefused as refused:
            raise _Refused(refused) from None


#: DRF's refusals, in the words and codes of the upload views.
_CODES = {
    exceptions.ParseError: ("The request is not JSON.", "bad_request"),
    exceptions.UnsupportedMediaType: ("Send JSON (Content-Type: application/json).", "bad_request"),
    exceptions.MethodNotAllowed: ("Use POST.", "bad_request"),
    exceptions.NotAcceptable: ("These views answer in JSON.", "bad_request"),
    exceptions.NotAuthenticated: (tokens.NOT_ALLOWED, "not_allowed"),
    exceptions.AuthenticationFailed: (tokens.NOT_ALLOWED, "not_allowed"),
    exceptions.PermissionDenied: (tokens.NOT_ALLOWED, "not_allowed"),
    exceptions.Throttled: ("Too many requests: wait a moment.", "too_many"),
}


class DirectUploadView(APIView):
    """One of the four upload steps (``action``: ``"sign"``, ``"complete"``,
    ``"resume"``, ``"abort"``) for the ``DirectUploadSerializerField``s of
    ``serializer_class``.

    ``sign`` takes ``{"field": <the field's name>, "name", "size", "type"}``;
    ``complete`` ``{"upload", "parts": [[number, etag], ...]}``; ``resume``
    and ``abort`` ``{"upload"}``. POST, JSON in and out.
    """

    serializer_class: type[serializers.Serializer[Any]] | None = None
    action = "sign"
    #: JSON only, whatever the project's defaults: no browsable page for these.
    parser_classes = [BoundedJSONParser]
    renderer_classes = [JSONRenderer]

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        steps = {
            "sign": self._sign,
            "complete": uploads.complete,
            "resume": uploads.resume,
            "abort": uploads.abort,
        }
        if self.action not in steps:
            raise ImproperlyConfigured(
                f"{PREFIX}: DirectUploadView(action={self.action!r}): use 'sign', "
                "'complete', 'resume' or 'abort'."
            )
        status, answer = uploads.run(steps[self.action], request, request.data)
        return Response(answer, status=status)

    def _sign(self, request: Any, data: dict[str, Any]) -> dict[str, Any]:
        return uploads.sign(request, self._limits(data.get("field")), data)

    def _limits(self, field: Any) -> tokens.Limits:
        if self.serializer_class is None:
            raise ImproperlyConfigured(
                f"{PREFIX}: DirectUploadView needs serializer_class: "
                "DirectUploadView.as_view(serializer_class=..., action=...) or upload_urls()."
            )
        found = self.serializer_class().fields.get(field) if isinstance(field, str) else None
        if not isinstance(found, DirectUploadSerializerField):
            raise tokens.UploadRefused(f"There is no upload field {field!r} here.", code="invalid")
        return found.limits

    def handle_exception(self, exc: Exception) -> Response:
        response: Response = super().handle_exception(exc)
        if isinstance(exc, _Refused):
            response.data = exc.refusal
            return response
        for kind, (message, code) in _CODES.items():
            if isinstance(exc, kind):
                response.data = tokens.refusal(message, code)
        return response


def upload_urls(
    serializer_class: type[serializers.Serializer[Any]],
    *,
    name: str | None = None,
    **view_options: Any,
) -> list[URLPattern]:
    """``sign/``, ``complete/``, ``resume/`` and ``abort/`` for ``serializer_class``'s upload
    fields: ``path("api/documents/uploads/", include(upload_urls(DocumentSerializer)))``.
    ``view_options`` (``authentication_classes``, ``permission_classes``, …) go
    to each view; ``name`` names them ``<name>-sign`` and so on."""
    return [
        path(
            f"{action}/",
            DirectUploadView.as_view(
                serializer_class=serializer_class, action=action, **view_options
            ),
            name=f"{name}-{action}" if name else None,
        )
        for action in ("sign", "complete", "resume", "abort")
    ]
