"""The demo's API (Django REST framework): documents whose file a browser
uploads straight to S3 through ``sigv4_storage.drf``. Session authentication
(sign in at /admin/ first), so DRF checks the CSRF token on every POST."""

from rest_framework import generics, permissions, serializers
from rest_framework.authentication import SessionAuthentication

from sigv4_storage.drf import DirectUploadSerializerField, upload_urls

from .models import Document

API = {
    "authentication_classes": [SessionAuthentication],
    "permission_classes": [permissions.IsAuthenticated],
}


class DocumentSerializer(serializers.ModelSerializer):
    file = DirectUploadSerializerField(
        max_size=500 * 1024 * 1024,
        upload_to="documents/",
        content_types=["application/pdf", "text/plain", "image/"],
        required=False,
        allow_null=True,
    )

    class Meta:
        model = Document
        fields = ["id", "title", "file", "updated_at"]


class DocumentList(generics.ListCreateAPIView):
    queryset = Document.objects.all()
    serializer_class = DocumentSerializer
    authentication_classes = API["authentication_classes"]
    permission_classes = API["permission_classes"]


class DocumentDetail(generics.RetrieveUpdateAPIView):
    queryset = Document.objects.all()
    serializer_class = DocumentSerializer
    authentication_classes = API["authentication_classes"]
    permission_classes = API["permission_classes"]


#: sign/, complete/, abort/ for DocumentSerializer's upload field.
uploads = upload_urls(DocumentSerializer, name="document-upload", **API)
