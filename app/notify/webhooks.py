"""HTTP channels that POST our own JSON: the generic webhook and the SMS gateway."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from app.notify.failures import PermanentFailure
from app.notify.messages import Destination, OutgoingMessage, check_destination, check_key
from app.notify.transport import HttpOptions, HttpReply, post_json

TOKEN = re.compile(r"^[\x21-\x7e]{1,512}$")  # visible ASCII: nothing that could break a header line
PHONE = re.compile(r"^\+?[0-9]{3,20}$")
SMS_LIMIT = 70  # one Chinese SMS segment


class HttpChannel(ABC):
    """Shared send(): validate, build the request, POST it through the pinned transport, read the reply."""

    kind = ""

    def __init__(self, options: HttpOptions | None = None) -> None:
        self.options = options or HttpOptions()

    def send(self, destination: Destination, message: OutgoingMessage) -> str:
        """Deliver once; return a short receipt or raise TemporaryFailure/PermanentFailure."""
        check_destination(destination, self.kind)
        check_key(message.key)
        url, payload, headers = self.request(destination, message)
        reply = post_json(url, payload, headers, allow_networks=destination.allow_networks,
                          allow_http=destination.allow_http, options=self.options)
        return self.receipt(reply)

    @abstractmethod
    def request(self, destination: Destination, message: OutgoingMessage) -> tuple[str, dict[str, Any], dict[str, str]]:
        """URL, JSON payload and extra headers of the POST."""

    def receipt(self, reply: HttpReply) -> str:
        """Turn a 2xx reply into a receipt; robots override this to read their errcode."""
        return f"HTTP {reply.status}"


class WebhookChannel(HttpChannel):
    """Generic JSON webhook: {"id", "subject", "body", "urgent", "link"} with idempotency headers."""

    kind = "webhook"

    def request(self, destination: Destination, message: OutgoingMessage) -> tuple[str, dict[str, Any], dict[str, str]]:
        """POST to the destination URL with the key as Idempotency-Key and X-Event-Id."""
        payload = {"id": message.key, "subject": message.subject, "body": message.body,
                   "urgent": message.urgent, "link": message.link}
        return destination.address, payload, {**idempotency_headers(message.key), **bearer(destination.secret)}


class SmsGatewayChannel(HttpChannel):
    """SMS through the unit's HTTP gateway: {"to", "text", "id"} POSTed to the registered gateway URL."""

    kind = "sms"

    def request(self, destination: Destination, message: OutgoingMessage) -> tuple[str, dict[str, Any], dict[str, str]]:
        """POST the trimmed subject to the gateway for the phone number in the destination address."""
        if not destination.gateway_url:
            raise PermanentFailure("no SMS gateway URL registered for this destination")
        payload = {"to": check_phone(destination.address), "text": sms_text(message), "id": message.key}
        return destination.gateway_url, payload, {**idempotency_headers(message.key), **bearer(destination.secret)}


def sms_text(message: OutgoingMessage) -> str:
    """The subject on one line, at most 70 characters, marked 【紧急】 when urgent and cut with an ellipsis."""
    text = " ".join(message.subject.split())
    if message.urgent and not text.startswith("【紧急】"):
        text = "【紧急】" + text
    return text if len(text) <= SMS_LIMIT else text[: SMS_LIMIT - 1].rstrip() + "…"


def check_phone(address: str) -> str:
    """A phone number as digits with an optional leading +; spaces and hyphens are dropped."""
    number = re.sub(r"[\s-]", "", address)
    if not PHONE.match(number):
        raise PermanentFailure("not a phone number")
    return number


def idempotency_headers(key: str) -> dict[str, str]:
    """Headers receivers dedupe on; the key is the same on every retry."""
    return {"Idempotency-Key": key, "X-Event-Id": key}


def bearer(secret: str | None) -> dict[str, str]:
    """Authorization header for a registered token, if any."""
    if not secret:
        return {}
    if not TOKEN.match(secret):
        raise PermanentFailure("the registered token contains characters not allowed in a header")
    return {"Authorization": f"Bearer {secret}"}


def call_json(destination: Destination, payload: dict[str, Any], key: str,
              options: HttpOptions | None = None) -> dict[str, Any]:
    """POST `payload` to a registered system and return its answer as {"status", "body"} (the body as
    JSON when it is JSON, else as text). Same SSRF rules, timeouts and failure kinds as the webhooks;
    the idempotency key is the same on every retry, so the receiver can dedupe."""
    reply = post_json(destination.address, payload, {**idempotency_headers(key), **bearer(destination.secret)},
                      allow_networks=destination.allow_networks, allow_http=destination.allow_http, options=options)
    body = reply.json()
    if body is None:
        body = reply.body.decode("utf-8", "replace")[:10_000]
    return {"status": reply.status, "body": body}
