"""One botocore client per process per distinct configuration.

django-storages builds a boto3 session and resource per thread per storage
instance. botocore clients are thread-safe, so here one client is built per
configuration (the storage's ``S3Config``, who signs, what the client is
for) and shared by every storage instance and thread; each thread still gets
its own boto3 resource object, made from the shared client, since resources
are not thread-safe.

The seam is the one ``discovery.bucket_region`` has: the key is built from
the ``S3Config`` and an ``Access`` (credential identity and TLS
verification), and the storage supplies the factory that builds a boto3
session with its credentials. Nothing here reads a storage.

Credentials stay botocore's: the shared entry keeps the session's
credentials object, so refreshing credentials (instance roles, web identity,
SSO) are read fresh by every signature. Keys hold a digest of the secret,
never the secret itself.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import botocore
from botocore.config import Config

from . import creates
from .config import S3Config

#: Enough for every storage of a project; old entries go first past it.
MAX_CLIENTS = 64

_clients: OrderedDict[tuple[Any, ...], Shared] = OrderedDict()
_lock = threading.Lock()
#: Bumped by every clear_cache(): storages drop the clients they hold.
_generation = 0


@dataclass(frozen=True)
class Shared:
    client: Any
    #: botocore's credentials object (refreshable ones refresh themselves); None if unsigned.
    credentials: Any
    resource_class: type

    def resource(self) -> Any:
        """A boto3 S3 resource on the shared client, for one thread."""
        return self.resource_class(client=self.client)


def _digest(value: str | None) -> str | None:
    return hashlib.sha256(value.encode()).hexdigest() if value else None


@dataclass(frozen=True)
class Want:
    """What a client is for."""

    signed: bool = True
    #: On ``public_endpoint_url``: only to presign what the fast signer does not
    #: cover (it sends no request).
    public: bool = False
    #: Writes that only create (``If-None-Match: *``, see ``creates``).
    create: bool = False


@dataclass(frozen=True)
class Access:
    """Who signs and how TLS is checked: what a client needs beyond the ``S3Config``.

    ``new_session`` builds a boto3 session with the storage's credentials
    (django-storages' rules: settings, OPTIONS, profile, environment, role).
    ``identity`` keys it: profile, access key id, and digests of the secret
    and token, never the secret.
    """

    new_session: Callable[[], Any] = field(compare=False, repr=False)
    identity: tuple[Any, ...]
    verify: Any = None

    @classmethod
    def of(
        cls,
        new_session: Callable[[], Any],
        *,
        profile: str | None,
        access_key: str | None,
        secret_key: str | None,
        token: str | None,
        verify: Any,
    ) -> Access:
        identity = (profile, access_key, _digest(secret_key), _digest(token), repr(verify))
        return cls(new_session, identity, verify)


def _config_key(config: Config) -> str:
    return repr(sorted((k, repr(v)) for k, v in vars(config).items() if not k.startswith("_")))


def client_kwargs(s3: S3Config, want: Want) -> dict[str, Any]:
    """Keyword arguments for ``session.resource("s3", ...)`` for ``want``."""
    kwargs = s3.client_kwargs()
    if want.public:
        kwargs["endpoint_url"] = s3.public_endpoint_url
    if not want.signed:
        kwargs["config"] = kwargs["config"].merge(Config(signature_version=botocore.UNSIGNED))
    return kwargs


def cache_key(s3: S3Config, want: Want, access: Access) -> tuple[Any, ...]:
    kwargs = client_kwargs(s3, want)
    return (
        want,
        access.identity,
        s3.bucket_name,
        kwargs["region_name"],
        kwargs["endpoint_url"],
        kwargs["use_ssl"],
        _config_key(kwargs["config"]),
    )


def shared(s3: S3Config, want: Want, access: Access) -> Shared:
    """The client for this configuration, built on first use."""
    key = cache_key(s3, want, access)
    with _lock:
        found = _clients.get(key)
        if found is not None:
            _clients.move_to_end(key)
            return found
        session = access.new_session()
        resource = session.resource("s3", verify=access.verify, **client_kwargs(s3, want))
        if want.create:
            creates.register(resource.meta.client.meta.events)
        found = Shared(
            client=resource.meta.client,
            credentials=session.get_credentials() if want.signed else None,
            resource_class=type(resource),
        )
        _clients[key] = found
        while len(_clients) > MAX_CLIENTS:
            _clients.popitem(last=False)
        return found


def count() -> int:
    return len(_clients)


def generation() -> int:
    """How many times the cache was cleared: storages compare it with theirs."""
    return _generation


def clear_cache() -> None:
    """Drop every shared client (``sigv4_storage.testing.reset``)."""
    global _generation
    with _lock:
        _clients.clear()
        _generation += 1
