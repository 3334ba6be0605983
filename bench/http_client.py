"""An HTTP client with the Flask test client's surface, so tests/e2e's Browser can drive a real server.

Every request is timed on the client and the server's own cost headers (bench/wsgi.py) are kept:
`log` holds one `Sample` per request (redirects are followed as separate, separately logged requests).
"""

from __future__ import annotations

import http.client
import io
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

IDLE_SECONDS = 1.0  # gunicorn's keep-alive is 2 s


@dataclass
class Sample:
    method: str
    path: str
    action: str  # the form's `_action` (complete, claim, save …) when there is one
    status: int
    ms: float
    statements: int
    cpu_ms: float
    started: float


class _Request:
    def __init__(self, path: str, query: str):
        self.path = path
        self.query_string = query.encode()


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes, path: str, query: str):
        self.status_code = status
        self.headers = headers
        self._body = body
        self.request = _Request(path, query)

    def get_data(self, as_text: bool = False) -> Any:
        return self._body.decode() if as_text else self._body


class HttpClient:
    """One person's connection (keep-alive) and cookies against `host:port`."""

    def __init__(self, host: str, port: int, log: list[Sample], lock: threading.Lock | None = None):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.log = log
        self.lock = lock or threading.Lock()
        self.connection: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    def get(self, url: str, query_string: dict | None = None, follow_redirects: bool = True,
            **_ignored: Any) -> Response:
        if query_string:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query_string, doseq=True)
        return self._send("GET", url, None, {}, follow_redirects, "")

    def post(self, url: str, data: dict | None = None, follow_redirects: bool = True,
             content_type: str | None = None, **_ignored: Any) -> Response:
        data = data or {}
        action = _first(data.get("_action"))
        has_files = any(isinstance(v, tuple) for values in data.values() for v in _listed(values))
        if content_type == "multipart/form-data" or has_files:
            body, ctype = _multipart(data)
        else:
            body = urllib.parse.urlencode({k: _listed(v) for k, v in data.items()}, doseq=True).encode()
            ctype = "application/x-www-form-urlencoded"
        # The action names the request for the server's profiler (bench/wsgi.py, YQ_BENCH_PROFILE).
        return self._send("POST", url, body, {"Content-Type": ctype, "X-Bench-Action": action or ""},
                          follow_redirects, action)

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str], follow: bool,
              action: str) -> Response:
        for _hop in range(10):
            status, response_headers, payload, ms = self._once(method, url, body, headers)
            path, _, query = url.partition("?")
            with self.lock:
                self.log.append(Sample(method, path, action, status, ms,
                                       int(response_headers.get("x-bench-statements", 0)),
                                       int(response_headers.get("x-bench-cpu-us", 0)) / 1000, time.monotonic()))
            if follow and status in (301, 302, 303, 307, 308):
                location = urllib.parse.urlsplit(response_headers["location"])
                url = location.path + (f"?{location.query}" if location.query else "")
                method, body, headers, action = "GET", None, {}, ""
                continue
            return Response(status, response_headers, payload, path, query)
        raise RuntimeError(f"too many redirects from {url}")

    def _once(self, method: str, url: str, body: bytes | None, headers: dict[str, str]):
        headers = {**headers, "Host": f"{self.host}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.connection is not None and time.monotonic() - self.last_used > IDLE_SECONDS:
            self.connection.close()  # gunicorn drops idle keep-alive connections: never resend a form on one
            self.connection = None
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
            started = time.perf_counter()
            try:
                self.connection.request(method, url, body=body, headers=headers)
                response = self.connection.getresponse()
                payload = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
                continue
            ms = (time.perf_counter() - started) * 1000
            self.last_used = time.monotonic()
            response_headers = {k.lower(): v for k, v in response.getheaders()}
            for value in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(value).items():
                    self.cookies[name] = morsel.value
            return response.status, response_headers, payload, ms
        raise RuntimeError("unreachable")


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) and not _is_file(value) else [value]


def _is_file(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], io.IOBase)


def _first(value: Any) -> str:
    items = _listed(value) if value is not None else []
    return str(items[0]) if items else ""


def _multipart(data: dict[str, Any]) -> tuple[bytes, str]:
    boundary = "bench" + secrets.token_hex(12)
    out = io.BytesIO()
    for name, values in data.items():
        for value in _listed(values):
            out.write(f"--{boundary}\r\n".encode())
            if _is_file(value):
                stream, filename = value
                out.write(f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode())
                out.write(b"Content-Type: application/octet-stream\r\n\r\n")
                out.write(stream.read())
            else:
                out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
                out.write(str(value).encode())
            out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"
