"""The incident ledger (台账, domain.md §11.16): written by the processes, read by people and reports.

Two ways in, both inside the transaction of the step that caused them:
- a user task with the property `ledger` (e.g. `release_published`) records what the person
  submitted, with who and when, when the task is completed;
- the service operator `ledger(kind=...)` records what the process itself knows (deadlines set or
  missed, a level change, the archive), picking the fields its kind names from the task data.

Each kind may also update the incident's head row: level, key times, and every deadline with its
due time, the time it was met and whether it was missed. The ledger outlives workflow data: an
upgrade cancels the level diagram that held the data, never the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.engine.services import SideEffect
from app.extensions import db
from app.models import AuditEvent, HumanTask, Incident, LedgerEntry, ProcessInstance, User
from app.operations import deadlines, labels, ledger_filter, statistics
from app.operations.errors import NotFound
from app.operations.ledger_filter import LedgerFilter
from app.operations.vocabulary import level_name

View = dict[str, Any]
Head = Callable[[Incident, View, datetime], None]


# -- time helpers ----------------------------------------------------------------------------------


_parse = clock.parse_aware


def _short(value: datetime | None) -> str:
    return clock.local(value).strftime("%m-%d %H:%M") if value else "—"


# -- head updates ------------------------------------------------------------------------------------


def _level(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4 else None


def _registered(incident: Incident, view: View, at: datetime) -> None:
    for key in ("title", "source_type", "platform", "url"):
        if isinstance(view.get(key), str):
            setattr(incident, key, view[key][:2000] if key == "url" else view[key][:300])
    if isinstance(view.get("related_units"), list):
        incident.related_units = [str(u) for u in view["related_units"]][:50]
    incident.occurred_at = _parse(view.get("occurred_at")) or incident.occurred_at
    incident.discovered_at = _parse(view.get("discovered_at")) or incident.discovered_at
    incident.is_false_info = bool(view.get("is_false_info")) or incident.is_false_info
    incident.reported_at = incident.reported_at or at
    deadlines.set_deadline(incident, "report", due=view.get("report_due_at"), done=at)
    incident.search_text = ledger_filter.searchable(incident, view)


def _proposed(incident: Incident, view: View, at: datetime) -> None:
    incident.proposed_level = _level(view.get("proposed_level")) or incident.proposed_level


def _confirmed(incident: Incident, view: View, at: datetime) -> None:
    incident.level = _level(view.get("confirmed_level")) or incident.level
    if isinstance(view.get("lead_unit"), str):
        incident.lead_unit = view["lead_unit"][:64]
    incident.confirmed_at = incident.confirmed_at or at


def _deadlines_set(incident: Incident, view: View, at: datetime) -> None:
    deadlines.deadlines_set(incident, view)


def _consulted(incident: Incident, view: View, at: datetime) -> None:
    deadlines.press_conference_decided(incident, view, view.get("need_press_conference"))


def _dispatched(incident: Incident, view: View, at: datetime) -> None:
    deadlines.dispatched(incident, view.get("dispatch_tasks"))


def _unit_answered(incident: Incident, view: View, at: datetime) -> None:
    if view.get("dispatch_unit") and view.get("dispatch_due_at"):
        key = deadlines.dispatch_key(view["dispatch_unit"], view["dispatch_due_at"])
        deadlines.set_deadline(incident, key, due=view["dispatch_due_at"], done=at)


def _level_changed(incident: Incident, view: View, at: datetime) -> None:
    new = _level(view.get("confirmed_level"))
    if new is None:
        return
    if incident.level is not None and new < incident.level:
        incident.upgrades += 1
    incident.level = new


def _published(incident: Incident, view: View, at: datetime) -> None:
    when = _parse(view.get("published_at")) or at
    incident.first_release_at = incident.first_release_at or when
    deadlines.set_deadline(incident, "first_release", done=when)
    if "national" in (incident.deadlines or {}):
        deadlines.set_deadline(incident, "national", done=when)


def _press_conference(incident: Incident, view: View, at: datetime) -> None:
    when = _parse(view.get("conference_at")) or at
    incident.press_conf_at = incident.press_conf_at or when
    deadlines.set_deadline(incident, "press_conference", done=when)


def _false_info(incident: Incident, view: View, at: datetime) -> None:
    incident.is_false_info = True


def _subsided(incident: Incident, view: View, at: datetime) -> None:
    if view.get("subsided_decision", "confirm") == "confirm":
        incident.subsided_at = _parse(view.get("subsided_at")) or at


def _summary_review(incident: Incident, view: View, at: datetime) -> None:
    if view.get("summary_decision") == "approve":
        deadlines.set_deadline(incident, "summary", done=at)


def _rejected(incident: Incident, view: View, at: datetime) -> None:
    incident.status = "rejected"


def _closed(incident: Incident, view: View, at: datetime) -> None:
    incident.status = "rejected" if incident.status == "rejected" else "closed"
    incident.closed_at = at


def _terminated(incident: Incident, view: View, at: datetime) -> None:
    if incident.status == "open":  # an incident already closed or not started keeps that status
        incident.status = "terminated"
        incident.closed_at = at


@dataclass(frozen=True)
class Kind:
    """What one entry kind is called, which task data a service task's entry keeps, what it updates."""

    label: str
    fields: tuple[str, ...] = ()
    head: Head | None = None
    summary: tuple[str, ...] = ()  # data keys whose first present value follows the label


