"""System checks for every storage that uses this package's classes.

Offline: they resolve settings as a storage would, but build no storage,
read no manifest and send no request. Registered by ``SigV4StorageConfig``
when ``sigv4_storage`` is in ``INSTALLED_APPS``. The ids live in
``checkids``; docs/checks.md lists each with its fix. A message says what is
wrong, its hint how to fix it.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import botocore
import django
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from . import csp, privacy
from .backends import LEGACY_STORAGE_SETTINGS, our_class
from .checkids import (
    E005,
    E007,
    W001,
    W002,
    W003,
    W004,
    W005,
    W006,
    W007,
    W008,
    W009,
    W010,
    W011,
    W012,
    SettingError,
    prefixed,
)
from .conf import Layers, refuse_unknown_options
from .config import S3Config
from .endpoints import known_regions, unknown_region
from .privacy import Exposure
from .resolve import resolve
from .storage import SigV4S3Storage, SigV4StaticStorage, refuse_presigned_static

CREDENTIAL_SETTINGS = (
    "AWS_S3_SECRET_ACCESS_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
)


@dataclass
class Configured:
    """One storage that uses our classes: where it is configured and how."""

    label: str  # "STORAGES['default']", or "settings.DEFAULT_FILE_STORAGE" (legacy)
    cls: type[SigV4S3Storage]
    options: dict[str, Any]
    alias: str = ""  # the STORAGES key
    #: Configured by DEFAULT_FILE_STORAGE or STATICFILES_STORAGE (Django < 5.1 copies
    #: them into STORAGES): its fixes are said in those settings' words.
    legacy: bool = False


def configured_storages() -> Iterator[Configured]:
    """Every STORAGES entry using our classes.

    On Django 4.2, DEFAULT_FILE_STORAGE and STATICFILES_STORAGE are copied
    into STORAGES by Django itself, so they are inspected here too.
    """
    storages = getattr(settings, "STORAGES", None) or {}
    for alias, entry in storages.items():
        if isinstance(entry, dict) and (cls := our_class(entry.get("BACKEND"))):
            options = dict(entry.get("OPTIONS") or {})
            name = LEGACY_STORAGE_SETTINGS.get(alias, "")
            if django.VERSION < (5, 1) and name and _legacy(name):
                yield Configured(f"settings.{name}", cls, options, alias, legacy=True)
            else:
                yield Configured(f"STORAGES[{alias!r}]", cls, options, alias)


def _legacy(name: str) -> bool:
    """Whether Django < 5.1 built this STORAGES entry from the legacy setting ``name``
    (set by the project, STORAGES not: Django refuses both, and fills the legacy
    settings in from STORAGES when STORAGES is the one set)."""
    overridden = settings.is_overridden  # type: ignore[misc]  # not in django-stubs
    return bool(overridden(name) and not overridden("STORAGES"))


def effective(layers: Layers, defaults: dict[str, Any]) -> Any:
    """``value(name)``: a storage's option ``name`` as an instance would read it
    (OPTIONS, class attribute, then django-storages' default from the settings)."""

    def value(name: str) -> Any:
        found = layers.option(name)
        return found.value if found is not None else defaults.get(name)

    return value


def exposures(storages: list[Configured] | None = None) -> list[Exposure]:
    """Where each configured storage that resolves keeps its objects, public or private."""
    found = []
    for storage in configured_storages() if storages is None else storages:
        layers, defaults = storage.cls.offline_view(storage.options)
        if refuse_unknown_options(storage.cls, storage.options, defaults) is not None:
            continue  # reported by check_storages
        try:
            s3 = resolve(layers)
        except SettingError:
            continue
        found.append(
            Exposure.of(storage.label, s3, effective(layers, defaults), legacy=storage.legacy)
        )
    return found


@register()
def check_storages(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = list(legacy_settings_ignored())
    storages = list(configured_storages())
    for storage in storages:
        messages.extend(_check_storage(storage))
    return messages


@register(Tags.staticfiles)
def check_public_private(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E007, tagged ``staticfiles`` too: collectstatic (ours and Django's) runs the
    checks with that tag first, so it refuses to upload public files where a
    private storage keeps its own (``--skip-checks`` to do it anyway)."""
    return _public_overlaps_private(list(configured_storages()))


@register(Tags.staticfiles)
def check_collectstatic(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W006, tagged ``staticfiles``: Django's own collectstatic runs the checks with
    that tag before it starts, so a deploy that only collects static files is told
    why it is slow."""
    return _collectstatic_is_ours(list(configured_storages()))


def _public_overlaps_private(storages: list[Configured]) -> list[CheckMessage]:
    """E007: a public storage and a presigned one under overlapping keys of one bucket."""
    return [
        Error(
            prefixed(privacy.describe(public, private)),
            hint=privacy.separate(public, private),
            obj=public.label,
            id=E007.id,
        )
        for public, private in privacy.collisions(exposures(storages))
    ]


def _collectstatic_is_ours(storages: list[Configured]) -> list[CheckMessage]:
    """W006: our staticfiles storage, but another app's collectstatic wins."""
    from django.core.management import get_commands

    if not any(storage.alias == "staticfiles" for storage in storages):
        return []
    app = get_commands().get("collectstatic")
    if app in (None, "sigv4_storage"):
        return []
    return [
        Warning(
            prefixed(
                f"manage.py collectstatic is {app}'s command, not sigv4_storage's: for "
                f"STORAGES['staticfiles'] it asks S3 twice per file and uploads every "
                f"file again on each deploy."
            ),
            hint="List 'sigv4_storage' before 'django.contrib.staticfiles' in INSTALLED_APPS.",
            obj="INSTALLED_APPS",
            id=W006.id,
        )
    ]


@register(Tags.security)
def check_storage_security(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for storage in configured_storages():
        layers, defaults = storage.cls.offline_view(storage.options)
        try:
            s3 = resolve(layers)
        except SettingError:
            continue  # reported by check_storages
        messages.extend(_plain_http(storage, s3))
        messages.extend(_hazards(storage, s3, effective(layers, defaults)))
    messages.extend(_credentials_in_settings())
    return messages


#: Canned ACLs that let anyone read.
PUBLIC_ACLS = ("public-read", "public-read-write")


def _silence(check: Any) -> str:
    return f"If it is deliberate, SILENCED_SYSTEM_CHECKS = ['{check}']."


def _hazards(storage: Configured, s3: S3Config, value: Any) -> list[CheckMessage]:
    """W007-W010: settings that work, and expose files or credentials (``value``:
    the storage's options as an instance reads them, ``effective``)."""
    found: list[CheckMessage] = []

    def warn(check: Any, message: str, fix: str) -> None:
        found.append(
            Warning(
                prefixed(message), hint=f"{fix} {_silence(check)}", obj=storage.label, id=check.id
            )
        )

    if value("verify") is False:
        warn(
            W007,
            f"{storage.label} does not verify TLS certificates (verify=False, "
            "AWS_S3_VERIFY): anyone on the path can read and change files and steal "
            "the credentials' signatures.",
            "Remove AWS_S3_VERIFY, or set it to the path of your CA bundle.",
        )
    acl = value("default_acl")
    if acl in PUBLIC_ACLS and value("querystring_auth"):
        warn(
            W008,
            f"{storage.label} signs its URLs (querystring_auth) but writes every file "
            f"{acl!r} (default_acl), direct uploads' POST forms included: each file is "
            "readable by anyone who learns its key, whatever the URLs say.",
            "Remove default_acl (AWS_DEFAULT_ACL) for private files, or set "
            "querystring_auth to False if they are meant to be public.",
        )
    if storage.alias == "default" and not value("querystring_auth"):
        warn(
            W009,
            f"{storage.label} (the media storage: user uploads) serves unsigned URLs "
            "(querystring_auth=False): every uploaded file is public, or its URL fails.",
            "Leave querystring_auth on for the default storage, and serve public files "
            "from a storage of their own.",
        )
    public = urlsplit(s3.public_endpoint_url or "")
    if public.scheme == "http" and not _loopback(public.hostname or ""):
        warn(
            W010,
            f"{storage.label} hands browsers URLs on plain http ({public.netloc}, "
            "public_endpoint_url): presigned URLs and direct uploads cross the network "
            "in clear, and https pages refuse them as mixed content.",
            "Use an https public_endpoint_url (AWS_S3_PUBLIC_ENDPOINT_URL).",
        )
    return found


@register()
def check_upload_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E008: the direct-upload settings, as the upload views would read them."""
    from . import uploads

    messages: list[CheckMessage] = []
    for read in (uploads.permission_hook, uploads.max_open):
        try:
            read()
        except SettingError as error:
            messages.append(Error(prefixed(error.problem), hint=error.fix, id=error.check.id))
    return messages


@register(Tags.security)
def check_content_security_policy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W012: Django's Content Security Policy (6.0+) must let browsers reach the
    bucket, where the direct-upload widget sends files (``connect-src``)."""
    policies = {
        name: policy
        for name in ("SECURE_CSP", "SECURE_CSP_REPORT_ONLY")
        if isinstance(policy := getattr(settings, name, None), dict) and policy
    }
    if not policies or not _upload_views_wired():
        return []
    messages: list[CheckMessage] = []
    hosts = [h for h in settings.ALLOWED_HOSTS if h not in ("*", "")]
    for storage in configured_storages():
        if issubclass(storage.cls, SigV4StaticStorage):
            continue  # not a storage direct uploads write to
        try:
            s3 = resolve(storage.cls.offline_view(storage.options)[0])
        except SettingError:
            continue  # reported by check_storages
        target = csp.origin(s3.post_url)
        for name, policy in policies.items():
            sources = csp.directive(policy, "connect-src")
            if sources is None or csp.allows(sources, s3.post_url, hosts):
                continue
            messages.append(
                Warning(
                    prefixed(
                        f"settings.{name} does not let browsers connect to {target}: "
                        f"direct uploads to {storage.label}'s bucket are blocked "
                        f"(connect-src{'' if 'connect-src' in policy else ', from default-src'}"
                        f": {' '.join(sources) or 'nothing'})."
                    ),
                    hint=f"Add {target!r} to {name}['connect-src'] (for example "
                    f'"connect-src": [CSP.SELF, {target!r}]). If the site has no direct '
                    f"upload for this storage, silence this check with "
                    f"SILENCED_SYSTEM_CHECKS = ['{W012}'].",
                    obj=storage.label,
                    id=W012.id,
                )
            )
    return messages


def _upload_views_wired() -> bool:
    """Whether the URLconf includes ``sigv4_storage.urls`` (the widget's views)."""
    from django.urls import NoReverseMatch, reverse

    if not getattr(settings, "ROOT_URLCONF", None):
        return False
    try:
        reverse("sigv4_storage:upload-sign")
    except (NoReverseMatch, ImportError):  # a URLconf that fails: Django's checks say why
        return False
    return True


def _error(error: SettingError, storage: Configured) -> Error:
    return Error(prefixed(error.problem), hint=error.fix, obj=storage.label, id=error.check.id)


def _check_storage(storage: Configured) -> list[CheckMessage]:
    layers, defaults = storage.cls.offline_view(storage.options)
    unknown = refuse_unknown_options(storage.cls, storage.options, defaults)
    if unknown is not None:  # as the storage refuses to be built: nothing else is read
        return [_error(unknown, storage)]
    try:
        s3 = resolve(layers)
    except SettingError as error:
        return [_error(error, storage)]
    messages: list[CheckMessage] = [
        Warning(
            prefixed(message),
            hint="Remove the setting: every request and URL is signed with SigV4.",
            obj=storage.label,
            id=W001.id,
        )
        for message in s3.warnings
    ]
    messages.extend(_region_settings_disagree(storage, s3))
    messages.extend(_unknown_region(storage, s3))

    value = effective(layers, defaults)
    querystring_auth = value("querystring_auth")
    refusal = refuse_presigned_static(storage.cls, querystring_auth)
    if refusal is not None:
        messages.append(_error(refusal, storage))
    signer = value("cloudfront_signer") or (value("cloudfront_key_id") and value("cloudfront_key"))
    if value("custom_domain") and querystring_auth and not signer:
        messages.append(
            Warning(
                prefixed(
                    f"{storage.label} has custom_domain {value('custom_domain')!r} and "
                    "querystring_auth on, but no CloudFront key: django-storages then builds "
                    "unsigned URLs, which private objects refuse."
                ),
                hint="Set AWS_CLOUDFRONT_KEY_ID and AWS_CLOUDFRONT_KEY to sign through "
                "CloudFront, set querystring_auth to False if the files are public, or "
                "remove custom_domain to get presigned S3 URLs.",
                obj=storage.label,
                id=W002.id,
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
    for alias, name in LEGACY_STORAGE_SETTINGS.items():
        value = getattr(settings, name, None)
        if our_class(value) is None:
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
                prefixed(
                    f"settings.{name} = {value!r} is ignored by Django "
                    f"{django.get_version()} (removed in 5.1): "
                    + (
                        "it is redundant."
                        if configured.get("BACKEND") == value
                        else f"STORAGES[{alias!r}] is used instead, and files go to "
                        f"{configured.get('BACKEND', 'the default backend')}."
                    )
                ),
                hint=hint,
                obj=name,
                id=E005.id,
            )
        )
    return messages


def _region_settings_disagree(storage: Configured, s3: S3Config) -> list[CheckMessage]:
    if not s3.region_conflicts:
        return []
    return [
        Warning(
            prefixed(
                f"region settings disagree: {', '.join(map(str, s3.region_conflicts))}. "
                f"{s3.region_conflicts[0].source} is used."
            ),
            hint="Keep one region setting (AWS_S3_REGION_NAME), or make them agree.",
            obj=storage.label,
            id=W003.id,
        )
    ]


def _unknown_region(storage: Configured, s3: S3Config) -> list[CheckMessage]:
    if not unknown_region(s3.region, s3.endpoint_url):
        return []
    close = difflib.get_close_matches(s3.region, known_regions(), n=3)
    return [
        Warning(
            prefixed(
                f"{storage.label}: region {s3.region!r} ({s3.source('region')}) is not one "
                f"botocore {botocore.__version__} knows"
                + (f" (did you mean {', '.join(map(repr, close))}?)" if close else "")
                + f": requests will go to {s3.endpoint_url}, which may not exist."
            ),
            hint="Check the bucket's region (the S3 console, or aws s3api get-bucket-location "
            "--bucket BUCKET). A region newer than botocore works once botocore knows it "
            "(pip install -U botocore); to use it before, silence this check with "
            f"SILENCED_SYSTEM_CHECKS = ['{W011}'].",
            obj=storage.label,
            id=W011.id,
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
            prefixed(
                f"{storage.label} talks plain http to {parts.netloc} "
                f"({_why_http(s3)}): file contents, and any session token, "
                f"cross the network in clear."
            ),
            hint="Use https (AWS_S3_ENDPOINT_URL = 'https://...', or AWS_S3_USE_SSL = "
            "True). Inside a private container network, silence this check with "
            f"SILENCED_SYSTEM_CHECKS = ['{W004}'].",
            obj=storage.label,
            id=W004.id,
        )
    ]


def _why_http(s3: S3Config) -> str:
    endpoint = s3.sources["endpoint_url"]
    return str(s3.sources["use_ssl"] if endpoint.is_default else endpoint)


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
            prefixed(
                "credentials are written into the settings ("
                + ", ".join(written)
                + ") while DEBUG is False: they end up in version control, images and "
                "error reports."
            ),
            hint="Read them from the environment (os.environ['AWS_SECRET_ACCESS_KEY']), "
            "or leave them out and let botocore find an instance role, a web identity "
            "or a profile.",
            id=W005.id,
        )
    ]
