from django.contrib import admin

from .forms import DocumentForm
from .models import Document


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    """The direct-upload field in the admin: add, change the title only, replace
    the file, or clear it."""

    form = DocumentForm
    list_display = ["title", "file", "updated_at"]
