SECRET_KEY = "tests-only-not-a-secret"
USE_TZ = True
INSTALLED_APPS = [
    "sigv4_storage",  # before staticfiles: its collectstatic answers from one listing
    "django.contrib.staticfiles",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STATIC_URL = "/static/"
