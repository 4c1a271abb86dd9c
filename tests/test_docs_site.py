"""The documentation site's pages: their code runs, their tables come from the code."""

import importlib
import re
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils.module_loading import import_string

from sigv4_storage.conf import refuse_unknown_options
from sigv4_storage.errors import HINTS
from sigv4_storage.resolve import resolve

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def python_blocks():
    for page in sorted(DOCS.glob("*.md")):
        for number, block in enumerate(BLOCK.findall(page.read_text()), 1):
            yield pytest.param(block, id=f"{page.stem}-{number}")


@pytest.mark.parametrize("block", list(python_blocks()))
def test_every_python_block_runs(block, no_network):
    """Settings blocks are executed and each of our storages they configure is
    resolved as the system checks resolve it (offline; no manifest is read)."""
    namespace: dict = {}
    exec(compile(block, "<docs>", "exec"), namespace)  # noqa: S102 - our own pages
    values = {name: value for name, value in namespace.items() if name.isupper()}
    for app in values.pop("INSTALLED_APPS", []):
        importlib.import_module(app)
    storages = values.get("STORAGES", {})
    assert block.startswith("# settings.py"), "a Python block that is not settings"
    with override_settings(**values):
        for entry in storages.values():
            backend = import_string(entry["BACKEND"])
            options = entry.get("OPTIONS", {})
            layers, defaults = backend.offline_view(options)
            assert refuse_unknown_options(backend, options, defaults) is None
            assert resolve(layers).bucket_name


def test_the_configuration_tables_are_the_options_table():
    from docs.tables import options_markdown
    from sigv4_storage.options import OPTIONS

    text = options_markdown()
    for row in OPTIONS:
        if row.field:
            assert f"| `{row.field}` | {row.precedence()} |" in text
        for name in row.settings:
            assert f"| `{name}` |" in text


def test_troubleshooting_has_a_section_per_message():
    headings = set(re.findall(r"^## (.+)$", (DOCS / "troubleshooting.md").read_text(), re.M))
    searched = {
        "SignatureDoesNotMatch",
        "AuthorizationHeaderMalformed",
        "PermanentRedirect",
        "IllegalLocationConstraintException",
        "RequestTimeTooSkewed",
        "AccessDenied",
        "NoSuchBucket",
        "InvalidAccessKeyId",
        "XAmzContentSHA256Mismatch",
        "307 Temporary Redirect",
        "SigV2 URLs",
    }
    assert searched <= headings
    # The refusals this package adds a hint to are explained too (not the retried 5xx).
    hinted = {code for code in HINTS if code.isalpha() and not code[0].isdigit()}
    retried = {"SlowDown", "ServiceUnavailable", "InternalError"}
    missing = hinted - retried - headings
    assert not missing
