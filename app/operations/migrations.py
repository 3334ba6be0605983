"""Version migration: move running instances from one deployed version of a process to another.

Elements map by id only (`app.engine.migration`): the preview lists, per instance, which waiting
tasks map to which new elements and why an instance cannot move — never a shape-based guess. A move
changes nothing but the version and the state (no step runs), keeps the state before it, and can be
undone while the instance has not changed since (its row version is the one the move left).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from app import clock
from app.db import transaction
from app.engine import migration, repair
from app.engine.state import StateError
from app.extensions import db
from app.models import (
    HumanTask,
    HumanTaskCandidate,
    InstanceMigration,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    TaskStatus,
    User,
)
from app.operations import catalog, failures, interventions
from app.operations.errors import Conflict, Invalid, NotFound

MOVABLE_STATUSES = (InstanceStatus.WAITING, InstanceStatus.RUNNING, InstanceStatus.SUSPENDED, InstanceStatus.ERROR)
PREVIEW_CAP = 500


@dataclass(frozen=True)
class InstancePreview:
    """One instance of the preview: can it move, and where its waiting tasks go."""

    instance: ProcessInstance
    plan: migration.MigrationPlan


def versions_of(process_key: str) -> list[ProcessDefinition]:
    """Every deployed version of a process, newest first."""
    return list(db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.process_key == process_key)
                                   .order_by(ProcessDefinition.version.desc())))


def definition(process_key: str, version: int) -> ProcessDefinition:
    """One version of a process, else NotFound."""
    row = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_key == process_key,
                                                            ProcessDefinition.version == version))
    if row is None:
        raise NotFound(str(_l("流程 %(key)s 没有版本 %(v)s。", key=process_key, v=version)))
    return row


def preview(source: ProcessDefinition, target: ProcessDefinition, limit: int = PREVIEW_CAP
            ) -> tuple[list[InstancePreview], int]:
    """The unfinished instances of `source` (at most `limit`) with their plan to `target`, and how many
    there are in all."""
    _check_pair(source, target)
    query = select(ProcessInstance).where(ProcessInstance.definition_id == source.id,
                                          ProcessInstance.status.in_(MOVABLE_STATUSES))
    total = db.session.scalar(select(func.count()).select_from(query.with_only_columns(ProcessInstance.id)
                                                               .subquery())) or 0
    old, new = catalog.spec(source.id), catalog.spec(target.id)
    rows = db.session.scalars(query.order_by(ProcessInstance.started_at, ProcessInstance.id).limit(limit))
    return [InstancePreview(row, _plan(old, new, row)) for row in rows], total


def _plan(old: Any, new: Any, row: ProcessInstance) -> migration.MigrationPlan:
    """The row's plan; one whose state cannot be read cannot move (and does not spoil the preview)."""
    try:
        return migration.plan(old, new, row.state_json)
    except StateError as exc:
        return migration.MigrationPlan(movable=False, tasks=[], blockers=[failures.unreadable_reason(exc)])


def _check_pair(source: ProcessDefinition, target: ProcessDefinition) -> None:
    if source.process_key != target.process_key:
        raise Invalid(str(_l("只能在同一流程的版本之间迁移。")))
    if source.id == target.id:
        raise Invalid(str(_l("源版本与目标版本相同。")))


def apply_migration(session: Session, instance: ProcessInstance, to_definition_id: int, actor: User | None,
                    reason: str, batch_id: int | None = None) -> str:
    """Move one locked instance to `to_definition_id` (inside the caller's transaction).

    Returns a short description of where its waiting tasks went; refused (Invalid, nothing changed)
    when the plan has blockers.
    """
    source = session.get(ProcessDefinition, instance.definition_id)
    target = session.get(ProcessDefinition, to_definition_id)
    if target is None:
        raise NotFound(str(_l("目标版本不存在。")))
    _check_pair(source, target)
    if instance.status not in MOVABLE_STATUSES:
        raise Conflict(str(_l("已结束的流程不能迁移。")))
    old, new = catalog.spec(source.id), catalog.spec(target.id)
    try:
        state = migration.migrate(old, new, instance.state_json)
    except migration.MigrationRefused as exc:
        raise Invalid(str(_l("不能迁移:%(why)s", why="; ".join(exc.plan.blockers)))) from exc
    plan = migration.plan(old, new, instance.state_json)
    record = InstanceMigration(instance_id=instance.id, from_definition_id=source.id, to_definition_id=target.id,
                               state_before=instance.state_json, next_timer_before=instance.next_timer_at,
                               version_after=0, mapping=[asdict(t) for t in plan.tasks], reason=reason,
                               batch_id=batch_id, created_by_id=actor.id if actor else None)
    _set_state(session, instance, target.id, state)
    interventions.audit(session, instance, actor, "instance_migrated", reason, from_version=source.version,
                        to_version=target.version, tasks=[f"{t.element_id}→{t.target_id}" for t in plan.tasks])
    session.add(record)
    session.flush()
    record.version_after = instance.version
    return "、".join(f"{t.element_name or t.element_id}→{t.target_id}" for t in plan.tasks)


