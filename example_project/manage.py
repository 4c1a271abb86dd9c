#!/usr/bin/env python3
"""``python manage.py runserver | s3doctor | shell | ...`` for the example site.

By default against the embedded S3 server (moto, started by this process and
forgotten when it exits, with a temporary database to match): the bucket is
created, the database migrated and the static files collected first. With
``SIGV4_DEMO_EMBEDDED=0`` the usual variables name a real bucket instead
(see docs/example-project.md), and nothing is prepared.
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402 - the demo's helpers, next to this file


def main() -> None:
    run.ensure_dependencies(Path(__file__).resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    embedded = os.environ.get("SIGV4_DEMO_EMBEDDED", "1") == "1"
    # runserver's autoreloader re-runs this file: the child uses the parent's server.
    if embedded and not os.environ.get("SIGV4_DEMO_S3_HOST"):
        server = run.start_embedded_s3()
        workdir = tempfile.mkdtemp(prefix="sigv4-demo-")
        os.environ.setdefault("SIGV4_DEMO_DB", os.path.join(workdir, "demo.sqlite3"))
        atexit.register(shutil.rmtree, workdir, ignore_errors=True)
        atexit.register(server.stop)
        run.prepare()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
