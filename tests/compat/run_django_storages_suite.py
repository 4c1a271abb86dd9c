#!/usr/bin/env python3
"""Run django-storages' own S3 tests against sigv4_storage's classes.

``python tests/compat/run_django_storages_suite.py`` (the tox ``compat`` and
``lowest`` environments run it). It downloads the sdist of the installed
django-storages version from the package index, unpacks its ``tests/``
(not its ``storages/``: the installed package is the one under test), adds
``swap_conftest.py`` as ``conftest.py`` (our classes replace
``S3Storage``, ``S3StaticStorage`` and ``S3ManifestStaticStorage`` before
the suite imports them) and runs ``tests/test_s3.py`` with pytest.

It fails unless every test passes, except the known differences marked in
``swap_conftest.py``, and unless at least ``MIN_TESTS`` tests ran.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: django-storages 1.14.4 to 1.14.6 have 66 to 68 S3 tests: fewer means a broken run.
MIN_TESTS = 60


def download_sdist(version: str, into: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            str(into),
            f"django-storages=={version}",
        ],
        check=True,
    )
    (sdist,) = into.glob("django_storages-*.tar.gz") or into.glob("django-storages-*.tar.gz")
    return sdist


def unpack_tests(sdist: Path, into: Path) -> Path:
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if "/tests/" in m.name and m.isfile()]
        if sys.version_info >= (3, 12):
            archive.extractall(into, members=members, filter="data")
        else:  # pragma: no cover - the filter argument is 3.12's
            archive.extractall(into, members=members)  # noqa: S202 - our own download
    (root,) = into.iterdir()
    shutil.copy(HERE / "swap_conftest.py", root / "conftest.py")
    (root / "pytest.ini").write_text("[pytest]\n")  # their config, not ours
    return root


def main() -> int:
    version = importlib.metadata.version("django-storages")
    print(f"compat: django-storages {version}'s tests/test_s3.py against sigv4_storage")
    with tempfile.TemporaryDirectory(prefix="django-storages-suite-") as tmp:
        download = Path(tmp) / "download"
        unpacked = Path(tmp) / "src"
        download.mkdir()
        unpacked.mkdir()
        root = unpack_tests(download_sdist(version, download), unpacked)
        report = Path(tmp) / "report.xml"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
        env.pop("PYTHONPATH", None)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/test_s3.py",
                "-c",
                str(root / "pytest.ini"),
                "-p",
                "no:cacheprovider",
                "-p",
                "no:randomly",
                "-rxXf",
                f"--junitxml={report}",
            ],
            cwd=root,
            env=env,
        )
        if not report.exists():
            print("compat: pytest wrote no report")
            return done.returncode or 1
        suite = ET.parse(report).getroot().find("testsuite")
        assert suite is not None
        counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    print(f"compat: {counts}")
    if done.returncode != 0:
        return done.returncode
    if counts["tests"] < MIN_TESTS:
        print(f"compat: only {counts['tests']} tests ran; expected at least {MIN_TESTS}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
