"""``collectstatic`` in a process of its own, for a test to kill.

    python -m tests.collectstatic_child

with ``CHILD_ENDPOINT``, ``CHILD_BUCKET``, ``CHILD_ACCESS_KEY``,
``CHILD_SECRET_KEY``, ``CHILD_SOURCE`` (the STATICFILES_DIRS folder) and
``CHILD_LOCATION`` in the environment: ``SigV4StaticStorage`` on that bucket,
files above 5 MiB sent in 5 MiB parts. ``test_collectstatic.py`` kills it
with SIGKILL while it uploads, as a deploy killed mid-run.
"""

from __future__ import annotations

import os

MB = 1024 * 1024


def main() -> None:
    import django
    from boto3.s3.transfer import TransferConfig
    from django.conf import settings
    from django.core.management import call_command

    env = os.environ
    settings.configure(
        INSTALLED_APPS=["sigv4_storage", "django.contrib.staticfiles"],
        STATIC_URL="/static/",
        STATICFILES_DIRS=[env["CHILD_SOURCE"]],
        STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"],
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
            "staticfiles": {
                "BACKEND": "sigv4_storage.SigV4StaticStorage",
                "OPTIONS": {
                    "bucket_name": env["CHILD_BUCKET"],
                    "endpoint_url": env["CHILD_ENDPOINT"],
                    "region_name": "eu-central-1",
                    "access_key": env["CHILD_ACCESS_KEY"],
                    "secret_key": env["CHILD_SECRET_KEY"],
                    "location": env["CHILD_LOCATION"],
                    "transfer_config": TransferConfig(
                        multipart_threshold=5 * MB, multipart_chunksize=5 * MB
                    ),
                },
            },
        },
    )
    django.setup()
    call_command("collectstatic", interactive=False, verbosity=0)


if __name__ == "__main__":
    main()
