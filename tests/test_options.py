"""Every option's precedence, as ``options.OPTIONS`` states it, pinned against ``resolve``.

For each row and each place in its order: set that place and every later one
(to the same valid value, so nothing contradicts), resolve, and check that
the value came from that place. A resolver that read any two places in
another order than the row's would fail here.
"""

from dataclasses import fields

import pytest
from botocore.config import Config

from sigv4_storage.conf import Kind
from sigv4_storage.config import FIELDS, S3Config
from sigv4_storage.options import NEW_OPTIONS, OPTIONS, Option, Place, Where, row
from tests.util import layers, resolved

#: A valid value for each row (by its field, else the first name in its order).
VALUES = {
    "bucket_name": "media",
    "region": "eu-west-1",
    "discover_region": True,
    "region_mismatch": "raise",
    "endpoint_url": "https://minio.example.com:9000",
    "public_endpoint_url": "https://files.example.com",
    "custom_domain": "cdn.example.com",
    "use_ssl": False,
    "use_dualstack": True,
    "use_fips": True,
    "use_accelerate_endpoint": True,
    "signature_version": "s3v4",
    "S3_USE_SIGV4": True,
    "addressing_style": "path",
    "querystring_expire": 60,
    "client_config": Config(connect_timeout=3),
    "proxies": {"https": "http://proxy.example.com:3128"},
    "request_checksum_calculation": "when_required",
    "response_checksum_validation": "when_required",
    "active_content": "inline",
    "collectstatic_workers": 4,
}

#: The endpoint a derived place reads its value off, per row.
HOSTS = {
    "region": "https://s3.eu-west-1.amazonaws.com",
    "use_dualstack": "https://s3.dualstack.us-east-1.amazonaws.com",
    "use_fips": "https://s3-fips.us-east-1.amazonaws.com",
    "use_accelerate_endpoint": "https://s3-accelerate.amazonaws.com",
}
ARN = "arn:aws:s3:eu-west-1:123456789012:accesspoint/media"


def key(option: Option) -> str:
    return option.field or option.order[0].name


def raw(option: Option, place: Place) -> object:
    """The value as that place takes it."""
    value = VALUES[key(option)]
    if place.name in ("host", "AWS_S3_HOST"):
        return str(value).removeprefix("https://")
    if place.name in ("calling_format", "AWS_S3_CALLING_FORMAT"):
        return "OrdinaryCallingFormat"  # boto's name for path style
    if place.where is Where.ENVIRONMENT:
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value


def setup(option: Option, places: tuple[Place, ...]) -> dict:
    """``tests.util.layers`` keyword arguments that set exactly ``places``."""
    kwargs: dict = {"options": {}, "environ": {}}
    for place in places:
        if place.where is Where.OPTION:
            kwargs["options"][place.name] = raw(option, place)
        elif place.where is Where.SETTING:
            kwargs[place.name] = raw(option, place)
        elif place.where is Where.ENVIRONMENT:
            kwargs["environ"][place.name] = raw(option, place)
        elif place.where is Where.CLIENT_CONFIG:
            first, *rest = place.path
            value = raw(option, place)
            kwargs["AWS_S3_CLIENT_CONFIG"] = Config(**{first: {rest[0]: value} if rest else value})
        elif place.name == "host":
            kwargs["AWS_S3_ENDPOINT_URL"] = HOSTS[key(option)]
        elif place.name == "arn":
            kwargs["AWS_STORAGE_BUCKET_NAME"] = ARN
    return kwargs


def came_from(source, place: Place) -> bool:
    """Whether ``source`` (a ``conf.Source``) is that place."""
    if place.where is Where.OPTION:
        return source.kind is Kind.OPTION and source.name == place.name
    if place.where is Where.SETTING:
        return source.kind is Kind.SETTING and source.name == place.name
    if place.where is Where.ENVIRONMENT:
        return source.kind is Kind.ENVIRONMENT and source.name == place.name
    if source.kind is not Kind.DERIVED or source.of is None:
        return False
    if place.where is Where.CLIENT_CONFIG:
        return source.of.name == "AWS_S3_CLIENT_CONFIG" and source.text == str(place).strip("`")
    if place.name == "host":
        return source.of.name == "AWS_S3_ENDPOINT_URL"
    return place.name == "arn" and source.of.name == "AWS_STORAGE_BUCKET_NAME"


CASES = [
    pytest.param(option, i, id=f"{key(option)}-{i}-{option.order[i].name}")
    for option in OPTIONS
    for i in range(len(option.order))
]


@pytest.mark.parametrize(("option", "i"), CASES)
def test_each_place_wins_over_every_later_one(option, i):
    places = option.order[i:]
    kwargs = setup(option, places)
    if option.field:
        source = resolved(**kwargs).source(option.field)
    else:  # read by resolve for a check or a note only (or by django-storages): the layers
        source = layers(**kwargs).first(option, _config(kwargs)).source
    assert came_from(source, option.order[i]), f"{option.precedence()}: got {source}"


def _config(kwargs):
    value = kwargs.get("AWS_S3_CLIENT_CONFIG")
    return None if value is None else layers(**kwargs).first(row("client_config"))


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.field], ids=key)
def test_nothing_set_is_the_default(option):
    if option.field == "bucket_name":
        pytest.skip("required: tests/test_resolve.py checks the error")
    source = resolved().source(option.field)
    assert source.kind is Kind.DEFAULT, source


def test_every_field_a_row_fills_is_resolved_and_described():
    names = {f.name for f in fields(S3Config)}
    config = resolved()
    assert set(FIELDS) <= names
    assert set(FIELDS) <= set(config.sources)  # resolve sourced each one
    assert list(config.describe()) == list(FIELDS)


def test_new_options_are_the_rows_options_django_storages_lacks():
    from storages.backends.s3 import S3Storage

    theirs = set(S3Storage.get_default_settings(S3Storage.__new__(S3Storage)))
    ours = {name for option in OPTIONS for name in option.options}
    assert set(NEW_OPTIONS) == ours - theirs
    for name, setting in NEW_OPTIONS.items():
        (owner,) = [o for o in OPTIONS if name in o.options]
        assert setting in owner.settings
