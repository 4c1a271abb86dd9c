#!/usr/bin/env python3
"""Run the whole test suite: ``python tests/runtests.py``.

Needs only Python >= 3.10 and pip. It installs tox into a private virtual
environment (``.venv-runtests/``) when tox is not importable, then runs every
tox environment: the unit suite for each supported Python x Django pair, and
the linters. Interpreters this machine lacks are skipped locally, but not
under CI (``CI=true``), where the whole matrix must run. Extra arguments go
to tox, e.g. ``python tests/runtests.py -e py312-django61 -- -k seed``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / ".venv-runtests"
SUPPORTED = ("3.10", "3.11", "3.12", "3.13")


def tox_command() -> list[str]:
    try:
        import tox  # noqa: F401
    except ImportError:
        python = BOOTSTRAP / ("Scripts" if os.name == "nt" else "bin") / "python"
        if not python.exists():
            print(f"runtests: installing tox into {BOOTSTRAP.name}/", flush=True)
            venv.EnvBuilder(with_pip=True, clear=True).create(BOOTSTRAP)
        check = subprocess.run([str(python), "-c", "import tox"], capture_output=True)
        if check.returncode != 0:
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "tox>=4.14"], check=True
            )
        return [str(python), "-m", "tox"]
    return [sys.executable, "-m", "tox"]


def pyenv_versions() -> str | None:
    """With pyenv, make every installed supported CPython visible to tox.

    A pyenv shim runs Python with PYENV_VERSION set to that one version, so
    the others are added to it.
    """
    if not shutil.which("pyenv"):
        return None
    found = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True)
    current = [v for v in os.environ.get("PYENV_VERSION", "").split(":") if v]
    wanted = [
        line.strip()
        for line in found.stdout.splitlines()
        if line.strip().startswith(tuple(v + "." for v in SUPPORTED))
    ]
    versions = current + [v for v in wanted if v not in current]
    return ":".join(versions) or None


def main(argv: list[str]) -> int:
    env = dict(os.environ)
    if versions := pyenv_versions():
        env["PYENV_VERSION"] = versions
    in_ci = env.get("CI", "").lower() in ("1", "true", "yes")
    skip_missing = ["--skip-missing-interpreters", "false" if in_ci else "true"]
    if "-e" in argv:  # chosen environments: run them in order, output live
        command = [*tox_command(), "run", *skip_missing]
    else:  # the whole matrix, one environment per core
        parallel = ["--parallel", str(os.cpu_count() or 2), "--parallel-no-spinner"]
        command = [*tox_command(), "run-parallel", *skip_missing, *parallel]
    print("runtests:", " ".join(command + argv), flush=True)
    return subprocess.run(command + argv, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
