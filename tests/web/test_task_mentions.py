"""钉钉/企业微信: 在值班群中@我 — a task landing on a person @-mentions them, by their mobile, in the
duty groups (DingTalk/WeCom robots an admin subscribed to task notices), when they chose so."""

from __future__ import annotations

import json

from app.db import transaction
from app.models import ProcessInstance
from app.operations import deliveries
from tests.notify.loopback import RecordingServer
from tests.web.scenario import act_as, start_incident, submit
from tests.web.test_task_notices import _work


def _settings(actor, phone, im):
    response = actor.post("/account/notifications", {"email": "", "phone": phone, "use_email": "on", "sms": "urgent",
                                                     "task_email": "on", "task_sms": "never", "task_im": im})
    assert response.status_code == 302, response.get_data(as_text=True)


def _robot(name, kind, url, kinds=("task",)):
    deliveries.register_channel(deliveries.ChannelSpec(name, kind, url, kinds=kinds,
                                                       allow_networks=("127.0.0.0/8",), allow_http=True), None)


def test_people_who_chose_it_are_mentioned_by_mobile_in_the_duty_groups(app, db, user_factory, fake_clock):
    chooser = act_as(app, user_factory(["office_director"]))
    _settings(chooser, "13800000001", "always")
    page = chooser.get("/account/notifications").get_data(as_text=True)
    assert "钉钉/企业微信:在值班群中@我" in page
    assert '<option value="always" selected' in page.split('name="task_im"')[1].split("</select>")[0]
    silent = act_as(app, user_factory(["office_director"]))
    _settings(silent, "13900000002", "never")
    server = RecordingServer().start()
    try:
        _robot("钉钉值班群", "dingtalk", server.url("/ding"))
        _robot("企业微信值班群", "wecom", server.url("/wecom"))
        _robot("钉钉全部通知群", "dingtalk", server.url("/all"), kinds=("*",))
        monitor = act_as(app, user_factory(["monitor"]))
        instance = start_incident(monitor)
        submit(monitor, instance, "ut_register")
        _work(fake_clock)
    finally:
        server.stop()
    db.session.refresh(instance)
    assert instance.title and instance.business_key
    ding = [json.loads(r.body) for r in server.requests if r.path == "/ding"]
    wecom = [json.loads(r.body) for r in server.requests if r.path == "/wecom"]
    mentioned = [post for post in ding if post["msgtype"] == "text"]
    assert len(mentioned) == 1, ding
    post = mentioned[0]
    assert post["at"]["atMobiles"] == ["13800000001"]
    content = post["text"]["content"]
    assert "@13800000001" in content and "13900000002" not in content
    assert "【组内新任务】" in content and instance.business_key in content and "/tasks/" in content
    assert instance.title in content
    # the colleague who chose "off" gets the group message without being mentioned
    assert [post for post in ding if post["msgtype"] == "markdown"]
    assert not [post for post in ding if "13900000002" in json.dumps(post)]
    mentioned = [post for post in wecom if post["msgtype"] == "text"]
    assert len(mentioned) == 1, wecom
    assert mentioned[0]["text"]["mentioned_mobile_list"] == ["13800000001"]
    assert "【组内新任务】" in mentioned[0]["text"]["content"] and instance.title in mentioned[0]["text"]["content"]
    assert not [post for post in wecom if "13900000002" in json.dumps(post)]
    # a robot not registered as a duty group (every notice, `*`) gets no task notice and mentions nobody
    assert not [r for r in server.requests if r.path == "/all" and "13800000001" in r.body.decode()]


def test_without_a_mobile_the_settings_page_says_the_inbox_only(app, db, user_factory):
    person = act_as(app, user_factory(["office_director"]))
    _settings(person, "", "urgent")
    page = person.get("/account/notifications").get_data(as_text=True)
    assert "钉钉/企业微信值班群不会@您" in page and "只会出现在站内消息中" in page
    _settings(person, "13800000003", "urgent")
    page = person.get("/account/notifications").get_data(as_text=True)
    assert "钉钉/企业微信值班群不会@您" not in page
    assert "没有订阅任务通知的钉钉/企业微信值班群" in page  # no duty group registered yet
    _settings(person, "", "never")
    page = person.get("/account/notifications").get_data(as_text=True)
    assert "您还没有填写手机号码" in page  # the SMS note stays
    assert "值班群不会@您" not in page and "没有订阅任务通知的" not in page


def test_an_unknown_choice_is_refused_next_to_the_field(app, db, user_factory):
    person = act_as(app, user_factory(["office_director"]))
    response = person.post("/account/notifications", {"email": "", "phone": "13800000004", "use_email": "on",
                                                      "sms": "urgent", "task_sms": "never", "task_im": "sometimes"})
    assert response.status_code == 422
    assert "钉钉/企业微信设置无效" in response.get_data(as_text=True)


def test_urgent_only_mentions_on_urgent_tasks(app, db, user_factory, fake_clock):
    urgent_only = act_as(app, user_factory(["office_director"]))
    _settings(urgent_only, "13800000005", "urgent")
    server = RecordingServer().start()
    try:
        _robot("钉钉值班群", "dingtalk", server.url("/ding"))
        monitor = act_as(app, user_factory(["monitor"]))
        calm = start_incident(monitor)
        submit(monitor, calm, "ut_register")  # a level Ⅳ task, not due within the hour: not urgent
        _work(fake_clock)
        calm_posts = [json.loads(r.body) for r in server.requests]
        grave = start_incident(monitor)
        submit(monitor, grave, "ut_register")
        with transaction() as session:  # graded Ⅱ before the worker tells anyone: every task of it is urgent
            session.get(ProcessInstance, grave.id).level = 2
        _work(fake_clock)
        grave_posts = [json.loads(r.body) for r in server.requests][len(calm_posts):]
    finally:
        server.stop()
    assert calm_posts and all(post["msgtype"] == "markdown" for post in calm_posts), calm_posts
    assert not [post for post in calm_posts if "13800000005" in json.dumps(post)]
    [post] = grave_posts
    assert post["at"]["atMobiles"] == ["13800000005"]
    assert post["text"]["content"].startswith("【紧急】【组内新任务】")
