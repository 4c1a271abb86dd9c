"""S3 storage for Django that always signs with SigV4 on the right regional endpoint."""

from .storage import (
    SigV4ManifestStaticStorage,
    SigV4S3Storage,
    SigV4StaticStorage,
    SigV4StorageWarning,
)

__all__ = [
    "SigV4ManifestStaticStorage",
    "SigV4S3Storage",
    "SigV4StaticStorage",
    "SigV4StorageWarning",
]
