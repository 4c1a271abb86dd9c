"""The resolution rules, row by row: precedence, conflicts, refusals.

Pure: plain dicts stand in for Django settings and the environment.
"""

import pytest
from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured

from sigv4_storage.checkids import CHECKS, SettingError
from sigv4_storage.conf import Kind
from sigv4_storage.resolve import MAX_EXPIRE
from tests.util import SECRET_KEY, resolved

SEOUL = "https://s3.ap-northeast-2.amazonaws.com"


# -- region -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "region", "source"),
    [
        (
            dict(
                options={"region_name": "eu-west-1"},
                class_attrs={"region_name": "eu-west-2"},
                AWS_S3_REGION_NAME="eu-west-3",
                AWS_REGION="eu-north-1",
                environ={"AWS_REGION": "eu-south-1"},
            ),
            "eu-west-1",
            "OPTIONS['region_name']",
        ),
        (
            dict(class_attrs={"region_name": "eu-west-2"}, AWS_S3_REGION_NAME="eu-west-3"),
            "eu-west-2",
            "TestStorage.region_name",
        ),
        (
            dict(AWS_S3_REGION_NAME="eu-west-3", AWS_REGION="eu-north-1"),
            "eu-west-3",
            "settings.AWS_S3_REGION_NAME",
        ),
        (
            dict(AWS_REGION="ap-northeast-2", environ={"AWS_DEFAULT_REGION": "us-west-2"}),
            "ap-northeast-2",
            "settings.AWS_REGION",
        ),
        (
            dict(
                AWS_S3_HOST="s3.ap-northeast-2.amazonaws.com",
                environ={"AWS_DEFAULT_REGION": "us-west-2"},
            ),
            "ap-northeast-2",
            "host in settings.AWS_S3_HOST",
        ),
        (
            dict(AWS_S3_ENDPOINT_URL="https://s3-eu-west-1.amazonaws.com"),
            "eu-west-1",
            "host in settings.AWS_S3_ENDPOINT_URL",
        ),
        (
            dict(
                environ={
                    "AWS_S3_REGION_NAME": "ca-central-1",
                    "AWS_REGION": "sa-east-1",
                    "AWS_DEFAULT_REGION": "us-west-2",
                }
            ),
            "ca-central-1",
            "environment AWS_S3_REGION_NAME",
        ),
        (
            dict(environ={"AWS_REGION": "sa-east-1", "AWS_DEFAULT_REGION": "us-west-2"}),
            "sa-east-1",
            "environment AWS_REGION",
        ),
        (
            dict(environ={"AWS_DEFAULT_REGION": "us-west-2"}),
            "us-west-2",
            "environment AWS_DEFAULT_REGION",
        ),
        (
            dict(AWS_S3_CLIENT_CONFIG=Config(region_name="eu-central-1")),
            "eu-central-1",
            "AWS_S3_CLIENT_CONFIG.region_name",
        ),
        (dict(), "us-east-1", "default (no region configured)"),
        (
            dict(AWS_S3_ENDPOINT_URL="http://minio:9000"),
            "us-east-1",
            "default for custom endpoints",
        ),
        # None and "" mean "not set" (e.g. os.environ.get("X", "") in settings.py)
        (dict(AWS_S3_REGION_NAME="", AWS_REGION="eu-west-1"), "eu-west-1", "settings.AWS_REGION"),
        (
            dict(options={"region_name": None}, AWS_REGION="eu-west-1"),
            "eu-west-1",
            "settings.AWS_REGION",
        ),
    ],
)
def test_region_precedence(kwargs, region, source):
    config = resolved(kwargs.pop("options", None), **kwargs)
    assert config.region == region
    assert str(config.sources["region"]) == source


def test_global_host_takes_the_configured_region():
    # The boto-era default host names no region: the region's endpoint is used.
    config = resolved(AWS_REGION="ap-northeast-2", AWS_S3_HOST="s3.amazonaws.com")
    assert config.endpoint_url == SEOUL
    assert config.bucket_url == "https://my-bucket.s3.ap-northeast-2.amazonaws.com"


