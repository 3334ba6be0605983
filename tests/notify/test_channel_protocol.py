"""Every named channel and the fake satisfy the Channel protocol; the factory maps kinds to them."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import app.notify
from app.notify import (
    KINDS,
    Channel,
    Destination,
    DingTalkChannel,
    FakeChannel,
    OutgoingMessage,
    PermanentFailure,
    SmsGatewayChannel,
    SmtpChannel,
    TemporaryFailure,
    WebhookChannel,
    WeComChannel,
    channel_for,
)

IMPLEMENTATIONS = [
    SmtpChannel("127.0.0.1", 25, "none"),
    WebhookChannel(),
    DingTalkChannel(),
    WeComChannel(),
    SmsGatewayChannel(),
    FakeChannel(),
]
FORBIDDEN = ("flask", "sqlalchemy", "flask_sqlalchemy", "SpiffWorkflow", "app.models", "app.operations",
             "app.web", "app.db", "app.extensions")


@pytest.mark.parametrize("channel", IMPLEMENTATIONS, ids=lambda c: type(c).__name__)
def test_implements_the_channel_protocol(channel):
    assert isinstance(channel, Channel)
    expected = inspect.signature(Channel.send)
    actual = inspect.signature(type(channel).send)
    assert list(actual.parameters) == list(expected.parameters)
    assert actual.return_annotation in ("str", str)


def test_fake_channel_fails_as_told_then_records():
    fake = FakeChannel(fail_times=2)
    destination, message = Destination("email", "a@b.cn"), OutgoingMessage(key="d-1", subject="s", body="b")
    for _ in range(2):
        with pytest.raises(TemporaryFailure):
            fake.send(destination, message)
    assert fake.send(destination, message) == "fake 1"
    assert (fake.attempts, fake.sent, fake.messages) == (3, [(destination, message)], [message])


def test_channel_for_every_kind():
    smtp = {"host": "mail.intranet", "port": 25, "security": "none"}
    channels = {kind: channel_for(kind, smtp) for kind in KINDS}
    assert {kind: type(c) for kind, c in channels.items()} == {
        "email": SmtpChannel, "webhook": WebhookChannel, "dingtalk": DingTalkChannel, "wecom": WeComChannel,
        "sms": SmsGatewayChannel}


def test_channel_for_refuses_unknown_kinds_and_missing_smtp_settings():
    with pytest.raises(PermanentFailure, match="unknown"):
        channel_for("pigeon", None)
    with pytest.raises(PermanentFailure, match="SMTP"):
        channel_for("email", None)
    with pytest.raises(PermanentFailure, match="SMTP settings"):
        channel_for("email", {"host": "mail.intranet", "port": 25, "security": "none", "tls": True})


def test_a_destination_of_another_kind_is_refused():
    with pytest.raises(PermanentFailure, match="dingtalk"):
        WebhookChannel().send(Destination("dingtalk", "https://8.8.8.8/"), OutgoingMessage("k", "s", "b"))


def test_the_package_imports_no_web_database_or_engine_code():
    for path in Path(app.notify.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            bad = [n for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)]
            assert bad == [], f"{path.name} imports {bad}"
