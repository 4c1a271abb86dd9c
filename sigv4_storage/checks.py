"""System checks for every storage that uses this package's classes.

Offline: they resolve settings as a storage would, but build no storage,
read no manifest and send no request. Registered by ``SigV4StorageConfig``
when ``sigv4_storage`` is in ``INSTALLED_APPS``.

Check ids are never reused. Each one:

==================  ======================================================
sigv4_storage.E001  a storage's settings cannot be resolved (wrong type,
                    bad host or endpoint URL, missing bucket...)
sigv4_storage.E002  presigned URL expiry outside 1..604800 seconds
sigv4_storage.E003  the region contradicts the region of the AWS host
sigv4_storage.E004  a region no AWS partition knows, on an AWS endpoint
sigv4_storage.E005  DEFAULT_FILE_STORAGE / STATICFILES_STORAGE names one of
                    our classes on Django >= 5.1, which ignores it
sigv4_storage.E006  the manifest static storage with querystring_auth on
sigv4_storage.W001  a setting is overridden to keep requests working
                    (SigV2 asked for: SigV4 is used)
sigv4_storage.W002  custom_domain with querystring_auth on and no CloudFront
                    key: URLs come out unsigned
sigv4_storage.W003  region settings that disagree (AWS_S3_REGION_NAME vs
                    AWS_REGION vs the environment): the first one wins
sigv4_storage.W004  security: a plain-http endpoint on a non-loopback host
sigv4_storage.W005  security: credentials written into settings while
                    DEBUG is False
==================  ======================================================
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import django
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.utils.module_loading import import_string

from .config import S3Config
from .resolve import SettingError, resolve
from .storage import SigV4ManifestStaticStorage, SigV4S3Storage, manifest_querystring_error

CHECK_IDS = {
    "sigv4_storage.E001": "a storage's settings cannot be resolved",
    "sigv4_storage.E002": "presigned URL expiry outside 1..604800 seconds",
    "sigv4_storage.E003": "the region contradicts the AWS host's region",
    "sigv4_storage.E004": "a region no AWS partition knows",
    "sigv4_storage.E005": "a legacy storage setting Django >= 5.1 ignores",
    "sigv4_storage.E006": "the manifest static storage with querystring_auth on",
    "sigv4_storage.W001": "a setting overridden to keep requests working (SigV2)",
    "sigv4_storage.W002": "custom_domain + querystring_auth without CloudFront key: unsigned URLs",
    "sigv4_storage.W003": "region settings that disagree",
    "sigv4_storage.W004": "plain-http endpoint on a non-loopback host",
    "sigv4_storage.W005": "credentials written into settings while DEBUG is False",
}

#: Hints for the errors a storage would raise when built (their message has the fix too).
HINTS = {
    "sigv4_storage.E001": "Fix the setting named above: the storage raises this same "
    "ImproperlyConfigured when it is built.",
    "sigv4_storage.E002": "SigV4 presigned URLs live at most 7 days (604800 s). For "
    "longer-lived links serve the files publicly or sign them with CloudFront.",
    "sigv4_storage.E003": "On AWS the region alone picks the endpoint: drop AWS_S3_HOST, or "
    "make the region match the host.",
    "sigv4_storage.E004": "Regions look like 'ap-northeast-2'. For an S3-compatible server "
    "set AWS_S3_ENDPOINT_URL (any region name is accepted there).",
    "sigv4_storage.E006": "Static storages default to querystring_auth=False: remove it "
    "from OPTIONS and grant public read on the static prefix.",
}

LEGACY = {"default": "DEFAULT_FILE_STORAGE", "staticfiles": "STATICFILES_STORAGE"}
CREDENTIAL_SETTINGS = (
    "AWS_S3_SECRET_ACCESS_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
)


@dataclass
class Configured:
    """One storage that uses our classes: where it is configured and how."""

    label: str  # "STORAGES['default']" or "DEFAULT_FILE_STORAGE"
    cls: type[SigV4S3Storage]
    options: dict[str, Any]
    alias: str = ""  # the STORAGES key


def _our_class(path: Any) -> type[SigV4S3Storage] | None:
    if not isinstance(path, str):
        return None
    try:
        cls = import_string(path)
    except ImportError:
        return None  # Django's own checks and errors report it
    return cls if isinstance(cls, type) and issubclass(cls, SigV4S3Storage) else None


def configured_storages() -> Iterator[Configured]:
    """Every STORAGES entry using our classes.

    On Django 4.2, DEFAULT_FILE_STORAGE and STATICFILES_STORAGE are copied
    into STORAGES by Django itself, so they are inspected here too.
    """
    storages = getattr(settings, "STORAGES", None) or {}
    for alias, entry in storages.items():
        if isinstance(entry, dict) and (cls := _our_class(entry.get("BACKEND"))):
            options = dict(entry.get("OPTIONS") or {})
            yield Configured(f"STORAGES[{alias!r}]", cls, options, alias)


@register()
def check_storages(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = list(legacy_settings_ignored())
    for storage in configured_storages():
        messages.extend(_check_storage(storage))
    return messages


@register(Tags.security)
def check_storage_security(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for storage in configured_storages():
        layers, _ = storage.cls.offline_view(storage.options)
        try:
            s3 = resolve(layers)
        except SettingError:
            continue  # reported by check_storages
        messages.extend(_plain_http(storage, s3))
    messages.extend(_credentials_in_settings())
    return messages


def _check_storage(storage: Configured) -> list[CheckMessage]:
    layers, defaults = storage.cls.offline_view(storage.options)
    try:
        s3 = resolve(layers)
    except SettingError as error:
        return [Error(str(error), hint=HINTS[error.check_id], obj=storage.label, id=error.check_id)]
    messages: list[CheckMessage] = [
        Warning(
            f"sigv4_storage: {message}",
            hint="Remove the setting: every request and URL is signed with SigV4.",
            obj=storage.label,
            id="sigv4_storage.W001",
        )
        for message in s3.warnings
    ]
    messages.extend(_region_settings_disagree(storage, s3))

    def effective(name: str) -> Any:
        found = layers.option(name)
        return found.value if found is not None else defaults.get(name)

    querystring_auth = effective("querystring_auth")
    if querystring_auth and issubclass(storage.cls, SigV4ManifestStaticStorage):
        refusal = manifest_querystring_error(storage.cls.__name__)
        messages.append(
            Error(
                str(refusal), hint=HINTS[refusal.check_id], obj=storage.label, id=refusal.check_id
            )
        )
    signer = effective("cloudfront_signer") or (
        effective("cloudfront_key_id") and effective("cloudfront_key")
    )
    if effective("custom_domain") and querystring_auth and not signer:
        messages.append(
            Warning(
                f"sigv4_storage: {storage.label} has custom_domain "
                f"{effective('custom_domain')!r} and querystring_auth on, but no CloudFront "
                "key: django-storages then builds unsigned URLs, which private objects refuse.",
                hint="Set AWS_CLOUDFRONT_KEY_ID and AWS_CLOUDFRONT_KEY to sign through "
                "CloudFront, set querystring_auth to False if the files are public, or "
                "remove custom_domain to get presigned S3 URLs.",
                obj=storage.label,
                id="sigv4_storage.W002",
            )
        )
    return messages


def legacy_settings_ignored() -> list[CheckMessage]:
    """E005: DEFAULT_FILE_STORAGE / STATICFILES_STORAGE naming our classes on Django >= 5.1.

    Also warned about at start-up (``SigV4StorageConfig.ready``).
    """
    if django.VERSION < (5, 1):
        return []
    messages: list[CheckMessage] = []
    for alias, name in LEGACY.items():
        value = getattr(settings, name, None)
        cls = _our_class(value)
        if cls is None:
            continue
        configured = (getattr(settings, "STORAGES", None) or {}).get(alias) or {}
        if configured.get("BACKEND") == value:
            hint = f"STORAGES[{alias!r}] already uses it: remove {name}."
        else:
            hint = (
                f"Move it to STORAGES: STORAGES = {{..., {alias!r}: "
                f"{{'BACKEND': {value!r}, 'OPTIONS': {{}}}}}}, and remove {name}."
            )
        messages.append(
            Error(
                f"sigv4_storage: settings.{name} = {value!r} is ignored by Django "
                f"{django.get_version()} (removed in 5.1): "
                + (
                    "it is redundant."
                    if configured.get("BACKEND") == value
                    else f"STORAGES[{alias!r}] is used instead, and files go to "
                    f"{configured.get('BACKEND', 'the default backend')}."
                ),
                hint=hint,
                obj=name,
                id="sigv4_storage.E005",
            )
        )
    return messages


def _region_settings_disagree(storage: Configured, s3: S3Config) -> list[CheckMessage]:
    if not s3.region_conflicts:
        return []
    return [
        Warning(
            f"sigv4_storage: region settings disagree: {', '.join(s3.region_conflicts)}. "
            f"{s3.region_conflicts[0].split('=')[0]} is used.",
            hint="Keep one region setting (AWS_S3_REGION_NAME), or make them agree.",
            obj=storage.label,
            id="sigv4_storage.W003",
        )
    ]


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _plain_http(storage: Configured, s3: S3Config) -> list[CheckMessage]:
    parts = urlsplit(s3.endpoint_url)
    if parts.scheme != "http" or _loopback(parts.hostname or ""):
        return []
    return [
        Warning(
            f"sigv4_storage: {storage.label} talks plain http to {parts.netloc} "
            f"({s3.sources.get('endpoint_url', 'endpoint')}): file contents, and any "
            f"session token, cross the network in clear.",
            hint="Use https (AWS_S3_ENDPOINT_URL = 'https://...', or AWS_S3_USE_SSL = "
            "True). Inside a private container network, silence this check with "
            "SILENCED_SYSTEM_CHECKS = ['sigv4_storage.W004'].",
            obj=storage.label,
            id="sigv4_storage.W004",
        )
    ]


def _credentials_in_settings() -> list[CheckMessage]:
    """Secrets whose value matches no environment variable were written into settings."""
    if settings.DEBUG or not any(True for _ in configured_storages()):
        return []
    from_environment = {value for value in os.environ.values() if value}
    written = [
        name
        for name in CREDENTIAL_SETTINGS
        if (value := getattr(settings, name, None)) and value not in from_environment
    ]
    for storage in configured_storages():
        for option in ("secret_key", "security_token"):
            value = storage.options.get(option)
            if value and value not in from_environment:
                written.append(f"{storage.label}['OPTIONS'][{option!r}]")
    if not written:
        return []
    return [
        Warning(
            "sigv4_storage: credentials are written into the settings ("
            + ", ".join(written)
            + ") while DEBUG is False: they end up in version control, images and "
            "error reports.",
            hint="Read them from the environment (os.environ['AWS_SECRET_ACCESS_KEY']), "
            "or leave them out and let botocore find an instance role, a web identity "
            "or a profile.",
            id="sigv4_storage.W005",
        )
    ]
