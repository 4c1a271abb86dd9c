from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("direct/", views.direct, name="direct"),
    path("uploads/<int:pk>/delete/", views.delete, name="delete"),
    path("s3/", include("sigv4_storage.urls")),  # the direct-upload views
]
