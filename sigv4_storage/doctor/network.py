"""The doctor's plain HTTP: what a browser or a bare socket would see of the
server (URLs fetched, forms posted, CORS preflights, why nothing answers)."""

from __future__ import annotations

import re
import socket
import ssl
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit

from ..errors import WrongScheme, speaks_plain_http


def headers_of(response: Any) -> dict[str, str]:
    """A botocore answer's HTTP headers (an answer, or a ``ClientError``'s ``response``)."""
    headers: dict[str, str] = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) or {}
    return headers


def fetch(url: str, timeout: float = 15) -> tuple[int, bytes]:
    """GET with a plain HTTP client, as a browser would."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def post_form(url: str, fields: dict[str, Any], body: bytes, timeout: float = 15) -> int:
    """A presigned POST form sent as a browser sends it (fields, then the file);
    the HTTP status."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="probe.txt"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + body
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    request = urllib.request.Request(
        url,
        data=b"".join(parts),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def connection_cause(endpoint_url: str, timeout: float = 5) -> str | WrongScheme | None:
    """Why nothing usable answers at ``endpoint_url``'s host and port, or None if a
    server there speaks the URL's scheme. Names the mismatch when the server speaks
    the other one (TLS on an http:// URL, plain http on an https:// URL)."""
    parts = urlsplit(endpoint_url)
    host = parts.hostname or ""
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    netloc = parts.netloc
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as error:
        return f"nothing answers at {host}:{port} ({error.strerror or error})"
    if tls:
        sock.close()
        failed = _tls_handshake(host, port, timeout)
        if failed is None:
            return None
        if speaks_plain_http(failed):
            return WrongScheme(netloc, tls=False)
        return f"TLS failed at {netloc}: {failed}"
    with sock:
        try:
            request = f"HEAD / HTTP/1.1\r\nHost: {netloc}\r\nConnection: close\r\n\r\n"
            sock.sendall(request.encode())
            answer = sock.recv(5)
        except OSError:  # a TLS server resets a plain-text request
            answer = b""
    if answer.startswith(b"HTTP/"):
        return None
    if _tls_handshake(host, port, timeout) is None:
        return WrongScheme(netloc, tls=True)
    return f"the server at {netloc} does not answer HTTP"


def _tls_handshake(host: str, port: int, timeout: float) -> Exception | None:
    """A TLS handshake that only asks "is this TLS?" (no certificate check): None
    when it succeeds, else why not."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            context.wrap_socket(sock, server_hostname=host).close()
    except (OSError, ssl.SSLError) as error:
        return error
    return None


def preflight(url: str, origin: str, method: str, timeout: float = 15) -> dict[str, str]:
    """A browser's CORS preflight (OPTIONS); the answer's headers, lower-cased
    (empty when refused)."""
    request = urllib.request.Request(
        url,
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError:
        return {}


def xml_code(body: bytes) -> str:
    found = re.search(rb"<Code>([^<]+)</Code>", body or b"")
    return found.group(1).decode("ascii", "replace") if found else ""
