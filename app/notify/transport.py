"""POST JSON to a validated destination: pinned IP, no redirects, timeouts, capped reply (security.md §8).

Built on http.client so the socket goes to the address `check_url` approved while the original host
name travels as the Host header and as the TLS server name (SNI and certificate check).
Environment proxies are ignored on purpose: an intranet deployment reaches its endpoints directly.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from app.notify.failures import PermanentFailure, TemporaryFailure
from app.notify.ssrf import ResolvedAddress, Resolver, check_url

CHUNK = 64 * 1024
MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True)
class HttpOptions:
    """Limits of one HTTP attempt; tests shorten the timeouts and pass an SSL context trusting their CA."""

    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_body: int = 1024 * 1024
    ssl_context: ssl.SSLContext | None = None
    resolve: Resolver | None = None
    user_agent: str = "yuqing-notify/1"


@dataclass(frozen=True)
class HttpReply:
    """A 2xx reply: status and at most `max_body` bytes of the body."""

    status: int
    body: bytes
    truncated: bool = False

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


def post_json(url: str, payload: dict[str, Any], headers: dict[str, str], *, allow_networks: tuple[str, ...] = (),
              allow_http: bool = False, options: HttpOptions | None = None) -> HttpReply:
    """Validate `url` now, POST `payload` to a pinned address and return the 2xx reply, or raise."""
    options = options or HttpOptions()
    addresses = check_url(url, allow_networks, allow_http, resolve=options.resolve)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    all_headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
                   "User-Agent": options.user_agent, "Connection": "close", **headers}
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(addresses, options)
    host = addresses[0].host
    try:
        connection.request("POST", target, body=body, headers=all_headers)
        status, retry_after, data, truncated = _read_reply(connection, options)
    except ssl.SSLCertVerificationError as exc:
        raise PermanentFailure(f"{host}: TLS certificate not accepted ({exc.verify_message})") from None
    except ValueError as exc:  # http.client refuses CR/LF and other invalid characters in header values
        raise PermanentFailure(f"{host}: invalid request header ({exc})") from None
    except (OSError, http.client.HTTPException) as exc:
        raise TemporaryFailure(f"{host}: {_describe(exc)}") from None
    finally:
        connection.close()
    check_status(host, status, retry_after)
    return HttpReply(status, data, truncated)


def check_status(host: str, status: int, retry_after: float | None = None) -> None:
    """Raise the failure an HTTP status means; return for 2xx."""
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        raise PermanentFailure(f"{host}: HTTP {status} redirect; redirects are not followed")
    if status in (408, 429) or status >= 500:
        raise TemporaryFailure(f"{host}: HTTP {status}", retry_after=retry_after)
    raise PermanentFailure(f"{host}: HTTP {status}")


def _read_reply(connection: http.client.HTTPConnection,
                options: HttpOptions) -> tuple[int, float | None, bytes, bool]:
    deadline = time.monotonic() + options.total_timeout
    response = connection.getresponse()
    try:
        retry_after = _retry_after(response.getheader("Retry-After"))
        data = bytearray()
        while len(data) < options.max_body:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("reply took longer than the total timeout")
            if connection.sock is not None:
                connection.sock.settimeout(min(options.read_timeout, remaining))
            chunk = response.read(min(CHUNK, options.max_body - len(data)))
            if not chunk:
                break
            data += chunk
        return response.status, retry_after, bytes(data), not response.isclosed()
    finally:
        response.close()


def _retry_after(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None  # HTTP-date form is ignored; the worker's own backoff applies
    return min(float(value.strip()), MAX_RETRY_AFTER)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{type(exc).__name__}: {exc}"[:200]


def _dial(addresses: list[ResolvedAddress], options: HttpOptions) -> socket.socket:
    """Connect to the first validated address that answers; never to anything else."""
    failure: OSError = ConnectionError("no address")
    for address in addresses:
        sock = socket.socket(address.family, socket.SOCK_STREAM)
        try:
            sock.settimeout(options.connect_timeout)
            sock.connect((address.ip, address.port))
        except OSError as exc:
            sock.close()
            failure = exc
            continue
        sock.settimeout(options.read_timeout)
        return sock
    raise failure


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, addresses: list[ResolvedAddress], options: HttpOptions) -> None:
        super().__init__(addresses[0].host, addresses[0].port, timeout=options.connect_timeout)
        self._addresses = addresses
        self._options = options

    def connect(self) -> None:
        self.sock = _dial(self._addresses, self._options)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def connect(self) -> None:
        sock = _dial(self._addresses, self._options)
        context = self._options.ssl_context or ssl.create_default_context()
        try:
            self.sock = context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
