"""Claim, unclaim, save a draft of and complete user tasks; the worklist queries."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, delete, func, literal, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from app import clock, forms
from app.db import transaction
from app.engine import runner
from app.engine.runner import RouteRefused, TaskNotReady
from app.extensions import db
from app.models import (
    Attachment,
    AuditEvent,
    HumanTask,
    Incident,
    InstanceStatus,
    ProcessInstance,
    TaskStatus,
    User,
)
from app.operations import auto_documents, catalog, ledger, options, profiles, visibility
from app.operations.errors import Conflict, Forbidden, Invalid, NotFound
from app.operations.failures import quarantining, reading_state
from app.operations.instances import apply_step, budget, environment, route_message
from app.operations.task_rows import COMPLETIONS

MAX_DRAFT_BYTES = 256 * 1024
OVERSEER_ROLES = visibility.TASK_OVERSEERS


# -- reads --------------------------------------------------------------------------------------


def list_my_tasks(user: User, limit: int = 200) -> list[HumanTask]:
    """Open tasks assigned to the user or to someone whose delegate they are now, most urgent first."""
    return list(db.session.scalars(
        select(HumanTask)
        .where(or_(HumanTask.assignee_id == user.id, HumanTask.assignee_id.in_(visibility.delegators(user))),
               HumanTask.status == TaskStatus.OPEN)
        .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at).limit(limit)))


def list_group_tasks(user: User, limit: int = 200) -> list[HumanTask]:
    """Open tasks of the user's roles (lanes) and unit, claimed or not, most urgent first; not the
    tasks the diagram addressed to somebody else."""
    if not user.role_codes:
        return []
    return list(db.session.scalars(
        select(HumanTask)
        .where(HumanTask.status == TaskStatus.OPEN, visibility.candidate_clause(user))
        .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at).limit(limit)))


def is_candidate(task: HumanTask, user: User) -> bool:
    """Does the task's lane include one of the user's roles (its unit, for a unit role), and is it
    addressed to nobody else?"""
    return visibility.is_candidate(task, user)


def can_work(task: HumanTask, user: User) -> bool:
    """May the user claim or complete this task?"""
    if task.status != TaskStatus.OPEN:
        return False
    if task.assignee_id is not None:
        return task.assignee_id == user.id or visibility.acts_for(user, task.assignee_id)
    return is_candidate(task, user)


def can_view(task: HumanTask, user: User) -> bool:
    """May the user see this task?"""
    return visibility.can_view_task(task, user)


def get_task(public_id: str, user: User) -> HumanTask:
    """A task the user may see, else NotFound (invisible and missing look the same)."""
    task = db.session.scalar(select(HumanTask).where(HumanTask.public_id == public_id,
                                                     visibility.task_clause(user)))
    if task is None:
        raise NotFound(str(_l("任务不存在或您无权查看。")))
    return task


def task_form(task: HumanTask) -> forms.FormSpec:
    """The form of a task, from the process version the instance runs on, in the reader's language."""
    form = catalog.version(task.instance.definition_id).form(task.form or "", task.ui_form)
    if form is None:
        raise NotFound(str(_l("任务的表单不存在。")))
    return forms.localize(form, current_locale())


def process_fields(task: HumanTask) -> dict[str, Any]:
    """Every form field of the task's process version by name, to label task data shown as context."""
    return forms.localize_fields(catalog.version(task.instance.definition_id).fields(), current_locale())


def submitted_items(task: HumanTask, files: Callable[[list[forms.FileItem]], str] | None = None
                    ) -> list[tuple[str, str]]:
    """(label, text) of what was submitted for a completed task, labelled by its form.

    `files` renders attachments (the pages pass a macro that makes download links); else names.
    """
    if not task.submitted:
        return []
    form = catalog.version(task.instance.definition_id).form(task.form or "", task.ui_form)
    if form is None:
        return [(key, str(value)) for key, value in task.submitted.items()]
    locale = current_locale()
    return forms.summary(forms.localize(form, locale), task.submitted, form_options(form, locale), locale, files)


def next_task_for(user: User, instance_id: int) -> HumanTask | None:
    """The user's most urgent open task in an instance (to continue right after a submission)."""
    return db.session.scalar(
        select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.OPEN,
                                or_(HumanTask.assignee_id == user.id,
                                    and_(HumanTask.assignee_id.is_(None), visibility.candidate_clause(user))))
        .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id).limit(1))