KINDS: dict[str, Kind] = {
    "registered": Kind("登记舆情(快报)", ("title", "discovered_at", "url"), _registered, ("title",)),
    "level_proposed": Kind("系统建议定级", ("proposed_level", "grade_basis"), _proposed, ("grade_basis",)),
    "level_confirmed": Kind("确认定级", ("confirmed_level", "level_change_reason", "lead_unit"), _confirmed),
    "leader_confirmed": Kind("领导小组确认定级", ("confirmed_level", "level_change_reason"), _confirmed),
    "deadlines_set": Kind("处置时限", tuple(deadlines.DEADLINE_SOURCES.values()), _deadlines_set),
    "level_changed": Kind("等级调整", ("confirmed_level", "upgraded_from", "upgrade_reason"), _level_changed,
                          ("upgrade_reason",)),
    "instruction_requested": Kind("请示", summary=("request_text",)),
    "instruction_decided": Kind("领导批示", summary=("leader_comment",)),
    "response_rejected": Kind("不予启动响应", ("leader_comment",), _rejected, ("leader_comment",)),
    "external_report": Kind("外部报告/请示上级", summary=("receipt",)),
    "file_record": Kind("备案登记"),
    "task_force": Kind("成立工作专班", summary=("leader_person",)),
    "investigation": Kind("调查核实", summary=("findings",)),
    "consultation": Kind("会商研判", head=_consulted, summary=("talking_points",)),
    "superior_measures": Kind("上级会商意见", summary=("superior_measures",)),
    "dispatch": Kind("下达处置任务", head=_dispatched),
    "unit_feedback": Kind("承办反馈", head=_unit_answered, summary=("unit_feedback_text",)),
    "release_drafted": Kind("起草通稿", summary=("release_title",)),
    "release_review": Kind("审批通稿", summary=("release_comment",)),
    "external_approval": Kind("上级审核意见", summary=("approver_body",)),
    "release_published": Kind("正面回应发布", ("published_at",), _published, ("published_text",)),
    "press_conference_requested": Kind("申请指定发布人"),
    "spokesperson_designated": Kind("上级指定发布人", summary=("designated_person",)),
    "press_conference_prepared": Kind("发布会筹备"),
    "press_conference": Kind("召开新闻发布会", ("conference_at",), _press_conference, ("conference_summary",)),
    "false_info": Kind("虚假不实信息处置", ("false_content",), _false_info, ("false_content",)),
    "clarification_review": Kind("澄清稿审批", summary=("clarification_comment",)),
    "false_info_result": Kind("虚假信息处置结果", summary=("false_info_outcome",)),
    "commentary": Kind("网评文章", summary=("article_title",)),
    "monitor_report": Kind("舆情动态报告", summary=("worsening_desc",)),
    "regrade": Kind("复核定级", summary=("reason",)),
    "update_received": Kind("收到新情况", ("update",), summary=("note",)),
    "follow_up": Kind("跟踪引导", summary=("guidance_given",)),
    "reply_plan": Kind("会商回复方案", summary=("reply_plan",)),
    "reply": Kind("按方案回复"),
    "subsided": Kind("确认平息", ("subsided_at",), _subsided, ("basis",)),
    "aftermath_watch": Kind("善后跟踪", summary=("aftermath_note",)),
    "summary": Kind("总结评估"),
    "summary_review": Kind("审定总结", ("summary_decision",), _summary_review, ("summary_comment",)),
    "accountability": Kind("责任考评"),
    "plan_revision": Kind("预案修订任务", summary=("revision_items",)),
    "deadline_missed": Kind("时限超时"),
    "notice": Kind("记录"),
    "closed": Kind("结案归档", head=_closed),
    "terminated": Kind("流程终止", head=_terminated, summary=("reason",)),
}


