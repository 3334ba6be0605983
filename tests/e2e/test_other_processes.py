"""The other processes, walked the same way: a risk assessment of a major decision (篇一), the monthly
analysis the scheduler starts, and leads — from a monitoring platform and from people — triaged into a new
incident, an update of a running one, or the lead pool."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import ProcessInstance
from app.operations import schedules
from tests.e2e import answers
from tests.e2e.browser import FIRST, Page
from tests.e2e.walk import Walk


def test_a_risk_assessment_postponed_then_implemented(walk_factory):
    walk = walk_factory(answers.RISK)
    walk.start("risk", "/risk-assessments/new", "开始评估")
    walk.run()
    assert walk.problems == [], walk.report()
    done = [spec for _who, spec in walk.done]
    assert done.count("ut_risk_opinion") == 2  # one per stakeholder of the plan
    assert done.count("ut_risk_decision") == 2 and "ut_risk_measures_done" in done
    workers = {who for who, spec in walk.done if spec == "ut_risk_decision"}
    assert workers <= {"leader", "deputy"}  # the decision is the leadership's


def test_the_monthly_analysis_reads_the_months_incidents_with_labels(walk_factory):
    incident = walk_factory(answers.INCIDENT, crawl=False)
    incident.start("monitor", "/tasks", "登记新舆情(快报)")
    incident.run(until=lambda w: "ut_publish_response" in {spec for _who, spec in w.done})  # 25 November
    assert schedules.ensure_scheduled() == 1  # what the worker does every round: 1 December, for November
    monthly = db.session.scalar(select(ProcessInstance).where(ProcessInstance.process_key == "yq_monthly_analysis"))
    walk = walk_factory(answers.MONTHLY, follow_new=False)  # the incident goes on waiting meanwhile
    walk.instance_ids.append(monthly.public_id)
    shown: list[str] = []

    def draft(w: Walk, page: Page) -> dict[str, Any]:
        shown.append(page.text())
        return answers.MONTHLY["ut_draft_monthly"][0]

    walk.answers["ut_draft_monthly"] = [draft]
    walk.run()
    assert walk.problems == [], walk.report()
    statistics = shown[0]
    assert "舆情事件:1 起" in statistics and "微博 1 起" in statistics and "就业促进科 1 起" in statistics
    assert [spec for _who, spec in walk.done].count("ut_draft_monthly") == 2  # returned once


def _platform_token(walk: Walk) -> str:
    admin = walk.people["admin"]
    page = admin.get("/admin/api-tokens")
    result = admin.submit(page.form(button="生成").fill(name="某舆情监测平台"), "生成")
    tokens = re.findall(r"[A-Za-z0-9_-]{40,}", result.text())
    assert tokens, "the token is shown once after it was made"
    return tokens[0]


def _triage(relevance: str, **extra: Any) -> dict[str, Any]:
    return {"relevance": relevance, **extra}


def test_leads_from_a_platform_and_from_people_are_triaged(walk_factory, app):
    walk = walk_factory(answers.INCIDENT)
    token = _platform_token(walk)
    platform = app.test_client()
    alert = {"source_type": "platform_alert", "title": "抖音用户称就业服务窗口推诿", "platform": "抖音",
             "url": "https://www.douyin.com/video/1", "snippet": "视频称窗口推诿,点赞上万。",
             "published_at": "2026-11-25T08:40:00+08:00", "detected_at": "2026-11-25T08:55:00+08:00",
             "metrics": {"views": 52000, "reposts": 300, "comments": 800, "likes": 12000},
             "external_ref": "dy-0001"}
    response = platform.post("/api/v1/alerts", json=alert, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_data(as_text=True)
    registered: list[str] = []

    def register(w: Walk, page: Page) -> dict[str, Any]:
        form = page.form(button="提交")
        registered.append(" ".join(label for label, value in form.options("platform").items()
                                   if value in form.values.get("platform", [])))
        values = answers.register()
        for carried in ("title", "url", "platform", "source_type", "views", "reposts", "comments", "likes"):
            values.pop(carried)  # what the lead already said is on the form
        return values

    walk.answers.update({"ut_triage": [_triage("新舆情,登记为新事件")], "ut_register": [register]})
    walk.hold.add("ut_follow_up_log")
    walk.run(until=lambda w: w.incident() is not None and any(t.spec_id == "ut_follow_up_log"
                                                                for t in w.open_tasks()))
    assert registered == ["抖音"]  # the lead's platform arrived on the quick report
    number = walk.incident().number

    people_report = walk.people["monitor"].get("/alerts/new")
    form = people_report.form(button="登记").fill(
        source_type="群众反映", title="群众来电反映窗口已整改", url="https://weibo.com/2")
    assert walk.people["monitor"].submit(form, "登记").status == 200
    walk.answers["ut_triage"] = [_triage("已有事件的新情况", duplicate_of=FIRST, triage_note=f"属{number}的新情况")]
    walk.hold.clear()
    walk.run()
    assert walk.problems == [], walk.report()
    ledger = walk.people["office"].get(f"/ledger/{number}").text()
    assert "收到新情况" in ledger and "抖音" in ledger and "监测平台推送" in ledger
