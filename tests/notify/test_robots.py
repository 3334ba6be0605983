"""DingTalk and WeCom group robots against a loopback server answering like the real ones."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from app.notify import (
    Destination,
    DingTalkChannel,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    WeComChannel,
    dingtalk_sign,
)
from tests.notify.loopback import LOOPBACK, Reply

MESSAGE = OutgoingMessage(key="delivery-42", subject="舆情快报", body="第一段\n[点我](https://evil.example)\n<b>x</b>",
                          urgent=True, link="https://yq.example/instances/7")
TIMESTAMP = 1_700_000_000_123


def robot(kind: str, url: str, secret: str | None = None) -> Destination:
    return Destination(kind, url, secret=secret, allow_networks=LOOPBACK, allow_http=True)


def expected_sign(secret: str, timestamp: int) -> str:
    """DingTalk's documented algorithm, written out independently of the channel."""
    string_to_sign = f"{timestamp}\n{secret}"
    digest = hmac.new(secret.encode(), string_to_sign.encode(), digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_dingtalk_signs_the_url_with_timestamp_and_sign(web):
    channel = DingTalkChannel(now_ms=lambda: TIMESTAMP)
    url = web.url("/robot/send?access_token=abc")
    assert channel.send(robot("dingtalk", url, secret="SECxyz"), MESSAGE) == "HTTP 200 errcode 0"
    [request] = web.requests
    query = urlsplit(request.path).query
    assert parse_qs(query) == {"access_token": ["abc"], "timestamp": [str(TIMESTAMP)],
                               "sign": [expected_sign("SECxyz", TIMESTAMP)]}
    assert "%3D" in query  # the base64 padding arrives url-encoded
    assert dingtalk_sign("SECxyz", TIMESTAMP) == query.split("sign=")[1]


def test_dingtalk_markdown_format(web):
    DingTalkChannel().send(robot("dingtalk", web.url("/robot/send?access_token=abc")), MESSAGE)
    [request] = web.requests
    payload = json.loads(request.body)
    assert "timestamp" not in request.path
    assert payload["msgtype"] == "markdown"
    assert payload["markdown"]["title"] == "【紧急】舆情快报"
    text = payload["markdown"]["text"]
    assert text.startswith("### 【紧急】舆情快报\n\n第一段")
    assert text.endswith("[查看详情](https://yq.example/instances/7)")
    assert "[点我]" not in text and "<b>" not in text and "［点我］" in text


@pytest.mark.parametrize(("errcode", "failure"), [(130101, TemporaryFailure), (-1, TemporaryFailure),
                                                   (310000, PermanentFailure), (300001, PermanentFailure)])
def test_dingtalk_errcodes(web, errcode, failure):
    web.replies["/robot/send"] = Reply(body=json.dumps({"errcode": errcode, "errmsg": "nope"}).encode())
    with pytest.raises(failure, match=f"errcode {errcode}"):
        DingTalkChannel().send(robot("dingtalk", web.url("/robot/send")), MESSAGE)


def test_a_reply_that_is_not_a_robot_reply_is_permanent(web):
    web.replies["/robot/send"] = Reply(body=b"<html>portal</html>")
    with pytest.raises(PermanentFailure, match="robot"):
        DingTalkChannel().send(robot("dingtalk", web.url("/robot/send")), MESSAGE)


def test_wecom_markdown_format(web):
    url = web.url("/cgi-bin/webhook/send?key=k1")
    assert WeComChannel().send(robot("wecom", url), MESSAGE) == "HTTP 200 errcode 0"
    [request] = web.requests
    assert request.path == "/cgi-bin/webhook/send?key=k1"
    payload = json.loads(request.body)
    assert payload["msgtype"] == "markdown"
    content = payload["markdown"]["content"]
    assert content.startswith('### <font color="warning">【紧急】</font>舆情快报\n第一段')
    assert "[点我]" not in content and "<b>" not in content
    assert content.endswith("[查看详情](https://yq.example/instances/7)")


def test_wecom_content_is_capped_at_4096_bytes(web):
    WeComChannel().send(robot("wecom", web.url()), OutgoingMessage(key="k", subject="s", body="长" * 5000))
    content = json.loads(web.requests[0].body)["markdown"]["content"]
    assert len(content.encode()) <= 4096


@pytest.mark.parametrize(("errcode", "failure"), [(45009, TemporaryFailure), (93000, PermanentFailure)])
def test_wecom_errcodes(web, errcode, failure):
    web.replies["/hook"] = Reply(body=json.dumps({"errcode": errcode, "errmsg": "nope"}).encode())
    with pytest.raises(failure, match=f"errcode {errcode}"):
        WeComChannel().send(robot("wecom", web.url()), MESSAGE)


def test_robot_urls_are_checked_like_any_webhook(web):
    with pytest.raises(PermanentFailure, match="not a public address"):
        DingTalkChannel().send(Destination("dingtalk", web.url(), allow_http=True), MESSAGE)
    assert web.connections == 0


def test_mentions_go_as_text_with_the_mobiles_each_robot_wants(web):
    message = replace(MESSAGE, mentions=("13800000000", "13900000000"))
    DingTalkChannel(now_ms=lambda: TIMESTAMP).send(robot("dingtalk", web.url("/ding"), secret="SECxyz"), message)
    WeComChannel().send(robot("wecom", web.url("/wecom")), message)
    ding, wecom = (json.loads(request.body) for request in web.requests)
    assert ding["msgtype"] == "text" and ding["at"]["atMobiles"] == ["13800000000", "13900000000"]
    content = ding["text"]["content"]
    assert content.startswith("【紧急】舆情快报\n第一段") and "查看详情:https://yq.example/instances/7" in content
    assert content.endswith("@13800000000 @13900000000")  # DingTalk notifies only a @mobile that is in the text
    assert wecom == {"msgtype": "text", "text": {"content": content.rsplit("\n", 1)[0],
                                                 "mentioned_mobile_list": ["13800000000", "13900000000"]}}
