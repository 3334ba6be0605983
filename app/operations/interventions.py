"""Admin interventions on running instances: suspend, resume, terminate, retry, reassign, complete or
skip a task on someone's behalf, change a deadline or a timer, edit data, send a message.

Every intervention needs a reason, is audited with it, and takes the instance row version the admin
saw (`expected`): if the instance changed since (a task was completed, another admin acted), the
intervention is refused whole with a clear message (optimistic lock) — never half-applied. Each one
changes the instance row, so its version moves on and a second intervention from the same stale
page is refused too.

Batch operations call the `apply_*` functions (the same code, inside the batch's transaction per
instance) without an expected version: the batch was chosen by a filter, not from a page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from app import clock, forms
from app.db import transaction
from app.engine import repair, runner
from app.engine.runner import RouteRefused, TaskNotReady
from app.engine.state import StateError
from app.extensions import db
from app.models import (
    AuditEvent,
    HumanTask,
    HumanTaskCandidate,
    InstanceStatus,
    ProcessInstance,
    Role,
    TaskStatus,
    User,
)
from app.models.users import is_person
from app.operations import assignment, catalog, instances, ledger, task_notices, tasks
from app.operations.errors import Conflict, Invalid, NotFound
from app.operations.failures import quarantining, reading_state, unreadable_reason

ENDED = (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED, InstanceStatus.WITHDRAWN)
LIVE = (InstanceStatus.WAITING, InstanceStatus.RUNNING)
MAX_REASON = 1000


# -- helpers ------------------------------------------------------------------------------------


def require_reason(reason: str | None) -> str:
    """Every intervention states why; refused (next to the reason field) without one."""
    text = (reason or "").strip()
    if not text:
        message = str(_l("请填写操作理由。"))
        raise Invalid(message, {"reason": [message]})
    return text[:MAX_REASON]


def lock_instance(session: Session, public_id: str, expected: int | None) -> ProcessInstance:
    """Load and lock an instance; refuse when its version is not the one the admin saw."""
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.public_id == public_id)
                              .with_for_update(of=ProcessInstance).execution_options(populate_existing=True))
    if instance is None:
        raise NotFound(str(_l("流程实例不存在。")))
    check_version(instance, expected)
    return instance


def check_version(instance: ProcessInstance, expected: int | None) -> None:
    """The optimistic lock: the instance must still be as the admin saw it."""
    if expected is not None and instance.version != expected:
        raise Conflict(str(_l("该流程实例在您打开页面之后已有变化(有人办理了任务或做了其他操作),"
                              "本次操作未执行。请刷新页面查看最新状态后再操作。")))


def _lock_task(session: Session, task_public_id: str, expected: int | None) -> tuple[HumanTask, ProcessInstance]:
    instance_id = session.scalar(select(HumanTask.instance_id).where(HumanTask.public_id == task_public_id))
    if instance_id is None:
        raise NotFound(str(_l("任务不存在。")))
    public_id = session.scalar(select(ProcessInstance.public_id).where(ProcessInstance.id == instance_id))
    instance = lock_instance(session, public_id, expected)
    task = session.scalar(select(HumanTask).where(HumanTask.public_id == task_public_id)
                          .execution_options(populate_existing=True))
    if task.status != TaskStatus.OPEN:
        raise Conflict(str(_l("该任务已办理或已取消,本次操作未执行。")))
    if instance.status in ENDED:
        raise Conflict(str(_l("流程已结束,不能再操作其任务。")))
    return task, instance


def audit(session: Session, instance: ProcessInstance, actor: User | None, action: str, reason: str,
          task: HumanTask | None = None, **detail: Any) -> None:
    """One audit row for an intervention, with its reason."""
    session.add(AuditEvent(actor_id=actor.id if actor else None, instance_id=instance.id,
                           task_id=task.id if task else None, action=action,
                           detail={"reason": reason, **({"task": task.spec_id, "name": task.name} if task else {}),
                                   **detail}))


def _touch(instance: ProcessInstance) -> None:
    """Change the instance row, so its version moves on (the optimistic lock of later interventions),
    even when the clock has not moved since the last change."""
    instance.updated_at = clock.now()
    flag_modified(instance, "updated_at")


def _advance(session: Session, instance: ProcessInstance, actor: User | None,
             run: Callable[[runner.Environment], runner.Step]) -> None:
    try:
        with reading_state(instance):
            step = run(instances.environment(session, instance))
    except RouteRefused as exc:
        message = instances.route_message(exc)
        raise Invalid(message, {"": [message]}) from exc
    except repair.RepairRefused as exc:
        raise Conflict(str(exc)) from exc
    instances.apply_step(session, instance, step, actor)


def _cancel_open_tasks(session: Session, instance: ProcessInstance) -> int:
    result = session.execute(update(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.status == TaskStatus.OPEN)
                             .values(status=TaskStatus.CANCELLED, completed_at=clock.now()))
    return result.rowcount or 0


# -- instance interventions ---------------------------------------------------------------------


def apply_suspend(session: Session, instance: ProcessInstance, actor: User | None, reason: str) -> None:
    """Stop an instance: its timers do not fire, its tasks cannot be done, until it is resumed."""
    if instance.status not in (*LIVE, InstanceStatus.ERROR):
        raise Conflict(str(_l("只有运行中、等待中或出错的流程可以挂起。")))
    instance.suspended_from = instance.status
    instance.status = InstanceStatus.SUSPENDED
    _touch(instance)
    audit(session, instance, actor, "instance_suspended", reason)


def apply_resume(session: Session, instance: ProcessInstance, actor: User | None, reason: str) -> None:
    """Let a suspended instance go on; timers that came due meanwhile fire at the next sweep."""
    if instance.status != InstanceStatus.SUSPENDED:
        raise Conflict(str(_l("该流程未被挂起。")))
    instance.status = instance.suspended_from or InstanceStatus.WAITING
    instance.suspended_from = None
    _touch(instance)
    audit(session, instance, actor, "instance_resumed", reason)


def apply_terminate(session: Session, instance: ProcessInstance, actor: User | None, reason: str) -> None:
    """End an instance for good: open tasks are cancelled, timers never fire. Its records stay; its
    incident (if any) is terminated, no longer open, with a ledger line giving the reason."""
    if instance.status in ENDED:
        raise Conflict(str(_l("流程已结束。")))
    told = {task.id: task_notices.holders(session, task) for task in session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.OPEN))}
    cancelled = _cancel_open_tasks(session, instance)
    instance.status = InstanceStatus.TERMINATED
    instance.ended_at = clock.now()
    instance.next_timer_at = None
    instance.suspended_from = None
    audit(session, instance, actor, "instance_terminated", reason, cancelled_tasks=cancelled)
    ledger.record_termination(session, instance, actor, reason)
    _tell_cancelled(session, told, actor, reason)


def _tell_cancelled(session: Session, told: dict[int, set[int]], actor: User | None, reason: str) -> None:
    """Whoever held or could take a cancelled task learns that it needs no more work, and why."""
    key = f"x{uuid.uuid4().hex[:12]}"
    for task_id, people in told.items():
        task = session.get(HumanTask, task_id)
        task_notices.notify_people(session, task, people - {actor.id if actor else None}, task_notices.CANCELLED,
                                   key, {"actor_name": actor.display_name if actor else "", "reason": reason})


def apply_retry(session: Session, instance: ProcessInstance, actor: User | None, reason: str) -> None:
    """Run an instance in error again from where it failed (after its cause was fixed)."""
    if instance.status != InstanceStatus.ERROR:
        raise Conflict(str(_l("只有出错的流程可以重试。")))
    failed = {"element": instance.error_element, "error": instance.error_text}
    instance.error_element = instance.error_text = None
    audit(session, instance, actor, "instance_retried", reason, **failed)
    _advance(session, instance, actor, lambda env: repair.retry(
        catalog.spec(instance.definition_id), instance.state_json, instances.budget(), env))


def retry_outcome(instance: ProcessInstance) -> tuple[bool, str]:
    """What a retry led to, for the admin: (the instance went on?, what happened in words)."""
    if instance.status == InstanceStatus.ERROR:
        return False, str(_l("已重试,但流程仍然出错(环节 %(element)s):%(reason)s",
                             element=instance.error_element or "—", reason=instance.error_text or ""))
    if instance.status == InstanceStatus.COMPLETED:
        return True, str(_l("已重试,流程已继续运行并结束。"))
    return True, str(_l("已重试,流程已恢复运行,等待下一步办理。"))


INSTANCE_ACTIONS: dict[str, Callable[[Session, ProcessInstance, User | None, str], None]] = {
    "suspend": apply_suspend, "resume": apply_resume, "terminate": apply_terminate, "retry": apply_retry,
}


@quarantining
def act(public_id: str, action: str, expected: int | None, actor: User, reason: str | None) -> ProcessInstance:
    """Suspend, resume, terminate or retry one instance (`action`), as the admin saw it at `expected`.

    Only retry reads the stored state: an instance whose state cannot be read can still be suspended
    or terminated, and is retried once its cause was fixed.
    """
    if action not in INSTANCE_ACTIONS:
        raise Invalid(str(_l("未知操作。")))
    why = require_reason(reason)
    with transaction() as session:
        instance = lock_instance(session, public_id, expected)
        with reading_state(instance):
            INSTANCE_ACTIONS[action](session, instance, actor, why)
        return instance


@quarantining
def edit_data(public_id: str, expected: int | None, actor: User, reason: str | None,
              changes: dict[str, Any], removed: list[str]) -> ProcessInstance:
    """Change the instance's data (e.g. correct a value a gateway reads); the audit keeps before and after."""
    why = require_reason(reason)
    if not changes and not removed:
        raise Invalid(str(_l("没有要修改的数据。")), {"data": [str(_l("没有要修改的数据。"))]})
    with transaction() as session:
        instance = lock_instance(session, public_id, expected)
        if instance.status in ENDED:
            raise Conflict(str(_l("流程已结束,不能修改数据。")))
        with reading_state(instance):
            spec = catalog.spec(instance.definition_id)
            before = repair.current_data(spec, instance.state_json)
        keys = [*changes, *removed]
        audit(session, instance, actor, "data_edited", why,
              before={key: before.get(key) for key in keys}, after={**changes, **dict.fromkeys(removed)})
        try:
            state, data = repair.update_data(spec, instance.state_json, changes, removed)
        except repair.RepairRefused as exc:
            raise Conflict(str(exc)) from exc
        instance.state_json, instance.data = state, data
        _touch(instance)
        for row in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                           HumanTask.status == TaskStatus.OPEN)):
            # The forms' read-only context shows the corrected values too.
            context = {**(row.context or {}), **changes}
            row.context = {key: value for key, value in context.items() if key not in removed}
        return instance


