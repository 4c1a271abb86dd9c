"""The fast paths equal the slow ones they replace, for any input."""

from urllib.parse import quote

import pytest
from django.core.exceptions import SuspiciousFileOperation, SuspiciousOperation
from django.core.files.base import ContentFile
from hypothesis import given
from hypothesis import strategies as st
from storages.utils import clean_name, safe_join

from sigv4_storage import SigV4S3Storage
from sigv4_storage.names import location_prefix, plain_key
from sigv4_storage.signer import _encode, key_path
from tests.servers import ADMIN, Server, use_bucket

NAMES = st.text(
    alphabet=st.sampled_from("ab/.\\ 한+%~") | st.characters(blacklist_categories=("Cs",)),
    max_size=30,
)
LOCATIONS = ["", "static", "static/", "/media", "a//b", "media/2026"]


def slow(location, name):
    """django-storages' own: _normalize_name(clean_name(name))."""
    try:
        return safe_join(location, clean_name(name))
    except ValueError:
        return SuspiciousOperation


@pytest.mark.parametrize("location", LOCATIONS)
@given(name=NAMES)
def test_plain_keys_are_what_django_storages_computes(location, name):
    fast = plain_key(location_prefix(location), name)
    if fast is not None:  # otherwise the storage asks django-storages itself
        assert fast == slow(location, name)


@pytest.mark.parametrize(
    "name", ["photos/a b.jpg", "사진/2026/보고서.pdf", "dir/", "a+b%20c~d.txt", "x"]
)
def test_ordinary_names_take_the_fast_path(name):
    assert plain_key("media/", name) == "media/" + name


@pytest.mark.parametrize("name", ["../x", "a/../b", "./a", "a//b", "/abs", "a\\b", "", "a/."])
def test_other_names_do_not(name):
    assert plain_key("media/", name) is None


@pytest.mark.differential
@given(value=st.text())
def test_quoting_equals_urllib(value):
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: neither can encode them
        return
    assert key_path(value) == quote(encoded, safe="/~")
    assert _encode(value) == quote(encoded, safe="-_.~")


# -- names that escape or collapse the root, or cannot be encoded: refused first ------
ESCAPING = ["x/..", "a/b/../..", "../escape.txt", "a/../b.txt", "a\\..\\b.txt", "..", "x/../"]
UNENCODABLE = ["ok\ud800.txt", "dir/\udfff"]
METHODS = {
    "url": lambda s, n: s.url(n),
    "exists": lambda s, n: s.exists(n),
    "open": lambda s, n: s.open(n),
    "size": lambda s, n: s.size(n),
    "delete": lambda s, n: s.delete(n),
    "save": lambda s, n: s.save(n, ContentFile(b"x")),
    "listdir": lambda s, n: s.listdir(n),
    "get_modified_time": lambda s, n: s.get_modified_time(n),
    "s3_key": lambda s, n: s.s3_key(n),
    "presigned_post": lambda s, n: s.presigned_post(n, max_size=10),
}


@pytest.mark.parametrize("options", [{}, {"location": "media"}, {"custom_domain": "cdn.example"}])
@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("name", ESCAPING + UNENCODABLE)
def test_every_method_refuses_the_name_before_any_request(
    settings, credentials, no_network, options, method, name
):
    settings.AWS_STORAGE_BUCKET_NAME = "names"
    settings.AWS_S3_REGION_NAME = "eu-west-1"
    storage = SigV4S3Storage(**options)
    words = "'..' segment" if name in ESCAPING else "lone surrogate"
    with pytest.raises(SuspiciousFileOperation, match=words):
        METHODS[method](storage, name)


@pytest.mark.integration
def test_on_seaweedfs_x_dotdot_no_longer_reaches_the_location_itself(settings, seaweedfs):
    """Before: exists('x/..') was True, open() an empty file and delete() removed the
    key 'media/' itself: the name had collapsed to the location."""
    server = Server("seaweedfs", seaweedfs.endpoint, *ADMIN)
    with server.bucket("names") as bucket:
        use_bucket(settings, server, bucket)
        storage = SigV4S3Storage(location="media")
        server.client().put_object(Bucket=bucket, Key="media/", Body=b"")  # a folder marker
        for name in ("x/..", "a/b/../.."):
            for method in ("exists", "open", "size", "delete"):
                with pytest.raises(SuspiciousFileOperation, match="'..' segment"):
                    METHODS[method](storage, name)
        assert server.client().head_object(Bucket=bucket, Key="media/")["ContentLength"] == 0
