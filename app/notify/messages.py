"""The two values every channel takes: what to say (OutgoingMessage) and where to (Destination)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.notify.failures import PermanentFailure

KINDS = ("email", "webhook", "dingtalk", "wecom", "sms")
KEY = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$")  # a dot-atom: valid in a Message-ID and a header


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered notification; `key` is stable across retries so receivers can dedupe on it."""

    key: str
    subject: str
    body: str
    urgent: bool = False
    link: str | None = None
    recipient_name: str = ""
    mentions: tuple[str, ...] = ()  # mobiles a DingTalk/WeCom group robot @-mentions (a text message then)


@dataclass(frozen=True)
class Destination:
    """Where a message goes, as an admin registered it.

    `address` is an e-mail address (email), a phone number (sms) or a URL (webhook, dingtalk, wecom).
    `secret` is the DingTalk signing secret or the bearer token of a webhook or SMS gateway.
    `allow_networks` and `allow_http` are the admin's deliberate exceptions to the SSRF rules.
    """

    kind: str
    address: str
    secret: str | None = None
    allow_networks: tuple[str, ...] = ()
    allow_http: bool = False
    gateway_url: str | None = None


def check_destination(destination: Destination, kind: str) -> None:
    """Refuse a destination meant for another channel."""
    if destination.kind != kind:
        raise PermanentFailure(f"a {destination.kind!r} destination cannot be sent through the {kind} channel")


def check_key(key: str) -> None:
    """Idempotency keys travel in headers and Message-IDs: short, ASCII, no spaces."""
    if len(key) > 128 or not KEY.match(key):
        raise PermanentFailure("idempotency key must be up to 128 characters of A-Z a-z 0-9 _ - and inner dots")