@quarantining
def reschedule_timer(public_id: str, expected: int | None, actor: User, reason: str | None, timer_guid: str,
                     due_at: datetime) -> ProcessInstance:
    """Move a waiting timer (a deadline, a reminder round) to `due_at`; a time already past fires it now."""
    why = require_reason(reason)
    with transaction() as session:
        instance = lock_instance(session, public_id, expected)
        if instance.status not in (*LIVE, InstanceStatus.SUSPENDED):
            raise Conflict(str(_l("只有运行中的流程可以调整定时。")))
        with reading_state(instance):
            spec = catalog.spec(instance.definition_id)
            timers = repair.waiting_timers(spec, instance.state_json)
        timer = next((t for t in timers if t.guid == timer_guid), None)
        if timer is None:
            raise Conflict(str(_l("该定时已触发或不存在,本次操作未执行。")))
        suspended = instance.status == InstanceStatus.SUSPENDED
        audit(session, instance, actor, "timer_rescheduled", why, element=timer.element_id,
              before=timer.due_at.isoformat() if timer.due_at else None, after=due_at.isoformat())
        if suspended:  # a suspended instance must not run: only the state changes, nothing fires
            step = repair.reschedule_timer(spec, instance.state_json, timer_guid, max(due_at, clock.now()))
            instance.state_json, instance.next_timer_at = step.state, step.next_timer_at
            _touch(instance)
        else:
            _advance(session, instance, actor, lambda env: repair.reschedule_timer(
                spec, instance.state_json, timer_guid, due_at, instances.budget(), env))
        return instance


