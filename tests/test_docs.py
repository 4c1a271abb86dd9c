"""The manual (README and docs/) and the code must agree."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from sigv4_storage.options import NEW_OPTIONS, OPTIONS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def page(name: str) -> str:
    return (DOCS / name).read_text()


def manual() -> str:
    """The README and every page of the docs."""
    pages = sorted(path.name for path in DOCS.glob("*.md"))
    return "\n".join([(ROOT / "README.md").read_text(), *map(page, pages)])


SETTING = re.compile(r"\b(?:AWS_[A-Z0-9_]+|S3_USE_SIGV4)\b")
# Read by django-storages for credentials, not resolved by this package.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_S3_ACCESS_KEY_ID",
    "AWS_S3_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
}
ENVIRONMENT_ONLY = {
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_REQUEST_CHECKSUM_CALCULATION",
    "AWS_RESPONSE_CHECKSUM_VALIDATION",
}


def readme_table():
    text = page("configuration.md")
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {
        SETTING.search(row.split("|")[1]).group(0): row.split("|")[2].strip().strip("`")
        for row in rows
    }


def names_in_code():
    names = set()
    for path in (ROOT / "sigv4_storage").glob("*.py"):
        names |= set(re.findall(r'"((?:AWS_[A-Z0-9_]+)|S3_USE_SIGV4)"', path.read_text()))
    return names


def test_every_setting_the_code_reads_is_in_the_readme_table():
    documented = set(readme_table())
    assert names_in_code() - ENVIRONMENT_ONLY - CREDENTIALS == documented


def test_every_environment_variable_is_documented():
    text = page("configuration.md")
    for name in ENVIRONMENT_ONLY:
        assert f"`{name}`" in text


def test_new_options_are_in_the_table_with_their_setting():
    table = readme_table()
    for option, setting in NEW_OPTIONS.items():
        assert table[setting] == option


def test_the_readme_settings_table_is_the_options_table():
    """Setting, option and default of every row, in ``options.OPTIONS``' order."""
    text = page("configuration.md")
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    shown = [tuple(c.strip() for c in row.strip("|").split("|")[:3]) for row in rows]
    expected = [
        (f"`{name}`", f"`{option}`" if option else "—", row.default if i == 0 else "—")
        for row in OPTIONS
        for i, (name, option) in enumerate(row.pairs())
    ]
    assert shown == expected


def test_the_readme_precedence_table_is_the_options_table():
    text = page("configuration.md")
    section = text.split("## How each value is resolved", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows == [f"| `{row.field}` | {row.precedence()} |" for row in OPTIONS if row.field]


def readme_file(first_line: str) -> str:
    """The manual's Python block that starts with ``first_line``."""
    text = manual()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    (block,) = [b for b in blocks if b.startswith(first_line + "\n")]
    return block


PROJECT_SETTINGS = """
SECRET_KEY = "testing"
USE_TZ = True
INSTALLED_APPS = ["sigv4_storage"]
STORAGES = {
    "default": {
        "BACKEND": "sigv4_storage.SigV4S3Storage",
        "OPTIONS": {"bucket_name": "my-media", "region_name": "ap-northeast-2"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
"""


def test_the_readme_testing_example_runs(tmp_path):
    """The README's conftest and test, as a user's project would run them."""
    (tmp_path / "conftest.py").write_text(readme_file("# conftest.py"))
    (tmp_path / "test_uploads.py").write_text(readme_file("# test_uploads.py"))
    (tmp_path / "project_settings.py").write_text(PROJECT_SETTINGS)
    (tmp_path / "pytest.ini").write_text("[pytest]\nDJANGO_SETTINGS_MODULE = project_settings\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_", "PYTEST_"))}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout


def test_the_readme_static_policy_is_the_one_s3doctor_prints():
    from sigv4_storage.doctor import public_read_policy

    section = page("permissions.md")
    blocks = re.findall(r"```json\n(.*?)```", section, re.S)
    assert json.loads(blocks[1]) == json.loads(public_read_policy("aws", "my-static", "static/"))
    media = json.loads(blocks[0])
    actions = {a for statement in media["Statement"] for a in statement["Action"]}
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"} <= actions


def test_every_module_is_in_the_readme_code_map():
    text = page("development.md")
    code_map = text.split("The code, in the order a setting travels", 1)[1].split("\n\n", 2)[1]
    mapped = set(re.findall(r"`(\w+)\.py`", code_map))
    package = ROOT / "sigv4_storage"
    paths = [*package.glob("*.py"), *(package / "doctor").glob("*.py")]
    modules = {path.stem for path in paths} - {"__init__", "apps"}
    assert mapped == modules


def test_every_kind_of_source_is_in_the_readme():
    from sigv4_storage.conf import Kind

    text = manual()
    for kind in Kind:
        assert f"`{kind.value}`" in text, kind


def test_the_servers_table_is_what_the_doctor_measures_and_behaviour_says():
    """docs/servers.md's table: one row per ``behaviour`` capability, in its words,
    each server's cell as ``tests/test_doctor.py`` measures it on that server."""
    from sigv4_storage.behaviour import CAPABILITIES
    from tests.test_doctor import HONOURED

    text = page("servers.md").split("## What each server honours", 1)[1]
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    columns = ("seaweedfs", "rgw", "moto")
    assert len(rows) == len(CAPABILITIES)
    for row, capability in zip(rows, CAPABILITIES, strict=True):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[0] == f"`{capability.name}`"
        assert cells[1] == capability.what
        assert cells[-1] == capability.instead
        for kind, cell in zip(columns, cells[2:5], strict=True):
            assert cell == ("yes" if HONOURED[kind][capability.name] else "**no**"), (kind, row)


# -- the public API: every name in an __all__ documented, every other module internal -----------
def package_modules() -> dict[str, object]:
    """Every module of the package, imported (the drf extra's too)."""
    import importlib
    import pkgutil

    import sigv4_storage

    found = {"sigv4_storage": sigv4_storage}
    for info in pkgutil.walk_packages(sigv4_storage.__path__, "sigv4_storage."):
        found[info.name] = importlib.import_module(info.name)
    return found


def test_every_public_name_is_in_the_api_reference():
    """A name in any ``__all__`` has an autodoc entry in docs/api.md (before, 4 of
    the names the docs tell users to use had one, and nothing said which
    modules were public)."""
    documented = set(re.findall(r"^\.\. auto\w+:: (sigv4_storage[\w.]*)", page("api.md"), re.M))
    public = {
        f"{name}.{exported}"
        for name, module in package_modules().items()
        for exported in getattr(module, "__all__", ())
    }
    assert public - documented == set()
    assert documented - public == set()  # nothing documented that is not public


def test_every_other_module_is_listed_as_internal():
    text = page("api.md")
    internal = text[text.index("## Internal modules") :]
    listed = set(re.findall(r"^- `(\w+)`", internal, re.M))
    for name, module in package_modules().items():
        if name == "sigv4_storage" or hasattr(module, "__all__"):
            continue
        top = name.split(".")[1]  # a subpackage's modules are its own
        assert top in listed, f"{name}: give it an __all__ and entries, or list it as internal"
    for name in listed & {n.split(".")[1] for n in package_modules() if "." in n}:
        module = package_modules()[f"sigv4_storage.{name}"]
        assert not hasattr(module, "__all__"), f"sigv4_storage.{name} is public and listed internal"


def test_each_public_name_imports_from_where_the_reference_says():
    import importlib

    for name, module in package_modules().items():
        for exported in getattr(module, "__all__", ()):
            assert getattr(importlib.import_module(name), exported, None) is not None, (
                f"{name}.{exported}"
            )
