"""Comments on an incident (流转意见): plain text only, @mention notices, only for people who may see it."""

from __future__ import annotations

import lxml.html
from sqlalchemy import select

from app.models import AuditEvent, IncidentComment, Notification, NotificationDelivery
from tests.web import staff_world
from tests.web.scenario import open_task
from tests.web.staff_world import TITLE

people, incident = staff_world.people, staff_world.incident  # fixtures


def _post(actor, number, body):
    return actor.post(f"/incidents/{number}/comments", {"body": body})


def test_a_comment_with_markup_shows_as_text_and_its_links_are_links(db, people, incident):
    number = incident.business_key
    body = ('<script>alert("x")</script><img src=x onerror=alert(1)> **粗体** 见 https://weibo.com/gov/1?a=1&b=2。'
            ' javascript:alert(2)')
    response = _post(people["own"], number, body)
    assert response.status_code == 302 and f"/incidents/{number}#comment-" in response.headers["Location"]
    page = people["office"].get(f"/incidents/{number}").get_data(as_text=True)
    thread = page.split('data-testid="comments"')[1].split("</ol>")[0]
    assert "<script>" not in thread and "<img" not in thread and "<strong>粗体" not in thread
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in thread and "&lt;img src=x" in thread
    assert "**粗体**" in thread and "javascript:alert(2)" in thread and 'href="javascript' not in thread
    assert ('<a href="https://weibo.com/gov/1?a=1&amp;b=2" rel="noopener noreferrer nofollow" target="_blank">'
            in thread)
    assert "社保科长" in thread
    stored = db.session.scalars(select(IncidentComment)).one()
    assert stored.body == body  # kept as written; only its display is escaped
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "comment_added")).one()
    assert audit.actor_id == people["own"].user.id and audit.detail["comment"] == stored.public_id


def test_a_mention_tells_the_people_who_may_see_the_incident_and_not_the_others(db, people, incident):
    number = incident.business_key
    body = "@社保科长 请核实;@LEADER 阅;@张发言 请准备口径;@other_head 请知悉;@nobody_here"
    response = people["office"].post(f"/incidents/{number}/comments", {"body": body, "notify_reachable_only": "1"})
    assert response.status_code == 302  # posted anyway, after the refusal below told the writer why
    notices = db.session.scalars(select(Notification).where(Notification.kind == "comment_mention")).all()
    told = {n.user_id: n for n in notices}
    assert set(told) == {people["own"].user.id, people["leader"].user.id}  # by name, by username in any case
    notice = told[people["own"].user.id]
    assert notice.link.startswith(f"/incidents/{number}#comment-") and "王主任" in notice.title
    assert number in notice.title and "请核实" in notice.body
    page = people["office"].get(f"/incidents/{number}").get_data(as_text=True)
    assert "已通知:社保科长、李组长" in page
    assert "按您的选择,未提醒 @张发言、@other_head、@nobody_here。" in page  # the writer learns who was not told
    inbox = people["own"].get("/inbox").get_data(as_text=True)
    assert "王主任" in inbox and f'value="/incidents/{number}#comment-' in inbox
    assert people["own"].get(notice.link.split("#")[0]).status_code == 200  # the link opens for them
    # Named but not allowed to see the incident (the spokesperson holds no task of it yet, the other
    # unit's head has nothing to do with it): no notice, no delivery, nothing in the inbox.
    for name in ("spokesperson", "other"):
        assert not db.session.scalars(select(NotificationDelivery).where(
            NotificationDelivery.user_id == people[name].user.id)).all()
        assert number not in people[name].get("/inbox").get_data(as_text=True)


def _error_lines(page: str) -> list[str]:
    tree = lxml.html.fromstring(page)
    return [p.text_content() for p in tree.xpath('//*[@data-testid="comment-error"]/p')]


def test_a_mention_nobody_can_receive_is_sent_back_saying_who_why_and_what_to_do(db, people, incident):
    number = incident.business_key
    body = "@社保科长 请核实;@张发言 请准备口径;@nobody_here 阅"
    refused = _post(people["office"], number, body)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    lines = _error_lines(page)
    assert lines[0] == "「张发言」尚无权查看此舆情,提及后不会收到提醒,也看不到本条意见。"
    assert lines[1].startswith("查无“@nobody_here”")
    assert "请删去这些 @ 后再发表" in lines[2] and "相关任务交其办理" in lines[2]
    assert "意见未发表:@张发言、@nobody_here 无法收到提醒" in page  # at the top of the page too
    tree = lxml.html.fromstring(page)
    assert tree.xpath('//textarea[@id="comment-body"]')[0].text_content() == body  # what was typed stays
    assert tree.xpath('//input[@name="notify_reachable_only"][@type="checkbox"]')
    assert db.session.scalars(select(IncidentComment)).all() == []
    assert db.session.scalars(select(Notification).where(Notification.kind == "comment_mention")).all() == []
    # Without the names nobody can receive, it goes through and tells the one who can.
    assert _post(people["office"], number, "@社保科长 请核实").status_code == 302
    assert db.session.scalars(select(Notification.user_id)
                              .where(Notification.kind == "comment_mention")).all() == [people["own"].user.id]


def test_the_refusal_of_a_mention_reads_in_english_on_english_pages(db, people, incident):
    office = people["office"]
    with office.client.session_transaction() as session:
        session["lang"] = "en"
    page = _post(office, incident.business_key, "@张发言 请准备口径").get_data(as_text=True)
    lines = _error_lines(page)
    assert lines[0] == ("张发言 may not see this incident yet: they would not be notified and could not read "
                        "this comment.")
    assert "Remove these @ mentions" in lines[1] and "Post anyway without notifying them" in page


def test_another_units_head_can_neither_read_nor_write_the_thread(db, people, incident):
    number = incident.business_key
    _post(people["own"], number, "社保科已核实。")
    other = people["other"]
    refused = _post(other, number, "我也来说两句")
    assert refused.status_code == 404 and "社保科已核实" not in refused.get_data(as_text=True)
    assert TITLE not in other.get(f"/incidents/{number}").get_data(as_text=True)
    assert db.session.scalars(select(IncidentComment)).one().body == "社保科已核实。"


def test_an_empty_or_too_long_comment_is_refused_next_to_the_field_and_kept(db, people, incident):
    number = incident.business_key
    empty = _post(people["own"], number, "   ")
    assert empty.status_code == 422 and "请填写意见内容" in empty.get_data(as_text=True)
    long = "长" * 2001
    refused = _post(people["own"], number, long)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "意见最多 2000 字" in page and long in page and "field--error" in page
    assert db.session.scalars(select(IncidentComment)).all() == []


def test_the_task_page_shows_the_latest_comments_with_a_link_to_the_thread(db, people, incident):
    number = incident.business_key
    for n in range(1, 5):
        _post(people["office"], number, f"第{n}条意见")
    consult = open_task(incident, "ut_consult")
    page = people["own"].get(f"/tasks/{consult.public_id}").get_data(as_text=True)
    latest = page.split('data-testid="latest-comments"')[1].split("</ol>")[0]
    assert "第4条意见" in latest and "第2条意见" in latest and "第1条意见" not in latest
    # in the order they were written, as on the incident page
    assert latest.index("第2条意见") < latest.index("第3条意见") < latest.index("第4条意见")
    assert f'href="/incidents/{number}#comments"' in page and "全部 4 条意见" in page
