import warnings

from django.apps import AppConfig


class SigV4StorageConfig(AppConfig):
    name = "sigv4_storage"
    verbose_name = "SigV4 S3 storage"

    def ready(self) -> None:
        from . import checks
        from .storage import SigV4StorageWarning

        # Registered by importing checks. The one mistake that loses files goes
        # to every command (shell, collectstatic...), not only to `check`.
        for message in checks.legacy_settings_ignored():
            warnings.warn(f"{message.msg} {message.hint}", SigV4StorageWarning, stacklevel=2)
