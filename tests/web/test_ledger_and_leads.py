"""Pages of the ledger, the lead pool and its API, the organisation profile and API tokens."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.db import transaction
from app.engine.services import SideEffect
from app.models import Alert, ApiToken, AuditEvent, OrgProfile
from app.operations import instances, intake, ledger, tasks
from tests.conftest import login

ALERT = {"source_type": "platform_alert", "title": "网传某窗口办事推诿", "url": "https://weibo.com/2/1",
         "external_ref": "p-1"}


def _incident(user, level=3, title="某窗口办事推诿"):
    instance = instances.start_incident(user)
    with transaction() as session:
        for kind, data in (("registered", {"title": title, "platform": "weibo"}),
                           ("level_confirmed", {"confirmed_level": level, "lead_unit": "policy"})):
            ledger.record_effect(session, instance, SideEffect("ledger", {"kind": kind}, "st", "p", "g", data))
    return instance


def test_the_ledger_lists_filters_shows_and_exports(client, db, user_factory):
    director = user_factory(["office_director", "monitor"])
    first = _incident(director, 3, "甲事件")
    _incident(director, 2, "乙事件")
    login(client, director)
    page = client.get("/ledger/").get_data(as_text=True)
    assert "甲事件" in page and "乙事件" in page
    filtered = client.get("/ledger/?level=3").get_data(as_text=True)
    assert "甲事件" in filtered and "乙事件" not in filtered
    detail = client.get(f"/ledger/{first.business_key}").get_data(as_text=True)
    assert "登记舆情(快报)" in detail and "Ⅲ级" in detail and f"/instances/{first.public_id}" in detail
    export = client.get("/ledger/export.csv?level=2")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    body = export.get_data(as_text=True)
    assert body.startswith("\ufeff") and "乙事件" in body and "甲事件" not in body
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ledger_exported")).one()


def test_the_ledger_is_not_there_for_people_without_an_overview_role(client, user_factory):
    login(client, user_factory(["commentator"]))
    assert client.get("/ledger/").status_code == 404
    assert client.get("/ledger/export.csv").status_code == 404


def test_a_lead_entered_by_hand_goes_to_triage_and_keeps_typed_values_on_error(client, db, user_factory):
    login(client, user_factory(["office_director"]))
    bad = client.post("/alerts/new", data={"source_type": "superior_notice", "title": "", "url": "ftp://x"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'value="ftp://x"' in text and "field--error" in text
    good = client.post("/alerts/new", data={"source_type": "superior_notice", "title": "市网信办通报:某帖",
                                            "note": "通报文号 2026-18"})
    assert good.status_code == 302 and "/tasks/" in good.headers["Location"]  # straight to the triage task
    alert = db.session.scalars(select(Alert)).one()
    assert alert.source == "manual" and alert.payload["note"] == "通报文号 2026-18"
    listed = client.get("/alerts").get_data(as_text=True)
    assert "市网信办通报:某帖" in listed and "上级通报" in listed
    english = client.get("/alerts?lang=en").get_data(as_text=True)  # a link that names its language
    assert "Notified by superior" in english and "上级通报" not in english  # the source's label, in English
    assert re.search(r">[A-Z][a-z]+(?: [a-z]+)* \(\d+\)</a>", english)  # a tab's count: "Pending (1)"
    assert "上级通报" in client.get("/alerts").get_data(as_text=True)  # the link did not switch the session


def test_the_alert_api_needs_a_valid_token_and_answers_per_field(client, db, user_factory):
    admin = user_factory(["admin"])
    _row, token = intake.issue_token("某监测平台", admin)
    assert client.post("/api/v1/alerts", json=ALERT).status_code == 401
    assert client.post("/api/v1/alerts", json=ALERT, headers={"Authorization": "Bearer yqt_wrong"}).status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    invalid = client.post("/api/v1/alerts", json={"title": "x"}, headers=auth)
    assert invalid.status_code == 422 and invalid.mimetype == "application/problem+json"
    assert "source_type" in [error["field"] for error in invalid.get_json()["errors"]]
    created = client.post("/api/v1/alerts", json=ALERT, headers=auth)
    assert created.status_code == 201 and created.get_json()["duplicate"] is False
    again = client.post("/api/v1/alerts", json=ALERT, headers=auth)
    assert again.status_code == 200 and again.get_json() == {**created.get_json(), "duplicate": True}
    assert db.session.scalars(select(Alert)).one().source == "某监测平台"
    intake.revoke_token(db.session.scalars(select(ApiToken)).one().id, admin)
    assert client.post("/api/v1/alerts", json={**ALERT, "external_ref": "p-2"}, headers=auth).status_code == 401


def test_admins_issue_tokens_shown_once_and_only_their_hash_is_kept(client, db, user_factory):
    login(client, user_factory(["admin"]))
    form = {"name": "某监测平台", "scopes": "alerts:write"}
    page = client.post("/admin/api-tokens", data=form).get_data(as_text=True)
    row = db.session.scalars(select(ApiToken)).one()
    shown = page.split("<code>")[1].split("</code>")[0]
    assert shown.startswith("yqt_") and shown not in row.token_hash
    assert "<code>" not in client.get("/admin/api-tokens").get_data(as_text=True)
    assert client.post("/admin/api-tokens", data=form).status_code == 422  # same name


def test_admins_edit_the_profile_with_a_reason_and_errors_keep_what_was_typed(client, db, user_factory):
    login(client, user_factory(["admin"]))
    page = client.get("/admin/profile").get_data(as_text=True)
    assert "市人力资源和社会保障局" in page
    form = {"org_name": "某市某局", "levels_in_use": "four", "report_within": "半小时", "report_within.unit": "minutes",
            "file_record_l3": "true",
            "release_approval_l1": "external", "release_approval_l2": "external", "release_approval_l3": "group",
            "release_approval_l4": "group", "false_info_owner": "leadership",
            "press_conference_requester": "leadership",
            "continuous_monitoring_hours": "24", "aftermath_watch": "7", "aftermath_watch.unit": "days",
            "aftermath_check_every": "1", "aftermath_check_every.unit": "days", "summary_due": "15",
            "summary_due.unit": "days", "approval_reminder": "1", "approval_reminder.unit": "hours",
            "approval_reminder.times": "3", "risk_filing_depts.0": "省人力资源和社会保障厅",
            "consultation_superiors.0": "市委、市政府", "consultation_partners.0": "市委网信办",
            "file_record_with.0": "市委网信办",
            "superiors_l1.0": "市委、市政府", "external_report_to.0": "市委网信办", "quick_report_to.0": "市委办",
            "external_approvers.0": "市委宣传部", "spokesperson_designators.0": "市委宣传部",
            "monthly_report_recipients.0": "市工信委", "reason": "更正单位名称", "code": "city"}
    bad = client.post("/admin/profile", data=form)
    assert bad.status_code == 422 and 'value="半小时"' in bad.get_data(as_text=True)
    assert client.post("/admin/profile", data={**form, "report_within": "30", "reason": ""}).status_code == 422
    ok = client.post("/admin/profile", data={**form, "report_within": "30"})
    assert ok.status_code == 302
    assert db.session.get(OrgProfile, "city").values["org_name"] == "某市某局"
    client.post("/admin/profile", data={"code": "county", "_action": "activate"})
    assert db.session.get(OrgProfile, "county").active and not db.session.get(OrgProfile, "city").active


def test_profile_and_token_pages_are_admin_only(client, user_factory):
    login(client, user_factory(["office_director"]))
    assert client.get("/admin/profile").status_code == 404
    assert client.get("/admin/api-tokens").status_code == 404


def test_a_risk_owner_starts_an_assessment_at_its_first_task(client, db, user_factory):
    login(client, user_factory(["risk_owner"], unit="policy"))
    assert "开始评估" in client.get("/risk-assessments/new").get_data(as_text=True)
    started = client.post("/risk-assessments/new")
    assert started.status_code == 302 and "/tasks/" in started.headers["Location"]
    assert "确定评估项目" in client.get(started.headers["Location"]).get_data(as_text=True)


def test_others_cannot_start_a_risk_assessment(client, user_factory):
    login(client, user_factory(["monitor"]))
    assert client.get("/risk-assessments/new").status_code == 404


def test_a_task_page_shows_its_incident_deadlines_and_latest_records(client, db, user_factory):
    director = user_factory(["office_director", "monitor"])
    instance = _incident(director)
    login(client, director)
    task = next(t for t in tasks.list_group_tasks(director) if t.instance_id == instance.id)
    page = client.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    panel = page.split('data-testid="incident-panel"')[1].split("</section>")[0]
    assert instance.business_key in panel and "Ⅲ级" in panel
    assert "确认定级" in panel and "登记舆情(快报)" in panel and "查看事件" in panel
    assert f'href="/incidents/{instance.business_key}"' in panel
