"""Sphinx configuration for the documentation site (``tox -e docs``)."""

from __future__ import annotations

import sys
from pathlib import Path

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
settings.configure(INSTALLED_APPS=["sigv4_storage"], USE_TZ=True)
django.setup()

project = "django-sigv4-storage"
author = "the django-sigv4-storage developers"
copyright = "2026, the django-sigv4-storage developers"  # noqa: A001

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_generated"]
html_theme = "furo"
html_title = "django-sigv4-storage"
myst_heading_anchors = 3
# Every cross-reference must resolve: a broken internal link fails the build.
nitpicky = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"


def write_options_table(app: object) -> None:
    """``_generated/options.md``: the settings and precedence tables, from the
    code's one table of options (``sigv4_storage/options.py``)."""
    from docs.tables import options_markdown

    out = Path(__file__).parent / "_generated"
    out.mkdir(exist_ok=True)
    text = options_markdown()
    target = out / "options.md"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


def setup(app: object) -> None:
    app.connect("builder-inited", write_options_table)  # type: ignore[attr-defined]
