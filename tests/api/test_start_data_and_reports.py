"""Starts that carry start data (an incident opened with a lead's fields, checked as the lead form of
/alerts/new checks them); the monthly analysis report through the API (the ledger page's permissions);
malformed bodies on every endpoint that takes one: a problem, and nothing changed."""

from __future__ import annotations

import io

import docx
import pytest
from sqlalchemy import func, select

from app.models import ApiIdempotency, AuditEvent, GeneratedDocument, HumanTask, Incident, ProcessInstance
from tests.api.test_document_and_errors import DEEP

PROBLEM = "application/problem+json"
LEAD = {"source_type": "public_report", "title": "群众反映某小区供暖不热", "url": "https://weibo.com/1/x",
        "platform": "微博", "author": "热心市民", "snippet": "多名居民反映室温不足16度。", "note": "12345热线转来",
        "published_at": "2026-11-25T08:30:00+08:00"}
REPORTS = ["reports:read", "reports:write"]


def _fields(response) -> dict[str, list[str]]:
    return {entry["field"]: entry["messages"] for entry in response.json["errors"]}


def test_an_incident_starts_with_a_leads_fields_and_its_registration_shows_them(api, db):
    monitor = api(["monitor"])
    started = monitor.post("/api/v1/processes/yq_incident/instances", json={"data": LEAD})
    assert started.status_code == 201, started.json
    assert started.json["title"] == LEAD["title"] and started.json["incident_number"].startswith("YQ-")
    following = started.json["next_task"]
    assert following and following["element"] == "ut_register"
    task = monitor.get(f"/api/v1/tasks/{following['id']}").json
    shown = {**task["context"], **(task["draft"] or {})}
    prefilled = db.session.scalar(select(HumanTask).where(HumanTask.public_id == following["id"])).context
    for key, value in {"title": LEAD["title"], "source_type": "public_report", "platform": "weibo",
                       "summary": LEAD["snippet"], "author": LEAD["author"], "lead_note": LEAD["note"],
                       "occurred_at": LEAD["published_at"], "url": LEAD["url"]}.items():
        assert (prefilled or shown).get(key) == value, key
    incident = db.session.scalar(select(Incident).where(Incident.number == started.json["incident_number"]))
    assert incident.title == LEAD["title"]


def test_start_data_is_refused_per_field_and_nothing_starts(api, db):
    monitor = api(["monitor"])
    before = db.session.scalar(select(func.count()).select_from(ProcessInstance))
    bad = monitor.post("/api/v1/processes/yq_incident/instances", headers={"Idempotency-Key": "k1"}, json={"data": {
        "source_type": "rumour", "url": "javascript:alert(1)", "published_at": "2026-02-30T10:00:00+08:00",
        "bogus": 1}})
    assert bad.status_code == 422 and bad.mimetype == PROBLEM
    assert set(_fields(bad)) == {"data.bogus"}  # unknown fields first, as a task's completion does
    bad = monitor.post("/api/v1/processes/yq_incident/instances", json={"data": {
        "source_type": "rumour", "url": "javascript:alert(1)", "published_at": "2026-02-30T10:00:00+08:00"}})
    assert bad.status_code == 422
    assert {"data.source_type", "data.url", "data.published_at", "data.title"} <= set(_fields(bad))
    assert all(messages and all(m.strip() for m in messages) for messages in _fields(bad).values())
    not_a_form = monitor.post("/api/v1/processes/yq_incident/instances", json={"data": {"title": ["x"] * 3}})
    assert not_a_form.status_code == 422
    risk = api(["risk_owner"]).post("/api/v1/processes/yq_risk_assessment/instances", json={"data": {"a": 1}})
    assert risk.status_code == 422 and _fields(risk) == {"data.a": ["该流程启动时不接收数据。"]}
    assert api(["risk_owner"]).post("/api/v1/processes/yq_risk_assessment/instances",
                                    json={"data": {}}).status_code == 201
    assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == before + 1
    assert db.session.scalar(select(func.count()).select_from(ApiIdempotency)) == 0


def test_a_key_repeated_with_other_start_data_is_a_conflict(api, db):
    monitor = api(["monitor"])
    path, key = "/api/v1/processes/yq_incident/instances", {"Idempotency-Key": "lead-7"}
    first = monitor.post(path, headers=key, json={"data": LEAD})
    again = monitor.post(path, headers=key, json={"data": dict(reversed(LEAD.items()))})
    assert (first.status_code, again.status_code, again.json["id"]) == (201, 200, first.json["id"])
    other = monitor.post(path, headers=key, json={"data": {**LEAD, "title": "另一条"}})
    assert other.status_code == 409 and other.mimetype == PROBLEM


def test_the_processes_list_gives_the_start_form(api, db):
    items = {i["key"]: i for i in api(["monitor", "risk_owner"]).get("/api/v1/processes").json["items"]}
    assert items["yq_incident"]["start_form"]["required"] == ["source_type", "title"]
    assert items["yq_risk_assessment"]["start_form"] is None and items["yq_aftermath"]["start_form"] is None


