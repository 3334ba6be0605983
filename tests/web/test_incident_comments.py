"""Comments on an incident (流转意见): plain text only, @mention notices, only for people who may see it."""

from __future__ import annotations

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
    response = _post(people["office"], number, body)
    assert response.status_code == 302
    notices = db.session.scalars(select(Notification).where(Notification.kind == "comment_mention")).all()
    told = {n.user_id: n for n in notices}
    assert set(told) == {people["own"].user.id, people["leader"].user.id}  # by name, by username in any case
    notice = told[people["own"].user.id]
    assert notice.link.startswith(f"/incidents/{number}#comment-") and "王主任" in notice.title
    assert number in notice.title and "请核实" in notice.body
    page = people["office"].get(f"/incidents/{number}").get_data(as_text=True)
    assert "已通知:社保科长、李组长" in page
    assert "@张发言、@other_head、@nobody_here" in page  # the writer learns who was not told
    inbox = people["own"].get("/inbox").get_data(as_text=True)
    assert "王主任" in inbox and f'value="/incidents/{number}#comment-' in inbox
    assert people["own"].get(notice.link.split("#")[0]).status_code == 200  # the link opens for them
    # Named but not allowed to see the incident (the spokesperson holds no task of it yet, the other
    # unit's head has nothing to do with it): no notice, no delivery, nothing in the inbox.
    for name in ("spokesperson", "other"):
        assert not db.session.scalars(select(NotificationDelivery).where(
            NotificationDelivery.user_id == people[name].user.id)).all()
        assert number not in people[name].get("/inbox").get_data(as_text=True)


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