def test_environment_region_yields_to_the_host():
    config = resolved(
        AWS_S3_HOST="s3.eu-central-1.amazonaws.com", environ={"AWS_DEFAULT_REGION": "us-east-1"}
    )
    assert config.region == "eu-central-1"


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(AWS_REGION="eu-west-1", AWS_S3_HOST="s3.ap-northeast-2.amazonaws.com"),
        dict(AWS_S3_REGION_NAME="eu-west-1", AWS_S3_ENDPOINT_URL=SEOUL),
        dict(options={"region_name": "eu-west-1", "host": "s3-ap-northeast-2.amazonaws.com"}),
    ],
)
def test_region_contradicting_the_host_is_refused(kwargs):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        resolved(kwargs.pop("options", None), **kwargs)
    message = str(excinfo.value)
    assert "eu-west-1" in message and "ap-northeast-2" in message and "contradicts" in message


@pytest.mark.parametrize("region", ["seoul", "ap-northeast", "Seoul Region", "ap-northeast-2/"])
def test_region_outside_every_partition_is_refused(region):
    with pytest.raises(ImproperlyConfigured, match="region") as excinfo:
        resolved(AWS_S3_REGION_NAME=region)
    assert "AWS_S3_REGION_NAME" in str(excinfo.value)


def test_any_region_name_is_fine_on_a_custom_endpoint():
    # Cloudflare R2 uses "auto", Garage "garage": not AWS regions, but valid there.
    config = resolved(
        AWS_S3_REGION_NAME="auto", AWS_S3_ENDPOINT_URL="https://acc.r2.cloudflarestorage.com"
    )
    assert (config.region, config.signing_region, config.partition) == ("auto", "auto", None)


# -- endpoint -----------------------------------------------------------------
ENDPOINT_LAYERS = [
    ("options", "endpoint_url", "http://one:1"),
    ("options", "host", "two:2"),
    ("setting", "AWS_S3_ENDPOINT_URL", "http://three:3"),
    ("setting", "AWS_S3_HOST", "four:4"),
    ("environ", "AWS_ENDPOINT_URL_S3", "http://five:5"),
    ("environ", "AWS_ENDPOINT_URL", "http://six:6"),
]


@pytest.mark.parametrize("first", range(len(ENDPOINT_LAYERS)))
def test_endpoint_precedence(first):
    options, settings, environ = {}, {}, {}
    for where, name, value in ENDPOINT_LAYERS[first:]:
        {"options": options, "setting": settings, "environ": environ}[where][name] = value
    config = resolved(options, environ=environ, AWS_S3_USE_SSL=False, **settings)
    where, name, value = ENDPOINT_LAYERS[first]
    number = value.rsplit(":", 1)[-1]
    assert config.endpoint_url.endswith(f":{number}")
    assert str(config.sources["endpoint_url"]).endswith(
        name if where != "options" else f"[{name!r}]"
    )
    # Every lower layer is reported as ignored.
    assert len(config.notes) == len(ENDPOINT_LAYERS) - first - 1


def test_no_endpoint_means_the_regions_aws_endpoint():
    config = resolved(AWS_S3_REGION_NAME="ap-northeast-2")
    assert config.endpoint_url == SEOUL
    assert config.custom_endpoint is False
    assert config.client_kwargs()["endpoint_url"] is None


@pytest.mark.parametrize(
    ("use_ssl", "url"),
    [(True, "https://minio:9000"), (False, "http://minio:9000")],
)
def test_host_scheme_comes_from_use_ssl(use_ssl, url):
    config = resolved(AWS_S3_HOST="minio:9000", AWS_S3_USE_SSL=use_ssl)
    assert config.endpoint_url == url
    assert config.use_ssl is use_ssl
    assert config.client_kwargs()["endpoint_url"] == url


def test_host_with_its_own_scheme_is_honoured_when_consistent():
    assert resolved(AWS_S3_HOST="http://minio:9000").endpoint_url == "http://minio:9000"
    with pytest.raises(ImproperlyConfigured, match="contradicts settings.AWS_S3_USE_SSL=True"):
        resolved(AWS_S3_HOST="http://minio:9000", AWS_S3_USE_SSL=True)


def test_endpoint_url_scheme_decides_use_ssl():
    config = resolved(AWS_S3_ENDPOINT_URL="http://127.0.0.1:8333")
    assert config.use_ssl is False
    assert str(config.sources["use_ssl"]) == "scheme of settings.AWS_S3_ENDPOINT_URL"


