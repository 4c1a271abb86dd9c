SECRET_KEY = "tests-only-not-a-secret"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "sigv4_storage",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STATIC_URL = "/static/"
