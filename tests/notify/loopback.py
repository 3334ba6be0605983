"""Real servers on 127.0.0.1 for the channel tests: an HTTP(S) recorder and an SMTP sink."""

from __future__ import annotations

import email
import email.policy
import http.server
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

LOOPBACK = ("127.0.0.0/8", "::1/128")  # what the tests allow-list: localhost may resolve to either
# Seconds an SMTP sink may take to start (aiosmtpd's default is 5, which a busy machine can exceed);
# start() returns as soon as the server answers.
READY_TIMEOUT = 60.0


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"errcode": 0, "errmsg": "ok"}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    server: RecordingServer

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.requests.append(Recorded(self.command, self.path, dict(self.headers.items()), body))
        reply = self.server.replies.get(self.path.split("?")[0], Reply())
        if reply.delay and self.server.stopping.wait(reply.delay):
            return
        try:
            self.send_response(reply.status)
            for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            pass  # the client hung up on purpose (the 1 MB cap)

    def log_message(self, format: str, *args: object) -> None:
        pass


class RecordingServer(http.server.ThreadingHTTPServer):
    """Answers each path with the Reply registered for it and records every request and connection."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[Recorded] = []
        self.replies: dict[str, Reply] = {}
        self.connections = 0
        self.server_names: list[str | None] = []
        self.stopping = threading.Event()
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str = "/hook", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def verify_request(self, request: object, client_address: object) -> bool:
        self.connections += 1
        return True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up mid-handshake or mid-reply is what several tests do

    def start(self) -> RecordingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join()


class SmtpSink:
    """aiosmtpd handler that keeps accepted messages, or answers RCPT/DATA with a chosen code."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"