def test_aws_endpoint_url_becomes_a_region_not_a_custom_endpoint():
    config = resolved(AWS_S3_ENDPOINT_URL="https://s3.dualstack.eu-central-1.amazonaws.com")
    assert (config.region, config.use_dualstack, config.custom_endpoint) == (
        "eu-central-1",
        True,
        False,
    )
    assert config.endpoint_url == "https://s3.dualstack.eu-central-1.amazonaws.com"
    # botocore resolves it from region and flags; an explicit endpoint would disable the flags.
    assert config.client_kwargs()["endpoint_url"] is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            dict(AWS_S3_HOST="minio:9000/prefix"),
            "AWS_S3_HOST='minio:9000/prefix' cannot be used: it has a path",
        ),
        (dict(AWS_S3_HOST="ftp://minio"), "scheme 'ftp'"),
        (
            dict(AWS_S3_ENDPOINT_URL="minio:9000"),
            "AWS_S3_ENDPOINT_URL='minio:9000' cannot be used: it has no scheme",
        ),
        (
            dict(AWS_S3_ENDPOINT_URL="https://s3.ap-northeast-2.amazonaws.com/x"),
            "an AWS endpoint takes no path",
        ),
        (dict(AWS_S3_HOST="s3.ap-northeast-2.amazonaws.com:8443"), "default port"),
        (dict(AWS_S3_HOST="b.s3.ap-northeast-2.amazonaws.com"), "bucket"),
        (dict(AWS_S3_HOST=42), "AWS_S3_HOST must be a string"),
    ],
)
def test_endpoint_refusals(settings, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace("?", r"\?")):
        resolved(**settings)


def test_credentials_in_an_endpoint_are_never_echoed():
    with pytest.raises(ImproperlyConfigured) as excinfo:
        resolved(AWS_S3_ENDPOINT_URL=f"http://user:{SECRET_KEY}@minio:9000")
    assert SECRET_KEY not in str(excinfo.value)
    assert "credentials" in str(excinfo.value)


# -- endpoint variants ----------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "endpoint"),
    [
        (dict(AWS_S3_USE_DUALSTACK=True), "https://s3.dualstack.eu-central-1.amazonaws.com"),
        (dict(AWS_S3_USE_FIPS=True), "https://s3-fips.eu-central-1.amazonaws.com"),
        (
            dict(AWS_S3_USE_FIPS=True, AWS_S3_USE_DUALSTACK=True),
            "https://s3-fips.dualstack.eu-central-1.amazonaws.com",
        ),
        (
            dict(environ={"AWS_USE_DUALSTACK_ENDPOINT": "true"}),
            "https://s3.dualstack.eu-central-1.amazonaws.com",
        ),
        (
            dict(AWS_S3_CLIENT_CONFIG=Config(use_fips_endpoint=True)),
            "https://s3-fips.eu-central-1.amazonaws.com",
        ),
    ],
)
def test_variants(settings, endpoint):
    config = resolved(AWS_S3_REGION_NAME="eu-central-1", **settings)
    assert config.endpoint_url == endpoint


