"""The ledger page of one incident (/ledger/<number>): the record a superior asks about, read from the
ledger lines, the task rows that wrote them and the audit of 催办 — never from the workflow state.

Each line is labelled by the form of the task that wrote it (choices as their labels, units as their
names, times in Shanghai) and links to that task. The page groups the lines the way the record is
read: the level history, the deadlines, the reports to superiors, the releases with their versions and
approvals, the dispatched units, the follow-up rounds, false information, the press conference and the
aftermath (summary, accountability, plan revision).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import clock, forms
from app.extensions import db
from app.models import Attachment, AuditEvent, HumanTask, Incident, LedgerEntry, User
from app.operations import catalog, deadlines, incident_page, labels, ledger, ledger_reading, tasks
from app.operations.vocabulary import level_name

REPORT_KINDS = ("external_report", "file_record", "instruction_requested", "instruction_decided",
                "superior_measures", "external_approval")
RELEASE_KINDS = ("release_drafted", "release_review", "external_approval", "release_published", "commentary")
FOLLOW_KINDS = ("monitor_report", "update_received", "follow_up", "reply_plan", "reply", "regrade", "subsided")
FALSE_INFO_KINDS = ("false_info", "clarification_review", "false_info_result")
PRESS_KINDS = ("press_conference_requested", "spokesperson_designated", "press_conference_prepared",
               "press_conference")
AFTERMATH_KINDS = ("aftermath_watch", "summary", "summary_review", "plan_revision")
LEVEL_STEPS = {  # ledger kind → what the step was
    "level_proposed": _l("系统建议定级"),
    "level_confirmed": _l("办公室确认定级"),
    "leader_confirmed": _l("领导小组确认定级"),
    "regrade": _l("复核定级"),
    "level_changed": _l("等级调整"),
}
REASON_KEYS = ("level_change_reason", "reason", "upgrade_reason", "grade_basis")


@dataclass
class Line:
    """One ledger line as the record shows it: what, when, who, every field labelled, the task."""

    entry: LedgerEntry
    label: str
    actor: str | None
    items: list[tuple[str, str]] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # field name → shown text
    task_id: str | None = None  # the public id of the task that wrote it
    number: int = 0  # which draft (第 2 稿) or follow-up round (第 1 轮) it is

    @property
    def at(self) -> datetime:
        return self.entry.at


@dataclass(frozen=True)
class LevelStep:
    """One step of the level history: proposed, confirmed or re-graded, with why, who and when."""

    at: datetime
    what: str
    level: str
    reason: str
    actor: str | None
    task_id: str | None


@dataclass(frozen=True)
class SuperiorReport:
    """One report to superiors (外部报告/请示上级, 备案登记): to whom, when, how, what came back."""

    what: str
    to: str
    when: str
    how: str
    receipt: str
    actor: str | None
    task_id: str | None


@dataclass(frozen=True)
class Urge:
    """A 催办 (someone from the office) or 督办 (the process, at the due time) of a dispatched unit."""

    at: datetime
    what: str
    actor: str | None
    note: str


@dataclass
class DispatchRow:
    """One dispatched unit: its task, when due and done, on time or late by how much, who urged it."""

    unit: str
    task: str
    row: deadlines.DeadlineRow
    urges: list[Urge] = field(default_factory=list)
    feedback: str = ""
    task_id: str | None = None

    locale: str = "zh_CN"

    @property
    def late_text(self) -> str:
        return deadlines.span_text(self.row.late_by, self.locale) if self.row.late_by else ""


@dataclass(frozen=True)
class Accountability:
    """One row of the accountability results (责任考评)."""

    subject: str
    evaluation: str
    reason: str
    measure: str


@dataclass
class Record:
    """Everything the ledger page of an incident shows."""

    incident: Incident
    facts: dict[str, str]
    levels: list[LevelStep]
    deadlines: list[deadlines.DeadlineRow]
    reports: list[Line]
    superior_reports: list[SuperiorReport]
    releases: list[Line]
    dispatch: list[DispatchRow]
    follow_up: list[Line]
    false_info: list[Line]
    press: list[Line]
    aftermath: list[Line]
    accountability: list[Accountability]
    accountability_lines: list[Line]
    files: list[Attachment]
    entries: list[incident_page.Line]
    stages: list[incident_page.Stage]
    instance_id: str | None


def record(number: str, user: User, locale: str = "zh_CN") -> Record:
    """The ledger page of the incident with this number, for a reader who may open it (its units and facts
    named in `locale`)."""
    incident = incident_page.get_visible_incident(number, user)
    entries = ledger_reading.entries_of(incident, locale)
    task_rows = _tasks_of(entries)
    names = labels.unit_names(locale)
    cache: dict[tuple[int, str, str | None], Any] = {}  # a form's choices are read once per page
    lines = [_line(entry, label, actor, task_rows.get(entry.task_id or 0), cache, locale)
             for entry, label, actor in entries]
    rows = incident_page.deadlines_of(incident, user, names, locale)

    def of(kinds: tuple[str, ...]) -> list[Line]:
        return [line for line in lines if line.entry.kind in kinds]

    releases = of(RELEASE_KINDS)
    drafts = 0
    for line in releases:
        if line.entry.kind == "release_drafted":
            drafts += 1
            line.number = drafts
    rounds = 0
    follow = of(FOLLOW_KINDS)
    for line in follow:
        if line.entry.kind == "follow_up":
            rounds += 1
            line.number = rounds
    accountability_lines = of(("accountability",))
    facts = labels.incident_facts(incident, locale, names)
    facts["platform"] = labels.with_other_platform(facts["platform"], labels.registered_data(entries))
    return Record(
        incident=incident, facts=facts, levels=_levels(lines, locale),
        deadlines=rows,
        reports=of(REPORT_KINDS), superior_reports=_superior_reports(of(("external_report", "file_record")), locale),
        releases=releases, dispatch=_dispatch(incident, lines, rows, names, locale),
        follow_up=follow, false_info=of(FALSE_INFO_KINDS), press=of(PRESS_KINDS), aftermath=of(AFTERMATH_KINDS),
        accountability=_accountability(incident, accountability_lines, names, locale),
        accountability_lines=accountability_lines,
        files=incident_page.attachments_of(incident, user), entries=entries,
        stages=incident_page.stages(incident, entries), instance_id=ledger_reading.instance_public_id(incident))


def _tasks_of(entries: list[incident_page.Line]) -> dict[int, HumanTask]:
    ids = {entry.task_id for entry, _label, _actor in entries if entry.task_id}
    if not ids:
        return {}
    return {task.id: task for task in db.session.scalars(select(HumanTask).where(HumanTask.id.in_(ids)))}


def _line(entry: LedgerEntry, label: str, actor: str | None, task: HumanTask | None,
          cache: dict[tuple[int, str, str | None], Any], locale: str = "zh_CN") -> Line:
    """A ledger line with what its task submitted, labelled by the task's form in `locale` (a line the
    process wrote keeps its summary only; what people wrote stays as written)."""
    line = Line(entry, label, actor, task_id=task.public_id if task else None)
    data = {k: v for k, v in (entry.data or {}).items() if k != "on_behalf_of"}
    if task is None:
        return line
    key = (task.instance.definition_id, task.form or "", task.ui_form)
    if key not in cache:
        form = catalog.version(key[0]).form(key[1], key[2])
        if form is not None:
            form = forms.localize(form, locale)
        cache[key] = (form, tasks.form_options(form, locale) if form is not None else None)
    form, options = cache[key]
    english = locale.lower().startswith("en")
    if form is not None:
        for definition in form.fields:
            if definition.name in data:
                value = data[definition.name]
                text = ((ledger.decided_in_english(entry.kind, definition.name, value) if english else None)
                        or forms.display_text(definition, value, options, locale))
                line.fields[definition.name] = text
                line.items.append((definition.title, text))
    return line


def _superior_reports(lines: list[Line], locale: str = "zh_CN") -> list[SuperiorReport]:
    """The reports to superiors as a table: the fields of 外部报告/请示上级 and of 备案登记."""
    reports = []
    for line in lines:
        f = line.fields
        # 报送单位 and 快报报送单位 may name the same body (市委网信办 in both): each body once
        bodies = [body for text in (f.get("report_to") or f.get("filed_with"), f.get("quick_report_to_bodies"))
                  if text for body in str(text).split("、")]
        to = forms.message("list_separator", locale).join(dict.fromkeys(body for body in bodies if body))
        when = f.get("reported_at") or f.get("filed_at") or clock.local(line.at).strftime("%Y-%m-%d %H:%M")
        reports.append(SuperiorReport(line.label, to or "—", when, f.get("report_method") or "—",
                                      f.get("receipt") or f.get("file_note") or "—", line.actor, line.task_id))
    return reports


def _levels(lines: list[Line], locale: str | None = None) -> list[LevelStep]:
    """The level history: a step that names no level (a re-grade that kept it) shows the level it kept;
    a confirmation of the proposal without a reason says so."""
    steps = []
    proposed = current = None
    for line in lines:
        kind = line.entry.kind
        if kind not in LEVEL_STEPS:
            continue
        data = line.entry.data or {}
        level = (data.get("proposed_level") if kind == "level_proposed" else data.get("confirmed_level")) or current
        if kind == "level_proposed":
            proposed = level
        current = level
        reason = next((str(data[k]).strip() for k in REASON_KEYS if isinstance(data.get(k), str) and data[k].strip()),
                      "")
        if not reason and kind in ("level_confirmed", "leader_confirmed") and level == proposed:
            reason = str(_l("同意系统建议的等级"))
        what = str(LEVEL_STEPS[kind])
        if kind == "level_changed" and level_name(data.get("upgraded_from")):
            what = str(_l("%(what)s(原为%(level)s)", what=what, level=level_name(data["upgraded_from"], locale)))
        steps.append(LevelStep(line.at, what, level_name(level, locale) or "—", reason, line.actor, line.task_id))
    return steps


def _dispatch(incident: Incident, lines: list[Line], rows: list[deadlines.DeadlineRow],
              names: dict[str, str], locale: str = "zh_CN") -> list[DispatchRow]:
    """Each dispatched unit's row: its deadline from the ledger head, its task from the dispatch line,
    its feedback and 催办 from the unit's task rows and their audit, its 督办 from the missed lines."""
    assigned = _assigned(lines)
    feedback_tasks = list(db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == incident.instance_id, HumanTask.spec_id == "ut_unit_feedback")
        .order_by(HumanTask.id))) if incident.instance_id else []
    urged = _urges([task.id for task in feedback_tasks])
    by_task = {line.entry.task_id: line for line in lines if line.entry.kind == "unit_feedback"}
    result = []
    for row in rows:
        if row.name != "dispatch" or not row.unit:
            continue
        out = DispatchRow(names.get(row.unit, row.unit), assigned.get((row.unit, row.due_at), ""), row,
                          locale=locale)
        for task in (task for task in feedback_tasks if _for_row(task, row)):
            out.urges += urged.get(task.id, [])
            line = by_task.get(task.id)
            if line is not None:
                out.feedback = line.fields.get("unit_feedback_text", "") or out.feedback
            if line is not None or out.task_id is None:
                out.task_id = task.public_id
        out.urges += [Urge(line.at, str(_l("督办")), None, _supervision(line.entry, locale)) for line in lines
                      if _supervised(line, row)]
        out.urges.sort(key=lambda u: u.at)
        result.append(out)
    return result