def send_message(public_id: str, expected: int | None, actor: User, reason: str | None, name: str,
                 payload: dict[str, Any]) -> ProcessInstance:
    """Deliver a message the instance waits for, on someone's behalf (e.g. a superior's reply by phone)."""
    why = require_reason(reason)
    with transaction() as session:
        instance = lock_instance(session, public_id, expected)
        if instance.status not in LIVE:
            raise Conflict(str(_l("只有运行中的流程可以接收消息。")))
        audit(session, instance, actor, "message_sent_by_admin", why, message=name)
        if not instances.deliver_message(session, instance, name, payload, actor):
            raise Conflict(str(_l("该流程当前不接收消息“%(name)s”。", name=name)))
        return instance


# -- task interventions -------------------------------------------------------------------------


def apply_reassign(session: Session, task: HumanTask, instance: ProcessInstance, actor: User | None, reason: str,
                   username: str | None = None, role: str | None = None) -> None:
    """Give an open task to one person, or back to a group (a role) with nobody holding it."""
    before = {"assignee": task.assignee.username if task.assignee else None, "roles": task.candidate_roles}
    if username:
        person = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if person is None:
            raise Invalid(str(_l("用户“%(name)s”不存在或已停用。", name=username)),
                          {"assignee": [str(_l("用户不存在或已停用。"))]})
        task.assignee_id, task.claimed_at = person.id, clock.now()
        if task.addressed_to_id is not None:  # a task the diagram gave to one person is now the new one's
            task.addressed_to_id = person.id
        after: dict[str, Any] = {"assignee": person.username, "roles": task.candidate_roles,
                                 "outside": assignment.holder_problem(session, task, person)}
        ledger.record_pass(session, task, actor, person, reason)
        if actor is None or person.id != actor.id:
            key = f"a{task.id}x{uuid.uuid4().hex[:8]}"
            task_notices.notify_people(session, task, {person.id}, "task_assigned", key)
    elif role:
        if session.scalar(select(Role.code).where(Role.code == role)) is None:
            raise Invalid(str(_l("角色“%(role)s”不存在。", role=role)), {"role": [str(_l("角色不存在。"))]})
        task.assignee_id, task.claimed_at, task.addressed_to_id = None, None, None
        task.candidate_roles_text = role
        task.candidates = [HumanTaskCandidate(role_code=role)]
        after = {"assignee": None, "roles": [role]}
        task_notices.notify_people(session, task, task_notices.holders(session, task) - {actor.id if actor else None},
                                   "task_group", f"g{task.id}x{uuid.uuid4().hex[:8]}")
    else:
        raise Invalid(str(_l("请选择办理人或角色。")), {"assignee": [str(_l("请选择办理人或角色。"))]})
    _touch(instance)
    audit(session, instance, actor, "task_reassigned", reason, task=task, before=before, after=after)


