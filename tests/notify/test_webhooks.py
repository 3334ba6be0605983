"""WebhookChannel, SmsGatewayChannel and the pinned transport against real loopback HTTP(S) servers."""

from __future__ import annotations

import json
import time

import pytest

from app.notify import (
    Destination,
    HttpOptions,
    OutgoingMessage,
    PermanentFailure,
    SmsGatewayChannel,
    TemporaryFailure,
    WebhookChannel,
)
from app.notify.transport import post_json
from tests.notify.loopback import LOOPBACK, Reply, free_port

MESSAGE = OutgoingMessage(key="delivery-42", subject="舆情快报", body="正文", urgent=True,
                          link="https://yq.example/instances/7")


def hook(url: str, **overrides: object) -> Destination:
    return Destination(**{"kind": "webhook", "address": url, "allow_networks": LOOPBACK, "allow_http": True,
                          **overrides})


def test_posts_json_with_idempotency_and_bearer_headers(web):
    receipt = WebhookChannel().send(hook(web.url(), secret="s3cret-token"), MESSAGE)
    [request] = web.requests
    assert receipt == "HTTP 200"
    assert (request.method, request.path) == ("POST", "/hook")
    assert json.loads(request.body) == {"id": "delivery-42", "subject": "舆情快报", "body": "正文", "urgent": True,
                                        "link": "https://yq.example/instances/7"}
    assert request.headers["Idempotency-Key"] == request.headers["X-Event-Id"] == "delivery-42"
    assert request.headers["Authorization"] == "Bearer s3cret-token"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"


def test_without_the_allow_list_nothing_is_contacted(web):
    with pytest.raises(PermanentFailure, match="not a public address"):
        WebhookChannel().send(hook(web.url(), allow_networks=()), MESSAGE)
    with pytest.raises(PermanentFailure, match="plain http"):
        WebhookChannel().send(hook(web.url(), allow_http=False), MESSAGE)
    assert web.connections == 0
    assert web.requests == []


def test_a_hostname_is_sent_as_host_header(web):
    WebhookChannel().send(hook(web.url(host="localhost")), MESSAGE)
    assert web.requests[0].headers["Host"] == f"localhost:{web.port}"


def test_the_validated_address_is_dialled_not_a_second_lookup(web):
    lookups = []

    def resolve(host, port):
        lookups.append(host)
        return ["127.0.0.1"]

    channel = WebhookChannel(HttpOptions(resolve=resolve))
    channel.send(hook(web.url(host="hooks.example")), MESSAGE)
    assert lookups == ["hooks.example"]
    assert web.requests[0].headers["Host"] == f"hooks.example:{web.port}"


def test_https_sends_the_hostname_as_sni_and_checks_the_certificate_against_it(tls_web, tls_files):
    options = HttpOptions(ssl_context=tls_files.client_context(), resolve=lambda host, port: ["127.0.0.1"])
    WebhookChannel(options).send(hook(tls_web.url(host="hooks.example", scheme="https"), allow_http=False), MESSAGE)
    assert tls_web.server_names == ["hooks.example"]
    assert tls_web.requests[0].headers["Host"] == f"hooks.example:{tls_web.port}"
    with pytest.raises(PermanentFailure, match="certificate"):
        WebhookChannel(options).send(hook(tls_web.url(host="other.example", scheme="https")), MESSAGE)
    assert len(tls_web.requests) == 1


def test_an_untrusted_certificate_is_permanent(tls_web):
    with pytest.raises(PermanentFailure, match="certificate"):
        WebhookChannel().send(hook(tls_web.url(scheme="https")), MESSAGE)
    assert tls_web.requests == []


@pytest.mark.parametrize(("status", "failure"), [(500, TemporaryFailure), (503, TemporaryFailure),
                                                 (429, TemporaryFailure), (408, TemporaryFailure),
                                                 (404, PermanentFailure), (400, PermanentFailure),
                                                 (401, PermanentFailure)])
