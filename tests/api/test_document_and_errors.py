"""The OpenAPI document and its docs page; problem+json for every refusal; tokens checked, rate-limited
and audited on every call; malformed requests refused without changing anything."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.models import ApiIdempotency, ApiToken, AuditEvent, HumanTask, Incident, LedgerEntry, ProcessInstance
from app.operations import api_tokens
from tests.api.conftest import make_token

DEEP = 5000


def _counts(db) -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (ProcessInstance, HumanTask, Incident, LedgerEntry, ApiIdempotency)}


def test_the_document_is_openapi_3_1_generated_from_the_views(client, db):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    for path in ("/api/v1/processes", "/api/v1/processes/{key}/instances", "/api/v1/instances",
                 "/api/v1/instances/{instance_id}", "/api/v1/instances/{instance_id}/suspend",
                 "/api/v1/instances/{instance_id}/resume", "/api/v1/instances/{instance_id}/terminate",
                 "/api/v1/tasks", "/api/v1/tasks/{task_id}", "/api/v1/tasks/{task_id}/claim",
                 "/api/v1/tasks/{task_id}/unclaim", "/api/v1/tasks/{task_id}/complete", "/api/v1/messages/{name}",
                 "/api/v1/incidents", "/api/v1/incidents/{number}"):
        assert path in spec["paths"], path
    complete = spec["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]
    assert "application/problem+json" in complete["responses"]["422"]["content"]
    assert complete["responses"]["404"]["description"]


def test_every_operation_is_listed_under_a_readable_tag_with_a_description(client, db):
    spec = client.get("/api/v1/openapi.json").json
    tags = {tag["name"]: tag["description"] for tag in spec["tags"]}
    assert set(tags) == {"Leads 舆情线索", "Processes 流程", "Tasks 待办任务", "Incidents 舆情事件", "Documents 文书",
                         "Monthly report 月度报告"}
    assert all(len(description) > 20 for description in tags.values()), tags
    used = {name for item in spec["paths"].values() for operation in item.values() if isinstance(operation, dict)
            for name in operation.get("tags", [])}
    assert used == set(tags)
    assert spec["paths"]["/api/v1/alerts"]["post"]["tags"] == ["Leads 舆情线索"]


def test_the_docs_page_loads_swagger_ui_from_this_server_only(client, db):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/") for source in sources), sources
    assert "<script>" not in html  # the CSP allows no inline script
    for source in sources:
        asset = client.get(source)
        asset.close()  # a file response: close it, as a server does
        assert asset.status_code == 200, source
    assert client.get("/api/v1/docs/assets/index.html").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer yqt_nonsense", "Basic abc", "Bearer " + "x" * 300])
def test_no_live_token_is_401_problem(client, db, header):
    response = client.get("/api/v1/processes", headers={"Authorization": header} if header else {})
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.json["status"] == 401 and response.json["title"] and response.json["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_and_expired_tokens_are_refused(client, db, fake_clock, user_factory):
    _row, token = make_token(["admin"], expires_at=fake_clock.current.replace(hour=2))
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/processes", headers=auth).status_code == 200
    fake_clock.advance(hours=1)
    assert client.get("/api/v1/processes", headers=auth).status_code == 401
    row2, token2 = make_token(["admin"])
    api_tokens.revoke_token(row2.id, user_factory(["admin"]))
    assert client.get("/api/v1/processes", headers={"Authorization": f"Bearer {token2}"}).status_code == 401


def test_a_scope_the_token_lacks_is_403_and_runs_nothing(api, db):
    reader = api(["admin"], scopes=["processes:read"])
    before = _counts(db)
    response = reader.post("/api/v1/processes/yq_incident/instances")
    assert response.status_code == 403 and "instances:start" in response.json["detail"]
    assert _counts(db) == before


def test_every_call_is_audited_and_marks_the_token_used(api, db):
    caller = api(["admin"])
    assert caller.get("/api/v1/processes").status_code == 200
    assert caller.get("/api/v1/instances/" + "0" * 36).status_code == 404
    token = db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
    assert token.last_used_at is not None
    lines = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_call",
                                                        AuditEvent.actor_id == token.user_id)
                               .order_by(AuditEvent.id)).all()
    assert [(line.detail["method"], line.detail["path"], line.detail["status"]) for line in lines] == [
        ("GET", "/api/v1/processes", 200), ("GET", "/api/v1/instances/" + "0" * 36, 404)]


def test_a_token_past_its_rate_gets_429(api, db):
    caller = api(["admin"], rate_per_minute=2)
    assert [caller.get("/api/v1/processes").status_code for _ in range(3)] == [200, 200, 429]
    refused = caller.get("/api/v1/processes")
    assert refused.mimetype == "application/problem+json" and refused.headers["Retry-After"]


def test_unknown_addresses_and_methods_are_problems(api, db):
    caller = api(["admin"])
    missing = caller.get("/api/v1/nothing/here")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert missing.json["status"] == 404
    wrong = caller.client.delete("/api/v1/processes", headers={"Authorization": f"Bearer {caller.token}"})
    assert wrong.status_code == 405 and wrong.mimetype == "application/problem+json"


BODIES = [
    ("text/plain", '{"content": {"note": "x"}, "incident_number": "YQ-2026-0001"}', 415),
    ("application/x-www-form-urlencoded", "content=x", 415),
    ("application/json", "[" * DEEP + "]" * DEEP, 400),
    ("application/json", '{"content": {"note": NaN}, "incident_number": "YQ-2026-0001"}', 400),
    ("application/json", '{"content": {"note": "x\\u0000"}, "incident_number": "YQ-2026-0001"}', 400),
    ("application/json", '{"content": {"note": "x"}, "incident_number": "YQ-2026-0001", "extra": 1}', 422),
    ("application/json", '{"content": {"note": "x", "observed_at": "2026-02-30T10:00:00+08:00"}, '
                         '"incident_number": "YQ-2026-0001"}', 422),
    ("application/json", '{"content": {"note": "x", "observed_at": "2026-11-25T10:00:00"}, '
                         '"incident_number": "YQ-2026-0001"}', 422),
    ("application/json", '{"content": {"note": "' + "x" * 300_000 + '"}}', 413),
    ("application/json", '"just a string"', 422),
    ("application/json", "{not json", 400),
]


@pytest.mark.parametrize(("content_type", "body", "status"), BODIES)
def test_malformed_requests_get_a_problem_and_change_nothing(api, db, content_type, body, status):
    caller = api(["admin"])
    before = _counts(db)
    response = caller.post("/api/v1/messages/msg_yq_update", data=body, content_type=content_type)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json" and response.json["status"] == status
    assert _counts(db) == before


def test_refused_fields_are_listed_one_by_one(api, db):
    response = api(["admin"]).post("/api/v1/messages/msg_yq_update", json={
        "incident_number": "nope", "content": {"note": "", "url": "javascript:alert(1)", "bogus": 1}})
    assert response.status_code == 422
    fields = {entry["field"] for entry in response.json["errors"]}
    assert {"incident_number", "content.note", "content.url", "content.bogus"} <= fields
    unknown_query = api(["admin"]).get("/api/v1/tasks?bogus=1")
    assert unknown_query.status_code == 422 and unknown_query.json["errors"][0]["field"] == "bogus"
    bad_date = api(["admin"]).get("/api/v1/instances?started_from=2026-02-30")
    assert bad_date.status_code == 422 and bad_date.json["errors"][0]["field"] == "started_from"


def test_the_api_needs_no_csrf_token_its_bearer_token_is_the_credential(api, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    caller = api(["monitor"])
    assert caller.post("/api/v1/processes/yq_incident/instances").status_code == 201


def test_the_docs_page_introduces_the_api_in_chinese_and_in_english_on_request(client, db):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "接口文档" in page and "Authorization: Bearer" in page
    assert "下列各接口的说明为英文" in page
    with client.session_transaction() as session:
        session["lang"] = "en"
    english = client.get("/api/v1/docs").get_data(as_text=True)
    assert '<html lang="en">' in english and "API documentation" in english and "接口文档" not in english
