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