def _set_state(session: Session, instance: ProcessInstance, definition_id: int, state: str) -> None:
    """Put a state of `definition_id` on the instance and bring its open task rows in line with it."""
    spec = catalog.spec(definition_id)
    ready, next_timer = repair.snapshot(spec, state)
    before = catalog.version(instance.definition_id)
    instance.definition_id = definition_id
    instance.state_json = state
    if instance.status != InstanceStatus.SUSPENDED:
        instance.next_timer_at = next_timer
    instance.updated_at = clock.now()
    flag_modified(instance, "updated_at")  # the row version moves on even if nothing else did
    version = catalog.version(definition_id)
    by_guid = {task.guid: task for task in ready}
    for row in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.status == TaskStatus.OPEN)):
        task = by_guid.get(row.task_guid)
        if task is None:
            continue
        roles = version.task_info(task.process_id, task.spec_id).get("roles", [])
        row.name, row.form, row.ui_form, row.lane = task.name, task.form, task.ui_form, task.lane
        row.documentation = task.documentation
        # New lane roles apply unless an admin reassigned the task to other roles meanwhile.
        kept = row.candidate_roles == before.task_info(row.process_id, row.spec_id).get("roles", [])
        if roles and roles != row.candidate_roles and kept:
            row.candidate_roles_text = ",".join(roles)
            row.candidates = [HumanTaskCandidate(role_code=role) for role in roles]


@failures.quarantining
def migrate_instance(public_id: str, expected: int | None, to_definition_id: int, actor: User,
                     reason: str | None) -> InstanceMigration:
    """Move one instance (from its page), as the admin saw it at `expected`."""
    why = interventions.require_reason(reason)
    with transaction() as session:
        instance = interventions.lock_instance(session, public_id, expected)
        with failures.reading_state(instance):
            apply_migration(session, instance, to_definition_id, actor, why)
        return session.scalar(select(InstanceMigration).where(InstanceMigration.instance_id == instance.id)
                              .order_by(InstanceMigration.id.desc()).limit(1))


def revert(migration_id: int, actor: User, reason: str | None) -> ProcessInstance:
    """Undo a migration, if nothing happened to the instance since."""
    why = interventions.require_reason(reason)
    with transaction() as session:
        record = session.get(InstanceMigration, migration_id)
        if record is None:
            raise NotFound(str(_l("迁移记录不存在。")))
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == record.instance_id)
                                  .with_for_update(of=ProcessInstance).execution_options(populate_existing=True))
        if record.status != "applied":
            raise Conflict(str(_l("该迁移已撤销。")))
        if instance.version != record.version_after or instance.definition_id != record.to_definition_id:
            raise Conflict(str(_l("迁移之后该流程已有新的进展,不能撤销。")))
        source = session.get(ProcessDefinition, record.from_definition_id)
        target = session.get(ProcessDefinition, record.to_definition_id)
        _set_state(session, instance, source.id, record.state_before)
        if instance.status != InstanceStatus.SUSPENDED:
            instance.next_timer_at = record.next_timer_before
        record.status, record.reverted_at = "reverted", clock.now()
        interventions.audit(session, instance, actor, "migration_reverted", why, from_version=target.version,
                            to_version=source.version)
        return instance


def revertible(instance: ProcessInstance) -> InstanceMigration | None:
    """The instance's last migration, if it can still be undone."""
    record = db.session.scalar(select(InstanceMigration).where(InstanceMigration.instance_id == instance.id)
                               .order_by(InstanceMigration.id.desc()).limit(1))
    if record is None or record.status != "applied" or record.version_after != instance.version:
        return None
    return record


def history(instance: ProcessInstance) -> list[tuple[InstanceMigration, int, int]]:
    """(migration, from version, to version) of an instance, oldest first."""
    versions = dict(db.session.execute(select(ProcessDefinition.id, ProcessDefinition.version)
                                       .where(ProcessDefinition.process_key == instance.process_key)).all())
    rows = db.session.scalars(select(InstanceMigration).where(InstanceMigration.instance_id == instance.id)
                              .order_by(InstanceMigration.id))
    return [(row, versions.get(row.from_definition_id, 0), versions.get(row.to_definition_id, 0)) for row in rows]


def summary(previews: list[InstancePreview]) -> dict[str, Any]:
    """Counts for the preview's header."""
    movable = sum(1 for p in previews if p.plan.movable)
    return {"movable": movable, "blocked": len(previews) - movable}
