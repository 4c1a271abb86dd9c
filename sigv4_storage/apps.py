from django.apps import AppConfig


class SigV4StorageConfig(AppConfig):
    name = "sigv4_storage"
    verbose_name = "SigV4 S3 storage"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
