from django.db import models


class Upload(models.Model):
    file = models.FileField(upload_to="uploads/")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.file.name

    @property
    def filename(self) -> str:
        return self.file.name.rsplit("/", 1)[-1]

    @property
    def is_image(self) -> bool:
        return self.filename.lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"))


class Document(models.Model):
    """A record with a title and a file that can be replaced or removed: the edit
    page and the admin show the direct-upload field on existing objects."""

    title = models.CharField(max_length=200)
    file = models.FileField(upload_to="documents/", blank=True, max_length=300)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def filename(self) -> str:
        return self.file.name.rsplit("/", 1)[-1] if self.file else ""


class Photo(models.Model):
    """A picture uploaded straight to S3 through an ``ImageField``: checked as an
    image before it is accepted, its size filled in by Django."""

    image = models.ImageField(
        upload_to="photos/", width_field="width", height_field="height", max_length=300
    )
    width = models.PositiveIntegerField(null=True, editable=False)
    height = models.PositiveIntegerField(null=True, editable=False)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.image.name

    @property
    def filename(self) -> str:
        return self.image.name.rsplit("/", 1)[-1]

    def shown_size(self, longest: int = 240) -> tuple[int, int]:
        """Its width and height scaled to fit ``longest`` pixels, from the stored size."""
        width, height = self.width or longest, self.height or longest
        scale = min(1.0, longest / max(width, height))
        return max(1, round(width * scale)), max(1, round(height * scale))
