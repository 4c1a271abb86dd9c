#!/usr/bin/env python3
"""The demo: ``python example_project/run.py``.

Needs only Python >= 3.10 and pip. On first use it makes a virtual
environment (``.venv-demo/`` at the top of the checkout) with this package
(and its ``drf`` extra) and moto, then: starts an embedded S3 server (moto)
on 127.0.0.1, creates the bucket in ap-northeast-2, migrates the SQLite
database, runs ``collectstatic`` into the bucket, and serves the site.
Ctrl-C stops everything.

    python example_project/run.py            # serve on http://127.0.0.1:8000/
    python example_project/run.py --port 0   # any free port
    python example_project/run.py --check    # smoke test: exit 0 or 1

With ``SIGV4_DEMO_EMBEDDED=0`` no embedded server is started and the usual
variables name a real bucket (see docs/example-project.md).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = ROOT / ".venv-demo"
REGION = "ap-northeast-2"


def ensure_dependencies(script: Path | None = None) -> None:
    """Re-run ``script`` (this file by default) inside .venv-demo unless Django,
    Django REST framework, Pillow, moto and the package import here."""
    try:
        import django  # noqa: F401
        import moto.server  # noqa: F401
        import PIL  # noqa: F401
        import rest_framework  # noqa: F401

        import sigv4_storage  # noqa: F401

        return
    except ImportError:
        pass
    python = VENV / ("Scripts" if os.name == "nt" else "bin") / "python"
    if os.environ.get("SIGV4_DEMO_INSTALLED") == "1":  # installed, and still missing
        sys.exit("run.py: dependencies are missing from .venv-demo; delete it and run again")
    if not python.exists():
        print(f"run.py: creating {VENV.name}/ (first run only)", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-e",
            f"{ROOT}[drf,images]",
            "moto[s3,server]>=5",
        ],
        capture_output=True,
        text=True,
    )
    if install.returncode != 0:
        sys.exit(f"run.py: installing the demo's dependencies failed:\n{install.stderr}")
    script = script or Path(__file__).resolve()
    os.environ["SIGV4_DEMO_INSTALLED"] = "1"
    os.execv(str(python), [str(python), str(script), *sys.argv[1:]])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_embedded_s3():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per S3 request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # The boto-era route a MinIO user would take: host[:port] and no TLS.
    os.environ["SIGV4_DEMO_S3_HOST"] = f"{host}:{port}"
    os.environ["SIGV4_DEMO_S3_USE_SSL"] = "0"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "demo-access-key")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "demo-secret-key")
    return server


def prepare() -> None:
    import django
    from django.core.files.storage import default_storage
    from django.core.management import call_command

    django.setup()
    if os.environ.get("SIGV4_DEMO_EMBEDDED", "1") == "1":
        client = default_storage.connection.meta.client
        client.create_bucket(
            Bucket=default_storage.bucket_name,
            CreateBucketConfiguration={"LocationConstraint": REGION},
        )
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    create_admin()


def create_admin() -> None:
    """A superuser ``demo`` for /admin/: its password from SIGV4_DEMO_ADMIN_PASSWORD,
    or a random one, printed (the demo listens on 127.0.0.1 only)."""
    from django.contrib.auth import get_user_model

    users = get_user_model()
    if users.objects.filter(username="demo").exists():
        return
    password = os.environ.get("SIGV4_DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(9)
    users.objects.create_superuser("demo", password=password)
    print(f"Admin: /admin/ as demo, password {password}", flush=True)


def check() -> bool:
    """Upload → list → download through the presigned URL → delete."""
    from demo.models import Upload
    from django.test import Client

    body = "안녕하세요, SigV4.\n".encode() * 10
    client = Client(HTTP_HOST="127.0.0.1")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "스모크 테스트 + check.txt"
        path.write_bytes(body)
        with path.open("rb") as handle:
            response = client.post("/", {"file": handle})
    steps = [("upload", response.status_code == 302)]
    upload = Upload.objects.first()
    page = client.get("/").content.decode()
    steps.append(("list", upload is not None and upload.filename in page))
    if upload is not None:
        url = upload.file.url
        with urllib.request.urlopen(url, timeout=10) as fetched:
            steps.append(("download via presigned URL", fetched.read() == body))
        client.post(f"/uploads/{upload.pk}/delete/")
        steps.append(("delete", not upload.file.storage.exists(upload.file.name)))
    steps.append(("s3doctor --write", doctor()))
    for name, ok in steps:
        print(f"  {'OK  ' if ok else 'FAIL'} {name}")
    return len(steps) == 5 and all(ok for _, ok in steps)


def doctor() -> bool:
    """``manage.py s3doctor --write`` on the media storage; its table is printed."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command("s3doctor", "--write")
    except CommandError as error:
        print(error)
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--check", action="store_true", help="smoke test, then exit")
    args = parser.parse_args()
    ensure_dependencies()
    # Ctrl-C and `kill` both stop cleanly, even when started with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    sys.path.insert(0, str(HERE))
    os.environ["DJANGO_SETTINGS_MODULE"] = "demo.settings"
    server = start_embedded_s3() if os.environ.get("SIGV4_DEMO_EMBEDDED", "1") == "1" else None
    # Embedded S3 forgets everything at exit, so the database is temporary too.
    workdir = tempfile.mkdtemp(prefix="sigv4-demo-")
    os.environ.setdefault("SIGV4_DEMO_DB", os.path.join(workdir, "demo.sqlite3"))
    try:
        prepare()
        if args.check:
            ok = check()
            print("check:", "passed" if ok else "FAILED", flush=True)
            return 0 if ok else 1
        from django.core.management import call_command

        port = args.port or free_port()
        print(f"Demo running at http://127.0.0.1:{port}/ (Ctrl-C to stop)", flush=True)
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