def test_accelerate():
    config = resolved(AWS_S3_REGION_NAME="eu-central-1", AWS_S3_USE_ACCELERATE_ENDPOINT=True)
    assert config.bucket_url == "https://my-bucket.s3-accelerate.amazonaws.com"
    assert config.client_config.s3["use_accelerate_endpoint"] is True


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            dict(AWS_S3_USE_DUALSTACK=True, AWS_S3_ENDPOINT_URL="http://minio:9000"),
            "settings.AWS_S3_USE_DUALSTACK cannot apply to the custom endpoint",
        ),
        (
            dict(
                AWS_S3_USE_FIPS=True,
                AWS_S3_USE_ACCELERATE_ENDPOINT=True,
                AWS_S3_REGION_NAME="us-west-2",
            ),
            "no endpoint",
        ),
        (
            dict(AWS_S3_USE_FIPS=True, AWS_S3_REGION_NAME="cn-north-1"),
            "S3 has no endpoint in 'cn-north-1'",
        ),
        (
            dict(AWS_S3_USE_ACCELERATE_ENDPOINT=True, AWS_S3_ADDRESSING_STYLE="path"),
            "needs virtual-hosted addressing",
        ),
        (dict(AWS_S3_USE_DUALSTACK="yes"), "AWS_S3_USE_DUALSTACK must be True or False"),
    ],
)
def test_variant_refusals(settings, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        resolved(**settings)


# -- China, GovCloud, ISO: the partition's own domain ---------------------------------
@pytest.mark.parametrize(
    ("region", "bucket_url"),
    [
        ("cn-north-1", "https://my-bucket.s3.cn-north-1.amazonaws.com.cn"),
        ("cn-northwest-1", "https://my-bucket.s3.cn-northwest-1.amazonaws.com.cn"),
        ("us-gov-west-1", "https://my-bucket.s3.us-gov-west-1.amazonaws.com"),
        ("us-iso-east-1", "https://my-bucket.s3.us-iso-east-1.c2s.ic.gov"),
        ("ap-northeast-2", "https://my-bucket.s3.ap-northeast-2.amazonaws.com"),
        ("eu-central-1", "https://my-bucket.s3.eu-central-1.amazonaws.com"),
        ("us-east-1", "https://my-bucket.s3.amazonaws.com"),
    ],
)
def test_regional_bucket_urls(region, bucket_url):
    # Written out from AWS's documented endpoints, not computed.
    assert resolved(AWS_S3_REGION_NAME=region).bucket_url == bucket_url


def test_us_east_1_regional_host_when_named():
    config = resolved(AWS_S3_HOST="s3.us-east-1.amazonaws.com")
    assert config.bucket_url == "https://my-bucket.s3.us-east-1.amazonaws.com"


# -- signature ----------------------------------------------------------------
@pytest.mark.parametrize("value", ["s3v4", "v4"])
def test_sigv4_values_are_accepted(value):
    config = resolved(AWS_S3_SIGNATURE_VERSION=value)
    assert config.client_config.signature_version == "s3v4"
    assert config.warnings == ()
    assert str(config.sources["signature_version"]) == "settings.AWS_S3_SIGNATURE_VERSION"


def test_sigv2_is_overridden_with_a_warning():
    config = resolved(AWS_S3_SIGNATURE_VERSION="s3")
    assert config.client_config.signature_version == "s3v4"
    assert len(config.warnings) == 1
    assert "settings.AWS_S3_SIGNATURE_VERSION='s3'" in config.warnings[0]


def test_sigv2_in_a_client_config_is_overridden_too():
    config = resolved(AWS_S3_CLIENT_CONFIG=Config(signature_version="s3"))
    assert config.client_config.signature_version == "s3v4"
    assert "AWS_S3_CLIENT_CONFIG.signature_version" in config.warnings[0]


@pytest.mark.parametrize("value", ["s3v2", "unsigned", "sigv4a"])
def test_other_signatures_are_refused(value):
    with pytest.raises(ImproperlyConfigured, match="SigV4 only"):
        resolved(AWS_S3_SIGNATURE_VERSION=value)


def test_s3_use_sigv4_is_accepted_and_redundant():
    config = resolved(environ={"S3_USE_SIGV4": "True"})
    assert config.client_config.signature_version == "s3v4"
    assert any("S3_USE_SIGV4 is redundant" in note for note in config.notes)


def test_user_client_config_is_merged_not_replaced():
    user = Config(
        retries={"max_attempts": 7, "mode": "standard"},
        connect_timeout=3,
        read_timeout=11,
        max_pool_connections=33,
        s3={"payload_signing_enabled": True},
    )
    config = resolved(AWS_S3_CLIENT_CONFIG=user, AWS_S3_REGION_NAME="ap-northeast-2")
    merged = config.client_config
    assert merged.retries == {"max_attempts": 7, "mode": "standard"}
    assert (merged.connect_timeout, merged.read_timeout, merged.max_pool_connections) == (3, 11, 33)
    assert merged.s3["payload_signing_enabled"] is True
    assert merged.s3["addressing_style"] == "virtual"
    assert merged.signature_version == "s3v4"
    assert merged.ignore_configured_endpoint_urls is True
    assert user.signature_version is None  # the user's object is left alone


def test_client_config_of_the_wrong_type_is_refused():
    with pytest.raises(ImproperlyConfigured, match="must be a botocore.config.Config"):
        resolved(AWS_S3_CLIENT_CONFIG={"retries": {"max_attempts": 3}})


def test_proxies_survive_without_a_client_config():
    config = resolved(AWS_S3_PROXIES={"https": "http://proxy:3128"})
    assert config.client_config.proxies == {"https": "http://proxy:3128"}


# -- addressing ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "style", "source"),
    [
        (
            dict(
                AWS_S3_ADDRESSING_STYLE="path",
                AWS_S3_CALLING_FORMAT="boto.s3.connection.SubdomainCallingFormat",
            ),
            "path",
            "settings.AWS_S3_ADDRESSING_STYLE",
        ),
        (
            dict(AWS_S3_CALLING_FORMAT="boto.s3.connection.OrdinaryCallingFormat"),
            "path",
            "settings.AWS_S3_CALLING_FORMAT",
        ),
        (
            dict(
                AWS_S3_CALLING_FORMAT="boto.s3.connection.SubdomainCallingFormat",
                AWS_STORAGE_BUCKET_NAME="a.b.c",
            ),
            "virtual",
            "settings.AWS_S3_CALLING_FORMAT",
        ),
        (
            dict(AWS_S3_CLIENT_CONFIG=Config(s3={"addressing_style": "path"})),
            "path",
            "AWS_S3_CLIENT_CONFIG.s3['addressing_style']",
        ),
        # The precedence the README states: the client config before the boto-era
        # calling format, the setting before both.
        (
            dict(
                AWS_S3_CLIENT_CONFIG=Config(s3={"addressing_style": "path"}),
                AWS_S3_CALLING_FORMAT="boto.s3.connection.SubdomainCallingFormat",
            ),
            "path",
            "AWS_S3_CLIENT_CONFIG.s3['addressing_style']",
        ),
        (
            dict(
                AWS_S3_ADDRESSING_STYLE="virtual",
                AWS_S3_CLIENT_CONFIG=Config(s3={"addressing_style": "path"}),
                AWS_S3_CALLING_FORMAT="boto.s3.connection.OrdinaryCallingFormat",
            ),
            "virtual",
            "settings.AWS_S3_ADDRESSING_STYLE",
        ),
        (dict(AWS_S3_ADDRESSING_STYLE="auto"), "virtual", "default for this bucket name"),
        (dict(), "virtual", "default for this bucket name"),
        (dict(AWS_STORAGE_BUCKET_NAME="media.example.com"), "path", "default for this bucket name"),
        (
            dict(AWS_STORAGE_BUCKET_NAME="media.example.com", AWS_S3_USE_SSL=False),
            "virtual",
            "default for this bucket name",
        ),
        (dict(AWS_STORAGE_BUCKET_NAME="Old_Bucket"), "path", "default for this bucket name"),
        (dict(AWS_S3_HOST="minio:9000"), "path", "default for custom endpoints"),
        (
            dict(AWS_S3_HOST="minio:9000", AWS_S3_ADDRESSING_STYLE="virtual"),
            "virtual",
            "settings.AWS_S3_ADDRESSING_STYLE",
        ),
    ],
)
def test_addressing(settings, style, source):
    config = resolved(AWS_S3_REGION_NAME="eu-west-1", **settings)
    assert config.addressing_style == style
    assert str(config.sources["addressing_style"]) == source
    assert config.client_config.s3["addressing_style"] == style


