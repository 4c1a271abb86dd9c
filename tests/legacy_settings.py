"""A Django 4.2 project on the legacy storage settings (see test_checks)."""

SECRET_KEY = "tests-only-not-a-secret"
DEFAULT_FILE_STORAGE = "sigv4_storage.SigV4S3Storage"
STATICFILES_STORAGE = "sigv4_storage.SigV4StaticStorage"
USE_TZ = True
