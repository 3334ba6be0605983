"""The incident as staff read it (/incidents/<number>): who may open it, its stages, level history,
open tasks and files — every list filtered by the reader's roles and units in SQL (visibility.py).

An incident is visible to whoever may open its workflow instance (docs/decisions.md 46): the overview
roles see every incident (as on the ledger today), a unit's people the incidents that name their unit,
everybody else the incidents they started, hold or did a task of, or could be asked to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, or_, select, true

from app.extensions import db
from app.models import Attachment, HumanTask, Incident, LedgerEntry, ProcessInstance, TaskStatus, User
from app.operations import deadlines, visibility
from app.operations.attachments import PREVIEW_TYPES
from app.operations.errors import NotFound
from app.operations.vocabulary import level_name

# The stages of an incident (domain.md: 快报 → 定级 → 响应 → 跟踪 → 善后 → 归档) and the ledger kinds of each.
STAGES: list[tuple[str, object, frozenset[str]]] = [
    ("report", _l("快报"), frozenset({"registered"})),
    ("grade", _l("定级"), frozenset({"level_proposed", "level_confirmed", "leader_confirmed", "level_changed"})),
    ("response", _l("响应"), frozenset({
        "deadlines_set", "instruction_requested", "instruction_decided", "external_report", "file_record",
        "task_force", "investigation", "consultation", "superior_measures", "dispatch", "unit_feedback",
        "release_drafted", "release_review", "external_approval", "release_published", "press_conference_requested",
        "spokesperson_designated", "press_conference_prepared", "press_conference", "false_info",
        "clarification_review", "false_info_result", "commentary"})),
    ("follow", _l("跟踪"), frozenset({"monitor_report", "regrade", "update_received", "follow_up", "reply_plan",
                                     "reply", "subsided"})),
    ("aftermath", _l("善后"), frozenset({"aftermath_watch", "summary", "summary_review", "accountability",
                                        "plan_revision"})),
    ("archive", _l("归档"), frozenset({"closed", "terminated", "response_rejected"})),
]
LEVEL_KINDS = frozenset({"level_proposed", "level_confirmed", "leader_confirmed", "regrade", "level_changed"})
# Lines the system writes ahead of the people (a proposed level, provisional deadlines, an update pushed
# by a platform): listed in their stage, but they do not move the strip on — an incident whose level is
# only proposed is not graded.
AHEAD = frozenset({"level_proposed", "deadlines_set", "update_received"})
STAGE_LINES = 4  # lines shown per stage of the strip (the rest are counted)

Line = tuple[LedgerEntry, str, "str | None"]  # entry, kind label, actor name (ledger_reading.entries_of)


@dataclass
class Stage:
    """One stage of the strip: done, current, skipped or still to come, and what happened in it."""

    code: str
    name: str
    state: str = "todo"  # done | current | skipped | todo | stopped
    lines: list[Line] = field(default_factory=list)
    more: int = 0


@dataclass(frozen=True)
class LevelStep:
    """One line of the level history: when, what (proposed, confirmed, changed), to which level, by whom."""

    at: datetime
    label: str
    level: str
    actor: str | None
    reason: str


def visible_clause(user: User) -> ColumnElement[bool]:
    """Incidents the user may open, in SQL."""
    if user.has_role(*visibility.OVERVIEW_ROLES):
        return true()
    return Incident.instance_id.in_(select(ProcessInstance.id).where(visibility.instance_clause(user)))


def get_visible_incident(number: str, user: User) -> Incident:
    """The incident with this number if the user may open it; NotFound (the same answer) otherwise."""
    incident = db.session.scalar(select(Incident).where(Incident.number == number[:32], visible_clause(user)))
    if incident is None:
        raise NotFound(str(_l("事件不存在或您无权查看。")))
    return incident


def can_view(incident: Incident, user: User) -> bool:
    """May this user open this incident (for people named in a comment)?"""
    return db.session.scalar(select(Incident.id).where(Incident.id == incident.id, visible_clause(user))) is not None


def stages(incident: Incident, lines: list[Line], keep: int | None = STAGE_LINES) -> list[Stage]:
    """The progress strip: every stage with its ledger lines (the last `keep` of each; all with None, for
    paper); the furthest stage a person's step reached is current (done once the incident is closed) —
    after the quick report, 定级 — stages before it without lines were skipped."""
    strip = [Stage(code, str(name)) for code, name, _ in STAGES]
    index = {kind: i for i, (_, _, kinds) in enumerate(STAGES) for kind in kinds}
    for line in lines:
        position = index.get(line[0].kind)
        if position is not None:
            strip[position].lines.append(line)
    reached = [i for i, stage in enumerate(strip) if any(line[0].kind not in AHEAD for line in stage.lines)]
    furthest = max(reached) if reached else 0
    if furthest == 0 and any(line[0].kind == "registered" for line in strip[0].lines):
        furthest = 1  # the quick report is one step: once reported, the incident waits to be graded
    for i, stage in enumerate(strip):
        if i < furthest:
            stage.state = "done" if stage.lines else "skipped"
        elif i == furthest:
            stage.state = "current"
        if keep is not None and len(stage.lines) > keep:
            stage.more = len(stage.lines) - keep
            stage.lines = stage.lines[-keep:]
    last = strip[-1]
    if incident.status == "closed" and last.lines:
        last.state = "done"
    elif incident.status in ("terminated", "rejected") and last.lines:
        last.state = "stopped"
    return strip


def level_history(lines: list[Line], locale: str | None = None) -> list[LevelStep]:
    """Proposals, confirmations, re-grades (复核定级) and changes of the level, oldest first (levels named in
    `locale`)."""
    steps = []
    for entry, label, actor in lines:
        if entry.kind not in LEVEL_KINDS:
            continue
        data = entry.data or {}
        level = data.get("confirmed_level") if entry.kind != "level_proposed" else data.get("proposed_level")
        reason = next((data[k] for k in ("level_change_reason", "reason", "upgrade_reason", "grade_basis")
                       if isinstance(data.get(k), str) and data[k].strip()), "")
        steps.append(LevelStep(entry.at, label, level_name(level, locale) or "—", actor, str(reason)[:500]))
    return steps


def deadlines_of(incident: Incident, user: User, unit_names: dict[str, str] | None = None,
                 locale: str | None = None) -> list[deadlines.DeadlineRow]:
    """The incident's deadlines this reader may see: a dispatched unit's feedback deadline is that unit's
    (and the overview roles'), like its tasks (visibility.sees_unit)."""
    return [row for row in deadlines.deadline_rows(incident, unit_names, locale)
            if visibility.sees_unit(user, row.unit)]


def open_tasks(incident: Incident, user: User) -> list[HumanTask]:
    """The incident's open tasks this user may open (unit-bound and addressed tasks filtered in SQL)."""
    if incident.instance_id is None:
        return []
    return list(db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == incident.instance_id, HumanTask.status == TaskStatus.OPEN,
        visibility.task_clause(user)).order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)))


def attachments_of(incident: Incident, user: User) -> list[Attachment]:
    """The files kept with the incident's completed tasks that this user may open (drafts of open tasks
    are their holder's until submitted)."""
    if incident.instance_id is None:
        return []
    done = select(HumanTask.id).where(HumanTask.instance_id == incident.instance_id,
                                      HumanTask.status == TaskStatus.COMPLETED)
    visible = or_(Attachment.task_id.in_(select(HumanTask.id).where(visibility.task_clause(user))),
                  Attachment.instance_id.in_(select(ProcessInstance.id).where(visibility.instance_clause(user))))
    return list(db.session.scalars(select(Attachment).where(
        Attachment.instance_id == incident.instance_id, Attachment.task_id.in_(done), visible)
        .order_by(Attachment.id).limit(200)))


def previewable(attachment: Attachment) -> bool:
    """May the file be shown inline as an image (raster types checked by content at upload; never SVG)?"""
    return attachment.content_type in PREVIEW_TYPES
