"""Test support for projects that use these storages.

The package keeps three things for the life of the process, so that every
storage and thread shares them: botocore clients (one per configuration),
the regions buckets reported (and failed asks), and the day's signing keys.
In a test suite that is a trap: a client built before ``moto``'s
``mock_aws()`` started is not mocked, and a region learnt in one test
answers the next. ``reset()`` forgets all three; call it around each test
(see "Testing a project that uses these storages" in the README).
"""

from __future__ import annotations

from . import clients, discovery, signer

__all__ = ["reset"]


def reset() -> None:
    """Forget shared clients, cached bucket regions and cached signing keys.

    Storages built before the call keep working: they build a new client on
    their next request. Nothing is sent over the network.
    """
    clients.clear_cache()
    discovery.clear_cache()
    signer.clear_cache()
