"""One botocore client per process per distinct configuration.

django-storages builds a boto3 session and resource per thread per storage
instance (about 65 ms each). botocore clients are thread-safe, so here one
client is built per configuration (bucket, region, endpoint, client config,
credentials, signed or not) and shared by every storage instance and
thread; each thread still gets its own boto3 resource object, made from the
shared client in microseconds, since resources are not thread-safe.

Credentials stay botocore's: the shared entry keeps the session's
credentials object, so refreshing credentials (instance roles, web identity,
SSO) are read fresh by every signature. Keys hold a digest of the secret,
never the secret itself.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import botocore
from botocore.config import Config

from . import creates

if TYPE_CHECKING:
    from .storage import SigV4S3Storage

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


def _config_key(config: Config) -> str:
    return repr(sorted((k, repr(v)) for k, v in vars(config).items() if not k.startswith("_")))


def cache_key(
    storage: SigV4S3Storage, signed: bool, public: bool = False, create: bool = False
) -> tuple[Any, ...]:
    s3 = storage.s3_config
    return (
        signed,
        create,
        s3.public_endpoint_url if public else None,
        s3.bucket_name,
        storage.region_name,
        storage.endpoint_url,
        storage.use_ssl,
        repr(storage.verify),
        _config_key(storage.client_config),
        storage.session_profile,
        storage.access_key,
        _digest(storage.secret_key),
        _digest(storage.security_token),
    )


def shared(
    storage: SigV4S3Storage, signed: bool = True, public: bool = False, create: bool = False
) -> Shared:
    """The client for this storage's configuration, built on first use.

    ``public``: a client on ``public_endpoint_url``, used only to presign
    what the fast signer does not cover (it sends no request). ``create``: a
    client whose writes only create (``If-None-Match: *``, see ``creates``).
    """
    key = cache_key(storage, signed, public, create)
    with _lock:
        found = _clients.get(key)
        if found is not None:
            _clients.move_to_end(key)
            return found
        session = storage._create_session()
        config = storage.client_config
        if not signed:
            config = config.merge(Config(signature_version=botocore.UNSIGNED))
        resource = session.resource(
            "s3",
            region_name=storage.region_name,
            use_ssl=storage.use_ssl,
            endpoint_url=storage.s3_config.public_endpoint_url if public else storage.endpoint_url,
            config=config,
            verify=storage.verify,
        )
        if create:
            creates.register(resource.meta.client.meta.events)
        found = Shared(
            client=resource.meta.client,
            credentials=session.get_credentials() if signed else None,
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
