"""Instances as pages read them: by public id, the ones a user may see, their tasks, audit trail and
drawn diagram (visibility in SQL, `visibility.instance_clause`)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.engine import runner, state
from app.extensions import db
from app.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, User
from app.operations import catalog, visibility
from app.operations.errors import NotFound
from app.operations.failures import unreadable_reason


def get_instance(public_id: str) -> ProcessInstance:
    """An instance by its public id, or NotFound."""
    instance = db.session.scalar(select(ProcessInstance).where(ProcessInstance.public_id == public_id))
    if instance is None:
        raise NotFound(str(_l("流程实例不存在。")))
    return instance


OVERVIEW_ROLES = visibility.OVERVIEW_ROLES


def _visible_instances(user: User) -> Any:
    """The SELECT of the instances the user may see (visibility.instance_clause)."""
    return select(ProcessInstance).where(visibility.instance_clause(user))


def list_instances(user: User, limit: int = 100) -> list[ProcessInstance]:
    """Instances the user may see, newest first."""
    query = _visible_instances(user).order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def get_visible_instance(public_id: str, user: User) -> ProcessInstance:
    """An instance the user may see, else NotFound."""
    instance = db.session.scalar(_visible_instances(user).where(ProcessInstance.public_id == public_id))
    if instance is None:
        raise NotFound(str(_l("流程实例不存在或您无权查看。")))
    return instance


def instance_tasks(instance: ProcessInstance) -> list[HumanTask]:
    """Every human task of an instance, in the order they appeared."""
    return list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)
                                   .order_by(HumanTask.created_at, HumanTask.id)))


def instance_events(instance: ProcessInstance) -> list[AuditEvent]:
    """The audit trail of an instance, oldest first."""
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                                   .order_by(AuditEvent.at, AuditEvent.id)))


def instance_diagram(instance: ProcessInstance) -> dict[str, Any]:
    """What the diagram viewer shows: the processes the instance has run and each element's status.

    When the state cannot be read, the diagram without statuses and `error` saying why.
    """
    try:
        spec = catalog.spec(instance.definition_id)
        status = runner.element_status(spec, instance.state_json)
    except state.StateError as exc:
        return {"processes": [{"id": instance.process_key, "name": instance.definition.name, "status": {}}],
                "error": unreadable_reason(exc), "names": {}, "elements": {}}
    names = runner.process_names(spec)
    order = [instance.process_key, *sorted(p for p in status if p != instance.process_key)]
    return {"processes": [{"id": pid, "name": names.get(pid, pid), "status": status.get(pid, {})} for pid in order],
            "names": names, "elements": runner.element_names(spec)}


def diagram_source(instance: ProcessInstance, process_id: str) -> str:
    """The BPMN file (as deployed with the instance's version) that defines `process_id`."""
    sources = db.session.scalar(select(ProcessDefinition.sources).where(
        ProcessDefinition.id == instance.definition_id)) or {}
    for name, xml in sorted(sources.items()):
        if name.endswith(".bpmn") and f'id="{process_id}"' in xml:
            return xml
    raise NotFound(str(_l("流程图不存在。")))
