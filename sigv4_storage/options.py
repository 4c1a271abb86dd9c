"""Every value this package resolves, one row each: the one home of an option's facts.

A row (``Option``) names the ``S3Config`` field it fills, the places its value
may come from in precedence order (``order``: the first found wins), and its
default in words. ``resolve`` reads every option through ``Layers.candidates``
in exactly this order; ``S3Config.describe()`` lists the rows' fields;
django-storages is told of this package's new options (``NEW_OPTIONS``); the
system checks run ``resolve``, so they check every option the same way.
``tests/test_options.py`` pins each row's order against ``resolve``, and
``tests/test_docs.py`` holds the settings and precedence tables of the
configuration reference (docs/configuration.md) to these rows.

The meaning of each setting is prose, in that page.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Where(enum.Enum):
    OPTION = "option"  # STORAGES[...]["OPTIONS"], else a class attribute
    SETTING = "setting"
    ENVIRONMENT = "environment"
    CLIENT_CONFIG = "client config"  # inside AWS_S3_CLIENT_CONFIG
    DERIVED = "derived"  # read off another value (an AWS host, an access point ARN)


@dataclass(frozen=True)
class Place:
    """One place a value may come from.

    ``name``: the option, setting or variable name; for ``CLIENT_CONFIG`` the
    path inside the ``Config`` (``("s3", "addressing_style")``, joined); for
    ``DERIVED`` the key ``resolve`` fills (``"host"``, ``"arn"``). ``new``: the
    Django setting of an option django-storages does not have.
    """

    where: Where
    name: str
    new: str = ""
    text: str = ""

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))

    def __str__(self) -> str:
        """As the configuration reference's precedence table shows it."""
        if self.where is Where.OPTION:
            return f"`OPTIONS[{self.name!r}]`"
        if self.where is Where.SETTING:
            return f"`{self.name}`"
        if self.where is Where.ENVIRONMENT:
            return f"environment `{self.name}`"
        if self.where is Where.CLIENT_CONFIG:
            first, *rest = self.path
            return "`AWS_S3_CLIENT_CONFIG." + first + "".join(f"[{r!r}]" for r in rest) + "`"
        return self.text


def option(name: str, new: str = "") -> Place:
    return Place(Where.OPTION, name, new=new)


def setting(name: str) -> Place:
    return Place(Where.SETTING, name)


def env(name: str) -> Place:
    return Place(Where.ENVIRONMENT, name)


def config(path: str) -> Place:
    return Place(Where.CLIENT_CONFIG, path)


def derived(key: str, text: str) -> Place:
    return Place(Where.DERIVED, key, text=text)


@dataclass(frozen=True)
class Option:
    #: The ``S3Config`` field (and ``describe()`` key) it fills; "" when only read.
    field: str
    order: tuple[Place, ...]
    #: The default in words, as the configuration reference's settings table shows it.
    default: str = "—"

    @property
    def settings(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.order if p.where is Where.SETTING)

    @property
    def options(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.order if p.where is Where.OPTION)

    def pairs(self) -> list[tuple[str, str | None]]:
        """Each Django setting with the option that stands for it (by position:
        ``AWS_S3_HOST`` is ``host``), or None (``AWS_REGION``)."""
        options = self.options
        return [
            (name, options[i] if i < len(options) else None) for i, name in enumerate(self.settings)
        ]

    def precedence(self) -> str:
        """The order in words, first found wins (the configuration reference's precedence table)."""
        return " → ".join(map(str, self.order))


def ours(name: str, setting_name: str) -> tuple[Place, Place]:
    """An option django-storages does not have, then the setting that stands for it."""
    return option(name, new=setting_name), setting(setting_name)


def _flag(name: str, new: str, host: bool, config_path: str, env_name: str = "") -> Option:
    """An AWS endpoint variant: dualstack, FIPS, Transfer Acceleration."""
    return Option(
        name,
        (
            *ours(name, new),
            *([derived("host", "the AWS host in the endpoint")] if host else []),
            config(config_path),
            *([env(env_name)] if env_name else []),
        ),
        "`False`",
    )