def test_status_codes_decide_retry_or_give_up(web, status, failure):
    web.replies["/hook"] = Reply(status=status, body=b"{}")
    with pytest.raises(failure, match=f"HTTP {status}"):
        WebhookChannel().send(hook(web.url()), MESSAGE)


def test_retry_after_is_passed_on(web):
    web.replies["/hook"] = Reply(status=429, body=b"", headers={"Retry-After": "120"})
    with pytest.raises(TemporaryFailure) as caught:
        WebhookChannel().send(hook(web.url()), MESSAGE)
    assert caught.value.retry_after == 120


def test_redirects_are_not_followed(web):
    web.replies["/hook"] = Reply(status=302, body=b"", headers={"Location": web.url("/elsewhere")})
    with pytest.raises(PermanentFailure, match="redirect"):
        WebhookChannel().send(hook(web.url()), MESSAGE)
    assert [r.path for r in web.requests] == ["/hook"]


def test_a_huge_reply_is_cut_at_one_megabyte(web):
    web.replies["/hook"] = Reply(body=b"x" * (5 * 1024 * 1024))
    reply = post_json(web.url(), {"id": "k"}, {}, allow_networks=LOOPBACK, allow_http=True)
    assert (len(reply.body), reply.truncated) == (1024 * 1024, True)
    assert WebhookChannel().send(hook(web.url()), MESSAGE) == "HTTP 200"


def test_a_slow_server_is_a_temporary_failure(web):
    web.replies["/hook"] = Reply(delay=300)  # answers only when the server stops
    started = time.monotonic()
    with pytest.raises(TemporaryFailure, match="timed out"):
        WebhookChannel(HttpOptions(read_timeout=0.5)).send(hook(web.url()), MESSAGE)
    assert time.monotonic() - started < 60  # gave up long before the answer, even on a busy machine


def test_nothing_listening_is_a_temporary_failure():
    url = f"http://127.0.0.1:{free_port()}/hook"
    with pytest.raises(TemporaryFailure, match="refused"):
        WebhookChannel().send(hook(url), MESSAGE)


def test_a_token_that_could_break_headers_is_refused(web):
    with pytest.raises(PermanentFailure, match="token"):
        WebhookChannel().send(hook(web.url(), secret="a\r\nX-Evil: 1"), MESSAGE)
    assert web.connections == 0


def sms(web, **overrides: object) -> Destination:
    return Destination(**{"kind": "sms", "address": "138-0013 8000", "secret": "gw-token",
                          "gateway_url": web.url("/sms"), "allow_networks": LOOPBACK, "allow_http": True,
                          **overrides})


def test_sms_gateway_format(web):
    assert SmsGatewayChannel().send(sms(web), MESSAGE) == "HTTP 200"
    [request] = web.requests
    assert json.loads(request.body) == {"to": "13800138000", "text": "【紧急】舆情快报", "id": "delivery-42"}
    assert request.headers["Authorization"] == "Bearer gw-token"
    assert request.headers["Idempotency-Key"] == "delivery-42"


def test_sms_text_is_one_line_of_at_most_70_characters(web):
    long = OutgoingMessage(key="d-1", subject="某地网络舆情\n" + "持续发酵" * 30, body="")
    SmsGatewayChannel().send(sms(web), long)
    text = json.loads(web.requests[0].body)["text"]
    assert len(text) == 70
    assert text.startswith("某地网络舆情 持续发酵") and text.endswith("…")


def test_sms_refusals(web):
    with pytest.raises(PermanentFailure, match="phone"):
        SmsGatewayChannel().send(sms(web, address="call me"), MESSAGE)
    with pytest.raises(PermanentFailure, match="gateway"):
        SmsGatewayChannel().send(sms(web, gateway_url=None), MESSAGE)
    with pytest.raises(PermanentFailure, match="not a public address"):
        SmsGatewayChannel().send(sms(web, allow_networks=()), MESSAGE)
    assert web.connections == 0
