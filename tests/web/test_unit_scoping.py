"""Unit scoping over the real pages (docs/decisions.md 46): a section head of another unit finds
nothing of an incident (instance page, diagram, attachment, tasks, worklist, list, CSV); the lead
unit's head does; a task the diagram addressed to one commentator is theirs alone, admins excepted."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.models import Attachment, HumanTask, InstanceUnit, TaskStatus
from tests.forms import uploads
from tests.web.scenario import FORMS, act_as, open_task, open_tasks, start_incident, submit
from tests.web.staff_world import ok as _ok

TITLE = "某街道社保窗口服务态度问题引发网民关注"


def _hidden(actor, url):
    """The page answers 404 and says nothing of the incident."""
    response = actor.get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 404, (url, response.status_code)
    assert "无权查看" in page and TITLE not in page and "社保窗口" not in page


def _register_with_screenshot(actor, instance):
    task = open_task(instance, "ut_register")
    fields = {**FORMS["ut_register"], "is_false_info": "true", "related_units": ["social_insurance",
                                                                                  "labour_relations"]}
    items = [("_action", "complete"), ("attachments", FileStorage(io.BytesIO(uploads.PNG), filename="截图.png"))]
    for name, value in fields.items():
        items += [(name, item) for item in (value if isinstance(value, list) else [value])]
    boundary, body = encode_multipart(MultiDict(items))
    return actor.client.post(f"/tasks/{task.public_id}", data=body,
                             content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def people(app, user_factory):
    def person(roles, name, unit=None):
        return act_as(app, user_factory(roles, name, unit=unit))

    return {
        "monitor": person(["monitor"], "monitor"),
        "office": person(["office_director", "office_staff"], "office"),
        "leader": person(["group_leader"], "leader"),
        "own": person(["section_head", "section_staff"], "own_head", "social_insurance"),
        "other": person(["section_head", "section_staff", "consultation_member"], "other_head", "employment"),
        "related": person(["section_head"], "related_head", "labour_relations"),
        "publicity": person(["team_publicity"], "publicity"),
        "spokesperson": person(["spokesperson"], "spokesperson"),
        "spokesperson2": person(["spokesperson"], "spokesperson2"),
        "c1": person(["commentator"], "writer_one"),
        "c2": person(["commentator"], "writer_two"),
        "admin": person(["admin"], "root"),
    }


@pytest.fixture
def incident(db, people, fake_clock):
    """A level-4 incident led by 社会保险科 (劳动关系科 related), with a screenshot, suspected false,
    worked over HTTP until investigation and consultation are open."""
    instance = start_incident(people["monitor"])
    _ok(_register_with_screenshot(people["monitor"], instance))
    _ok(submit(people["office"], instance, "ut_confirm_level"))
    _ok(submit(people["office"], instance, "ut_request_instruction"))
    _ok(submit(people["leader"], instance, "ut_instruction_decision"))
    fake_clock.advance(hours=3)  # 12:00 Shanghai: the meeting and release times of the answers are past
    assert {"ut_consult", "ut_investigate"} <= {t.spec_id for t in open_tasks(instance)}
    return instance


def test_another_units_head_finds_nothing_of_the_incident_and_the_lead_units_head_everything(db, people, incident):
    other, own, related = people["other"], people["own"], people["related"]
    consult = open_task(incident, "ut_consult")
    assert consult.unit_code == "social_insurance"
    screenshot = db.session.scalar(select(Attachment).where(Attachment.instance_id == incident.id))
    urls = {"page": f"/instances/{incident.public_id}",
            "diagram": f"/instances/{incident.public_id}/diagram/yq_level4_response.bpmn",
            "attachment": f"/attachments/{screenshot.public_id}", "task": f"/tasks/{consult.public_id}"}
    for url in urls.values():
        _hidden(other, url)

    page = own.get(urls["page"]).get_data(as_text=True)
    assert TITLE in page and "会商研判" in page
    assert 'id="yq_level4_response"' in own.get(urls["diagram"]).get_data(as_text=True)
    download = own.get(urls["attachment"])
    assert download.status_code == 200 and download.data == uploads.PNG
    page = own.get(urls["task"]).get_data(as_text=True)
    assert "会商研判" in page and 'value="complete"' in page

    # A related unit's head follows the incident and its files, but the lead unit does the consultation.
    assert TITLE in related.get(urls["page"]).get_data(as_text=True)
    assert related.get(urls["attachment"]).data == uploads.PNG
    _hidden(related, urls["task"])

    for actor in (other, related):
        assert consult.public_id not in actor.get("/tasks?view=group").get_data(as_text=True)
    assert consult.public_id in own.get("/tasks?view=group").get_data(as_text=True)
    assert TITLE not in other.get("/instances").get_data(as_text=True)
    assert TITLE in own.get("/instances").get_data(as_text=True)
    assert TITLE in related.get("/instances").get_data(as_text=True)
    assert other.get("/instances.csv").status_code == 404
    assert incident.business_key in people["office"].client.get("/instances.csv", buffered=True).get_data(as_text=True)


def test_another_units_head_can_neither_claim_nor_complete_the_consultation(db, people, incident):
    other, own = people["other"], people["own"]
    consult = open_task(incident, "ut_consult")
    attempts = [other.post(f"/tasks/{consult.public_id}", {"_action": "claim"}),
                other.post(f"/tasks/{consult.public_id}", {**FORMS["ut_consult"], "_action": "complete"})]
    for response in attempts:
        assert response.status_code == 404 and "无权查看" in response.get_data(as_text=True)
    db.session.refresh(consult)
    assert consult.status == TaskStatus.OPEN and consult.assignee_id is None

    _ok(own.post(f"/tasks/{consult.public_id}", {"_action": "claim"}))
    page = own.get(f"/tasks/{consult.public_id}").get_data(as_text=True)
    assert "签收人" in page and "测试用户 own_head" in page


def test_the_false_information_task_belongs_to_the_lead_unit_and_the_leadership(db, people, incident):
    own, other = people["own"], people["other"]
    _ok(submit(own, incident, "ut_investigate"))
    _ok(submit(own, incident, "ut_consult"))
    _ok(submit(people["publicity"], incident, "ut_draft_release"))
    _ok(submit(people["leader"], incident, "ut_approve_release"))
    _ok(submit(people["spokesperson"], incident, "ut_publish_response"))
    false_info = open_task(incident, "ut_false_info")
    assert false_info.unit_code == "social_insurance"
    _hidden(other, f"/tasks/{false_info.public_id}")
    assert other.post(f"/tasks/{false_info.public_id}", {"_action": "claim"}).status_code == 404
    assert false_info.public_id not in other.get("/tasks?view=group").get_data(as_text=True)
    # The unit binds the lane's unit roles only: the group leader (no unit) still has it.
    assert false_info.public_id in people["leader"].get("/tasks?view=group").get_data(as_text=True)
    assert false_info.public_id in own.get("/tasks?view=group").get_data(as_text=True)
    _ok(own.post(f"/tasks/{false_info.public_id}", {"_action": "claim"}))
    assert "虚假信息处置" in own.get(f"/tasks/{false_info.public_id}").get_data(as_text=True)


def _to_commentary(people, instance):
    own = people["own"]
    _ok(submit(own, instance, "ut_investigate"))
    _ok(submit(own, instance, "ut_consult", commentators=["writer_one", "writer_two"]))
    _ok(submit(people["publicity"], instance, "ut_draft_release"))
    _ok(submit(people["leader"], instance, "ut_approve_release"))
    publish = open_task(instance, "ut_publish_response")
    assert publish.public_id not in people["spokesperson2"].get("/tasks?view=group").get_data(as_text=True)
    _hidden(people["spokesperson2"], f"/tasks/{publish.public_id}")
    _ok(submit(people["spokesperson"], instance, "ut_publish_response"))
    _ok(submit(own, instance, "ut_false_info", false_content="不实内容", media_name="某论坛",
               contact_record="已联系版主", false_info_actions=["correction"]))
    _ok(submit(people["office"], instance, "ut_false_info_result", false_info_outcome="已更正"))
    rows = [t for t in open_tasks(instance) if t.spec_id == "ut_commentary"]
    return {row.assignee.username: row for row in rows}


def test_a_commentators_own_task_is_not_anybody_elses(db, people, incident):
    c1, c2 = people["c1"], people["c2"]
    mine = _to_commentary(people, incident)
    first, second = mine["writer_one"], mine["writer_two"]
    assert first.addressed_to_id == c1.user.id

    assert first.public_id not in c2.get("/tasks?view=group").get_data(as_text=True)
    assert second.public_id in c2.get("/tasks?view=mine").get_data(as_text=True)
    _hidden(c2, f"/tasks/{first.public_id}")
    assert c2.post(f"/tasks/{first.public_id}", {"_action": "claim"}).status_code == 404
    assert c2.post(f"/tasks/{first.public_id}", {"_action": "complete", "article_title": "抢写"}).status_code == 404

    page = c1.get(f"/tasks/{first.public_id}").get_data(as_text=True)
    assert "撰写网评文章" in page and 'value="complete"' in page and 'value="unclaim"' not in page
    refused = c1.post(f"/tasks/{first.public_id}", {"_action": "unclaim"})
    assert refused.status_code == 409 and "不能退回组内" in refused.get_data(as_text=True)
    db.session.refresh(first)
    assert first.assignee_id == c1.user.id


def test_admins_still_open_and_reassign_a_personal_task(db, people, incident):
    admin, c2 = people["admin"], people["c2"]
    first = _to_commentary(people, incident)["writer_one"]
    page = admin.get(f"/tasks/{first.public_id}").get_data(as_text=True)
    assert "撰写网评文章" in page and "指定由" in page
    assert TITLE in admin.get(f"/instances/{incident.public_id}").get_data(as_text=True)
    _ok(admin.post(f"/instances/{incident.public_id}/tasks/{first.public_id}",
                   {"action": "reassign", "assignee": "writer_two", "reason": "原网评员出差"}))
    db.session.refresh(first)
    assert (first.assignee_id, first.addressed_to_id) == (c2.user.id, c2.user.id)
    assert first.public_id in c2.get("/tasks?view=mine").get_data(as_text=True)
    _hidden(people["c1"], f"/tasks/{first.public_id}")


def test_the_units_of_an_incident_are_recorded(db, incident):
    units = set(db.session.scalars(select(InstanceUnit.unit_code).where(InstanceUnit.instance_id == incident.id)))
    assert units == {"social_insurance", "labour_relations"}
    assert db.session.scalar(select(HumanTask.unit_code).where(HumanTask.instance_id == incident.id,
                                                               HumanTask.spec_id == "ut_investigate"))
