"""A registration withdrawn before its quick report was ever submitted (撤销登记).

登记新舆情 starts the incident at once, numbered, with the registrant holding its quick report (decision 94).
If they leave without submitting, they may withdraw the registration: the instance ends as withdrawn (an
audit event, not an error), its open tasks are cancelled and its ledger head is removed, so the ledger,
statistics, monthly report and the 所属事件 choices never show it. Admins still see the instance (已撤销)
and its audit. The number is not reused (the counter only goes up).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import clock
from app.db import transaction
from app.extensions import db
from app.models import AuditEvent, HumanTask, Incident, InstanceStatus, ProcessInstance, TaskStatus, User
from app.operations import instances
from app.operations.errors import Conflict, NotFound

REGISTRATION_TASK = "ut_register"
LIVE = (InstanceStatus.WAITING, InstanceStatus.RUNNING)


def may_withdraw(task: HumanTask, user: User) -> bool:
    """The registrant's quick report, open, held by them, in an incident nothing was ever submitted in."""
    instance = task.instance
    if (task.spec_id != REGISTRATION_TASK or task.status != TaskStatus.OPEN or task.assignee_id != user.id
            or instance.process_key != instances.INCIDENT_PROCESS or instance.status not in LIVE):
        return False
    return _never_submitted(db.session, instance)


def _never_submitted(session: Session, instance: ProcessInstance) -> bool:
    done = session.scalar(select(func.count(HumanTask.id)).where(HumanTask.instance_id == instance.id,
                                                                  HumanTask.status == TaskStatus.COMPLETED))
    return not done


def withdraw(task_public_id: str, actor: User) -> ProcessInstance:
    """End the registration of `task_public_id`'s incident as withdrawn (see the module's doc)."""
    with transaction() as session:
        task = session.scalar(select(HumanTask).where(HumanTask.public_id == task_public_id))
        if task is None:
            raise NotFound(str(_l("任务不存在或您无权查看。")))
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == task.instance_id)
                                  .with_for_update(of=ProcessInstance).execution_options(populate_existing=True))
        session.refresh(task)
        if not may_withdraw(task, actor):
            raise Conflict(str(_l("只有尚未提交过快报的登记,才能由登记人撤销。")))
        cancelled = session.execute(update(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.OPEN).values(
            status=TaskStatus.CANCELLED, completed_at=clock.now())).rowcount or 0
        instance.status = InstanceStatus.WITHDRAWN
        instance.ended_at = clock.now()
        instance.next_timer_at = None
        instance.suspended_from = None
        incident = session.scalar(select(Incident).where(Incident.instance_id == instance.id))
        if incident is not None:
            session.delete(incident)
        session.add(AuditEvent(actor_id=actor.id, instance_id=instance.id, task_id=task.id,
                               action="registration_withdrawn",
                               detail={"number": instance.business_key, "cancelled_tasks": cancelled}))
        return instance
