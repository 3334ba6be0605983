"""The incident ledger (台账, domain.md §11.16): written by the processes, read by people and reports.

Two ways in, both inside the transaction of the step that caused them:
- a user task with the property `ledger` (e.g. `release_published`) records what the person
  submitted, with who and when, when the task is completed;
- the service operator `ledger(kind=...)` records what the process itself knows (deadlines set or
  missed, a level change, the archive), picking the fields its kind names from the task data.

Each kind may also update the incident's head row: level, key times, and every deadline with its
due time, the time it was met and whether it was missed (the kinds: ledger_kinds.py). The ledger
outlives workflow data: an upgrade cancels the level diagram that held the data, never the ledger.
This module writes the lines and answers the diagrams' queries; the pages read the ledger through
ledger_reading.py, the exports through ledger_export.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock, forms
from app.engine.services import SideEffect
from app.models import AuditEvent, HumanTask, Incident, LedgerEntry, ProcessInstance, User
from app.operations import deadlines, labels, ledger_filter, statistics
from app.operations.ledger_kinds import KINDS, View, kind_label, valid_level
from app.operations.vocabulary import level_name

# -- time helpers ----------------------------------------------------------------------------------


_parse = clock.parse_aware


def _short(value: datetime | None) -> str:
    return clock.local(value).strftime("%m-%d %H:%M") if value else "—"


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


def record_pass(session: Session, task: HumanTask, actor: User | None, person: User,
                reason: str) -> LedgerEntry | None:
    """转办 of an incident's task, by a colleague or an admin: the record says which task went to whom and why
    (the actor is who passed it)."""
    instance = task.instance
    if session.scalar(select(Incident.id).where(Incident.instance_id == instance.id)) is None:
        return None  # not an incident (the monthly analysis), or before its first ledger line
    data = {"task": task.name, "to": person.display_name, "reason": reason}
    return _write(session, instance, "task_passed", data, data, _Origin(task.spec_id, actor, task.id))


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
    if kind_name == "deadlines_set" and summary and summary == session.scalar(
            select(LedgerEntry.summary).where(LedgerEntry.incident_id == incident.id, LedgerEntry.kind == kind_name)
            .order_by(LedgerEntry.id.desc()).limit(1)):
        return None  # the leader's confirmation kept the office's deadlines: the record says them once
    entry = LedgerEntry(incident_id=incident.id, kind=kind_name, at=now, actor_id=actor.id if actor else None,
                        element=element, task_id=task_id, data=data, summary=summary)
    session.add(entry)
    return entry


def _summary(kind_name: str, view: View, data: dict[str, Any],
             incident_deadlines: dict[str, Any] | None = None) -> str:
    kind = KINDS[kind_name]
    if kind_name in _WORDED:
        return _WORDED[kind_name](view, data)
    if kind_name in ("level_confirmed", "leader_confirmed", "level_changed", "regrade"):
        level = level_name(valid_level(view.get("confirmed_level")))
        reason = next((str(view[k]).strip() for k in ("level_change_reason", "reason", "upgrade_reason")
                       if isinstance(view.get(k), str) and view[k].strip()), "")
        if level:  # the level and why it was chosen, when it was not simply the proposal
            return f"{level}:{reason.splitlines()[0]}"[:200] if reason else level
    if kind_name == "deadlines_set":  # which deadlines were set, and for when (the report to superiors is
        # due with the quick report: the line names that time once, and says the same after confirmation)
        return ";".join(f"{deadlines.DEADLINE_LABELS[name].split('(')[0]} {_short(_parse(view[key]))}"
                        for name, key in deadlines.DEADLINE_SOURCES.items()
                        if key in data and name in (incident_deadlines or {}) and name != "external_report")[:200]
    if data.get("note"):
        return str(data["note"])[:200]
    for key in kind.summary:
        value = view.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().splitlines()[0][:200]
    return ""


def _passed(data: dict[str, Any]) -> str:
    return f"“{data['task']}”转给{data['to']},转办理由:{data['reason']}"[:200]


def _missed(data: dict[str, Any]) -> str:
    who = f"({labels.units_text(data['subject'])})" if data.get("subject") else ""
    note = f":{data['note']}" if data.get("note") else ""
    return f"{deadlines.DEADLINE_LABELS.get(data['deadline'], data['deadline'])}{who}已超时{note}"[:200]


def _external_review(view: View) -> str:
    """Who reviewed the release above us, and whether they agreed (and if not, what they asked)."""
    return review_text(view)


REVIEW_RESULTS = {"approve": "同意", "return": "不同意,退回修改"}  # the record form's choices, as it labels them
REVIEW_RESULTS_EN = {"approve": "Approved", "return": "Not approved, returned for revision"}  # what was decided


def review_text(view: View, locale: str | None = None) -> str:
    """A superior's review as its line says it: the reviewing body, then its result (the choice's label, in
    `locale`) and the first line of what it asked: 市委宣传部 — 不同意,退回修改:…"""
    body = str(view.get("approver_body") or "").strip()
    if not body:
        return ""
    result = "return" if view.get("external_result") == "return" else "approve"
    english = (locale or "").lower().startswith("en")
    said = REVIEW_RESULTS_EN[result] if english else forms.form_text(REVIEW_RESULTS[result], locale or "zh_CN")
    text = f"{body} — {said}"
    comment = str(view.get("external_comment") or "").strip().splitlines() if result == "return" else []
    if comment:
        text += f"{': ' if english else ':'}{comment[0]}"
    return text[:200]


# An approval's line says what was decided, and the first line of its comment: 退回修改(…) / 同意.
DECISIONS = {"release_review": ("release_decision", "release_comment"),
             "clarification_review": ("clarification_decision", "clarification_comment"),
             "summary_review": ("summary_decision", "summary_comment")}
DECISION_WORDS = {"approve": ("同意", "Approved"), "return": ("退回修改", "Returned for revision")}
# What a decision field of a line says on an English record: what was decided, not the form's button
# ("Approve"); the Chinese record keeps the choice's label (同意).
DECIDED_FIELDS = {"release_review": "release_decision", "clarification_review": "clarification_decision",
                  "summary_review": "summary_decision", "instruction_decided": "decision",
                  "external_approval": "external_result"}
DECIDED_EN = {"approve": "Approved", "return": "Returned for revision", "reject": "Not approved",
              "change_level": "Level to be changed"}


def decided_in_english(kind: str, name: str, value: Any) -> str | None:
    """The English record's words for a decision field's value (None: not a decision, or a value unknown)."""
    if DECIDED_FIELDS.get(kind) != name or not isinstance(value, str):
        return None
    return REVIEW_RESULTS_EN.get(value) if kind == "external_approval" else DECIDED_EN.get(value)


def decision_text(kind: str, view: View, locale: str | None = None) -> str | None:
    """An approval's decision and comment in `locale`; None for a line without a decision (an older line)."""
    decision_key, comment_key = DECISIONS[kind]
    words = DECISION_WORDS.get(str(view.get(decision_key)))
    if words is None:
        return None
    english = (locale or "").lower().startswith("en")
    comment = str(view.get(comment_key) or "").strip().splitlines()
    if not comment:
        return words[english]
    return (f"{words[english]} ({comment[0][:180]})" if english else f"{words[english]}({comment[0][:180]})")


# Kinds whose summary the system words itself: (task data, the entry's data) → summary.
_WORDED = {"deadline_missed": lambda _view, data: _missed(data),
           "external_approval": lambda view, _data: _external_review(view),
           "task_passed": lambda _view, data: _passed(data),
           **{kind: (lambda view, _data, kind=kind: decision_text(kind, view) or "") for kind in DECISIONS}}


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
    timeline = [f"{_short(e.at)} {kind_label(e.kind)}" + (f":{e.summary}" if e.summary else "") for e in entries]
    due = incident.deadlines or {}
    items = deadlines.deadline_items(incident)
    timeliness = [deadlines.item_line(item, labels.unit_names()) for item in items]
    # the lines are the record's Chinese; an English page words them again from the entries and the items
    return {"number": incident.number, "timeline": timeline[-200:], "timeliness": timeliness,
            "entry_ids": [e.id for e in entries][-200:], "deadline_items": items,
            "first_release_done": bool((due.get("first_release") or {}).get("done_at")),
            "press_conference_done": bool((due.get("press_conference") or {}).get("done_at")),
            "upgrades": incident.upgrades}
