"""Every system check id, in one place, and the error that carries one.

An id is written once, here; ``checks``, ``resolve`` and the storages import
it. docs/checks.md lists each id with its fix (``tests/test_checks.py`` holds
the two together). Ids are never reused: a retired id stays listed below.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

#: The app label: the prefix of every check id and every message.
PREFIX = "sigv4_storage"


@dataclass(frozen=True)
class CheckId:
    code: str  # "E001"
    title: str  # what it reports, in a few words

    @property
    def id(self) -> str:
        return f"{PREFIX}.{self.code}"

    def __str__(self) -> str:
        return self.id


E001 = CheckId("E001", "a storage's settings cannot be resolved")
E002 = CheckId("E002", "presigned URL expiry outside 1..604800 seconds")
E003 = CheckId("E003", "the region contradicts the AWS host's region")
E004 = CheckId("E004", "a region no AWS partition knows")
E005 = CheckId("E005", "a legacy storage setting Django >= 5.1 ignores")
E006 = CheckId("E006", "the manifest static storage with querystring_auth on")
E007 = CheckId("E007", "a public storage's keys overlap a presigned storage's")
W001 = CheckId("W001", "a setting overridden to keep requests working (SigV2)")
W002 = CheckId("W002", "custom_domain + querystring_auth without CloudFront key: unsigned URLs")
W003 = CheckId("W003", "region settings that disagree")
W004 = CheckId("W004", "plain-http endpoint on a non-loopback host")
W005 = CheckId("W005", "credentials written into settings while DEBUG is False")
W006 = CheckId("W006", "collectstatic is not this package's (app order)")
E008 = CheckId("E008", "a direct-upload setting that cannot work")
W007 = CheckId("W007", "TLS certificates not verified (AWS_S3_VERIFY=False)")
W008 = CheckId("W008", "a public default_acl on a presigned storage")
W009 = CheckId("W009", "the default storage serves unsigned URLs")
W010 = CheckId("W010", "presigned URLs handed out over plain http")
W011 = CheckId("W011", "a region botocore does not know (a typo, or newer than botocore)")
W012 = CheckId("W012", "a Content Security Policy that blocks direct uploads to the bucket")

#: Every id in use. Retired ids (never reuse them): none yet.
CHECKS = (
    *(E001, E002, E003, E004, E005, E006, E007, E008),
    *(W001, W002, W003, W004, W005, W006, W007, W008, W009, W010, W011, W012),
)


def prefixed(message: str) -> str:
    """A message as this package says it: ``sigv4_storage: ...``."""
    return f"{PREFIX}: {message}"


class SettingError(ImproperlyConfigured):
    """A setting that cannot work: what is wrong, how to fix it, and its check id.

    Raised when a storage is built, so ``str()`` says both; the system check
    reports ``problem`` as its message and ``fix`` as its hint.
    """

    def __init__(self, problem: str, fix: str, check: CheckId = E001) -> None:
        super().__init__(prefixed(f"{problem} {fix}".strip()))
        self.problem = problem
        self.fix = fix
        self.check = check
