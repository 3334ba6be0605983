"""Group-robot webhooks of the work IMs: DingTalk (钉钉, 浙政钉) and WeCom (企业微信, 政务微信), markdown messages.

A message that @-mentions people (`mentions`: their mobiles) goes as a text message instead, the only
kind both robots notify members by mobile in: DingTalk wants each `@mobile` in the content as well as
in `at.atMobiles`; WeCom takes `text.mentioned_mobile_list`.

Both answer HTTP 200 with {"errcode": 0} on success and another errcode on failure.
Text from incidents cannot forge links or HTML: [ ] < > become their full-width forms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

from app.notify.failures import PermanentFailure, TemporaryFailure
from app.notify.messages import Destination, OutgoingMessage
from app.notify.transport import HttpOptions, HttpReply
from app.notify.webhooks import HttpChannel

URGENT = "【紧急】"
MAX_BODY_CHARS = 3000
WECOM_MAX_BYTES = 4096
NEUTRAL = str.maketrans({"[": "［", "]": "］", "<": "＜", ">": "＞"})
LINK_SAFE = ":/?#@!$&'*+,;=%-._~"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class DingTalkChannel(HttpChannel):
    """DingTalk group robot; signs the URL with timestamp and sign when the destination has a secret."""

    kind = "dingtalk"
    temporary_errcodes = frozenset({-1, 130101})  # system busy; sending too fast (20 per minute)

    def __init__(self, options: HttpOptions | None = None, now_ms: Callable[[], int] = _now_ms) -> None:
        super().__init__(options)
        self.now_ms = now_ms

    def request(self, destination: Destination, message: OutgoingMessage) -> tuple[str, dict[str, Any], dict[str, str]]:
        """The markdown payload, POSTed to the robot URL (signed if a secret is set)."""
        title = (URGENT if message.urgent else "") + heading(message.subject)
        if message.mentions:
            content = plain_text(message) + "\n" + " ".join(f"@{mobile}" for mobile in message.mentions)
            payload = {"msgtype": "text", "text": {"content": content},
                       "at": {"atMobiles": list(message.mentions), "isAtAll": False}}
        else:
            text = f"### {title}\n\n{markdown_body(message)}"
            payload = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
        url = destination.address
        if destination.secret:
            url = signed_url(url, destination.secret, self.now_ms())
        return url, payload, {}

    def receipt(self, reply: HttpReply) -> str:
        """errcode 0 is success; throttling and busy are temporary; anything else is permanent."""
        return errcode_receipt(reply, self.temporary_errcodes)


class WeComChannel(HttpChannel):
    """WeCom group robot (the key is part of the registered URL; no signing)."""

    kind = "wecom"
    temporary_errcodes = frozenset({-1, 45009, 45033})  # system busy; frequency limit; concurrency limit

    def request(self, destination: Destination, message: OutgoingMessage) -> tuple[str, dict[str, Any], dict[str, str]]:
        """The markdown payload, at most 4096 bytes of content (text with @-mentions when there are some)."""
        if message.mentions:
            content = plain_text(message).encode("utf-8")[:WECOM_MAX_BYTES // 2].decode("utf-8", errors="ignore")
            return destination.address, {"msgtype": "text", "text": {
                "content": content, "mentioned_mobile_list": list(message.mentions)}}, {}
        flag = f'<font color="warning">{URGENT}</font>' if message.urgent else ""
        content = f"### {flag}{heading(message.subject)}\n{markdown_body(message)}"
        content = content.encode("utf-8")[:WECOM_MAX_BYTES].decode("utf-8", errors="ignore")
        return destination.address, {"msgtype": "markdown", "markdown": {"content": content}}, {}

    def receipt(self, reply: HttpReply) -> str:
        """errcode 0 is success; busy and frequency limits are temporary."""
        return errcode_receipt(reply, self.temporary_errcodes)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature: urlencoded base64 of HMAC-SHA256(secret, f"{timestamp}\\n{secret}")."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot URL with timestamp and sign appended to its query."""
    parts = urlsplit(url)
    extra = f"timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def neutral(text: str) -> str:
    """Text as markdown that cannot open a link, an image or an HTML tag."""
    return text.translate(NEUTRAL)


def heading(subject: str) -> str:
    """The subject on one line, neutralised."""
    return neutral(" ".join(subject.split()))


def markdown_body(message: OutgoingMessage) -> str:
    """Body paragraphs plus a 查看详情 link to the instance page."""
    body = message.body if len(message.body) <= MAX_BODY_CHARS else message.body[:MAX_BODY_CHARS] + "…"
    text = "\n\n".join(line for line in neutral(body).splitlines() if line.strip())
    if message.link:
        if not message.link.startswith(("https://", "http://")):
            raise PermanentFailure("message link must be an absolute http(s) URL")
        text += f"\n\n[查看详情]({quote(message.link, safe=LINK_SAFE)})"
    return text


def plain_text(message: OutgoingMessage) -> str:
    """Subject, body and the link as plain text (a text message renders no markdown)."""
    body = message.body if len(message.body) <= MAX_BODY_CHARS else message.body[:MAX_BODY_CHARS] + "…"
    lines = [(URGENT if message.urgent else "") + " ".join(message.subject.split())]
    lines += [line for line in body.splitlines() if line.strip()]
    if message.link:
        if not message.link.startswith(("https://", "http://")):
            raise PermanentFailure("message link must be an absolute http(s) URL")
        lines.append(f"查看详情:{message.link}")
    return "\n".join(lines)


def errcode_receipt(reply: HttpReply, temporary: frozenset[int]) -> str:
    """Read a robot's {"errcode": n, "errmsg": ...} reply."""
    data = reply.json()
    if not isinstance(data, dict) or not isinstance(data.get("errcode"), int):
        raise PermanentFailure(f"HTTP {reply.status} without a robot reply (is the URL a group robot?)")
    errcode = data["errcode"]
    if errcode == 0:
        return f"HTTP {reply.status} errcode 0"
    reason = f"robot errcode {errcode}: {str(data.get('errmsg', ''))[:200]}"
    if errcode in temporary:
        raise TemporaryFailure(reason)
    raise PermanentFailure(reason)
