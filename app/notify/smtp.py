"""E-mail over SMTP: one plain recipient, a stable Message-ID, UTF-8 text (docs/security.md §8)."""

from __future__ import annotations

import re
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from app.notify.failures import DeliveryError, PermanentFailure, TemporaryFailure
from app.notify.messages import Destination, OutgoingMessage, check_destination, check_key

SECURITY = ("none", "starttls", "ssl")
LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DOMAIN = re.compile(rf"^{LABEL}(?:\.{LABEL})*$")
LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def check_email_address(address: str) -> str:
    """A single plain ASCII address (local@domain); anything else, display names and lists included, is refused."""
    local, at, domain = address.rpartition("@")
    if not at or len(address) > 254 or len(local) > 64 or not LOCAL.match(local) or not DOMAIN.match(domain):
        raise PermanentFailure("not a single plain e-mail address")
    return address


def one_line(text: str) -> str:
    """Header text with every line break, tab and control character collapsed to one space."""
    cleaned = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)
    return " ".join(cleaned.split())


class SmtpChannel:
    """Sends one e-mail per message; the Message-ID <key@hostname> is the same on every retry."""

    kind = "email"

    def __init__(self, host: str, port: int, security: str, *, username: str | None = None,  # noqa: PLR0913 - admin settings
                 password: str | None = None, sender: str = "yuqing@localhost", timeout: float = 10,
                 hostname_for_message_id: str = "yuqing.local", ssl_context: ssl.SSLContext | None = None) -> None:
        if security not in SECURITY:
            raise PermanentFailure(f"SMTP security must be one of {', '.join(SECURITY)}")
        if username and security == "none":
            raise PermanentFailure("refusing to send the SMTP password without TLS (use starttls or ssl)")
        if not DOMAIN.match(hostname_for_message_id):
            raise PermanentFailure("hostname_for_message_id must be a domain name")
        self.host, self.port, self.security, self.timeout = host, port, security, timeout
        self.username, self.password = username, password
        self.sender = check_email_address(sender)
        self.hostname = hostname_for_message_id
        self.ssl_context = ssl_context

    def send(self, destination: Destination, message: OutgoingMessage) -> str:
        """Deliver once; return the Message-ID or raise TemporaryFailure/PermanentFailure."""
        check_destination(destination, self.kind)
        check_key(message.key)
        recipient = check_email_address(destination.address)
        email = self.build(recipient, message)
        self._transmit(email, recipient)
        return str(email["Message-ID"])

    def build(self, recipient: str, message: OutgoingMessage) -> EmailMessage:
        """The e-mail (policy default: a header with CR or LF would be refused, and we collapse them first)."""
        email = EmailMessage()
        email["Subject"] = one_line(message.subject)
        email["From"] = self.sender
        email["To"] = Address(display_name=one_line(message.recipient_name), addr_spec=recipient)
        email["Date"] = formatdate(localtime=True)
        email["Message-ID"] = f"<{message.key}@{self.hostname}>"
        if message.urgent:
            email["X-Priority"] = "1"
            email["Importance"] = "high"
        text = message.body + (f"\n\n{message.link}\n" if message.link else "\n")
        email.set_content(text, charset="utf-8", cte="7bit" if text.isascii() else "base64")
        return email

    def _transmit(self, email: EmailMessage, recipient: str) -> None:
        try:
            smtp = self._open()
            try:
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email, from_addr=self.sender, to_addrs=[recipient])
            finally:
                _quit(smtp)
        except DeliveryError:
            raise
        except Exception as exc:
            raise _failure(exc) from None

    def _open(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, local_hostname=self.hostname, timeout=self.timeout,
                                    context=context)
        smtp = smtplib.SMTP(self.host, self.port, local_hostname=self.hostname, timeout=self.timeout)
        if self.security == "starttls":
            try:
                smtp.starttls(context=context)
            except BaseException:
                smtp.close()
                raise
        return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    # The message may already be accepted: a failing QUIT must not turn that into a failure.
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _failure(exc: Exception) -> DeliveryError:
    """SMTP 4xx and network trouble are temporary; 5xx, TLS certificate and capability problems are permanent."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return _by_code(code, text)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentFailure(f"SMTP server lacks a needed extension: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentFailure(f"SMTP server TLS certificate not accepted ({exc.verify_message})")
    if isinstance(exc, smtplib.SMTPException | OSError):
        return TemporaryFailure(f"SMTP: {'timed out' if isinstance(exc, TimeoutError) else exc}"[:200])
    return PermanentFailure(f"SMTP: {type(exc).__name__}: {exc}"[:200])


def _by_code(code: int, text: bytes | str) -> DeliveryError:
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    reason = f"SMTP {code} {detail}"[:200]
    return PermanentFailure(reason) if code >= 500 else TemporaryFailure(reason)
