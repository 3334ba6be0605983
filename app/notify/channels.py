"""The Channel protocol, the fake for other packages' tests, and the factory from destination kind to channel."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from app.notify.failures import PermanentFailure, TemporaryFailure
from app.notify.messages import Destination, OutgoingMessage
from app.notify.robots import DingTalkChannel, WeComChannel
from app.notify.smtp import SmtpChannel
from app.notify.transport import HttpOptions
from app.notify.webhooks import SmsGatewayChannel, WebhookChannel


@runtime_checkable
class Channel(Protocol):
    """Delivers one message to one destination; returns a short receipt or raises a DeliveryError."""

    def send(self, destination: Destination, message: OutgoingMessage) -> str:
        """Deliver once: TemporaryFailure means retry later, PermanentFailure means give up."""
        ...


class FakeChannel:
    """Records what it was asked to send; fails the next `fail_times` sends with TemporaryFailure."""

    def __init__(self, fail_times: int = 0) -> None:
        self.fail_times = fail_times
        self.attempts = 0
        self.sent: list[tuple[Destination, OutgoingMessage]] = []

    def send(self, destination: Destination, message: OutgoingMessage) -> str:
        """Count the attempt, fail if told to, else record the message and return "fake N"."""
        self.attempts += 1
        if self.fail_times > 0:
            self.fail_times -= 1
            raise TemporaryFailure("fake channel told to fail")
        self.sent.append((destination, message))
        return f"fake {len(self.sent)}"

    @property
    def messages(self) -> list[OutgoingMessage]:
        """The messages sent so far, in order."""
        return [message for _, message in self.sent]


HTTP_CHANNELS: dict[str, Callable[[HttpOptions | None], Channel]] = {
    "webhook": WebhookChannel,
    "dingtalk": DingTalkChannel,
    "wecom": WeComChannel,
    "sms": SmsGatewayChannel,
}


def channel_for(kind: str, smtp_settings: Mapping[str, Any] | None = None,
                http_options: HttpOptions | None = None) -> Channel:
    """The channel for a destination kind; `smtp_settings` are SmtpChannel's keyword arguments."""
    if kind == "email":
        if not smtp_settings or not smtp_settings.get("host"):
            raise PermanentFailure("e-mail is not configured (no SMTP host)")
        try:
            return SmtpChannel(**smtp_settings)
        except TypeError as exc:
            raise PermanentFailure(f"SMTP settings: {exc}") from None
    factory = HTTP_CHANNELS.get(kind)
    if factory is None:
        raise PermanentFailure(f"unknown destination kind {kind!r}")
    return factory(http_options)
