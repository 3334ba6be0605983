"""An incident's documents through the API: listed, generated as new versions, downloaded as .docx (latest or
an older version), refused by scope, by role (read but not generate) and by unit (404), as on the pages."""

from __future__ import annotations

import io

import docx
from sqlalchemy import select

from app.models import AuditEvent
from tests.api.test_resources import _register

PROBLEM = "application/problem+json"
READ_WRITE = ["documents:read", "documents:write"]


def _text(content: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)


def test_a_document_is_generated_listed_downloaded_and_reopened(api, db):
    number = _register(api(["monitor"]))["incident_number"]
    office = api(["office_director", "office_staff"], scopes=READ_WRITE)
    base = f"/api/v1/incidents/{number}/documents"

    listed = office.get(base)
    assert listed.status_code == 200 and listed.json["may_generate"] is True
    first_kind = listed.json["kinds"][0]
    assert (first_kind["kind"], first_kind["label"], first_kind["versions"]) == ("quick_report", "快报", [])
    none_yet = office.get(f"{base}/quick_report")
    assert none_yet.status_code == 404 and none_yet.mimetype == PROBLEM
    assert none_yet.json["detail"] == "该事件尚未生成快报。"

    first = office.post(f"{base}/quick_report")
    assert first.status_code == 201, first.json
    assert first.json["version"] == 1 and first.json["label"] == "快报" and first.json["size"] > 0
    second = office.post(f"{base}/quick_report").json
    assert second["version"] == 2 and second["created_by"] and second["download_url"].endswith("version=2")

    latest = office.get(f"{base}/quick_report")
    assert latest.status_code == 200 and latest.mimetype.endswith("wordprocessingml.document")
    assert f'filename="{number}-quick_report-v2.docx"' in latest.headers["Content-Disposition"]
    assert latest.headers["Content-Disposition"].startswith("attachment;")
    assert f"事件编号:{number}" in _text(latest.data)
    older = office.get(f"{base}/quick_report?version=1")
    assert f'filename="{number}-quick_report-v1.docx"' in older.headers["Content-Disposition"]
    assert f"事件编号:{number}" in _text(older.data)
    assert office.get(f"{base}/quick_report?version=9").status_code == 404
    assert office.get(f"{base}/quick_report?version=0").status_code == 422

    kinds = {k["kind"]: k for k in office.get(base).json["kinds"]}
    assert [v["version"] for v in kinds["quick_report"]["versions"]] == [2, 1]
    by_url = office.get(kinds["quick_report"]["versions"][1]["download_url"])
    assert by_url.status_code == 200 and "quick_report-v1.docx" in by_url.headers["Content-Disposition"]

    missing = office.post(f"{base}/release")
    assert missing.status_code == 422 and missing.mimetype == PROBLEM
    assert missing.json["detail"] == "无法生成通稿:缺少“审批通过的通稿”。"
    assert missing.json["errors"] == [{"field": "kind", "messages": ["无法生成通稿:缺少“审批通过的通稿”。"]}]
    assert kinds["release"]["versions"] == [] and office.get(f"{base}/release").status_code == 404
    assert "external_report" not in kinds  # a Ⅳ级 proposal: the plan reports to superiors at Ⅰ and Ⅱ only

    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("document_generated") == 2 and actions.count("document_downloaded") == 3
    assert "api_call" in actions


def test_an_unknown_kind_is_a_404_problem(api, db):
    number = _register(api(["monitor"]))["incident_number"]
    office = api(["office_director"], scopes=READ_WRITE)
    for response in (office.get(f"/api/v1/incidents/{number}/documents/memo"),
                     office.post(f"/api/v1/incidents/{number}/documents/monthly")):
        assert response.status_code == 404 and response.mimetype == PROBLEM
        assert "没有这种文书" in response.json["detail"]


def test_scopes_roles_and_units_refuse_as_on_the_pages(api, db):
    number = _register(api(["monitor"]))["incident_number"]
    base = f"/api/v1/incidents/{number}/documents"
    assert api(["office_director"], scopes=READ_WRITE).post(f"{base}/quick_report").status_code == 201

    ledger_only = api(["office_director"], scopes=["incidents:read"])
    for response in (ledger_only.get(base), ledger_only.get(f"{base}/quick_report"),
                     ledger_only.post(f"{base}/quick_report")):
        assert response.status_code == 403 and "documents:" in response.json["detail"]
    reader = api(["office_director"], scopes=["documents:read"])
    assert reader.get(f"{base}/quick_report").status_code == 200
    assert reader.post(f"{base}/quick_report").json["detail"] == "该令牌没有“documents:write”权限。"

    # the section of the unit concerned reads the incident's documents but does not generate them
    section = api(["section_head", "consultation_member"], scopes=READ_WRITE, unit_code="social_insurance")
    assert section.get(base).json["may_generate"] is False
    assert section.get(f"{base}/quick_report").status_code == 200
    refused = section.post(f"{base}/quick_report")
    assert refused.status_code == 403 and "生成由办公室或办理相关任务的同事进行" in refused.json["detail"]
    # another unit does not see the incident at all: 404, as a missing one
    other = api(["section_head"], scopes=READ_WRITE, unit_code="employment")
    for response in (other.get(base), other.get(f"{base}/quick_report"), other.post(f"{base}/quick_report"),
                     other.get("/api/v1/incidents/YQ-1999-0001/documents")):
        assert response.status_code == 404 and response.mimetype == PROBLEM
    versions = {k["kind"]: k["versions"] for k in reader.get(base).json["kinds"]}["quick_report"]
    assert [v["version"] for v in versions] == [1]
