"""``path("s3/", include("sigv4_storage.urls"))``: the direct-upload views."""

from django.urls import path

from . import views

app_name = "sigv4_storage"
urlpatterns = [
    path("uploads/sign/", views.sign, name="upload-sign"),
    path("uploads/complete/", views.complete, name="upload-complete"),
    path("uploads/abort/", views.abort, name="upload-abort"),
]
