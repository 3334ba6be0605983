"""Generated documents (公文, domain.md §12.6): the 快报, the external report, the approved 通稿, the case file
of an incident and the monthly analysis report, in the GB/T 9704 layout, stored and versioned.

Generating one stores a new version (what was sent stays readable); both generating and downloading are
audited. Only people who may see the incident (docs/decisions.md 46) may generate or open its documents;
the monthly report is for the roles that read the whole ledger.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session, undefer

from app import clock
from app.db import transaction
from app.extensions import db
from app.models import (
    AuditEvent,
    GeneratedDocument,
    HumanTask,
    Incident,
    LedgerEntry,
    ProcessInstance,
    TaskStatus,
    User,
)
from app.operations import (
    attachments,
    deadlines,
    document_monthly,
    document_texts,
    profiles,
    statistics,
    tasks,
    visibility,
)
from app.operations.errors import Invalid, NotFound

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KINDS = {
    "quick_report": _l("快报"),
    "external_report": _l("外部报告"),
    "release": _l("通稿"),
    "case_file": _l("事后总结(全案归档)"),
    "monthly": _l("月度分析研判报告"),
}
INCIDENT_KINDS = ("quick_report", "external_report", "release", "case_file")
BUILDERS: dict[str, Callable[[document_texts.Record], bytes]] = {
    "quick_report": document_texts.quick_report,
    "external_report": document_texts.external_report,
    "release": document_texts.release,
    "case_file": document_texts.case_file,
}
# Task pages that offer an incident's documents (the task that needs them, e.g. to send the 快报 on).
TASK_DOCUMENTS = {
    "ut_external_report": ("quick_report", "external_report"),
    "ut_request_superior": ("quick_report", "external_report"),
    "ut_confirm_level": ("quick_report",),
    "ut_leader_confirm": ("quick_report",),
    "ut_publish_response": ("release",),
    "ut_summary": ("case_file",),
    "ut_approve_summary": ("case_file",),
}
MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
FIRST_MONTH = (2000, 1)  # the earliest month a monthly report is generated for (decision 107); the last: this one
MONTHLY_TASKS = ("ut_draft_monthly", "ut_approve_monthly", "ut_file_monthly")
# The file field a task sends its documents with (the 快报 and the report go with the external report).
ATTACH_FIELDS = {"ut_external_report": "report_doc", "ut_request_superior": "report_doc"}
# The 外部报告 belongs to Ⅱ级's report to superiors and Ⅰ级's 请示上级 (domain §13 decision 29), nowhere else.
EXTERNAL_REPORT_LEVELS = deadlines.EXTERNAL_REPORT_LEVELS


# The case file is the whole incident's record, every unit's tasks and deadlines with it: the overview roles
# read it; a unit-bound reader (a section head) reads the documents about the incident itself (decision 150).
WHOLE_RECORD_KINDS = ("case_file",)


def readable_kinds(user: User, kinds: tuple[str, ...] = INCIDENT_KINDS) -> tuple[str, ...]:
    """The kinds of `kinds` that `user` may read of an incident they may see."""
    if user.has_role(*visibility.OVERVIEW_ROLES):
        return kinds
    return tuple(kind for kind in kinds if kind not in WHOLE_RECORD_KINDS)


def offered_kinds(incident: Incident, kinds: tuple[str, ...] = INCIDENT_KINDS) -> tuple[str, ...]:
    """The kinds of `kinds` the incident's plan has: no 外部报告 below Ⅱ级 (by the confirmed level, else the
    proposed one, as document_texts.external_report decides)."""
    level = incident.level or incident.proposed_level
    return tuple(kind for kind in kinds if kind != "external_report" or level in EXTERNAL_REPORT_LEVELS)


def kind_label(kind: str) -> str:
    """The name of a document kind."""
    return str(KINDS.get(kind, kind))


def _readable(user: User) -> ColumnElement[bool]:
    if user.has_role(*visibility.OVERVIEW_ROLES):
        return true()
    return Incident.instance_id.in_(select(ProcessInstance.id).where(visibility.instance_clause(user)))


def readable_incident(number: str, user: User, session: Session | None = None) -> Incident:
    """The incident numbered `number` if `user` may see it; NotFound otherwise (it does not exist for them)."""
    session = session or db.session
    incident = session.scalar(select(Incident).where(Incident.number == number[:32], _readable(user)))
    if incident is None:
        raise NotFound(str(_l("台账中没有这个事件。")))
    return incident


def list_documents(incident: Incident, kinds: tuple[str, ...] = INCIDENT_KINDS
                   ) -> dict[str, list[tuple[GeneratedDocument, str | None]]]:
    """The stored documents of an incident by kind, newest version first, with who generated each (no bytes)."""
    rows = db.session.execute(select(GeneratedDocument, User.display_name)
                              .outerjoin(User, User.id == GeneratedDocument.created_by_id)
                              .where(GeneratedDocument.incident_id == incident.id, GeneratedDocument.kind.in_(kinds))
                              .order_by(GeneratedDocument.version.desc())).all()
    by_kind: dict[str, list[tuple[GeneratedDocument, str | None]]] = {kind: [] for kind in kinds}
    for row, name in rows:
        by_kind[row.kind].append((row, name))
    return by_kind


def list_monthly(month: str | None = None) -> list[tuple[GeneratedDocument, str | None]]:
    """The stored monthly reports (of one month, if given), newest month and version first, with who made each."""
    query = select(GeneratedDocument, User.display_name).outerjoin(User, User.id == GeneratedDocument.created_by_id)
    query = query.where(GeneratedDocument.kind == "monthly")
    if month:
        query = query.where(GeneratedDocument.subject == month[:7])
    return [(row, name) for row, name in db.session.execute(
        query.order_by(GeneratedDocument.subject.desc(), GeneratedDocument.version.desc()).limit(24)).all()]


def _store(session: Session, kind: str, subject: str, content: bytes, user: User | None,
           incident: Incident | None, source_entry_id: int | None = None) -> GeneratedDocument:
    version = (session.scalar(select(func.max(GeneratedDocument.version)).where(
        GeneratedDocument.kind == kind, GeneratedDocument.subject == subject)) or 0) + 1
    with force_locale("zh_CN"):  # the document is Chinese whoever generates it, and so is its file name
        filename = f"{subject}-{kind_label(kind)}-v{version}.docx"
    row = GeneratedDocument(kind=kind, subject=subject, incident_id=incident.id if incident else None,
                            version=version, filename=filename,
                            size=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
                            created_by_id=user.id if user else None, created_at=clock.now(),
                            source_entry_id=source_entry_id)
    session.add(row)
    session.flush()
    detail = {"kind": kind, "subject": subject, "version": version, "document": row.public_id,
              "name": row.filename, "size": row.size, "sha256": row.sha256}
    if source_entry_id is not None:  # made by a process step (auto_documents), not at a person's request
        detail["step"] = source_entry_id
    session.add(AuditEvent(actor_id=user.id if user else None, instance_id=incident.instance_id if incident else None,
                           action="document_generated", detail=detail))
    return row


def _refuse_missing(kind: str, exc: document_texts.MissingField) -> Invalid:
    message = str(_l("无法生成%(kind)s:缺少“%(field)s”。", kind=kind_label(kind), field=exc.field))
    return Invalid(message, {"kind": [message]})


def may_generate(user: User, incident: Incident, kind: str | None = None) -> bool:
    """Who writes an incident's documents: the overview roles (the office, the group, the leaders), and
    whoever may work an open task of the incident that sends that document on (the 快报 with the
    external report, say). Everyone else who may see the incident reads and downloads them only, so a
    press on 生成 never makes versions nobody asked for."""
    if user.has_role(*visibility.OVERVIEW_ROLES):
        return True
    specs = [spec for spec, kinds in TASK_DOCUMENTS.items() if kind is None or kind in kinds]
    mine = or_(HumanTask.assignee_id == user.id, visibility.candidate_clause(user))
    return db.session.scalar(select(HumanTask.id).join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
                             .where(ProcessInstance.business_key == incident.number,
                                    HumanTask.status == TaskStatus.OPEN, HumanTask.spec_id.in_(specs), mine)
                             .limit(1)) is not None


def generate_document(kind: str, number: str, user: User) -> GeneratedDocument:
    """Write the document `kind` of incident `number` from its ledger and store it as the next version."""
    if kind not in BUILDERS:
        raise NotFound(str(_l("没有这种文书。")))
    with transaction() as session:
        incident = readable_incident(number, user, session)
        if not may_generate(user, incident, kind):
            raise Invalid(str(_l("您可以查看和下载该事件的文书,生成由办公室或办理相关任务的同事进行。")))
        record = document_texts.load_record(incident, profiles.active_values(session))
        try:
            content = BUILDERS[kind](record)
        except document_texts.MissingField as exc:
            raise _refuse_missing(kind, exc) from exc
        return _store(session, kind, incident.number, content, user, incident)


def generate_for_step(payload: dict[str, Any]) -> GeneratedDocument | None:
    """The `document_for_step` job (auto_documents): the document a step makes, from the ledger as it now
    stands, stored as the next version in the name of whoever did the step. Done once per ledger line,
    however often the job is delivered; a missing fact is recorded (`document_not_generated`), not retried."""
    kind = str(payload.get("kind"))
    if kind not in BUILDERS:
        raise ValueError(f"unknown document kind {kind!r}")
    with transaction() as session:
        entry = session.get(LedgerEntry, int(payload["entry"]))
        if entry is None or session.scalar(select(GeneratedDocument.id).where(
                GeneratedDocument.source_entry_id == entry.id)) is not None:
            return None  # the incident is gone, or this step's document was made already
        incident = session.get(Incident, entry.incident_id)
        record = document_texts.load_record(incident, profiles.active_values(session))
        try:
            content = BUILDERS[kind](record)
        except document_texts.MissingField as exc:
            session.add(AuditEvent(actor_id=entry.actor_id, instance_id=incident.instance_id,
                                   action="document_not_generated",
                                   detail={"kind": kind, "step": entry.id, "missing": exc.field}))
            return None
        actor = session.get(User, entry.actor_id) if entry.actor_id else None
        return _store(session, kind, incident.number, content, actor, incident, source_entry_id=entry.id)


def month_period(month: str) -> tuple[datetime, datetime]:
    """'2026-11' → its first midnight and the next month's, Asia/Shanghai (decision 23); Invalid otherwise."""
    try:
        if not MONTH.fullmatch(month):
            raise ValueError(month)
        year, number = (int(part) for part in month.split("-"))
        start = datetime(year, number, 1, tzinfo=clock.SHANGHAI)
        end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=clock.SHANGHAI)
    except ValueError as exc:  # not a month, or none whose end a date can hold (9999-12)
        message = str(_l("请选择月份,格式如 2026-11。"))
        raise Invalid(message, {"month": [message]}) from exc
    return start, end


