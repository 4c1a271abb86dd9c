from django.core.files.storage import default_storage
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .forms import DirectUploadForm, UploadForm
from .models import Upload


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


def loopback_visitors(request):
    """The demo's upload permission (SIGV4_STORAGE_UPLOAD_PERMISSION): it has no
    accounts and listens on 127.0.0.1 only. A real site keeps the default,
    signed-in users, or checks its own rules here."""
    return request.META.get("REMOTE_ADDR") in ("127.0.0.1", "::1")


@require_POST
def delete(request, pk):
    upload = get_object_or_404(Upload, pk=pk)
    upload.file.delete(save=False)
    upload.delete()
    return redirect("index")
