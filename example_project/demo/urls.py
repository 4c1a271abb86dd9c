from django.contrib import admin
from django.urls import include, path

from . import api, views

urlpatterns = [
    path("", views.index, name="index"),
    path("direct/", views.direct, name="direct"),
    path("uploads/<int:pk>/delete/", views.delete, name="delete"),
    path("uploads/<int:pk>/download/", views.download, name="download"),
    path("uploads/<int:pk>/stream/", views.stream, name="stream"),
    path("photos/", views.photos, name="photos"),
    path("documents/", views.documents, name="documents"),
    path("documents/new/", views.document, name="document-new"),
    path("documents/<int:pk>/", views.document, name="document-edit"),
    path("admin/", admin.site.urls),
    path("api-demo/", views.api_page, name="api-page"),
    path("api/documents/", api.DocumentList.as_view(), name="api-documents"),
    path("api/documents/<int:pk>/", api.DocumentDetail.as_view(), name="api-document"),
    path("api/documents/uploads/", include(api.uploads)),
    path("s3/", include("sigv4_storage.urls")),  # the direct-upload views
]