# -- writing ---------------------------------------------------------------------------------------


_KNOWN = "yq_incidents"  # session.info: incidents already read in this session, by instance id


def remember_incident(session: Session, incident: Incident) -> None:
    """An incident the caller read with its instance (tasks.lock_for_completion): `incident_for` returns
    it without a statement of its own. The link of an incident to its instance never changes; only the
    latest one is kept, so a long-lived session does not collect them."""
    session.info[_KNOWN] = {incident.instance_id: incident}


def incident_for(session: Session, instance: ProcessInstance, data: dict[str, Any] | None = None) -> Incident | None:
    """The ledger head of an incident instance (created on its first entry); None for other processes.

    `data` (the task data of the entry) names the incident number while the instance's first step is
    still running, before the instance row holds its data.
    """
    incident = session.info.get(_KNOWN, {}).get(instance.id) or session.scalar(
        select(Incident).where(Incident.instance_id == instance.id))
    if incident is not None:
        return incident
    number = instance.business_key or (data or {}).get("incident_no") or (instance.data or {}).get("incident_no")
    if not isinstance(number, str) or not number.startswith("YQ-"):
        return None
    incident = Incident(number=number, instance_id=instance.id, title=instance.title or "",
                        discovered_at=_parse((instance.data or {}).get("discovered_at")), deadlines={})
    session.add(incident)
    session.flush()
    return incident


def record_effect(session: Session, instance: ProcessInstance, effect: SideEffect,
                  actor: User | None = None) -> LedgerEntry | None:
    """The `ledger` service operator: an entry from the task data its kind names."""
    kind_name = effect.params["kind"]
    kind = KINDS[kind_name]
    view = dict(effect.data)
    data = {key: view[key] for key in kind.fields if key in view}
    if kind_name == "deadline_missed":
        data["deadline"] = effect.params["deadline"]
        data["due_at"] = (effect.params.get("due_at")
                          or view.get(deadlines.DEADLINE_SOURCES.get(effect.params["deadline"], "")))
        if effect.params.get("subject"):
            data["subject"] = effect.params["subject"]
        if _already_missed(session, instance, data):
            return None  # several paths watch one deadline (and a level change recomputes it): record it once
    if effect.params.get("note"):
        data["note"] = effect.params["note"]
    return _write(session, instance, kind_name, view, data, _Origin(effect.task_spec))


def _already_missed(session: Session, instance: ProcessInstance, data: dict[str, Any]) -> bool:
    incident = incident_for(session, instance, data)
    if incident is None:
        return False
    key = (data["deadline"], data.get("due_at"), data.get("subject"))
    entries = session.scalars(select(LedgerEntry.data).where(LedgerEntry.incident_id == incident.id,
                                                             LedgerEntry.kind == "deadline_missed"))
    return any((d.get("deadline"), d.get("due_at"), d.get("subject")) == key for d in entries)


def record_task(session: Session, instance: ProcessInstance, task: HumanTask, kind_name: str,
                submitted: dict[str, Any], actor: User) -> LedgerEntry | None:
    """A user task with the `ledger` property was completed: keep what the person submitted."""
    view = {**(task.context or {}), **submitted}
    entry = _write(session, instance, kind_name, view, dict(submitted), _Origin(task.spec_id, actor, task.id))
    if entry is not None and task.assignee_id not in (None, actor.id) and task.assignee is not None:
        # a delegate (委托) completed the holder's task: the record says on whose behalf, like the audit
        holder = task.assignee.display_name
        entry.data = {**entry.data, "on_behalf_of": holder}
        entry.summary = f"{entry.summary}(代{holder}办理)"[:200] if entry.summary else f"代{holder}办理"
    return entry


def record_update(session: Session, instance: ProcessInstance, update: dict[str, Any],
                  actor: User | None, delivered: bool) -> LedgerEntry | None:
    """New information about a running incident (msg_yq_update), whether or not a step waited for it."""
    data = {"update": update, "delivered": delivered}
    return _write(session, instance, "update_received", {"note": update.get("note"), **update}, data,
                  _Origin(None, actor))


