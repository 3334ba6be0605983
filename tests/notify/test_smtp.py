"""SmtpChannel against a real aiosmtpd server on loopback."""

from __future__ import annotations

import pytest

from app.notify import Destination, OutgoingMessage, PermanentFailure, SmtpChannel, TemporaryFailure
from tests.notify.loopback import free_port

TO = Destination("email", "zhangsan@bureau.gov.cn")


def make_message(**overrides: object) -> OutgoingMessage:
    values = {"key": "delivery-42", "subject": "舆情快报：某地突发事件", "body": "请立即处理。\n第二行",
              "link": "https://yq.bureau.gov.cn/instances/7", "recipient_name": "张三"}
    return OutgoingMessage(**{**values, **overrides})


def make_channel(port: int, **overrides: object) -> SmtpChannel:
    return SmtpChannel(**{"host": "127.0.0.1", "port": port, "security": "none", "timeout": 30, **overrides})


def test_sends_utf8_chinese_with_a_stable_message_id(smtp_sink):
    sink, port = smtp_sink
    receipt = make_channel(port).send(TO, make_message(urgent=True))
    [mail] = sink.messages
    assert receipt == "<delivery-42@yuqing.local>" == mail["Message-ID"]
    assert mail["Subject"] == "舆情快报：某地突发事件"
    assert mail.get_content() == "请立即处理。\n第二行\n\nhttps://yq.bureau.gov.cn/instances/7\n"
    assert mail["To"].addresses[0].display_name == "张三"
    assert mail["X-Priority"] == "1"
    assert mail["Date"] is not None
    assert sink.envelopes == [("yuqing@localhost", ["zhangsan@bureau.gov.cn"])]


def test_a_retry_carries_the_same_message_id(smtp_sink):
    sink, port = smtp_sink
    channel = make_channel(port, hostname_for_message_id="yq.example")
    first = channel.send(TO, make_message())
    second = channel.send(TO, make_message())
    assert first == second == "<delivery-42@yq.example>"
    assert [m["Message-ID"] for m in sink.messages] == [first, first]
    assert "X-Priority" not in sink.messages[0]


def test_header_injection_in_subject_and_name_is_neutralised(smtp_sink):
    sink, port = smtp_sink
    make_channel(port).send(TO, make_message(subject="a\r\nBcc: x@evil", recipient_name="张三\nCc: y@evil"))
    [mail] = sink.messages
    assert "Bcc" not in mail and "Cc" not in mail
    assert mail["Subject"] == "a Bcc: x@evil"
    assert sink.envelopes[0][1] == ["zhangsan@bureau.gov.cn"]


@pytest.mark.parametrize("address", ["a@b, c@d", "<x>", "x", "张三 <a@b.cn>", "a@b.cn\r\nRCPT TO:<c@d>", "",
                                     "a..b@c.cn", "a@-b.cn", "a@b.cn>"])
def test_anything_but_one_plain_address_is_refused(smtp_sink, address):
    sink, port = smtp_sink
    with pytest.raises(PermanentFailure):
        make_channel(port).send(Destination("email", address), make_message())
    assert sink.messages == []


def test_a_stopped_server_is_a_temporary_failure():
    with pytest.raises(TemporaryFailure):
        make_channel(free_port()).send(TO, make_message())


def test_smtp_4xx_is_temporary(smtp_sink):
    sink, port = smtp_sink
    sink.data_reply = "451 4.3.0 Try again later"
    with pytest.raises(TemporaryFailure, match="451"):
        make_channel(port).send(TO, make_message())


def test_smtp_5xx_is_permanent(smtp_sink):
    sink, port = smtp_sink
    sink.rcpt_reply = "550 5.1.1 No such user"
    with pytest.raises(PermanentFailure, match="550"):
        make_channel(port).send(TO, make_message())


def test_starttls_with_a_trusted_certificate(starttls_sink, tls_files):
    sink, port = starttls_sink
    channel = make_channel(port, security="starttls", ssl_context=tls_files.client_context())
    assert channel.send(TO, make_message()) == "<delivery-42@yuqing.local>"
    assert len(sink.messages) == 1


def test_implicit_tls_with_a_trusted_certificate(smtps_sink, tls_files):
    sink, port = smtps_sink
    channel = make_channel(port, security="ssl", ssl_context=tls_files.client_context())
    assert channel.send(TO, make_message()) == "<delivery-42@yuqing.local>"
    assert len(sink.messages) == 1


def test_login_after_starttls(auth_sink, tls_files):
    sink, port = auth_sink
    context = tls_files.client_context()
    make_channel(port, security="starttls", ssl_context=context, username="yq", password="pw").send(TO, make_message())
    assert len(sink.messages) == 1
    with pytest.raises(PermanentFailure, match="535"):
        make_channel(port, security="starttls", ssl_context=context, username="yq", password="no").send(
            TO, make_message())


def test_starttls_with_an_untrusted_certificate_is_permanent(starttls_sink):
    sink, port = starttls_sink
    with pytest.raises(PermanentFailure, match="certificate"):
        make_channel(port, security="starttls").send(TO, make_message())
    assert sink.messages == []


def test_plain_server_refuses_to_send_without_tls_when_required(starttls_sink):
    _, port = starttls_sink
    with pytest.raises(PermanentFailure, match="530"):
        make_channel(port).send(TO, make_message())


def test_configuration_mistakes_are_permanent():
    with pytest.raises(PermanentFailure, match="without TLS"):
        SmtpChannel("127.0.0.1", 25, "none", username="u", password="p")
    with pytest.raises(PermanentFailure, match="security"):
        SmtpChannel("127.0.0.1", 25, "tls")
    with pytest.raises(PermanentFailure):
        SmtpChannel("127.0.0.1", 25, "none", sender="Bureau <a@b.cn>")


def test_unsafe_key_and_wrong_kind_are_refused(smtp_sink):
    _, port = smtp_sink
    with pytest.raises(PermanentFailure, match="key"):
        make_channel(port).send(TO, make_message(key="a b@evil>"))
    with pytest.raises(PermanentFailure, match="webhook"):
        make_channel(port).send(Destination("webhook", "zhangsan@bureau.gov.cn"), make_message())
