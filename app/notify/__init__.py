"""Outgoing messages: templates and channels. Knows no database and no Flask request.

One folder per notification type under templates/notify/<type>/ with subject.txt and body.txt,
rendered in Jinja's sandbox (author-supplied text is code, docs/security.md §1).
Channels deliver one message to one destination and raise TemporaryFailure or PermanentFailure; the
worker owns retries. Never import flask, sqlalchemy, app.models, app.operations, app.web or
SpiffWorkflow here. Formats, SSRF rules and the retry contract: docs/notifications.md.
"""

from app.notify.channels import HTTP_CHANNELS, Channel, FakeChannel, channel_for
from app.notify.failures import DeliveryError, PermanentFailure, TemporaryFailure
from app.notify.messages import KINDS, Destination, OutgoingMessage
from app.notify.robots import DingTalkChannel, WeComChannel, dingtalk_sign
from app.notify.smtp import SmtpChannel, check_email_address
from app.notify.ssrf import DENIED_PORTS, ResolvedAddress, check_url
from app.notify.transport import HttpOptions, HttpReply
from app.notify.webhooks import SmsGatewayChannel, WebhookChannel, call_json, sms_text

__all__ = [
    "DENIED_PORTS",
    "HTTP_CHANNELS",
    "KINDS",
    "Channel",
    "DeliveryError",
    "Destination",
    "DingTalkChannel",
    "FakeChannel",
    "HttpOptions",
    "HttpReply",
    "OutgoingMessage",
    "PermanentFailure",
    "ResolvedAddress",
    "SmsGatewayChannel",
    "SmtpChannel",
    "TemporaryFailure",
    "WeComChannel",
    "WebhookChannel",
    "call_json",
    "channel_for",
    "check_email_address",
    "check_url",
    "dingtalk_sign",
    "sms_text",
]