def record_termination(session: Session, instance: ProcessInstance, actor: User | None,
                       reason: str) -> LedgerEntry | None:
    """An admin terminated the incident's instance: the incident is no longer open; the line keeps why."""
    if session.scalar(select(Incident.id).where(Incident.instance_id == instance.id)) is None:
        return None  # not an incident, or terminated before its first ledger line: nothing to close
    return _write(session, instance, "terminated", {"reason": reason}, {"reason": reason}, _Origin(None, actor))


@dataclass(frozen=True)
class _Origin:
    """Where an entry comes from: the element, the person (none for the process itself), the task."""

    element: str | None
    actor: User | None = None
    task_id: int | None = None


def _write(session: Session, instance: ProcessInstance, kind_name: str, view: View, data: dict[str, Any],
           origin: _Origin) -> LedgerEntry | None:
    element, actor, task_id = origin.element, origin.actor, origin.task_id
    incident = incident_for(session, instance, view)
    if incident is None:
        session.add(AuditEvent(instance_id=instance.id, action="warning",
                               detail={"element": element, "reason": f"ledger entry '{kind_name}' outside an "
                                                                     "incident was not written"}))
        return None
    kind = KINDS[kind_name]
    now = clock.now()
    if kind.head is not None:
        kind.head(incident, view, now)
    if kind_name == "deadline_missed" and not data.get("subject"):
        deadlines.set_deadline(incident, data["deadline"], due=data.get("due_at"), missed=True)
    elif kind_name == "deadline_missed":  # one dispatched unit's feedback is late
        deadlines.set_deadline(incident, deadlines.dispatch_key(data["subject"], data.get("due_at")),
                               due=data.get("due_at"), missed=True)
    incident.updated_at = now
    if instance.title and not incident.title:
        incident.title = instance.title
    if not incident.search_text:
        incident.search_text = ledger_filter.searchable(incident)
    # A person's line says only what they submitted: the task data still holds earlier rounds' answers.
    said = data if task_id is not None else view
    summary = _summary(kind_name, said, data, incident.deadlines)
    entry = LedgerEntry(incident_id=incident.id, kind=kind_name, at=now, actor_id=actor.id if actor else None,
                        element=element, task_id=task_id, data=data, summary=summary)
    session.add(entry)
    return entry


def _summary(kind_name: str, view: View, data: dict[str, Any],
             incident_deadlines: dict[str, Any] | None = None) -> str:
    kind = KINDS[kind_name]
    if kind_name in ("deadline_missed", "external_approval"):
        return _missed(data) if kind_name == "deadline_missed" else _external_review(view)
    if kind_name in ("level_confirmed", "leader_confirmed", "level_changed", "regrade"):
        level = level_name(_level(view.get("confirmed_level")))
        reason = next((str(view[k]).strip() for k in ("level_change_reason", "reason", "upgrade_reason")
                       if isinstance(view.get(k), str) and view[k].strip()), "")
        if level:  # the level and why it was chosen, when it was not simply the proposal
            return f"{level}:{reason.splitlines()[0]}"[:200] if reason else level
    if kind_name == "deadlines_set":  # which deadlines were set, and for when
        return ";".join(f"{deadlines.DEADLINE_LABELS[name].split('(')[0]} {_short(_parse(view[key]))}"
                        for name, key in deadlines.DEADLINE_SOURCES.items()
                        if key in data and name in (incident_deadlines or {}))[:200]
    if data.get("note"):
        return str(data["note"])[:200]
    for key in kind.summary:
        value = view.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().splitlines()[0][:200]
    return ""


def _missed(data: dict[str, Any]) -> str:
    who = f"({labels.units_text(data['subject'])})" if data.get("subject") else ""
    note = f":{data['note']}" if data.get("note") else ""
    return f"{deadlines.DEADLINE_LABELS.get(data['deadline'], data['deadline'])}{who}已超时{note}"[:200]


def _external_review(view: View) -> str:
    """Who reviewed the release above us, and whether they agreed (and if not, what they asked)."""
    body = str(view.get("approver_body") or "").strip()
    if view.get("external_result") == "return":
        comment = str(view.get("external_comment") or "").strip().splitlines()
        return f"{body}不同意,退回修改{':' + comment[0] if comment else ''}"[:200]
    return f"{body}同意"[:200] if body else ""


