"""The instance page: its diagram data and the deployed BPMN it draws."""

from __future__ import annotations

import json
import re

from sqlalchemy import update

from app.db import transaction
from app.models import InstanceStatus, ProcessInstance
from tests.web.scenario import act_as, open_task, start_incident, submit


def _diagram(page: str) -> dict:
    raw = re.search(r'data-diagram="([^"]*)"', page).group(1)
    return json.loads(raw.replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&"))


def test_diagram_marks_completed_and_active_elements(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    assert submit(monitor, instance, "ut_register").status_code == 302
    page = monitor.get(f"/instances/{instance.public_id}")
    assert "'unsafe-inline'" in page.headers["Content-Security-Policy"].split("style-src")[1].split(";")[0]
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    processes = _diagram(page.get_data(as_text=True))["processes"]
    assert processes[0]["id"] == "yq_incident" and processes[0]["name"] == "舆情事件处置主流程"
    status = processes[0]["status"]
    assert status["ut_register"] == {"status": "completed", "count": 1}
    assert status["br_grade"]["status"] == "completed"
    assert status["ut_confirm_level"]["status"] == "active"


def test_diagram_source_is_served_as_plain_text_to_those_who_may_see(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    stranger = act_as(app, user_factory(["risk_owner"]))
    instance = start_incident(monitor)
    response = monitor.get(f"/instances/{instance.public_id}/diagram/yq_incident.bpmn")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert 'id="ut_register"' in response.get_data(as_text=True)
    assert stranger.get(f"/instances/{instance.public_id}/diagram/yq_incident.bpmn").status_code == 404
    assert monitor.get(f"/instances/{instance.public_id}/diagram/no_such.bpmn").status_code == 404
    assert monitor.get(f"/instances/{instance.public_id}/diagram/..%2Fx.bpmn").status_code == 404


def test_an_instance_whose_state_cannot_be_read_still_has_its_pages(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    director = act_as(app, user_factory(["office_director"]))
    instance = start_incident(monitor)
    with transaction() as session:
        session.execute(update(ProcessInstance).where(ProcessInstance.id == instance.id)
                        .values(state_json='{"serializer_version": "0.9"}'))
    page = director.get(f"/instances/{instance.public_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-testid="state-error"' in text and 'data-testid="unreadable-note"' in text
    assert _diagram(text)["processes"][0]["status"] == {}
    refused = submit(monitor, instance, "ut_register")
    assert refused.status_code == 409 and "状态数据无法读取" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ProcessInstance, instance.id).status == InstanceStatus.ERROR
    task_page = monitor.get(f"/tasks/{open_task(instance, 'ut_register').public_id}")
    assert task_page.status_code == 200 and 'data-testid="error-banner"' in task_page.get_data(as_text=True)


def test_what_others_submitted_shows_only_to_those_who_may_open_it(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director"]))
    instance = start_incident(monitor)
    assert submit(monitor, instance, "ut_register").status_code == 302
    assert submit(office, instance, "ut_confirm_level").status_code == 302
    mine = monitor.get(f"/instances/{instance.public_id}").get_data(as_text=True)
    assert "某街道社保窗口服务态度问题引发网民关注" in mine  # their own quick report, in full
    assert "请社保科会同办公室核实情况。" not in mine and "仅办理人及领导小组、办公室可见" in mine
    overview = office.get(f"/instances/{instance.public_id}").get_data(as_text=True)
    assert "请社保科会同办公室核实情况。" in overview
    leader = act_as(app, user_factory(["group_leader"]))
    links = re.findall(r'href="(/tasks/[0-9a-f-]{36})"', leader.get(f"/instances/{instance.public_id}")
                       .get_data(as_text=True))
    assert links and all(leader.get(link).status_code == 200 for link in links)  # no dead links for leaders
