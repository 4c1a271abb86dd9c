from django.core.files.storage import default_storage
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from sigv4_storage import serving

from .forms import DirectUploadForm, DocumentForm, PhotoForm, UploadForm
from .models import Document, Photo, Upload


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


def photos(request):
    """Pictures uploaded straight to S3, checked as images, shown at their size."""
    form = PhotoForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("photos")
    return render(request, "demo/photos.html", {"form": form, "photos": Photo.objects.all()})


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


@require_GET
def download(request, pk):
    """A redirect to a presigned URL that downloads under the upload's name: the
    browser fetches the file from S3, Django sends none of it. A real site checks
    here who may download what."""
    upload = get_object_or_404(Upload, pk=pk)
    return serving.redirect(
        upload.file.storage, upload.file.name, as_attachment=True, filename=upload.filename
    )


@require_GET
def stream(request, pk):
    """The file through Django, in bounded memory, with HTTP Range (a media
    player seeks in a large video): for a bucket browsers cannot reach."""
    upload = get_object_or_404(Upload, pk=pk)
    try:
        return serving.stream(request, upload.file.storage, upload.file.name)
    except FileNotFoundError:
        raise Http404("the file is no longer stored") from None


@require_POST
def delete(request, pk):
    upload = get_object_or_404(Upload, pk=pk)
    upload.file.delete(save=False)
    upload.delete()
    return redirect("index")
