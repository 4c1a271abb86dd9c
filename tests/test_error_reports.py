"""No secret in Django's error reports: an exception raised inside each signing
path, rendered as Django's technical 500 page and as the admin error email
(``AdminEmailHandler(include_html=True)``), shows neither the secret key nor
the session token.

With ``DEBUG = True`` Django shows every frame's variables by design (its
filter is off); the secret key is still absent there, because no frame of ours
holds it as a plain value (``signer.Keys`` masks it).
"""

import logging
import sys

import django
import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.test import RequestFactory
from django.utils.log import AdminEmailHandler
from django.views.debug import ExceptionReporter

from sigv4_storage import SigV4S3Storage, signer
from tests.util import ACCESS_KEY, SECRET_KEY

TOKEN = "FwoGZXIvYXdzEXAMPLEsessionTOKENthat+must/never-leak=="


class Broken:
    """Stands in for ``hmac`` inside the signer: calling ``digest`` fails in the
    signer's own frame, mid-signature (a stub function would add a frame of its own
    holding the arguments, which the real, C-level ``hmac.digest`` does not)."""

    digest = None


@pytest.fixture
def storage(settings, moto_aws):
    from tests.util import create_bucket

    settings.AWS_STORAGE_BUCKET_NAME = "reports"
    settings.AWS_S3_REGION_NAME = "eu-west-1"
    settings.AWS_SESSION_TOKEN = TOKEN
    # Django 6.0 takes addresses and deprecates (name, address) pairs; before, pairs only.
    pairs = django.VERSION < (6, 0)
    settings.ADMINS = [("Admin", "admin@example.com")] if pairs else ["admin@example.com"]
    settings.ROOT_URLCONF = "tests.urls_without_uploads"
    create_bucket("reports", "eu-west-1")
    signer.clear_cache()
    return SigV4S3Storage(location="media")


PATHS = {
    "url": lambda s: s.url("report.pdf"),
    "url with parameters": lambda s: s.url(
        "report.pdf", parameters={"ResponseContentDisposition": "attachment"}
    ),
    "presigned_post": lambda s: s.presigned_post("uploads/", max_size=1000),
    "part URLs": lambda s: s.start_multipart_upload("big.bin", size=12 * 1024**2),
}


def raised_inside(storage, call, monkeypatch):
    monkeypatch.setattr(signer, "hmac", Broken)
    try:
        call(storage)
    except TypeError:
        return sys.exc_info()
    raise AssertionError("the signer did not run")


def reports(exc_info):
    """The technical 500 page (HTML and text), and the admin email with its HTML."""
    request = RequestFactory().get("/upload/")
    reporter = ExceptionReporter(request, *exc_info)
    page = reporter.get_traceback_html() + reporter.get_traceback_text()
    mail.outbox = []
    handler = AdminEmailHandler(include_html=True)
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error", (), exc_info
    )
    record.request = request
    handler.emit(record)
    (email,) = mail.outbox
    return page, email.body + "".join(str(content) for content, _ in email.alternatives)


@pytest.mark.parametrize("path", sorted(PATHS))
def test_no_secret_in_the_500_page_or_the_admin_email(settings, storage, monkeypatch, path):
    settings.DEBUG = False
    exc_info = raised_inside(storage, PATHS[path], monkeypatch)
    page, email = reports(exc_info)
    assert "object is not callable" in page and "object is not callable" in email
    assert "sigv4_storage/signer.py" in page  # the frames are there, their secrets not
    for text in (page, email):
        assert SECRET_KEY not in text
        assert TOKEN not in text
        assert "********************" in text  # Django's mark for what it hid
    assert ACCESS_KEY[:4] in page  # the masked id is what is shown


@pytest.mark.parametrize("path", sorted(PATHS))
def test_debug_pages_show_no_secret_key_either(settings, storage, monkeypatch, path):
    settings.DEBUG = True
    exc_info = raised_inside(storage, PATHS[path], monkeypatch)
    page, _ = reports(exc_info)
    assert "object is not callable" in page
    assert SECRET_KEY not in page


def test_keys_repr_masks_everything_but_the_id_prefix():
    keys = signer.Keys(ACCESS_KEY, SECRET_KEY, TOKEN)
    assert repr(keys) == f"<Keys {ACCESS_KEY[:4]}…, with a session token>"
    assert SECRET_KEY not in repr([keys]) and TOKEN not in str({"k": keys})


def test_a_value_json_cannot_carry_is_refused_before_signing(settings, storage):
    import uuid

    with pytest.raises(
        ValueError, match=r"conditions=.*UUID is not JSON serializable.*str\(value\)"
    ):
        storage.presigned_post(
            "uploads/", max_size=10, conditions=[{"x-amz-meta-id": uuid.uuid4()}]
        )
    storage.save("ok.txt", ContentFile(b"still fine"))
