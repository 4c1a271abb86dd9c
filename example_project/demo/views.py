from django.core.files.storage import default_storage
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .forms import UploadForm
from .models import Upload


def index(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("index")
    context = {"form": form, "uploads": Upload.objects.all(), "s3": default_storage.s3_config}
    return render(request, "demo/index.html", context)


@require_POST
def delete(request, pk):
    upload = get_object_or_404(Upload, pk=pk)
    upload.file.delete(save=False)
    upload.delete()
    return redirect("index")
