"""Content Security Policy: the sources that let browsers reach a bucket
(``sigv4_storage.csp``), and the check that says which one is missing (W012)."""

import django
import pytest
from django.core.checks import run_checks
from django.test import override_settings

from sigv4_storage import csp

BUCKET = "https://media-bucket.s3.ap-northeast-2.amazonaws.com"


@pytest.mark.parametrize(
    ("sources", "url", "allowed"),
    [
        (["*"], BUCKET, True),
        (["https:"], BUCKET, True),
        (["http:"], BUCKET, True),  # CSP 3: http: admits https
        (["https:"], "http://127.0.0.1:9000/b", False),
        ([BUCKET], BUCKET + "/media/a.png", True),
        (["https://*.amazonaws.com"], BUCKET, True),
        (["*.amazonaws.com"], BUCKET, True),
        (["https://*.s3.eu-west-1.amazonaws.com"], BUCKET, False),
        (["https://media-bucket.s3.ap-northeast-2.amazonaws.com:443"], BUCKET, True),
        (["https://media-bucket.s3.ap-northeast-2.amazonaws.com:8443"], BUCKET, False),
        (["http://127.0.0.1:9000"], "http://127.0.0.1:9000/bucket", True),
        (["http://127.0.0.1"], "http://127.0.0.1:9000/bucket", False),  # default port only
        (["http://127.0.0.1:*"], "http://127.0.0.1:9000/bucket", True),
        (["'self'"], BUCKET, False),
        (["'none'"], BUCKET, False),
        (["'self'", "'unsafe-inline'", "data:"], BUCKET, False),
        ([], BUCKET, False),
    ],
)
def test_sources_match_as_browsers_match_them(sources, url, allowed):
    assert csp.allows(sources, url) is allowed


def test_self_matches_the_site_s_own_hosts():
    assert csp.allows(["'self'"], "https://www.example.com/s3/b", ["www.example.com"])
    assert not csp.allows(["'self'"], BUCKET, ["www.example.com"])


def test_the_directive_falls_back_to_default_src():
    assert csp.directive({"default-src": ["'self'"]}, "connect-src") == ["'self'"]
    assert csp.directive({"connect-src": "'self' https:"}, "connect-src") == ["'self'", "https:"]
    assert csp.directive({"script-src": ["'self'"]}, "connect-src") is None
    assert csp.origin(BUCKET + "/media/a.png") == BUCKET
    assert csp.origin("http://127.0.0.1:9000/bucket") == "http://127.0.0.1:9000"


@pytest.fixture
def project(settings, no_network):
    settings.AWS_STORAGE_BUCKET_NAME = "media-bucket"
    settings.AWS_S3_REGION_NAME = "ap-northeast-2"
    settings.STORAGES = {
        "default": {"BACKEND": "sigv4_storage.SigV4S3Storage", "OPTIONS": {"location": "m"}},
        "staticfiles": {
            "BACKEND": "sigv4_storage.SigV4StaticStorage",
            "OPTIONS": {"location": "static"},
        },
    }
    settings.ROOT_URLCONF = "tests.test_direct_uploads"  # includes sigv4_storage.urls
    return settings


def w012(setting="SECURE_CSP", **policy):
    with override_settings(**{setting: policy}):
        return [m for m in run_checks() if m.id == "sigv4_storage.W012"]


@pytest.mark.skipif(django.VERSION < (6, 0), reason="Content Security Policy is Django 6.0's")
def test_a_policy_that_blocks_uploads_is_named_with_the_source_to_add(project):
    """Before, nothing said so: Chromium refused every upload's fetch()."""
    (warning,) = w012(**{"default-src": ["'self'"]})
    assert warning.obj == "STORAGES['default']"
    assert f"does not let browsers connect to {BUCKET}" in warning.msg
    assert "from default-src" in warning.msg
    assert f"Add '{BUCKET}' to SECURE_CSP['connect-src']" in warning.hint
    (warning,) = w012("SECURE_CSP_REPORT_ONLY", **{"connect-src": ["'self'"]})
    assert "SECURE_CSP_REPORT_ONLY" in warning.msg
    assert w012(**{"default-src": ["'self'"], "connect-src": ["'self'", BUCKET]}) == []
    assert w012(**{"script-src": ["'self'"]}) == []  # connect-src not restricted
    assert w012(**{"connect-src": ["'self'", "https://*.amazonaws.com"]}) == []


@pytest.mark.skipif(django.VERSION < (6, 0), reason="Content Security Policy is Django 6.0's")
def test_no_warning_without_the_upload_views(project):
    project.ROOT_URLCONF = "tests.urls_without_uploads"
    assert w012(**{"default-src": ["'self'"]}) == []
