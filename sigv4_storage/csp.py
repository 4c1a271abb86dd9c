"""Whether a Content Security Policy lets browsers reach a bucket.

Django 6.0's ``ContentSecurityPolicyMiddleware`` sends ``settings.SECURE_CSP``
(and ``SECURE_CSP_REPORT_ONLY``). The direct-upload widget sends files with
``fetch()`` to the bucket's origin, which the policy's ``connect-src`` (or,
without one, ``default-src``) must allow, or the browser blocks every upload.
This module reads a policy's sources as CSP Level 3 matches them (``*``,
scheme sources, host sources with ``*.`` wildcards and ports, ``'self'``);
the system check (``sigv4_storage.W012``) says which source to add.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` (the port only when not the default)."""
    parts = urlsplit(url)
    port = parts.port
    shown = f":{port}" if port and port != _DEFAULT_PORTS.get(parts.scheme) else ""
    return f"{parts.scheme}://{parts.hostname}{shown}"


def directive(policy: dict[str, object], name: str) -> list[str] | None:
    """The sources of ``name`` in a ``SECURE_CSP``-style dict, falling back to
    ``default-src``; None when neither restricts it."""
    for key in (name, "default-src"):
        if key in policy:
            value = policy[key]
            if isinstance(value, str):
                return value.split()
            if isinstance(value, Iterable):
                return [str(source) for source in value]
    return None


def allows(sources: list[str], url: str, site_hosts: Iterable[str] = ()) -> bool:
    """Whether a request to ``url`` matches one of ``sources``. ``'self'`` matches
    when ``url``'s host is one of ``site_hosts`` (the site's own, from
    ``ALLOWED_HOSTS``: the page's origin is not known here)."""
    parts = urlsplit(url)
    scheme, host = parts.scheme, (parts.hostname or "").lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme)
    for source in (s.strip() for s in sources):
        lowered = source.lower()
        if lowered == "'self'":
            if host in {h.lower() for h in site_hosts}:
                return True
        elif lowered == "*":
            if scheme in _DEFAULT_PORTS:
                return True
        elif lowered.endswith(":") and "/" not in lowered:  # a scheme source: "https:"
            if _scheme_matches(lowered[:-1], scheme):
                return True
        elif not lowered.startswith("'") and _host_matches(lowered, scheme, host, port):
            return True
    return False


def _scheme_matches(expected: str, scheme: str) -> bool:
    """CSP 3: ``http`` also admits ``https`` (and ``ws`` ``wss``)."""
    return expected == scheme or (expected, scheme) in {("http", "https"), ("ws", "wss")}


def _host_matches(source: str, scheme: str, host: str, port: int | None) -> bool:
    """A host source: ``[scheme://]host[:port][/path]``, ``host`` maybe ``*.suffix``."""
    if "://" in source:
        source_scheme, source = source.split("://", 1)
        if not _scheme_matches(source_scheme, scheme):
            return False
    elif scheme not in _DEFAULT_PORTS:
        return False
    source = source.split("/", 1)[0]
    source_host, _, source_port = source.partition(":")
    if source_host.startswith("*."):
        if not host.endswith(source_host[1:]):
            return False
    elif source_host != host:
        return False
    if source_port == "*":
        return True
    if source_port:
        return source_port.isdigit() and int(source_port) == port
    return port == _DEFAULT_PORTS.get(scheme)
