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
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = "django-sigv4-storage"
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
