"""The README's settings table and the code must agree."""

import re
from pathlib import Path

from sigv4_storage.conf import NEW_OPTIONS

ROOT = Path(__file__).resolve().parent.parent
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
}


def readme_table():
    text = (ROOT / "README.md").read_text()
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
    text = (ROOT / "README.md").read_text()
    for name in ENVIRONMENT_ONLY:
        assert f"`{name}`" in text


def test_new_options_are_in_the_table_with_their_setting():
    table = readme_table()
    for option, setting in NEW_OPTIONS.items():
        assert table[setting] == option