# -- queries for diagrams ------------------------------------------------------------------------


def query(session: Session, instance: ProcessInstance | None, name: str, params: dict[str, Any]) -> Any:
    """Answer a query operator (`monthly_stats`, `incident_record`) for `instance` (None: a test run,
    which has no incident; statistics are read like any report reads them)."""
    if name == "incident_record":
        incident = incident_for(session, instance) if instance is not None else None
        return incident_record(session, incident) if incident else empty_incident_record()
    if name == "monthly_stats":
        start, end = _parse(params["period_start"]), _parse(params["period_end"])
        if start is None or end is None or end <= start:
            raise ValueError("period_start and period_end must be ISO datetimes with an offset, start before end")
        return statistics.period_stats(session, start, end)
    raise ValueError(f"unknown query {name!r}")


def empty_incident_record() -> dict[str, Any]:
    """What `incident_record` answers for an instance without an incident (and in test runs)."""
    return {"timeline": [], "timeliness": [], "first_release_done": False, "press_conference_done": False,
            "upgrades": 0}


def incident_record(session: Session, incident: Incident) -> dict[str, Any]:
    """Timeline lines and deadline lines of one incident, for the summary task to show."""
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.incident_id == incident.id)
                              .order_by(LedgerEntry.at, LedgerEntry.id)).all()
    timeline = [f"{_short(e.at)} {KINDS[e.kind].label if e.kind in KINDS else e.kind}"
                + (f":{e.summary}" if e.summary else "") for e in entries]
    due = incident.deadlines or {}
    timeliness = deadlines.deadline_lines(incident, labels.unit_names())
    return {"number": incident.number, "timeline": timeline[-200:], "timeliness": timeliness,
            "first_release_done": bool((due.get("first_release") or {}).get("done_at")),
            "press_conference_done": bool((due.get("press_conference") or {}).get("done_at")),
            "upgrades": incident.upgrades}


# -- reading: the ledger pages -----------------------------------------------------------------------


def list_incidents(f: LedgerFilter, page: int = 1, per_page: int = 50) -> tuple[list[Incident], int]:
    """One page of the ledger, newest discovery first, and the total count."""
    total = db.session.scalar(select(func.count()).select_from(ledger_filter.filtered(f).subquery())) or 0
    newest = (Incident.discovered_at.desc().nulls_last(), Incident.id.desc())
    rows = db.session.scalars(ledger_filter.filtered(f).order_by(*newest)
                              .limit(per_page).offset(max(page - 1, 0) * per_page)).all()
    return list(rows), total


def get_incident(number: str) -> Incident:
    incident = db.session.scalar(select(Incident).where(Incident.number == number))
    if incident is None:
        raise NotFound(str(_l("台账中没有这个事件。")))
    return incident


@dataclass(frozen=True)
class Panel:
    """What a task page shows of its incident, so nobody has to open another page to decide."""

    incident: Incident
    deadlines: list[deadlines.DeadlineRow]
    recent: list[tuple[LedgerEntry, str, str | None]]
    more: int


def panel_for(instance: ProcessInstance, recent: int = 8) -> Panel | None:
    """The incident of a task's instance with its deadlines and latest ledger lines, or None."""
    incident = db.session.scalar(select(Incident).where(Incident.instance_id == instance.id))
    if incident is None:
        return None
    entries = entries_of(incident)
    rows = deadlines.deadline_rows(incident, labels.unit_names())
    return Panel(incident, rows, entries[-recent:][::-1], max(len(entries) - recent, 0))


def instance_public_id(incident: Incident) -> str | None:
    """The public id of the incident's workflow instance (None once that is gone)."""
    if incident.instance_id is None:
        return None
    return db.session.scalar(select(ProcessInstance.public_id).where(ProcessInstance.id == incident.instance_id))


def entries_of(incident: Incident) -> list[tuple[LedgerEntry, str, str | None]]:
    """(entry, kind label, actor name) in time order."""
    rows = db.session.execute(select(LedgerEntry, User.display_name).outerjoin(User, User.id == LedgerEntry.actor_id)
                              .where(LedgerEntry.incident_id == incident.id)
                              .order_by(LedgerEntry.at, LedgerEntry.id)).all()
    return [(entry, KINDS[entry.kind].label if entry.kind in KINDS else entry.kind, name) for entry, name in rows]


def csv_cell(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): text starting with = + - @ gets a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
