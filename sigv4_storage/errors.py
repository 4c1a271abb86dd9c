"""Clear errors for the requests S3 refuses.

botocore's message says what the server answered ("SignatureDoesNotMatch");
it does not say which setting to change. ``RefusalHints`` listens to the
client's ``after-call`` event (botocore's public event system) and, when S3
refuses a request for a reason the project's settings can fix, raises
``S3RequestRefused``: a ``ClientError`` whose message adds the bucket,
endpoint and region used and the fix. It keeps ``response`` and
``operation_name``, so ``except ClientError`` and
``err.response["Error"]["Code"]`` work as before. Connection failures and
timeouts, TLS failures and missing credentials (``after-call-error``, and
``with_context`` for the presigned URLs botocore signs) become subclasses of
botocore's own exceptions that add the same: where, and what to check.
Messages never contain credentials: botocore's own message has none, and the
hint names settings, not values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    ProxyConnectionError,
    ReadTimeoutError,
    SSLError,
)

from .endpoints import unknown_region

__all__ = [
    "S3ConnectTimeout",
    "S3ConnectionClosed",
    "S3EndpointUnreachable",
    "S3HTTPClientFailed",
    "S3NoCredentials",
    "S3ProxyUnreachable",
    "S3ReadTimeout",
    "S3RequestRefused",
    "S3TLSFailed",
]

_CREDENTIALS = (
    "AWS_S3_ACCESS_KEY_ID / AWS_S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID / "
    "AWS_SECRET_ACCESS_KEY, the access_key / secret_key OPTIONS, or the environment)"
)

#: S3 error code -> what it means for this project and the fix.
HINTS: dict[str, str] = {
    "SignatureDoesNotMatch": (
        "the secret key does not match the access key id. Check " + _CREDENTIALS + "."
    ),
    "InvalidAccessKeyId": (
        "the server does not know this access key id: the key is wrong, deleted, or "
        "belongs to another account or server. Check " + _CREDENTIALS + "."
    ),
    "AccessDenied": (
        "the credentials were accepted but are not allowed this operation on this "
        "bucket. Grant it in the bucket or IAM policy (or the server's identities)."
    ),
    "403": (
        "the server refused the request (a HEAD response carries no error code): a wrong "
        "secret key, an unknown access key, a missing permission, or this machine's "
        "clock more than 15 minutes off the server's. Check "
        + _CREDENTIALS
        + ", the bucket policy, and the clock (NTP)."
    ),
    "NoSuchBucket": (
        "there is no bucket of this name at this endpoint. Check AWS_STORAGE_BUCKET_NAME "
        "(or OPTIONS['bucket_name']) and the endpoint; create the bucket if it is new."
    ),
    "RequestTimeTooSkewed": (
        "this machine's clock is more than 15 minutes off the server's, and SigV4 "
        "refuses such requests. Synchronise the clock (NTP)."
    ),
    "ExpiredToken": (
        "the session token has expired. Refresh it (AWS_SESSION_TOKEN), or leave the "
        "credentials to an instance role or profile that renews them."
    ),
    "InvalidToken": (
        "the session token is malformed or does not belong to these keys. Check "
        "AWS_SESSION_TOKEN (or AWS_SECURITY_TOKEN)."
    ),
    "AuthorizationHeaderMalformed": (
        "the request was signed for another region than the bucket's. Set "
        "AWS_S3_REGION_NAME to the bucket's region (or leave it unset to discover it)."
    ),
    "PermanentRedirect": (
        "the bucket is in another region than the endpoint used. Set "
        "AWS_S3_REGION_NAME to the bucket's region (or leave it unset to discover it)."
    ),
    **dict.fromkeys(
        ("SlowDown", "ServiceUnavailable", "InternalError", "500", "503"),
        "the server kept failing (overloaded or down) through every retry. Try again "
        "later; retries and timeouts are set with AWS_S3_CLIENT_CONFIG (default: "
        "standard mode, 5 attempts).",
    ),
    "301": (
        "the bucket is in another region than the endpoint used. Set "
        "AWS_S3_REGION_NAME to the bucket's region (or leave it unset to discover it)."
    ),
}


class S3RequestRefused(ClientError):
    """S3 refused a request for a reason the settings can fix; see ``hint``."""

    def __init__(
        self,
        error_response: dict[str, Any],
        operation_name: str,
        where: str = "",
        hint: str = "",
    ) -> None:
        super().__init__(cast(Any, error_response), operation_name)
        self.where = where
        self.hint = hint
        if hint:
            message: str = super().__str__()
            self.args = (f"{message}\nsigv4_storage: {where}: {hint}",)

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.response, self.operation_name, self.where, self.hint)


UNREACHABLE_HINT = (
    "Check the endpoint (AWS_S3_ENDPOINT_URL / AWS_S3_HOST, or the region's AWS "
    "endpoint), the network and any proxy (AWS_S3_PROXIES). Timeouts and retries "
    "are set with AWS_S3_CLIENT_CONFIG (defaults: connect 5 s, read 30 s, 5 attempts)."
)
_WHERE = "\nsigv4_storage: {where}: {hint}"

#: Where botocore (and django-storages before it) look for credentials, in order.
CREDENTIAL_SOURCES = (
    "settings and OPTIONS (AWS_S3_ACCESS_KEY_ID / AWS_ACCESS_KEY_ID with the secret key, "
    "or access_key / secret_key)",
    "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)",
    "a profile (session_profile or AWS_PROFILE, else 'default': ~/.aws/credentials, "
    "~/.aws/config, SSO, credential_process, role_arn)",
    "a web identity (AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN)",
    "the container role (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI)",
    "the instance role (EC2 instance metadata, unless AWS_EC2_METADATA_DISABLED)",
)
NO_CREDENTIALS_HINT = (
    "no credentials were found. Looked in: "
    + "; ".join(CREDENTIAL_SOURCES)
    + ". Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or give "
    "the machine a role."
)


class S3EndpointUnreachable(EndpointConnectionError):
    """No connection to the endpoint, after botocore's retries."""

    fmt = EndpointConnectionError.fmt + _WHERE


