"""``path("s3/", include("sigv4_storage.urls"))``: the direct-upload views."""

from django.urls import path

from . import views

__all__ = ["app_name", "urlpatterns"]

#: The URL namespace: ``reverse("sigv4_storage:upload-sign")``.
app_name = "sigv4_storage"
#: The sign, complete, resume and abort views of ``DirectUploadField`` (named
#: ``upload-sign``, ``upload-complete``, ``upload-resume``, ``upload-abort``).
urlpatterns = [
    path("uploads/sign/", views.sign, name="upload-sign"),
    path("uploads/complete/", views.complete, name="upload-complete"),
    path("uploads/resume/", views.resume, name="upload-resume"),
    path("uploads/abort/", views.abort, name="upload-abort"),
]