def _assigned(lines: list[Line]) -> dict[tuple[str, datetime | None], str]:
    """(unit, due time) → the task dispatched to it."""
    assigned: dict[tuple[str, datetime | None], str] = {}
    for line in lines:
        if line.entry.kind == "dispatch":
            for item in (line.entry.data or {}).get("dispatch_tasks") or []:
                if isinstance(item, dict) and item.get("unit"):
                    assigned[(str(item["unit"]), clock.parse_aware(item.get("due_at")))] = str(item.get("task") or "")
    return assigned


def _supervised(line: Line, row: deadlines.DeadlineRow) -> bool:
    """Is this the process's 督办 of the unit's feedback (written when its time passed)?"""
    data = line.entry.data or {}
    return (line.entry.kind == "deadline_missed" and data.get("subject") == row.unit
            and clock.parse_aware(data.get("due_at")) == row.due_at)


def _supervision(entry: LedgerEntry, locale: str) -> str:
    """What a 督办 says: the stored Chinese, or in English what was missed by whom, then the task as written."""
    data = entry.data or {}
    if locale.lower().startswith("en") and data.get("deadline"):
        return ledger_reading.missed_in_english(data, locale)
    return entry.summary or ""


def _for_row(task: HumanTask, row: deadlines.DeadlineRow) -> bool:
    context = task.context or {}
    unit = context.get("dispatch_unit") or task.unit_code
    if unit != row.unit:
        return False
    due = clock.parse_aware(context.get("dispatch_due_at"))
    return due is None or row.due_at is None or abs(due - row.due_at) < timedelta(minutes=1)


def _urges(task_ids: list[int]) -> dict[int, list[Urge]]:
    if not task_ids:
        return {}
    found: dict[int, list[Urge]] = {}
    for event in db.session.scalars(select(AuditEvent).where(AuditEvent.task_id.in_(task_ids),
                                                             AuditEvent.action == "task_urged")
                                    .order_by(AuditEvent.at)):
        note = str((event.detail or {}).get("note") or "")
        found.setdefault(event.task_id or 0, []).append(
            Urge(event.at, str(_l("催办")), event.actor.display_name if event.actor else None, note))
    return found


def _accountability(incident: Incident, lines: list[Line], names: dict[str, str],
                    locale: str = "zh_CN") -> list[Accountability]:
    results = labels.column_labels("accountability_rows", "evaluation", labels.incident_definition(incident), locale)
    rows = []
    for line in lines:
        for item in (line.entry.data or {}).get("accountability_rows") or []:
            if not isinstance(item, dict):
                continue
            subject = str(item.get("subject") or "")
            evaluation = str(item.get("evaluation") or "")
            rows.append(Accountability(names.get(subject, subject), results.get(evaluation, evaluation),
                                       str(item.get("reason") or ""), str(item.get("measure") or "")))
    return rows