class S3ConnectTimeout(ConnectTimeoutError):
    fmt = ConnectTimeoutError.fmt + _WHERE


class S3ReadTimeout(ReadTimeoutError):
    fmt = ReadTimeoutError.fmt + _WHERE


class S3TLSFailed(SSLError):
    """TLS failed: often https spoken to a plain-http port, or an untrusted certificate."""

    fmt = SSLError.fmt + _WHERE


class S3ConnectionClosed(ConnectionClosedError):
    """The server closed the connection without an answer (http to a TLS port, a proxy)."""

    fmt = ConnectionClosedError.fmt + _WHERE


class S3ProxyUnreachable(ProxyConnectionError):
    fmt = ProxyConnectionError.fmt + _WHERE


class S3HTTPClientFailed(HTTPClientError):
    """Any other failure of the HTTP client (botocore's catch-all)."""

    fmt = HTTPClientError.fmt + _WHERE


class S3NoCredentials(NoCredentialsError):
    """No credentials to sign with: where they were looked for, and the fix."""

    fmt = NoCredentialsError.fmt + _WHERE


#: Phrases OpenSSL uses when the other side answered in plain text, not TLS.
_NOT_TLS = (
    "wrong version number",
    "wrong_version_number",
    "record layer failure",
    "packet length too long",
    "unknown protocol",
    "http request",
)


def error_code(error: Any) -> str:
    """A ``ClientError``'s S3 error code (``"NoSuchKey"``), or ``""``."""
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: Any) -> str:
    """A ``ClientError``'s S3 error message, or ``""``."""
    return str(error.response.get("Error", {}).get("Message", ""))


def retry_attempts(error: Any) -> int:
    """How many times botocore sent the refused request again (0: sent once)."""
    return int(error.response.get("ResponseMetadata", {}).get("RetryAttempts") or 0)


def failure_name(error: BaseException) -> str:
    """What to call a failure in one word: a ``ClientError``'s S3 code
    (``"AccessDenied"``), else the exception's class (``"EndpointConnectionError"``)."""
    return error_code(error) if isinstance(error, ClientError) else type(error).__name__