OPTIONS: tuple[Option, ...] = (
    Option(
        "bucket_name",
        (option("bucket_name"), setting("AWS_STORAGE_BUCKET_NAME")),
        "required",
    ),
    Option(
        "region",
        (
            option("region_name"),
            setting("AWS_S3_REGION_NAME"),
            setting("AWS_REGION"),
            config("region_name"),
            derived("host", "the AWS host in the endpoint"),
            derived("arn", "an access point ARN's region"),
            env("AWS_S3_REGION_NAME"),
            env("AWS_REGION"),
            env("AWS_DEFAULT_REGION"),
        ),
        "the bucket's, asked once; else `us-east-1`",
    ),
    Option(
        "discover_region",
        ours("discover_region", "AWS_S3_DISCOVER_REGION"),
        "`None`: on AWS endpoints when no setting names the region",
    ),
    Option(
        "region_mismatch",
        ours("region_mismatch", "AWS_S3_REGION_MISMATCH"),
        '`"follow"`',
    ),
    Option(
        "endpoint_url",
        (
            option("endpoint_url"),
            option("host", new="AWS_S3_HOST"),
            setting("AWS_S3_ENDPOINT_URL"),
            setting("AWS_S3_HOST"),
            env("AWS_ENDPOINT_URL_S3"),
            env("AWS_ENDPOINT_URL"),
        ),
        "the region's AWS endpoint",
    ),
    Option(
        "public_endpoint_url",
        ours("public_endpoint_url", "AWS_S3_PUBLIC_ENDPOINT_URL"),
    ),
    Option("", (option("custom_domain"), setting("AWS_S3_CUSTOM_DOMAIN"))),
    Option("use_ssl", (option("use_ssl"), setting("AWS_S3_USE_SSL")), "`True`"),
    _flag(
        "use_dualstack",
        "AWS_S3_USE_DUALSTACK",
        True,
        "use_dualstack_endpoint",
        "AWS_USE_DUALSTACK_ENDPOINT",
    ),  # fmt: skip
    _flag("use_fips", "AWS_S3_USE_FIPS", True, "use_fips_endpoint", "AWS_USE_FIPS_ENDPOINT"),
    _flag(
        "use_accelerate_endpoint",
        "AWS_S3_USE_ACCELERATE_ENDPOINT",
        True,
        "s3.use_accelerate_endpoint",
    ),  # fmt: skip
    Option(
        "signature_version",
        (
            option("signature_version"),
            setting("AWS_S3_SIGNATURE_VERSION"),
            config("signature_version"),
        ),
        "`s3v4`",
    ),
    Option("", (setting("S3_USE_SIGV4"), env("S3_USE_SIGV4"))),
    Option(
        "addressing_style",
        (
            option("addressing_style"),
            setting("AWS_S3_ADDRESSING_STYLE"),
            config("s3.addressing_style"),
            option("calling_format", new="AWS_S3_CALLING_FORMAT"),
            setting("AWS_S3_CALLING_FORMAT"),
        ),
        "virtual on AWS where the bucket name allows, else path",
    ),
    Option(
        "querystring_expire",
        (option("querystring_expire"), setting("AWS_QUERYSTRING_EXPIRE")),
        "`3600`",
    ),
    Option("", (option("client_config"), setting("AWS_S3_CLIENT_CONFIG"))),
    Option("", (option("proxies"), setting("AWS_S3_PROXIES"))),
    Option(
        "request_checksum_calculation",
        (config("request_checksum_calculation"), env("AWS_REQUEST_CHECKSUM_CALCULATION")),
        '`"when_required"` on custom endpoints, botocore\'s `"when_supported"` on AWS',
    ),
    Option(
        "response_checksum_validation",
        (config("response_checksum_validation"), env("AWS_RESPONSE_CHECKSUM_VALIDATION")),
        '`"when_required"` on custom endpoints, botocore\'s `"when_supported"` on AWS',
    ),
    Option(
        "active_content",
        ours("active_content", "AWS_S3_ACTIVE_CONTENT"),
        '`"attachment"` (`"inline"` for the static classes)',
    ),
    Option(
        "collectstatic_workers",
        ours("collectstatic_workers", "AWS_S3_COLLECTSTATIC_WORKERS"),
        "`10`",
    ),
)

#: Each row by its field and by the first name in its order (its option, else its setting).
BY_NAME: dict[str, Option] = {
    **{row.order[0].name: row for row in OPTIONS},
    **{row.field: row for row in OPTIONS if row.field},
}

#: Options this package reads on top of django-storages' own: option -> setting.
NEW_OPTIONS: dict[str, str] = {
    place.name: place.new for row in OPTIONS for place in row.order if place.new
}


def row(name: str) -> Option:
    """The row of the field ``name``, or whose first place is ``name``
    (``"region"``, ``"client_config"``, ``"S3_USE_SIGV4"``)."""
    return BY_NAME[name]
