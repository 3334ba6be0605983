"""Loopback servers for the channel tests; nothing here needs the internet or the database."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.notify.loopback import READY_TIMEOUT, RecordingServer, SmtpSink, free_port


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for localhost, hooks.example and 127.0.0.1, made with the openssl tool."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed, so no self-signed certificate can be made")
    folder = tmp_path_factory.mktemp("tls")
    files = TlsFiles(folder / "cert.pem", folder / "key.pem")
    result = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(files.key), "-out", str(files.cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,DNS:hooks.example,IP:127.0.0.1"],
        capture_output=True, check=False, timeout=30)
    if result.returncode != 0:
        pytest.skip(f"openssl could not make a self-signed certificate: {result.stderr.decode()[:200]}")
    return files


@pytest.fixture
def web() -> Iterator[RecordingServer]:
    """A plain-http recorder on 127.0.0.1."""
    server = RecordingServer().start()
    yield server
    server.stop()


@pytest.fixture
def tls_web(tls_files: TlsFiles) -> Iterator[RecordingServer]:
    """An https recorder on 127.0.0.1 with the self-signed certificate."""
    server = RecordingServer(tls=tls_files.server_context()).start()
    yield server
    server.stop()


@pytest.fixture
def smtp_sink() -> Iterator[tuple[SmtpSink, int]]:
    """An aiosmtpd server on 127.0.0.1 that keeps what it accepts."""
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=READY_TIMEOUT)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def starttls_sink(tls_files: TlsFiles) -> Iterator[tuple[SmtpSink, int]]:
    """An aiosmtpd server that requires STARTTLS before MAIL."""
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=READY_TIMEOUT,
                            tls_context=tls_files.server_context(), require_starttls=True)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def smtps_sink(tls_files: TlsFiles) -> Iterator[tuple[SmtpSink, int]]:
    """An aiosmtpd server speaking implicit TLS (SMTPS)."""
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=READY_TIMEOUT,
                            ssl_context=tls_files.server_context())
    controller.start()
    yield sink, port
    controller.stop()


def _authenticate(server: object, session: object, envelope: object, mechanism: str, auth_data: object) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"yq", b"pw")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_sink(tls_files: TlsFiles) -> Iterator[tuple[SmtpSink, int]]:
    """An aiosmtpd server that requires STARTTLS and then AUTH as yq/pw."""
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=READY_TIMEOUT,
                            tls_context=tls_files.server_context(), require_starttls=True,
                            authenticator=_authenticate, auth_required=True)
    controller.start()
    yield sink, port
    controller.stop()
