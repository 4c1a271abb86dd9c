"""Test support for projects that use these storages.

The package keeps four things for the life of the process, so that every
storage and thread shares them: botocore clients (one per configuration),
the regions buckets reported (and failed asks), the day's signing keys, and
the endpoints that refused conditional writes.
In a test suite that is a trap: a client built before ``moto``'s
``mock_aws()`` started is not mocked, and a region learnt in one test
answers the next. ``reset()`` forgets them all; call it around each test
(see docs/testing.md).
"""

from __future__ import annotations

from . import behaviour, clients, discovery, signer

__all__ = ["reset"]


def reset() -> None:
    """Forget shared clients, bucket regions, signing keys and what servers showed
    they honour (``behaviour``).

    Storages built before the call keep working: they build a new client on
    their next request. Nothing is sent over the network.
    """
    clients.clear_cache()
    behaviour.clear_cache()
    discovery.clear_cache()
    signer.clear_cache()
