"""Documents a process step generates by itself: the step writes a job in its transaction, the worker makes
the document from the ledger and stores it with the incident, once per step, in the doer's name."""

from __future__ import annotations

from sqlalchemy import select

from app.jobs import registry
from app.models import AuditEvent, GeneratedDocument, Incident, Job, LedgerEntry
from app.operations import auto_documents, documents
from tests.operations.test_documents import summary_approved
from tests.processes.answers import ACCOUNTABILITY, CONFIRM, REGISTER
from tests.processes.flow import Flow

TITLE = "某街道社保窗口服务态度问题"


def _made(db, flow) -> list[tuple[str, int]]:
    rows = db.session.scalars(select(GeneratedDocument).where(
        GeneratedDocument.subject == flow.instance.business_key).order_by(GeneratedDocument.id)).all()
    return [(row.kind, row.version) for row in rows]


def test_the_quick_report_is_made_when_the_quick_report_task_is_completed(db, fake_clock):
    flow = Flow("yq_incident", incident=True, unit="social_insurance")
    flow.do("ut_register", **{**REGISTER, "title": TITLE, "summary": "网民发帖反映窗口办事拖延。"})
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "registered"))
    job = db.session.scalar(select(Job).where(Job.kind == auto_documents.JOB_KIND))
    assert job.payload == {"entry": entry.id, "kind": "quick_report"}  # written with the step, run later
    assert _made(db, flow) == []
    registry.run_due("test-worker", limit=100)
    assert _made(db, flow) == [("quick_report", 1)]
    row = db.session.scalar(select(GeneratedDocument).where(GeneratedDocument.kind == "quick_report"))
    assert row.created_by_id == flow.user.id and row.source_entry_id == entry.id and row.incident_id is not None
    assert documents.generate_for_step(job.payload) is None  # delivered twice: still one document
    assert _made(db, flow) == [("quick_report", 1)]
    listed = documents.list_documents(db.session.get(Incident, row.incident_id))
    assert [doc.version for doc, _ in listed["quick_report"]] == [1]  # the ledger page and the task offer it
    # the next step offers it to download and attach without anyone pressing 生成
    flow.do("ut_confirm_level", **CONFIRM)
    assert db.session.scalar(select(Job.id).where(Job.kind == auto_documents.JOB_KIND).offset(1)) is None


def test_the_case_file_is_made_when_the_summary_is_approved_and_again_with_the_accountability(db, fake_clock):
    flow = summary_approved(fake_clock)
    registry.run_due("test-worker", limit=100)
    assert _made(db, flow) == [("quick_report", 1), ("release", 1), ("case_file", 1)]
    flow.do("ut_accountability", **ACCOUNTABILITY)
    registry.run_due("test-worker", limit=100)
    assert _made(db, flow)[-1] == ("case_file", 2)  # versioned: the approved one stays readable
    made = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "document_generated")).all()
    assert all("step" in detail for detail in made) and len(made) == 4


def test_a_step_whose_document_lacks_a_fact_records_which_and_makes_none(db, fake_clock):
    flow = Flow("yq_incident", incident=True, unit="social_insurance")
    flow.do("ut_register", **REGISTER)
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "registered"))
    assert documents.generate_for_step({"entry": entry.id, "kind": "case_file"}) is None  # no summary yet
    missing = db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "document_not_generated"))
    assert missing == {"kind": "case_file", "step": entry.id, "missing": "总结评估"}
    assert _made(db, flow) == []
    registry.run_due("test-worker", limit=100)  # the job that step did write is done, not failed
    assert _made(db, flow) == [("quick_report", 1)]
    assert db.session.scalar(select(Job.status).where(Job.kind == auto_documents.JOB_KIND)) == "done"
