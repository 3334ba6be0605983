"""Every endpoint for callers allowed and refused (roles, units, scopes): processes, instances, tasks,
messages to running incidents, the ledger."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Alert, AuditEvent, HumanTask, Incident, LedgerEntry, ProcessInstance

REGISTER = {
    "title": "某街道社保窗口服务态度问题引发网民关注", "discovered_at": "2026-11-25T09:00:00+08:00",
    "source_type": "self_monitoring", "platform": "weibo", "url": "https://weibo.com/1234567/abc",
    "summary": "网民发帖反映社保窗口办事拖延,评论数百条。", "related_units": ["social_insurance"],
    "views": 12000, "netizen_attention": "low", "foreign_media": "none", "spread_speed": "slow",
    "impact_scope": "small", "offline_risk": "none", "is_mass_incident": False, "is_sudden_event": False,
    "is_false_info": False,
}
NO_INSTANCE = "0" * 36


def _register(monitor):
    """A monitor starts an incident and completes its quick report through the API."""
    started = monitor.post("/api/v1/processes/yq_incident/instances")
    assert started.status_code == 201, started.json
    tasks = monitor.get("/api/v1/tasks?scope=groups").json["items"]
    task = next(t for t in tasks if t["instance_id"] == started.json["id"])
    assert monitor.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    done = monitor.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": REGISTER})
    assert done.status_code == 200, done.json
    return started.json


def test_processes_are_listed_with_what_the_caller_may_start(api, db):
    items = api(["monitor"]).get("/api/v1/processes").json["items"]
    startable = {item["key"] for item in items if item["startable"]}
    assert startable == {"yq_incident"} and {"yq_alert_intake", "yq_risk_assessment"} <= {i["key"] for i in items}
    risk = api(["risk_owner"])
    assert "yq_risk_assessment" in {i["key"] for i in risk.get("/api/v1/processes").json["items"] if i["startable"]}


def test_start_refuses_processes_the_caller_may_not_start_as_missing(api, db):
    monitor = api(["monitor"])
    for key in ("yq_risk_assessment", "yq_alert_intake", "no_such_process"):
        response = monitor.post(f"/api/v1/processes/{key}/instances")
        assert response.status_code == 404 and response.mimetype == "application/problem+json", key
    assert monitor.post("/api/v1/processes/yq_incident/instances", json={"title": "x"}).status_code == 422
    assert db.session.scalars(select(ProcessInstance)).all() == []


def test_a_repeated_idempotency_key_returns_the_first_instance(api, db):
    monitor = api(["monitor"])
    first = monitor.post("/api/v1/processes/yq_incident/instances", headers={"Idempotency-Key": "lead-42"})
    again = monitor.post("/api/v1/processes/yq_incident/instances", headers={"Idempotency-Key": "lead-42"})
    assert (first.status_code, again.status_code) == (201, 200) and first.json == again.json
    assert first.json["incident_number"].startswith("YQ-2026-")
    other = monitor.post("/api/v1/processes/yq_incident/instances", headers={"Idempotency-Key": "lead-43"})
    assert other.status_code == 201 and other.json["id"] != first.json["id"]
    assert len(db.session.scalars(select(ProcessInstance)).all()) == 2
    # another token's key is its own
    assert api(["monitor"]).post("/api/v1/processes/yq_incident/instances",
                                 headers={"Idempotency-Key": "lead-42"}).status_code == 201
    long_key = monitor.post("/api/v1/processes/yq_incident/instances", headers={"Idempotency-Key": "k" * 201})
    assert long_key.status_code == 422


def test_instances_are_listed_and_read_only_where_the_caller_may_see_them(api, db):
    monitor = api(["monitor"])
    started = _register(monitor)
    assert monitor.get(f"/api/v1/instances/{started['id']}").json["status"] == "waiting"
    office = api(["office_director"])
    listed = office.get("/api/v1/instances?process=yq_incident&status=waiting").json
    assert [row["id"] for row in listed["items"]] == [started["id"]] and listed["total"] == 1
    assert listed["items"][0]["title"] == REGISTER["title"] and listed["items"][0]["status_label"] == "办理中"
    # a section of another unit sees nothing of it; the section it names does
    employment = api(["section_head"], unit_code="employment")
    assert employment.get("/api/v1/instances").json["items"] == []
    assert employment.get(f"/api/v1/instances/{started['id']}").status_code == 404
    insurance = api(["section_head"], unit_code="social_insurance")
    assert insurance.get(f"/api/v1/instances/{started['id']}").status_code == 200
    assert office.get(f"/api/v1/instances/{NO_INSTANCE}").status_code == 404


def test_instances_page_by_cursor(api, db):
    monitor = api(["monitor"])
    ids = [monitor.post("/api/v1/processes/yq_incident/instances").json["id"] for _ in range(3)]
    admin = api(["admin"])
    first = admin.get("/api/v1/instances?limit=2").json
    second = admin.get(f"/api/v1/instances?limit=2&cursor={first['next_cursor']}").json
    assert [r["id"] for r in first["items"] + second["items"]] == ids[::-1] and second["next_cursor"] is None
    assert admin.get("/api/v1/instances?cursor=garbage").status_code == 422


def test_only_admins_suspend_resume_and_terminate_with_a_reason(api, db):
    started = _register(api(["monitor"]))
    path = f"/api/v1/instances/{started['id']}"
    office = api(["office_director"])
    assert office.post(f"{path}/suspend", json={"reason": "核查"}).status_code == 403
    stranger = api(["section_head"], unit_code="employment")
    assert stranger.post(f"{path}/suspend", json={"reason": "x"}).status_code == 404
    admin = api(["admin"])
    assert admin.post(f"{path}/suspend", json={}).status_code == 422
    assert admin.post(f"{path}/suspend", json={"reason": "核查", "expected": 1}).status_code == 409
    suspended = admin.post(f"{path}/suspend", json={"reason": "核查数据"})
    assert suspended.status_code == 200 and suspended.json["status"] == "suspended"
    assert admin.post(f"{path}/resume", json={"reason": "核查完毕"}).json["status"] != "suspended"
    ended = admin.post(f"{path}/terminate", json={"reason": "重复登记", "expected": suspended.json["revision"] + 1})
    assert ended.status_code == 200 and ended.json["status"] == "terminated"
    assert admin.post(f"{path}/resume", json={"reason": "x"}).status_code in (409, 422)


def test_tasks_are_read_claimed_and_completed_with_the_pages_validation(api, db):
    monitor = api(["monitor"])
    started = monitor.post("/api/v1/processes/yq_incident/instances").json
    task = monitor.get("/api/v1/tasks?scope=groups").json["items"][0]
    assert task["instance_id"] == started["id"] and task["element"] == "ut_register"
    detail = monitor.get(f"/api/v1/tasks/{task['id']}").json
    assert detail["form_schema"]["properties"]["title"]["type"] == "string" and detail["ui_schema"]
    assert detail["can_work"] is True
    # another monitor cannot complete it once claimed; sections never see it
    assert monitor.post(f"/api/v1/tasks/{task['id']}/claim").json["assignee"]
    other = api(["monitor"])
    assert other.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": REGISTER}).status_code in (403, 409)
    assert api(["section_head"], unit_code="employment").get(f"/api/v1/tasks/{task['id']}").status_code == 404
    assert monitor.get("/api/v1/tasks?scope=mine").json["items"][0]["id"] == task["id"]
    bad = monitor.post(f"/api/v1/tasks/{task['id']}/complete",
                       json={"data": {**REGISTER, "title": "", "platform": "myspace", "discovered_at": "2026-02-30"}})
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json["errors"]}
    assert {"data.title", "data.platform", "data.discovered_at"} <= fields, fields
    unknown = monitor.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {**REGISTER, "is_admin": True}})
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "data.is_admin"
    assert db.session.get(HumanTask, db.session.scalar(select(HumanTask.id).where(
        HumanTask.public_id == task["id"]))).status == "open"
    assert monitor.post(f"/api/v1/tasks/{task['id']}/unclaim").json["assignee"] is None
    monitor.post(f"/api/v1/tasks/{task['id']}/claim")
    done = monitor.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": REGISTER})
    assert done.status_code == 200 and done.json["task"]["status"] == "completed"
    assert monitor.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": REGISTER}).status_code == 409
    completed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "task_completed")).one()
    assert completed.actor.display_name.startswith("接口:")


def test_a_platform_pushes_an_update_by_number_or_by_its_own_external_reference(api, client, db):
    started = _register(api(["monitor"]))
    number = started["incident_number"]
    platform = api([], scopes=["alerts:write", "messages:send"])
    # not its lead and not visible to it: as if it did not exist
    assert platform.post("/api/v1/messages/msg_yq_update",
                         json={"incident_number": number, "content": {"note": "转发量上升"}}).status_code == 404
    office = api(["office_director"])
    pushed = office.post("/api/v1/messages/msg_yq_update",
                         json={"incident_number": number,
                               "content": {"note": "转发量上升", "metrics": {"reposts": 900}}})
    assert pushed.status_code == 200 and pushed.json["incident_number"] == number
    incident = db.session.scalars(select(Incident).where(Incident.number == number)).one()
    line = db.session.scalars(select(LedgerEntry).where(LedgerEntry.incident_id == incident.id,
                                                        LedgerEntry.kind == "update_received")).one()
    assert "转发量上升" in line.summary
    assert office.post("/api/v1/messages/msg_other", json={"incident_number": number,
                                                           "content": {"note": "x"}}).status_code == 404
    assert office.post("/api/v1/messages/msg_yq_update", json={"content": {"note": "x"}}).status_code == 422


def test_the_walkthrough_lead_registered_then_updated_by_reference_and_read_in_the_ledger(api, db):
    """docs/api.md: a platform pushes a lead, the office registers it, the platform pushes an update by its
    own reference, a script reads the ledger."""
    platform = api([], scopes=["alerts:write", "messages:send"])
    lead = {"source_type": "platform_alert", "title": "网传某窗口推诿", "url": "https://weibo.com/2/1",
            "platform": "weibo", "external_ref": "p-7"}
    assert platform.post("/api/v1/alerts", json=lead).status_code == 201
    office = api(["office_director"])
    triage = next(t for t in office.get("/api/v1/tasks?scope=groups").json["items"] if t["element"] == "ut_triage")
    assert office.get(f"/api/v1/tasks/{triage['id']}").json["context"] is not None
    office.post(f"/api/v1/tasks/{triage['id']}/claim")
    assert office.post(f"/api/v1/tasks/{triage['id']}/complete",
                       json={"data": {"relevance": "new", "triage_note": "属实,登记"}}).status_code == 200
    alert = db.session.scalars(select(Alert).where(Alert.external_ref == "p-7")).one()
    number = db.session.get(Incident, alert.incident_id).number
    pushed = platform.post("/api/v1/messages/msg_yq_update",
                           json={"external_ref": "p-7",
                                 "content": {"note": "转发量过千", "metrics": {"reposts": 1200}}})
    assert pushed.status_code == 200 and pushed.json["incident_number"] == number
    # another platform's reference of the same text reaches nothing
    stranger = api([], scopes=["messages:send"])
    assert stranger.post("/api/v1/messages/msg_yq_update",
                         json={"external_ref": "p-7", "content": {"note": "x"}}).status_code == 404
    ledger = api(["office_staff"], scopes=["incidents:read"]).get(f"/api/v1/incidents/{number}").json
    assert any("转发量过千" in line["summary"] for line in ledger["entries"]), ledger["entries"]


def test_the_ledger_is_read_by_its_roles_only(api, db):
    started = _register(api(["monitor"]))
    number = started["incident_number"]
    script = api(["office_staff"], scopes=["incidents:read"])
    listed = script.get("/api/v1/incidents").json
    assert [row["number"] for row in listed["items"]] == [number] and listed["total"] == 1
    row = listed["items"][0]
    assert row["platform_label"] == "微博" and row["source_label"] == "自行监测" and row["status_label"]
    detail = script.get(f"/api/v1/incidents/{number}").json
    assert detail["entries"] and detail["entries"][0]["label"] and detail["instance_id"] == started["id"]
    assert script.get("/api/v1/incidents?level=9").status_code == 422
    assert script.get("/api/v1/incidents?platform=weibo&source=self_monitoring").json["total"] == 1
    assert script.get("/api/v1/incidents?platform=douyin").json["total"] == 0  # the ledger page's filters
    assert script.get("/api/v1/incidents/YQ-1999-0001").status_code == 404
    section = api(["section_head"], unit_code="social_insurance")
    assert section.get("/api/v1/incidents").status_code == 403
    assert section.get(f"/api/v1/incidents/{number}").status_code == 404
