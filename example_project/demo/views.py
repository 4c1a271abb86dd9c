from django.core.files.storage import default_storage
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .forms import DirectUploadForm, DocumentForm, UploadForm
from .models import Document, Upload


def index(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("index")
    context = {"form": form, "uploads": Upload.objects.all(), "s3": default_storage.s3_config}
    return render(request, "demo/index.html", context)


def direct(request):
    """Large files, uploaded by the browser straight to S3."""
    form = DirectUploadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("direct")
    context = {"form": form, "uploads": Upload.objects.all(), "s3": default_storage.s3_config}
    return render(request, "demo/direct.html", context)


def documents(request):
    return render(request, "demo/documents.html", {"documents": Document.objects.all()})


def document(request, pk=None):
    """Create (no ``pk``) or edit a document: the direct-upload field on an edit form."""
    instance = get_object_or_404(Document, pk=pk) if pk is not None else None
    form = DocumentForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("documents")
    return render(request, "demo/document.html", {"form": form, "document": instance})


def api_page(request):
    """A page whose script talks to the API only (``demo/api.py``)."""
    return render(request, "demo/api.html")


def loopback_visitors(request, limits):
    """The demo's upload permission (SIGV4_STORAGE_UPLOAD_PERMISSION), told the
    field and limits asked for: the public pages have no accounts and the demo
    listens on 127.0.0.1 only. A real site keeps the default, signed-in users,
    or checks its own rules here (``limits.field``, ``limits.upload_to``)."""
    return request.META.get("REMOTE_ADDR") in ("127.0.0.1", "::1")


@require_POST
def delete(request, pk):
    upload = get_object_or_404(Upload, pk=pk)
    upload.file.delete(save=False)
    upload.delete()
    return redirect("index")
