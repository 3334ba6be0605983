"""The instance page: its diagram data and the deployed BPMN it draws."""

from __future__ import annotations

import json
import re

from tests.web.scenario import act_as, start_incident, submit


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
