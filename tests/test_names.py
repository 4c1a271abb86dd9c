"""The fast paths equal the slow ones they replace, for any input."""

from urllib.parse import quote

import pytest
from django.core.exceptions import SuspiciousOperation
from hypothesis import given
from hypothesis import strategies as st
from storages.utils import clean_name, safe_join

from sigv4_storage.names import location_prefix, plain_key
from sigv4_storage.signer import _encode, key_path

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


@given(value=st.text())
def test_quoting_equals_urllib(value):
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: neither can encode them
        return
    assert key_path(value) == quote(encoded, safe="/~")
    assert _encode(value) == quote(encoded, safe="-_.~")