def reassign_task(task_public_id: str, expected: int | None, actor: User, reason: str | None,
                  username: str | None = None, role: str | None = None, confirmed: bool = False) -> HumanTask:
    """Reassign one open task (see apply_reassign); to a person outside its roles or unit only if `confirmed`."""
    why = require_reason(reason)
    with transaction() as session:
        task, instance = _lock_task(session, task_public_id, expected)
        assignment.check_holder(session, task, username, confirmed)
        apply_reassign(session, task, instance, actor, why, username, role)
        return task


def change_task_due(task_public_id: str, expected: int | None, actor: User, reason: str | None,
                    due_at: datetime | None) -> HumanTask:
    """Change the due time shown on a task and used for its overdue marks (not the diagram's timers)."""
    why = require_reason(reason)
    with transaction() as session:
        task, instance = _lock_task(session, task_public_id, expected)
        before = task.due_at.isoformat() if task.due_at else None
        task.due_at = due_at
        _touch(instance)
        audit(session, instance, actor, "task_due_changed", why, task=task, before=before,
              after=due_at.isoformat() if due_at else None)
        return task


@quarantining
def complete_on_behalf(task_public_id: str, expected: int | None, actor: User, reason: str | None,
                       data: dict[str, Any] | None) -> HumanTask:
    """Complete a stuck task for its holder with form data (validated like theirs), or skip it
    (`data` None): complete it with what the instance already holds, no form check. A gateway that
    then finds no route refuses the skip, and nothing changes."""
    why = require_reason(reason)
    with transaction() as session:
        task, instance = _lock_task(session, task_public_id, expected)
        if instance.status not in LIVE:
            raise Conflict(str(_l("流程已挂起或出错,请先恢复后再办理任务。")))
        if data is not None:
            form = tasks.task_form(task)
            data = forms.declared_data(form, data)
            errors = forms.validate(form, data, task.context, tasks.form_options(form),
                                    locale=tasks.current_locale())
            if errors:
                raise Invalid(str(_l("表单有错误,请修改后再提交。")), errors)
            engine_data = {**forms.blanks(form, data), **data}
        else:
            engine_data = {}
        now = clock.now()
        result = session.execute(update(HumanTask).where(HumanTask.id == task.id, HumanTask.status == TaskStatus.OPEN)
                                 .values(status=TaskStatus.COMPLETED, completed_by_id=actor.id, completed_at=now,
                                         submitted=data or {}, draft=None))
        if result.rowcount != 1:
            raise Conflict(str(_l("该任务已办理或已取消,本次操作未执行。")))
        action = "task_completed_by_admin" if data is not None else "task_skipped"
        audit(session, instance, actor, action, why, task=task, data=data or {},
              holder=task.assignee.username if task.assignee else None)
        try:
            _advance(session, instance, actor, lambda env: runner.complete(
                catalog.spec(instance.definition_id), instance.state_json, task.task_guid, engine_data,
                instances.budget(), env))
        except TaskNotReady as exc:
            raise Conflict(str(_l("该任务已办理或已取消,本次操作未执行。"))) from exc
        return task


