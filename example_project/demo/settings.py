"""Settings of the example site: everything from environment variables.

By default ``run.py`` starts an embedded S3 server (moto) and points the
storages at it through the boto-era route a MinIO user would take:
``AWS_S3_HOST`` + ``AWS_S3_USE_SSL = False``. For a real bucket, run with
``SIGV4_DEMO_EMBEDDED=0`` and the usual variables (see docs/example-project.md).
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import django

BASE_DIR = Path(__file__).resolve().parent
env = os.environ.get

SECRET_KEY = env("DJANGO_SECRET_KEY", "demo-only-not-secret")
DEBUG = env("DJANGO_DEBUG", "0") == "1"  # off: the manifest storage then serves hashed names
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "sigv4_storage",  # before staticfiles: its collectstatic answers from one listing
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "demo",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "demo.urls"
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
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env("SIGV4_DEMO_DB", str(BASE_DIR.parent / "demo.sqlite3")),
    }
}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SIGV4_STORAGE_UPLOAD_PERMISSION = "demo.views.loopback_visitors"  # no accounts here
STATIC_URL = "/static/"  # the storage's url() gives the S3 URL; this is a fallback prefix
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# -- S3 ----------------------------------------------------------------------
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", "sigv4-demo")
AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", "ap-northeast-2")
AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL")  # a real S3-compatible server
AWS_S3_HOST = env("SIGV4_DEMO_S3_HOST")  # set by run.py for the embedded server
AWS_S3_USE_SSL = env("SIGV4_DEMO_S3_USE_SSL", "1") == "1"
AWS_QUERYSTRING_EXPIRE = 600

STORAGES = {
    "default": {
        "BACKEND": "sigv4_storage.SigV4S3Storage",
        "OPTIONS": {"location": "media", "file_overwrite": False},
    },
    "staticfiles": {
        "BACKEND": "sigv4_storage.SigV4ManifestStaticStorage",
        "OPTIONS": {
            "location": "static",
            "default_acl": env("SIGV4_DEMO_STATIC_ACL", "public-read"),
        },
    },
}

# -- Content Security Policy (Django 6.0+) ------------------------------------
# Scripts, styles and images from the site and the bucket (static files live
# there), and the upload widget's fetch() to the bucket (connect-src): no inline
# script anywhere. `manage.py check` warns (sigv4_storage.W012) when connect-src
# does not let browsers reach the bucket of a storage with direct uploads.
if django.VERSION >= (6, 0):
    from django.utils.csp import CSP

    if AWS_S3_ENDPOINT_URL:
        S3_ORIGIN = "{0.scheme}://{0.netloc}".format(urlsplit(AWS_S3_ENDPOINT_URL))
    elif AWS_S3_HOST:
        S3_ORIGIN = ("https://" if AWS_S3_USE_SSL else "http://") + AWS_S3_HOST
    else:
        S3_ORIGIN = f"https://{AWS_STORAGE_BUCKET_NAME}.s3.{AWS_S3_REGION_NAME}.amazonaws.com"
    MIDDLEWARE.append("django.middleware.csp.ContentSecurityPolicyMiddleware")
    SECURE_CSP = {
        "default-src": [CSP.SELF],
        "script-src": [CSP.SELF, S3_ORIGIN],
        "style-src": [CSP.SELF, S3_ORIGIN],
        "img-src": [CSP.SELF, S3_ORIGIN, "data:"],
        "connect-src": [CSP.SELF, S3_ORIGIN],
        "form-action": [CSP.SELF],
        "frame-ancestors": [CSP.SELF],
    }
