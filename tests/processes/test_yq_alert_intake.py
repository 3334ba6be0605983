"""yq_alert_intake.bpmn: leads from platforms and people → triage → new incident, update of a running
incident, or the lead pool; a superior's notice cannot be dismissed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import Alert, Incident, InstanceStatus, LedgerEntry, ProcessInstance
from app.operations import intake, ledger, tasks
from app.operations.errors import Invalid
from tests.conftest import make_user
from tests.processes.flow import Flow

ALERT = {"source_type": "platform_alert", "title": "网传某窗口办事推诿", "url": "https://weibo.com/2/1",
         "platform": "weibo", "snippet": "网民称多次往返未办成", "external_ref": "plat-001",
         "detected_at": "2026-11-25T08:50:00+08:00", "metrics": {"views": 1200, "reposts": 30}}


@pytest.fixture
def office(db):
    return make_user(["office_director", "monitor", "office_staff"])


def _triage(alert: Alert, office, **answers) -> None:
    task = next(t for t in tasks.list_group_tasks(office) if t.instance_id == alert.instance_id)
    assert task.spec_id == "ut_triage"
    tasks.complete_task(task.public_id, answers, office)


def test_a_platform_alert_starts_triage_with_its_content(office):
    alert, created = intake.receive_alert(ALERT, source="监测平台")
    assert created and alert.outcome == "pending"
    task = next(t for t in tasks.list_group_tasks(office) if t.instance_id == alert.instance_id)
    assert task.context["alert"]["title"] == "网传某窗口办事推诿"
    assert task.context["lead_discovered_at"] == "2026-11-25T08:50:00+08:00"
    assert task.due_at.isoformat() == "2026-11-25T01:20:00+00:00"  # 30 minutes after detection


def test_the_same_alert_twice_is_one_lead(office):
    first, _ = intake.receive_alert(ALERT, source="监测平台")
    again, created = intake.receive_alert({**ALERT, "title": "改了标题"}, source="监测平台")
    assert not created and again.id == first.id and again.title == "网传某窗口办事推诿"
    other_source, created = intake.receive_alert(ALERT, source="另一平台")
    assert created and other_source.id != first.id


def test_a_new_incident_is_opened_with_the_lead_prefilled(office, db):
    alert, _ = intake.receive_alert(ALERT, source="监测平台")
    _triage(alert, office, relevance="new", triage_note="属实,需登记")
    db.session.refresh(alert)
    assert alert.outcome == "new" and alert.incident_id is not None
    incident = db.session.get(Incident, alert.incident_id)
    instance = db.session.get(ProcessInstance, incident.instance_id)
    assert instance.process_key == "yq_incident" and instance.business_key == incident.number
    register = next(t for t in tasks.list_group_tasks(office) if t.instance_id == instance.id)
    assert register.spec_id == "ut_register"
    assert register.context["discovered_at"] == "2026-11-25T08:50:00+08:00"
    assert register.context["title"] == "网传某窗口办事推诿" and register.context["lead_note"] == "属实,需登记"
    intake_instance = db.session.get(ProcessInstance, alert.instance_id)
    assert intake_instance.status == InstanceStatus.COMPLETED


def test_news_about_a_running_incident_goes_to_its_ledger(office, db):
    flow = Flow("yq_incident", incident=True)
    number = flow.instance.business_key
    alert, _ = intake.receive_alert({**ALERT, "external_ref": "plat-002"}, source="监测平台")
    _triage(alert, office, relevance="duplicate", duplicate_of=number, triage_note="同一事件的新帖")
    db.session.refresh(alert)
    assert alert.outcome == "duplicate"
    entry = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "update_received")).one()
    assert entry.data["update"]["note"] == "同一事件的新帖" and entry.data["update"]["incident_no"] == number
    assert entry.data["delivered"] is False  # the incident is still being registered: nothing waits yet


def test_duplicate_needs_the_incident_it_belongs_to(office):
    alert, _ = intake.receive_alert(ALERT, source="监测平台")
    task = next(t for t in tasks.list_group_tasks(office) if t.instance_id == alert.instance_id)
    with pytest.raises(Invalid) as refused:
        tasks.complete_task(task.public_id, {"relevance": "duplicate"}, office)
    assert "duplicate_of" in refused.value.errors


def test_irrelevant_leads_stay_in_the_pool_with_a_reason(office, db):
    alert, _ = intake.receive_alert(ALERT, source="监测平台")
    _triage(alert, office, relevance="irrelevant", triage_note="广告帖,与本单位无关")
    db.session.refresh(alert)
    assert alert.outcome == "irrelevant" and alert.incident_id is None
    assert [a.id for a in intake.list_alerts("irrelevant")] == [alert.id]


def test_a_superiors_notice_cannot_be_dismissed(office):
    alert, _ = intake.receive_alert({**ALERT, "source_type": "superior_notice", "external_ref": None},
                                    source="manual", actor=office)
    task = next(t for t in tasks.list_group_tasks(office) if t.instance_id == alert.instance_id)
    with pytest.raises(Invalid) as refused:
        tasks.complete_task(task.public_id, {"relevance": "irrelevant", "triage_note": "不相关"}, office)
    assert "上级通报" in refused.value.errors["relevance"][0]


@pytest.mark.parametrize(("payload", "field"), [
    ({"title": "x"}, "source_type"),
    ({"source_type": "platform_alert"}, "title"),
    ({"source_type": "platform_alert", "title": "x", "url": "javascript:alert(1)"}, "url"),
    ({"source_type": "platform_alert", "title": "x", "detected_at": "2026-11-25 08:00"}, "detected_at"),
    ({"source_type": "platform_alert", "title": "x", "detected_at": "2026-11-26T08:00:00+08:00"}, "detected_at"),
    ({"source_type": "platform_alert", "title": "x", "metrics": {"views": -1}}, "metrics"),
    ({"source_type": "platform_alert", "title": "x", "shell": "rm"}, "shell"),
    ({"source_type": "platform_alert", "title": "x" * 301}, "title"),
])
def test_bad_alerts_are_refused_field_by_field_and_nothing_is_stored(db, payload, field):
    with pytest.raises(Invalid) as refused:
        intake.receive_alert(payload, source="监测平台")
    assert field in refused.value.errors
    assert db.session.scalars(select(Alert)).all() == []


def test_forwarded_news_reaches_a_waiting_monitoring_step(office, db, fake_clock):
    """Once the incident waits for updates (here: a follow-up round), the lead is delivered to it."""
    follow = Flow("yq_follow_up", {"title": "某事件", "follow_up_every": "P1D", "incident_no": "YQ-2026-9001"})
    follow.do("ut_follow_up_log", observed_at="2026-11-25T09:00:00+08:00", outcome="no_change")
    with transaction() as session:
        ledger.incident_for(session, follow.instance)  # a sub-process started alone gets its ledger head here
    alert, _ = intake.receive_alert({**ALERT, "external_ref": "plat-003"}, source="监测平台")
    _triage(alert, office, relevance="duplicate", duplicate_of="YQ-2026-9001", triage_note="转发量上升")
    db.session.refresh(follow.instance)
    assert follow.open() == ["ut_follow_up_log"]
    assert follow.task("ut_follow_up_log").context["update"]["note"] == "转发量上升"
    assert [kind for kind, _data in follow.ledger()][-1] == "update_received"
    assert follow.ledger()[-1][1]["delivered"] is True