def test_calling_format_class_object_is_understood():
    class OrdinaryCallingFormat:  # stands in for boto's class, long uninstallable
        pass

    assert resolved(AWS_S3_CALLING_FORMAT=OrdinaryCallingFormat()).addressing_style == "path"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(AWS_S3_ADDRESSING_STYLE="subdomain"), "not an addressing style"),
        (
            dict(AWS_S3_CALLING_FORMAT="boto.s3.connection.VHostCallingFormat"),
            "AWS_S3_CUSTOM_DOMAIN",
        ),
    ],
)
def test_addressing_refusals(settings, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        resolved(**settings)


@pytest.mark.parametrize("region", ["eu-west-1", "ap-northeast-2", "us-west-2", "sa-east-1"])
@pytest.mark.parametrize("style", ["virtual", "path"])
def test_urls_outside_us_east_1_name_their_region(region, style):
    config = resolved(AWS_S3_REGION_NAME=region, AWS_S3_ADDRESSING_STYLE=style)
    assert f".{region}.amazonaws.com" in config.bucket_url
    assert "//s3.amazonaws.com" not in config.bucket_url


# -- expiry, types, bucket ------------------------------------------------------
@pytest.mark.parametrize("value", [MAX_EXPIRE + 1, 0, -5, 10**9])
def test_expiry_out_of_range_is_refused(value):
    with pytest.raises(ImproperlyConfigured, match="AWS_QUERYSTRING_EXPIRE") as excinfo:
        resolved(AWS_QUERYSTRING_EXPIRE=value)
    assert "604800" in str(excinfo.value)


@pytest.mark.parametrize("value", ["3600", 3600.0, True])
def test_expiry_of_the_wrong_type_is_refused(value):
    with pytest.raises(ImproperlyConfigured, match="whole number of seconds"):
        resolved(AWS_QUERYSTRING_EXPIRE=value)


def test_expiry_limit_itself_is_fine():
    assert resolved(AWS_QUERYSTRING_EXPIRE=MAX_EXPIRE).querystring_expire == MAX_EXPIRE


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            dict(AWS_S3_USE_SSL="false"),
            r"settings.AWS_S3_USE_SSL must be True or False, not str 'false'",
        ),
        (dict(AWS_S3_USE_SSL=0), r"AWS_S3_USE_SSL must be True or False"),
        (dict(AWS_S3_REGION_NAME=12), r"AWS_S3_REGION_NAME must be a string"),
        (dict(AWS_STORAGE_BUCKET_NAME=None), r"no bucket is configured"),
        (dict(AWS_STORAGE_BUCKET_NAME=["a"]), r"AWS_STORAGE_BUCKET_NAME must be a string"),
    ],
)
def test_wrong_types_are_refused(settings, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        resolved(**settings)


def test_option_errors_name_the_option():
    with pytest.raises(ImproperlyConfigured, match=r"OPTIONS\['use_ssl'\] must be True or False"):
        resolved({"use_ssl": "no"})


def test_sources_and_description_hold_no_secret():
    config = resolved(
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_S3_REGION_NAME="ap-northeast-2",
        AWS_S3_CLIENT_CONFIG=Config(retries={"max_attempts": 2}),
    )
    text = repr(config) + repr(config.describe()) + repr(config.sources) + repr(config.notes)
    assert SECRET_KEY not in text
    assert config.describe()["region"] == ("ap-northeast-2", "settings.AWS_S3_REGION_NAME")


@pytest.mark.parametrize(
    ("kwargs", "kind", "name", "of"),
    [
        (dict(options={"region_name": "eu-west-1"}), Kind.OPTION, "region_name", None),
        (dict(class_attrs={"region_name": "eu-west-2"}), Kind.CLASS_ATTRIBUTE, "region_name", None),
        (dict(AWS_REGION="ap-northeast-2"), Kind.SETTING, "AWS_REGION", None),
        (
            dict(environ={"AWS_DEFAULT_REGION": "us-west-2"}),
            Kind.ENVIRONMENT,
            "AWS_DEFAULT_REGION",
            None,
        ),
        (dict(AWS_S3_HOST="s3.ap-northeast-2.amazonaws.com"), Kind.DERIVED, "", "AWS_S3_HOST"),
        (
            dict(AWS_S3_CLIENT_CONFIG=Config(region_name="eu-central-1")),
            Kind.DERIVED,
            "",
            "AWS_S3_CLIENT_CONFIG",
        ),
        ({}, Kind.DEFAULT, "", None),
    ],
)
def test_sources_are_data(kwargs, kind, name, of):
    """Code reads the kind and the name; the words are only for people."""
    source = resolved(**kwargs).sources["region"]
    assert (source.kind, source.name) == (kind, name)
    assert (source.of.name if source.of else None) == of
    assert resolved(**kwargs).region_configured is (kind is not Kind.DEFAULT)


def test_region_conflicts_are_sourced_values():
    config = resolved(AWS_S3_REGION_NAME="eu-west-1", AWS_REGION="ap-northeast-2")
    assert [(c.source.name, c.value) for c in config.region_conflicts] == [
        ("AWS_S3_REGION_NAME", "eu-west-1"),
        ("AWS_REGION", "ap-northeast-2"),
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(AWS_S3_USE_SSL="false"),
        dict(AWS_QUERYSTRING_EXPIRE=864000),
        dict(AWS_S3_HOST="s3.eu-west-1.amazonaws.com", AWS_S3_REGION_NAME="ap-northeast-2"),
        dict(AWS_S3_REGION_NAME="seoul"),
        dict(AWS_S3_ENDPOINT_URL="minio:9000"),
        dict(AWS_S3_SIGNATURE_VERSION="s3v2"),
        dict(AWS_S3_ADDRESSING_STYLE="subdomain"),
        dict(AWS_S3_REGION_MISMATCH="ignore"),
        dict(AWS_STORAGE_BUCKET_NAME=None),
    ],
)
def test_every_setting_error_says_what_is_wrong_and_the_fix_once(kwargs):
    with pytest.raises(SettingError) as raised:
        resolved(**kwargs)
    error = raised.value
    assert error.problem and error.fix
    assert error.fix not in error.problem
    assert str(error) == f"sigv4_storage: {error.problem} {error.fix}"
    assert error.check in CHECKS