def error_status(error: Any) -> int | None:
    """A ``ClientError``'s HTTP status, or ``None`` when botocore recorded none."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


def speaks_plain_http(error: Any) -> bool:
    """Whether a TLS failure means the server answered in plain http."""
    text = str(error).lower()
    return any(phrase in text for phrase in _NOT_TLS)


def _netloc(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


@dataclass(frozen=True)
class WrongScheme:
    """A server that speaks the other scheme than its URL says: what, and the fix."""

    netloc: str
    tls: bool  # the server speaks https (and was spoken plain http)

    @property
    def what(self) -> str:
        spoken = "https, not plain http" if self.tls else "plain http, not https"
        return f"the server at {self.netloc} speaks {spoken}"

    @property
    def fix(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"use {scheme}://{self.netloc} (AWS_S3_ENDPOINT_URL, or AWS_S3_USE_SSL = {self.tls})"

    def __str__(self) -> str:
        return f"{self.what}: {self.fix}"


def use_http(netloc: str) -> str:
    """The fix when https was spoken to a plain-http server."""
    return str(WrongScheme(netloc, tls=False))


def tls_hint(exception: Any) -> str:
    netloc = _netloc(str(getattr(exception, "kwargs", {}).get("endpoint_url", "")))
    if speaks_plain_http(exception):
        return use_http(netloc) + "."
    return (
        "the TLS handshake failed. If the server's certificate is self-signed or from a "
        "private CA, set AWS_S3_VERIFY to the CA bundle's path; check the server speaks "
        "https on this port. " + UNREACHABLE_HINT
    )


def closed_hint(exception: Any) -> str:
    url = str(getattr(exception, "kwargs", {}).get("endpoint_url", ""))
    if url.startswith("http://"):
        netloc = _netloc(url)
        return (
            f"the server closed the connection without answering. If {netloc} speaks "
            f"https, use https://{netloc} (AWS_S3_ENDPOINT_URL, or AWS_S3_USE_SSL = True). "
            + UNREACHABLE_HINT
        )
    return "the server closed the connection without answering. " + UNREACHABLE_HINT


#: botocore's failure -> ours (its message, then where and the fix), most specific first.
_UNREACHABLE: tuple[tuple[type, type, Callable[[Any], str]], ...] = (
    (SSLError, S3TLSFailed, tls_hint),
    (ProxyConnectionError, S3ProxyUnreachable, lambda _: UNREACHABLE_HINT),
    (ConnectTimeoutError, S3ConnectTimeout, lambda _: UNREACHABLE_HINT),
    (EndpointConnectionError, S3EndpointUnreachable, lambda _: UNREACHABLE_HINT),
    (ReadTimeoutError, S3ReadTimeout, lambda _: UNREACHABLE_HINT),
    (ConnectionClosedError, S3ConnectionClosed, closed_hint),
    (NoCredentialsError, S3NoCredentials, lambda _: NO_CREDENTIALS_HINT),
    (HTTPClientError, S3HTTPClientFailed, lambda _: UNREACHABLE_HINT),  # the rest, last
)
_OURS = tuple(ours for _, ours, _ in _UNREACHABLE)


def with_context(exception: Exception, where: str) -> Exception | None:
    """Ours for botocore's connection or credentials ``exception``, saying ``where``
    and the fix; None when it is not one of those (or already ours)."""
    if isinstance(exception, _OURS):
        return None
    for botocore_class, ours, hint in _UNREACHABLE:
        if isinstance(exception, botocore_class):
            # What botocore formatted its message with; "?" for what it left out.
            kwargs = {"endpoint_url": "?", "proxy_url": "?", "error": ""}
            kwargs.update(getattr(exception, "kwargs", {}))
            found: Exception = ours(**kwargs, where=where, hint=hint(exception))
            return found
    return None


class RefusalHints:
    """The ``after-call.s3`` handler of one storage's clients."""

    def __init__(self, bucket: str, endpoint: str, region: str) -> None:
        self.where = f"bucket {bucket!r} at {endpoint} (region {region})"
        if unknown_region(region, endpoint):  # the likely cause of "cannot reach"
            self.where += (
                f"; botocore does not know the region {region!r}: check its spelling "
                f"(manage.py check names close matches)"
            )

    def __call__(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if http_response.status_code < 300:
            return
        code = str(parsed.get("Error", {}).get("Code", ""))
        if hint := HINTS.get(code):
            raise S3RequestRefused(parsed, model.name, self.where, hint)

    def unreachable(self, exception: Exception, **_: Any) -> None:
        """``after-call-error``: connection failures and missing credentials name the
        bucket, endpoint and region, and the fix."""
        ours = with_context(exception, self.where)
        if ours is not None:
            raise ours from exception

    def register(self, events: Any) -> None:
        events.register("after-call.s3", self)
        events.register("after-call-error.s3", self.unreachable)