def form_options(form: forms.FormSpec, locale: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """Choices of every `x-source` the form uses, read from the directory and the profile (labelled in
    `locale` for a page; in Chinese for what is written)."""
    return options.options_for(forms.sources_of(form), locale)


def current_context(task: HumanTask, form: forms.FormSpec) -> dict[str, Any]:
    """The task data its form shows above it (`ui:context`): the copy taken when the task opened, updated with
    what the instance's tasks completed since then (until this one was) submitted for those keys — a
    section's 核实情况 finished while the consultation waits (decision 130)."""
    keys = {str(entry.get("key", "")).split(".")[0] for entry in form.uischema.get("ui:context", [])
            if isinstance(entry, dict)}
    context = dict(task.context or {})
    if not keys:
        return context
    mine = select(AuditEvent.id).where(AuditEvent.task_id == task.id)
    opened = mine.where(AuditEvent.action == "task_created").order_by(AuditEvent.id.desc()).limit(1)
    done = mine.where(AuditEvent.action.in_(COMPLETIONS)).order_by(AuditEvent.id).limit(1)
    later = select(HumanTask.submitted).join(AuditEvent, AuditEvent.task_id == HumanTask.id).where(
        AuditEvent.instance_id == task.instance_id, AuditEvent.action.in_(COMPLETIONS), HumanTask.id != task.id,
        AuditEvent.id > func.coalesce(opened.scalar_subquery(), 0),
        AuditEvent.id < func.coalesce(done.scalar_subquery(), 2**62)).order_by(AuditEvent.id)
    for submitted in db.session.scalars(later):
        context.update({key: value for key, value in (submitted or {}).items() if key in keys})
    return context


def page_options(task: HumanTask, form: forms.FormSpec) -> dict[str, list[tuple[str, str]]]:
    """The form's choices and those of the task data shown above it (a unit's name, not its code), in the
    reader's language."""
    return options.options_for(forms.sources_of(form) | forms.context_sources(form, process_fields(task)),
                               current_locale())


# -- writes -------------------------------------------------------------------------------------


def claim_task(public_id: str, user: User) -> HumanTask:
    """Take an open task of one of the user's roles."""
    with transaction() as session:
        return claim_in(session, public_id, user)


def claim_in(session: Session, public_id: str, user: User) -> HumanTask:
    """`claim_task` inside the caller's transaction (a bulk claim runs it per row); a refusal raises
    before anything is written."""
    task = task_for_write(session, public_id, user)
    if task.assignee_id == user.id:
        return task
    if not is_candidate(task, user):
        raise Forbidden(str(_l("您不在该任务的办理角色中。")))
    result = session.execute(update(HumanTask).where(
        HumanTask.id == task.id, HumanTask.status == TaskStatus.OPEN, HumanTask.assignee_id.is_(None),
    ).values(assignee_id=user.id, claimed_at=clock.now()))
    if result.rowcount != 1:
        raise Conflict(str(_l("该任务已被他人签收或已办理。")))
    session.add(AuditEvent(actor_id=user.id, instance_id=task.instance_id, task_id=task.id,
                           action="task_claimed", detail={"task": task.spec_id}))
    session.refresh(task)
    return task


def unclaim_task(public_id: str, user: User) -> HumanTask:
    """Give a claimed task back to its group."""
    with transaction() as session:
        task = task_for_write(session, public_id, user)
        if task.assignee_id == user.id and task.addressed_to_id == user.id:
            raise Conflict(str(_l("该任务是指定给您办理的,不能退回组内;如需改派,请联系系统管理员。")))
        result = session.execute(update(HumanTask).where(
            HumanTask.id == task.id, HumanTask.status == TaskStatus.OPEN, HumanTask.assignee_id == user.id,
        ).values(assignee_id=None, claimed_at=None))
        if result.rowcount != 1:
            raise Conflict(str(_l("只有签收人可以退回该任务。")))
        session.add(AuditEvent(actor_id=user.id, instance_id=task.instance_id, task_id=task.id,
                               action="task_unclaimed", detail={"task": task.spec_id}))
        session.refresh(task)
        return task


def save_draft(public_id: str, raw: dict[str, Any], user: User) -> HumanTask:
    """Keep what the user typed so far, without validating it."""
    if len(json.dumps(raw, ensure_ascii=False).encode()) > MAX_DRAFT_BYTES:
        raise Invalid(str(_l("草稿内容过大。")))
    with transaction() as session:
        task = task_for_write(session, public_id, user)
        if not can_work(task, user):
            raise Forbidden(str(_l("该任务已由他人签收。")))
        task.draft = raw
        session.add(AuditEvent(actor_id=user.id, instance_id=task.instance_id, task_id=task.id,
                               action="task_draft_saved", detail={"task": task.spec_id}))
        return task


@quarantining
def complete_task(public_id: str, data: dict[str, Any], user: User) -> HumanTask | None:
    """Validate the form data, complete the task exactly once and advance the instance.

    Returns the task the step opened that the user may work on next, if any.

    Of two people submitting the same task, exactly one gets through: the instance row is locked
    (BEGIN IMMEDIATE on SQLite, FOR UPDATE on PostgreSQL) and the task row is switched from open to
    completed by compare-and-set; the other gets Conflict (409).
    """
    with transaction() as session:
        locked = lock_for_completion(session, public_id, user)
        form = task_form(locked.task)
        return complete_locked(session, locked, form, form_options(form), data, user)


@dataclass(frozen=True)
class Locked:
    """A task locked for its completion, with what the same statement read for the step: the active
    profile's stamp and the instance's open tasks (id, guid, element)."""

    task: HumanTask
    stamp: str | None
    open_rows: list[tuple[int, str, str]]


# The instance's other task rows, aliased once (a fresh alias costs a column adaptation per completion).
_OTHERS = aliased(HumanTask, name="others")


def lock_for_completion(session: Session, public_id: str, user: User) -> Locked:
    """`_locked_task` plus the instance's incident (for its ledger line) and open tasks (for the sync of
    the step), in the one statement; refuses a task the user may see but not work on."""
    others = _OTHERS
    open_text = (select(func.aggregate_strings(
        cast(others.id, String) + literal(" ") + others.task_guid + literal(" ") + others.spec_id, literal("\n")))
        .where(others.instance_id == ProcessInstance.id, others.status == TaskStatus.OPEN)
        .correlate(ProcessInstance).scalar_subquery())
    task, stamp, incident, listed = _locked_task(session, public_id, user, Incident, open_text)
    if incident is not None:
        ledger.remember_incident(session, incident)
    if not can_work(task, user):
        raise not_workable(task)
    rows = [line.split(" ", 2) for line in (listed or "").split("\n") if line]
    return Locked(task, stamp, [(int(row_id), guid, spec) for row_id, guid, spec in rows])


def complete_locked(session: Session, locked: Locked, form: forms.FormSpec,
                    choices: dict[str, list[tuple[str, str]]], data: dict[str, Any], user: User) -> HumanTask | None:
    """The completion of a locked task with its form's data (`choices`: the form's options, computed once
    by the caller); returns the task the step opened that the user may work on next."""
    task = locked.task
    data = forms.declared_data(form, data)
    errors = forms.validate(form, data, task.context, choices, locale=current_locale())
    errors = errors or _settle_attachments(session, task, form, data, user)
    if errors:
        raise Invalid(str(_l("表单有错误,请修改后再提交。")), errors)
    _switch_to_completed(session, task, data, user)
    instance = task.instance
    kind = catalog.version(instance.definition_id).task_info(task.process_id, task.spec_id).get("ledger")
    if kind:  # before the engine runs: a query later in this step (the summary's timeline) sees it
        auto_documents.step_recorded(session, ledger.record_task(session, instance, task, kind, data, user))
    try:
        with reading_state(instance):
            step = runner.complete(catalog.spec(instance.definition_id), instance.state_json, task.task_guid,
                                   {**forms.blanks(form, data), **data}, budget(),
                                   environment(session, instance, profiles.values_for_stamp(session, locked.stamp)))
    except RouteRefused as exc:
        raise Invalid(route_message(exc), {"": [route_message(exc)]}) from exc
    except TaskNotReady as exc:
        raise Conflict(str(_l("该任务已被处理,无需重复提交。"))) from exc
    detail = {"task": task.spec_id, "name": task.name, "data": data}
    if task.assignee_id not in (None, user.id):  # a delegate completed it for its holder
        detail["on_behalf_of"] = task.assignee.display_name if task.assignee else task.assignee_id
    session.add(AuditEvent(actor_id=user.id, instance_id=instance.id, task_id=task.id,
                           action="task_completed", detail=detail))
    still_open = [row for row in locked.open_rows if row[0] != task.id]  # this one was just completed
    opened = apply_step(session, instance, step, user, open_rows=still_open)
    return next((row for row in opened if can_work(row, user)), None)


def task_for_write(session: Session, public_id: str, user: User) -> HumanTask:
    """Load an open task and lock it with its instance, in one statement.

    For writes that must not race the task's completion (claim, draft, complete, attach a file).
    """
    return _locked_task(session, public_id, user)[0]


def _locked_task(session: Session, public_id: str, user: User, *also: Any) -> tuple[Any, ...]:
    """The task and its instance, row-locked (FOR UPDATE on PostgreSQL, which re-reads both rows once
    the lock is granted; SQLite's BEGIN IMMEDIATE serialises writers), the active profile's stamp read
    in the same statement (profiles.values_for_stamp), and `also`: the instance's incident (outer
    joined, not locked) and further columns, in that order."""
    query = select(HumanTask, ProcessInstance, profiles.stamp_column()).join(
        ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    for item in also:
        query = query.add_columns(item)
        if item is Incident:
            query = query.outerjoin(Incident, Incident.instance_id == ProcessInstance.id)
    row = session.execute(
        query.where(HumanTask.public_id == public_id, visibility.task_clause(user))
        .with_for_update(of=[HumanTask, ProcessInstance]).execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound(str(_l("任务不存在或您无权查看。")))
    task, instance, stamp, *rest = row
    if task.status != TaskStatus.OPEN:
        raise Conflict(str(_l("该任务已被处理,无需重复提交。")))
    if instance.status == InstanceStatus.SUSPENDED:
        raise Conflict(str(_l("该流程已被管理员挂起,暂不能办理;恢复后可继续。")))
    return (task, stamp, *rest)


def not_workable(task: HumanTask) -> Exception:
    """The error for a user who may see the task but not work on it."""
    if task.assignee is not None:
        return Conflict(str(_l("该任务已由%(name)s签收。", name=task.assignee.display_name)))
    return Forbidden(str(_l("您不在该任务的办理角色中。")))


def _settle_attachments(session: Session, task: HumanTask, form: forms.FormSpec, data: dict[str, Any],
                        user: User) -> dict[str, list[str]]:
    """Swap submitted attachment refs for the server's own; drop the task's files nobody kept.

    Only ids the server issued for this task and field are accepted, whoever posts (a forged or
    another task's id is a field error). Files uploaded to the task but not in the submission were
    removed by the user or abandoned, and are deleted with the completion (their upload stays audited).
    """
    names = [field.name for field in form.fields if field.kind == "files" and not field.read_only]
    if not names:
        return {}
    rows = session.execute(select(Attachment.id, Attachment.public_id, Attachment.field, Attachment.filename,
                                  Attachment.size, Attachment.content_type)
                           .where(Attachment.task_id == task.id)).all()
    known = {(row.field, row.public_id): row for row in rows}
    errors: dict[str, list[str]] = {}
    kept: set[int] = set()
    for name in names:
        refs = []
        for item in forms.attachment_refs(data.get(name)):
            row = known.get((name, item["id"]))
            if row is None:
                errors.setdefault(name, [forms.message("attachment", current_locale())])
                continue
            kept.add(row.id)
            refs.append({"id": row.public_id, "name": row.filename, "size": row.size,
                         "content_type": row.content_type})
        if name in data:
            data[name] = refs
    dropped = [row for row in rows if row.id not in kept]
    if dropped and not errors:
        session.execute(delete(Attachment).where(Attachment.id.in_([row.id for row in dropped])))
        session.add(AuditEvent(actor_id=user.id, instance_id=task.instance_id, task_id=task.id,
                               action="attachments_discarded",
                               detail={"task": task.spec_id, "names": [row.filename for row in dropped]}))
    return errors


def _switch_to_completed(session: Session, task: HumanTask, data: dict[str, Any], user: User) -> None:
    now = clock.now()
    holder = task.assignee_id or user.id  # a delegate completes a task its holder keeps (can_work checked it)
    result = session.execute(update(HumanTask).where(
        HumanTask.id == task.id, HumanTask.status == TaskStatus.OPEN,
        or_(HumanTask.assignee_id.is_(None), HumanTask.assignee_id == holder),
    ).values(status=TaskStatus.COMPLETED, completed_by_id=user.id, completed_at=now, submitted=data,
             assignee_id=holder, claimed_at=task.claimed_at or now, draft=None))
    if result.rowcount != 1:
        raise Conflict(str(_l("该任务已被处理,无需重复提交。")))
    # Keep the in-memory row in step with the database without another SELECT or UPDATE.
    values = {"status": TaskStatus.COMPLETED, "completed_by_id": user.id, "completed_at": now,
              "submitted": data, "assignee_id": holder, "draft": None}
    for key, value in values.items():
        set_committed_value(task, key, value)


def current_locale() -> str:
    """The locale form messages are produced in (the request's, else zh_CN)."""
    locale = get_locale()
    return str(locale) if locale else "zh_CN"