def month_label(month: str) -> str:
    """'2026-11' → 2026年11月 (in the reader's language); what is no month stays as it is."""
    if not MONTH.fullmatch(month or ""):
        return month
    year, number = (int(part) for part in month.split("-"))
    return str(_l("%(year)s年%(month)s月", year=year, month=number))


def _within_reach(start: datetime) -> None:
    """A report is for a month from FIRST_MONTH to the current one: before that there is no ledger, after
    it nothing has happened yet (a typing slip like 1999 or 2062 is refused, not filed as an empty report)."""
    now = clock.local(clock.now())
    first = datetime(*FIRST_MONTH, 1, tzinfo=clock.SHANGHAI)
    last = datetime(now.year, now.month, 1, tzinfo=clock.SHANGHAI)
    if not first <= start <= last:
        message = str(_l("只能生成 %(first)s 至 %(last)s(本月)的月度分析研判报告。",
                         first=month_label(f"{first.year}-{first.month:02d}"),
                         last=month_label(f"{last.year}-{last.month:02d}")))
        raise Invalid(message, {"month": [message]})


def may_read_monthly(user: User) -> bool:
    """The monthly report lists every incident of the month: it is for the roles that read the whole ledger."""
    return user.has_role(*visibility.OVERVIEW_ROLES)


