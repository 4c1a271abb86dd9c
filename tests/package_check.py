#!/usr/bin/env python3
"""The package as users get it (tox env ``package``).

Builds the sdist and the wheel with the oldest setuptools ``pyproject.toml``
admits (its build floor, without build isolation), checks them (``twine
check``; the license in both, named in the metadata; the wheel holds the
package only; the sdist the whole source), installs the wheel into a new
virtual environment with no access to this checkout, and runs ``manage.py
check``, ``s3doctor --help``, ``collectstatic --help`` (ours) and
``findstatic`` of the direct-upload script there against a small settings
module. Then it unpacks the sdist and runs the unit suite from it, in that
environment with the test extras. Fails on the first step that fails.

    python tests/package_check.py WORKDIR
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SETTINGS = """
SECRET_KEY = "package-check"
USE_TZ = True
INSTALLED_APPS = ["sigv4_storage", "django.contrib.staticfiles"]  # as the README says
STATIC_URL = "/static/"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
STORAGES = {
    "default": {
        "BACKEND": "sigv4_storage.SigV4S3Storage",
        "OPTIONS": {"bucket_name": "my-media", "region_name": "ap-northeast-2"},
    },
    "staticfiles": {
        "BACKEND": "sigv4_storage.SigV4ManifestStaticStorage",
        "OPTIONS": {"bucket_name": "my-static", "region_name": "ap-northeast-2"},
    },
}
"""


def run(*command: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    print("package:", " ".join(command), flush=True)
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", flush=True)
    if done.returncode != 0:
        sys.exit(f"package: failed ({done.returncode}): {' '.join(command)}")
    return done.stdout


#: Files the sdist must hold beyond the package: a whole source release.
SDIST_MUST_HOLD = (
    "LICENSE",
    "CHANGELOG.md",
    "SECURITY.md",
    "CONTRIBUTING.md",
    "tox.ini",
    "tests/conftest.py",
    "tests/settings.py",
    "tests/util.py",
    "tests/servers.py",
    "docs/conf.py",
    "docs/index.md",
    "example_project/run.py",
)


def build_floor() -> str:
    """``setuptools>=N`` from ``[build-system] requires``, pinned: ``setuptools==N``."""
    text = (ROOT / "pyproject.toml").read_text()
    found = re.search(r'^requires = \["setuptools>=([\d.]+)"\]$', text, re.M)
    if not found:
        sys.exit("package: [build-system] requires is not ['setuptools>=N']")
    return f"setuptools=={found.group(1)}"


def check_license(wheel: Path, sdist: Path) -> None:
    with zipfile.ZipFile(wheel) as built:
        names = built.namelist()
        metadata = built.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
        sys.exit("package: the wheel lacks LICENSE")
    if (
        b"License-File: LICENSE" not in metadata
        or b"License-Expression: BSD-3-Clause" not in metadata
    ):
        sys.exit("package: the wheel's METADATA names no License-File or expression")
    outside = sorted({n.split("/")[0] for n in names} - {"sigv4_storage"})
    if any(not n.endswith(".dist-info") for n in outside):
        sys.exit(f"package: the wheel holds more than the package: {outside}")
    with tarfile.open(sdist) as source:
        held = {name.split("/", 1)[1] for name in source.getnames() if "/" in name}
    missing = [name for name in SDIST_MUST_HOLD if name not in held]
    if missing:
        sys.exit(f"package: the sdist lacks {missing}")


def main(workdir: str) -> int:
    work = Path(workdir).resolve()
    dist = work / "dist"
    # The oldest setuptools pyproject.toml admits must build it (69 could not read
    # the license expression): built without isolation, in an env with exactly that.
    builder = work / "build-floor"
    venv.EnvBuilder(with_pip=True, clear=True).create(builder)
    builder_python = str(builder / "bin" / "python")
    run(builder_python, "-m", "pip", "install", "--quiet", build_floor(), "build", "wheel")
    run(builder_python, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT))
    built = sorted(p.name for p in dist.iterdir())
    wheels = [p for p in dist.iterdir() if p.suffix == ".whl"]
    sdists = [p for p in dist.iterdir() if p.name.endswith(".tar.gz")]
    if len(wheels) != 1 or len(sdists) != 1:
        sys.exit(f"package: expected one wheel and one sdist, got {built}")
    run(sys.executable, "-m", "twine", "check", "--strict", *(str(p) for p in dist.iterdir()))
    check_license(wheels[0], sdists[0])

    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = str(env_dir / "bin" / "python")
    run(python, "-m", "pip", "install", "--quiet", str(wheels[0]))
    project = work / "project"
    project.mkdir(exist_ok=True)
    (project / "package_settings.py").write_text(SETTINGS)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTHON", "AWS_", "VIRTUAL_ENV"))
    }
    env.update(DJANGO_SETTINGS_MODULE="package_settings", PYTHONPATH=str(project))
    where = run(
        python, "-c", "import sigv4_storage; print(sigv4_storage.__file__)", cwd=project, env=env
    )
    if not where.strip().startswith(str(env_dir)):
        sys.exit(f"package: sigv4_storage imported from {where.strip()}, not the wheel")
    checked = run(python, "-m", "django", "check", cwd=project, env=env)
    if "System check identified no issues" not in checked:
        sys.exit("package: manage.py check did not pass cleanly")
    helped = run(python, "-m", "django", "s3doctor", "--help", cwd=project, env=env)
    if "--write" not in helped or "--all" not in helped:
        sys.exit("package: s3doctor --help does not list its options")
    helped = run(python, "-m", "django", "collectstatic", "--help", cwd=project, env=env)
    if "--workers" not in helped:
        sys.exit("package: collectstatic is not sigv4_storage's (no --workers)")
    found = run(
        python, "-m", "django", "findstatic", "sigv4_storage/direct-upload.js", cwd=project, env=env
    )
    if "direct-upload.js" not in found:
        sys.exit("package: the wheel lacks sigv4_storage/static/sigv4_storage/direct-upload.js")
    rendered = run(
        python,
        "-c",
        "import django; django.setup(); from django.template.loader import get_template; "
        "print(get_template('sigv4_storage/direct_upload_widget.html').origin.name)",
        cwd=project,
        env=env,
    )
    if "direct_upload_widget.html" not in rendered:
        sys.exit("package: the wheel lacks the direct-upload widget's template")
    # The sdist tests itself: unpacked, its unit suite run with the test extras.
    run(python, "-m", "pip", "install", "--quiet", f"{wheels[0]}[test,drf]")
    with tarfile.open(sdists[0]) as source:
        source.extractall(work / "sdist", filter="data")
    (unpacked,) = (work / "sdist").iterdir()
    env.pop("DJANGO_SETTINGS_MODULE")
    env["PYTHONPATH"] = str(unpacked)
    run(
        python, "-m", "pytest", "-q", "-x", "-m", "not integration and not differential",
        cwd=unpacked, env=env,
    )  # fmt: skip
    print(f"package: OK ({', '.join(built)}; the sdist's unit suite passed)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
