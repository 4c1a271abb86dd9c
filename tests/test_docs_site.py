"""The documentation site's pages: their code runs, their tables come from the code."""

import ast
import importlib
import inspect
import re
from pathlib import Path

import django
import pytest
from django.core.checks import run_checks
from django.test import override_settings
from django.utils.module_loading import import_string

from sigv4_storage.conf import refuse_unknown_options
from sigv4_storage.errors import HINTS
from sigv4_storage.resolve import resolve

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def python_blocks():
    for page in [DOCS.parent / "README.md", *sorted(DOCS.glob("*.md"))]:
        for number, block in enumerate(BLOCK.findall(page.read_text()), 1):
            yield pytest.param(block, id=f"{page.stem}-{number}")


def is_settings(block: str) -> bool:
    """Only imports and assignments to upper-case names: a piece of settings.py."""
    statements = ast.parse(block).body
    return all(
        isinstance(n, (ast.Import, ast.ImportFrom))
        or (
            isinstance(n, ast.Assign)
            and all(isinstance(t, ast.Name) and t.id.isupper() for t in n.targets)
        )
        for n in statements
    )


def settings_blocks():
    return [b for b in python_blocks() if is_settings(b.values[0])]


def code_blocks():
    return [b for b in python_blocks() if not is_settings(b.values[0])]


@pytest.mark.parametrize("block", settings_blocks())
def test_every_settings_block_resolves(block, no_network, monkeypatch):
    """Settings blocks are executed, each of our storages they configure is
    resolved as the system checks resolve it (offline; no manifest is read), and
    the system checks find no error in them."""
    needs = re.search(r"\(Django (\d+)\.(\d+)\+\)", block.splitlines()[0])
    if needs and (int(needs[1]), int(needs[2])) > django.VERSION:
        pytest.skip(f"a block for Django {needs[1]}.{needs[2]}+")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADOCSEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "docs-example-secret")
    namespace: dict = {}
    exec(compile(block, "<docs>", "exec"), namespace)  # noqa: S102 - our own pages
    values = {name: value for name, value in namespace.items() if name.isupper()}
    for app in values.pop("INSTALLED_APPS", []):
        importlib.import_module(app)
    # A copy, of the block's own entries only: Django may add its defaults
    # ("staticfiles") to the dict it is given.
    storages = [dict(entry) for entry in values.get("STORAGES", {}).values()]
    with override_settings(**values):
        for entry in storages:
            backend = import_string(entry["BACKEND"])
            options = entry.get("OPTIONS", {})
            layers, defaults = backend.offline_view(options)
            assert refuse_unknown_options(backend, options, defaults) is None
            assert resolve(layers).bucket_name
        errors = [m for m in run_checks() if m.id.startswith("sigv4_storage.E")]
        assert errors == []


@pytest.mark.parametrize("block", code_blocks())
def test_every_code_block_uses_the_api_as_it_is(block):
    """Code that needs a project (models, views) cannot run here: what it imports
    from this package exists, and each call of it binds to the signature."""
    tree = ast.parse(block)
    names: dict = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith(("sigv4_storage", "rest_framework", "django"))
        ):
            module = importlib.import_module(node.module)
            for alias in node.names:
                names[alias.asname or alias.name] = _attribute_or_module(module, alias.name)
    for node in ast.walk(tree):
        target = _resolve(node.func, names) if isinstance(node, ast.Call) else None
        if getattr(target, "__module__", "").startswith("sigv4_storage"):
            args = [None] * len(node.args)  # type: ignore[attr-defined]
            kwargs = {k.arg: None for k in node.keywords if k.arg}  # type: ignore[attr-defined]
            inspect.signature(target).bind(*args, **kwargs)
    assert names


def _attribute_or_module(module, name):
    if hasattr(module, name):
        return getattr(module, name)
    return importlib.import_module(f"{module.__name__}.{name}")


def _resolve(func, names):
    """The object a call's function expression names, through the block's imports."""
    if isinstance(func, ast.Name):
        return names.get(func.id)
    if isinstance(func, ast.Attribute):
        owner = _resolve(func.value, names)
        if owner is not None:
            assert hasattr(owner, func.attr), f"{owner!r} has no {func.attr}"
            return getattr(owner, func.attr)
    return None


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