def test_the_monthly_report_is_generated_listed_and_downloaded(api, db):
    office = api(["office_staff"], scopes=REPORTS)
    assert office.get("/api/v1/reports/monthly").json == {"items": []}
    none_yet = office.get("/api/v1/reports/monthly/2026-11")
    assert none_yet.status_code == 404 and none_yet.json["detail"] == "2026-11 尚未生成月度分析研判报告。"
    first = office.post("/api/v1/reports/monthly/2026-11")
    assert first.status_code == 201, first.json
    assert (first.json["month"], first.json["version"], first.json["kind"]) == ("2026-11", 1, "monthly")
    assert office.post("/api/v1/reports/monthly/2026-11").json["version"] == 2
    listed = office.get("/api/v1/reports/monthly").json["items"]
    assert [(row["month"], row["version"]) for row in listed] == [("2026-11", 2), ("2026-11", 1)]
    latest = office.get(listed[0]["download_url"])
    assert latest.status_code == 200 and latest.mimetype.endswith("wordprocessingml.document")
    assert "attachment" in latest.headers["Content-Disposition"]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(latest.data)).paragraphs)
    assert "2026年11月网络舆情分析研判报告" in text
    older = office.get("/api/v1/reports/monthly/2026-11?version=1")
    assert older.status_code == 200 and older.data != b""
    assert office.get("/api/v1/reports/monthly/2026-11?version=9").status_code == 404
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("document_%"))).all()
    assert actions.count("document_generated") == 2 and actions.count("document_downloaded") == 2


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "0000-01", "9999-99", "26-11-1", "2026_11"])
def test_what_is_no_month_is_a_422_or_404_problem(api, db, month):
    response = api(["office_staff"], scopes=REPORTS).post(f"/api/v1/reports/monthly/{month}")
    assert response.status_code in (404, 422) and response.mimetype == PROBLEM
    if response.status_code == 422:
        assert _fields(response) == {"month": ["请选择月份,格式如 2026-11。"]}
    assert db.session.scalar(select(func.count()).select_from(GeneratedDocument)) == 0


@pytest.mark.parametrize("month", ["1999-01", "2999-12"])
def test_a_month_out_of_reach_is_a_422_naming_the_range(api, db, month):
    response = api(["office_staff"], scopes=REPORTS).post(f"/api/v1/reports/monthly/{month}")
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert _fields(response)["month"][0].startswith("只能生成 2000年1月 至 ")
    assert db.session.scalar(select(func.count()).select_from(GeneratedDocument)) == 0


def test_the_monthly_report_is_for_the_ledgers_readers_and_its_own_scopes(api, db):
    section = api(["section_head"], scopes=REPORTS)
    assert section.get("/api/v1/reports/monthly").status_code == 403
    assert section.post("/api/v1/reports/monthly/2026-11").status_code == 404
    assert section.get("/api/v1/reports/monthly/2026-11").status_code == 404
    documents_only = api(["office_staff"], scopes=["documents:read", "documents:write"])
    refused = documents_only.post("/api/v1/reports/monthly/2026-11")
    assert refused.status_code == 403 and refused.json["detail"] == "该令牌没有“reports:write”权限。"
    reader = api(["office_staff"], scopes=["reports:read"])
    assert reader.post("/api/v1/reports/monthly/2026-11").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(GeneratedDocument)) == 0


MALFORMED = [
    ("text/plain", '{"data": {}}', 415),
    ("application/json", "[" * DEEP + "]" * DEEP, 400),
    ("application/json", '{"data": {"title": NaN}}', 400),
    ("application/json", '{"data": {"title": "x"}, "extra": 1}', 422),
    ("application/json", '{"data": "not an object"}', 422),
    ("application/json", '{"data": {"title": "' + "x" * 300_000 + '"}}', 413),
    ("application/json", "{not json", 400),
]


@pytest.mark.parametrize(("content_type", "body", "status"), MALFORMED)
@pytest.mark.parametrize("target", ["start", "complete", "suspend", "monthly"])
def test_every_body_taking_endpoint_refuses_malformed_bodies_and_changes_nothing(api, db, target, content_type,
                                                                                  body, status):
    caller = api(["admin", "monitor", "office_staff"])
    started = caller.post("/api/v1/processes/yq_incident/instances").json
    path = {"start": "/api/v1/processes/yq_incident/instances",
            "complete": f"/api/v1/tasks/{started['next_task']['id']}/complete",
            "suspend": f"/api/v1/instances/{started['id']}/suspend",
            "monthly": "/api/v1/reports/monthly/2026-11"}[target]
    before = _counts(db)
    response = caller.post(path, data=body, content_type=content_type)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == PROBLEM and response.json["status"] == status
    assert _counts(db) == before


def _counts(db) -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (ProcessInstance, HumanTask, Incident, GeneratedDocument, ApiIdempotency)}