# -- reads for the instance page ----------------------------------------------------------------


# Data items that hold what a query operator answered when its step ran (a snapshot, never refreshed):
# item → (operator, the keys of its answer the admin is shown as they are now).
QUERY_SNAPSHOTS = {"record": ("incident_record", ("first_release_done", "press_conference_done", "upgrades",
                                                  "timeliness"))}


def instance_repair_view(instance: ProcessInstance) -> dict[str, Any]:
    """What the admin section of an instance page shows: data (with the query answers in it as they are
    now, `now`), waiting timers and messages."""
    if not instance.state_json:
        return {"data": {}, "timers": [], "messages": []}
    data = instance.data or {}
    now = _snapshots_now(instance, data)
    if instance.status in ENDED:
        return {"data": data, "now": now, "timers": [], "messages": []}
    try:
        timers, messages = repair.waiting_for(catalog.spec(instance.definition_id), instance.state_json)
    except StateError as exc:  # the row's data snapshot is still shown; only retry and terminate apply
        return {"data": data, "now": now, "timers": [], "messages": [], "unreadable": unreadable_reason(exc)}
    return {"data": data, "now": now, "timers": timers, "messages": messages}


def _snapshots_now(instance: ProcessInstance, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """For each query snapshot in `data` (`record`: the incident's ledger as a level's response began),
    what the query answers now — the data item itself is not refreshed as the work goes on."""
    now: dict[str, dict[str, Any]] = {}
    for item, (operator, keys) in QUERY_SNAPSHOTS.items():
        if isinstance(data.get(item), dict):
            answer = ledger.query(db.session, instance, operator, {})
            now[item] = {key: answer.get(key) for key in keys}
    return now


def failed_instances(limit: int = 200) -> list[tuple[ProcessInstance, datetime | None, datetime | None]]:
    """Instances in error, with the first and last time they went into error, newest first."""
    errors = (select(AuditEvent.instance_id, func.min(AuditEvent.at).label("first"),
                     func.max(AuditEvent.at).label("last"))
              .where(AuditEvent.action == "instance_error").group_by(AuditEvent.instance_id).subquery())
    rows = db.session.execute(select(ProcessInstance, errors.c.first, errors.c.last)
                              .outerjoin(errors, errors.c.instance_id == ProcessInstance.id)
                              .where(ProcessInstance.status == InstanceStatus.ERROR)
                              .order_by(errors.c.last.desc(), ProcessInstance.id.desc()).limit(limit)).all()
    return [(row[0], row[1], row[2]) for row in rows]


def assignable_users() -> list[User]:
    """Active people, for the reassign picker."""
    return list(db.session.scalars(select(User).where(User.active.is_(True), is_person()).order_by(User.username)))


def roles() -> list[Role]:
    """Every role, for the reassign picker."""
    return list(db.session.scalars(select(Role).order_by(Role.code)))
