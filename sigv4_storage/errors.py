"""Clear errors for the requests S3 refuses.

botocore's message says what the server answered ("SignatureDoesNotMatch");
it does not say which setting to change. ``RefusalHints`` listens to the
client's ``after-call`` event (botocore's public event system) and, when S3
refuses a request for a reason the project's settings can fix, raises
``S3RequestRefused``: a ``ClientError`` whose message adds the bucket,
endpoint and region used and the fix. It keeps ``response`` and
``operation_name``, so ``except ClientError`` and
``err.response["Error"]["Code"]`` work as before. Connection failures and
timeouts (``after-call-error``) become subclasses of botocore's own
exceptions that add the same: where, and what to check. Messages never contain
credentials: botocore's own message has none, and the hint names settings,
not values.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

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
        "secret key, an unknown access key, or a missing permission. Check "
        + _CREDENTIALS
        + " and the bucket policy."
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


class S3RequestRefused(ClientError):  # type: ignore[misc]
    """S3 refused a request for a reason the settings can fix; see ``hint``."""

    def __init__(
        self,
        error_response: dict[str, Any],
        operation_name: str,
        where: str = "",
        hint: str = "",
    ) -> None:
        super().__init__(error_response, operation_name)
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


class S3EndpointUnreachable(EndpointConnectionError):  # type: ignore[misc]
    """No connection to the endpoint, after botocore's retries."""

    fmt = EndpointConnectionError.fmt + _WHERE


class S3ConnectTimeout(ConnectTimeoutError):  # type: ignore[misc]
    fmt = ConnectTimeoutError.fmt + _WHERE


class S3ReadTimeout(ReadTimeoutError):  # type: ignore[misc]
    fmt = ReadTimeoutError.fmt + _WHERE


_UNREACHABLE = (
    (EndpointConnectionError, S3EndpointUnreachable),
    (ConnectTimeoutError, S3ConnectTimeout),
    (ReadTimeoutError, S3ReadTimeout),
)


class RefusalHints:
    """The ``after-call.s3`` handler of one storage's clients."""

    def __init__(self, bucket: str, endpoint: str, region: str) -> None:
        self.where = f"bucket {bucket!r} at {endpoint} (region {region})"

    def __call__(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if http_response.status_code < 300:
            return
        code = str(parsed.get("Error", {}).get("Code", ""))
        if hint := HINTS.get(code):
            raise S3RequestRefused(parsed, model.name, self.where, hint)

    def unreachable(self, exception: Exception, **_: Any) -> None:
        """``after-call-error``: connection failures name the bucket, endpoint and region."""
        for botocore_class, ours in _UNREACHABLE:
            if isinstance(exception, botocore_class) and not isinstance(exception, ours):
                kwargs = dict(getattr(exception, "kwargs", {}))
                kwargs.setdefault("endpoint_url", "?")
                raise ours(**kwargs, where=self.where, hint=UNREACHABLE_HINT) from exception

    def register(self, events: Any) -> None:
        events.register("after-call.s3", self)
        events.register("after-call-error.s3", self.unreachable)
