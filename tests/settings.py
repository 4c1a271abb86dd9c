import django

SECRET_KEY = "tests-only-not-a-secret"
USE_TZ = True
INSTALLED_APPS = [
    "sigv4_storage",  # before staticfiles: its collectstatic answers from one listing
    "django.contrib.staticfiles",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STATIC_URL = "/static/"

if django.VERSION >= (6, 1):  # mail through MAILERS (the EMAIL_* settings are deprecated)
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