def generate_monthly(month: str, user: User) -> GeneratedDocument:
    """The monthly analysis report of `month` ('2026-11') from the ledger's statistics, stored as a new version."""
    if not may_read_monthly(user):
        raise NotFound(str(_l("没有这种文书。")))
    start, end = month_period(month)
    _within_reach(start)
    with transaction() as session:
        stats = statistics.period_stats(session, start, end)
        try:
            content = document_monthly.monthly_report(session, start, end, stats, profiles.active_values(session))
        except document_texts.MissingField as exc:
            raise _refuse_missing("monthly", exc) from exc
        return _store(session, "monthly", f"{start.year}-{start.month:02d}", content, user, None)


def open_document(public_id: str, user: User) -> attachments.Download:
    """A stored document's bytes for someone who may see its incident (monthly: the ledger's readers); audited."""
    with transaction() as session:
        readable = _readable(user)
        monthly = GeneratedDocument.incident_id.is_(None) if may_read_monthly(user) else None
        incidents = GeneratedDocument.incident_id.in_(select(Incident.id).where(readable))
        if not user.has_role(*visibility.OVERVIEW_ROLES):
            incidents = and_(incidents, GeneratedDocument.kind.not_in(WHOLE_RECORD_KINDS))
        allowed = or_(incidents, monthly) if monthly is not None else incidents
        row = session.scalar(select(GeneratedDocument).options(undefer(GeneratedDocument.content)).where(
            GeneratedDocument.public_id == public_id[:36], allowed))
        if row is None:
            raise NotFound(str(_l("文书不存在或您无权查看。")))
        instance_id = session.scalar(select(Incident.instance_id).where(Incident.id == row.incident_id)) \
            if row.incident_id else None
        session.add(AuditEvent(actor_id=user.id, instance_id=instance_id, action="document_downloaded",
                               detail={"kind": row.kind, "subject": row.subject, "version": row.version,
                                       "document": row.public_id, "name": row.filename}))
        # old clients drop the Chinese of the name: the kind's code keeps 快报 and 通稿 apart for them
        return attachments.Download(row.filename, DOCX, row.content,
                                    ascii_name=f"{row.subject}-{row.kind}-v{row.version}.docx")


def attach_document(document_id: str, task_id: str, user: User) -> dict[str, Any]:
    """Attach a stored document of the task's incident to the task's file field (the 快报 sent with the external
    report), as if its worker had uploaded it: the same checks, the same audit (`attachment_uploaded`)."""
    task = tasks.get_task(task_id[:36], user)
    field = ATTACH_FIELDS.get(task.spec_id)
    row = db.session.scalar(select(GeneratedDocument).options(undefer(GeneratedDocument.content)).where(
        GeneratedDocument.public_id == document_id[:36],
        GeneratedDocument.incident_id.in_(select(Incident.id).where(Incident.instance_id == task.instance_id))))
    if field is None or row is None:
        raise NotFound(str(_l("文书不存在或您无权查看。")))
    return attachments.store_upload(task.public_id, field, row.filename, row.content, user)
