"""A URLconf without sigv4_storage.urls (tests/test_direct_uploads.py)."""

urlpatterns: list = []
