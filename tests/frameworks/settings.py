"""Settings of the framework compatibility gates (tox env ``frameworks``):
Wagtail and easy-thumbnails, on this package's storages.

The storage configuration here resolves offline and is never used for a
request: Wagtail builds the default storage while its models import, and
each test points ``STORAGES`` at its own bucket (``tests.frameworks``).
"""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [
    "sigv4_storage",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "wagtail.users",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.admin",
    "wagtail",
    "modelsearch",
    "taggit",
    "modelcluster",
    "easy_thumbnails",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.frameworks.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
WAGTAIL_SITE_NAME = "sigv4-storage frameworks"
WAGTAILADMIN_BASE_URL = "http://testserver"
THUMBNAIL_ALIASES = {"": {"avatar": {"size": (50, 50), "crop": True}}}

AWS_STORAGE_BUCKET_NAME = "frameworks-unused"
AWS_S3_REGION_NAME = "eu-central-1"
AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"
STORAGES = {
    "default": {"BACKEND": "sigv4_storage.SigV4S3Storage", "OPTIONS": {"location": "media"}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
