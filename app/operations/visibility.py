"""Who sees what (docs/decisions.md 46): the SQL conditions that every list and page of instances,
tasks and attachments filters by, their mirror for rows already loaded, and the units an instance
concerns.

Overview roles see every instance. Everybody else sees an instance they started, hold or did a task
of, or could be asked to do a task of; a holder of a unit role (section head or staff, consultation
member, risk owner) also sees the instances that name their unit. A task's `unit` binds the unit
roles of its lane only; a task addressed to one person is theirs alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from app import clock
from app.extensions import db
from app.models import (
    Delegation,
    HumanTask,
    HumanTaskCandidate,
    InstanceUnit,
    OrgUnit,
    ProcessInstance,
    User,
    UserRole,
)
from app.models.users import is_person

OVERVIEW_ROLES = ("admin", "group_leader", "group_deputy", "office_director", "office_staff", "info_officer",
                  "party_group")
UNIT_ROLES = frozenset({"section_head", "section_staff", "consultation_member", "risk_owner"})
TASK_OVERSEERS = ("admin",)
# Data names that name the units an instance concerns (docs/processes.md "Data of an incident").
UNIT_KEYS = ("lead_unit", "assist_units", "related_units", "dispatch_unit", "risk_owner_unit")
MAX_UNITS = 100


def unit_code(user: User) -> str | None:
    """The code of the user's unit (what a unit role's tasks are matched against)."""
    return user.unit.code if user.unit else None


_unit = unit_code


def _tasks_of_roles(roles: list[str], correlated: bool = False) -> ColumnElement[bool]:
    if correlated:
        return exists().where(HumanTaskCandidate.task_id == HumanTask.id, HumanTaskCandidate.role_code.in_(roles))
    return HumanTask.id.in_(select(HumanTaskCandidate.task_id).where(HumanTaskCandidate.role_code.in_(roles)))


def candidate_clause(user: User, correlated: bool = False) -> ColumnElement[bool]:
    """Tasks the user could be asked to do: a lane role of theirs, the task's unit for a unit role,
    and not addressed to somebody else.

    `correlated` checks each task's roles by its primary key (EXISTS) instead of reading every task
    of the roles first (IN): for the worklist, which walks a few open tasks in due order past the
    (many) finished ones.
    """
    free = sorted(user.role_codes - UNIT_ROLES)
    bound = sorted(user.role_codes & UNIT_ROLES)
    parts = [_tasks_of_roles(free, correlated)] if free else []
    if bound:
        unit = _unit(user)
        in_unit = or_(HumanTask.unit_code.is_(None), HumanTask.unit_code == unit) if unit else \
            HumanTask.unit_code.is_(None)
        parts.append(and_(_tasks_of_roles(bound, correlated), in_unit))
    if not parts:
        return false()
    return and_(or_(*parts), or_(HumanTask.addressed_to_id.is_(None), HumanTask.addressed_to_id == user.id))


def has_candidates(session: Session, roles: list[str], unit_code: str | None) -> bool:
    """Is any active person able to take a task of these lane roles (bound to `unit_code`)?"""
    return staffed(session, [(roles, unit_code)])[0]


def staffed(session: Session, needs: list[tuple[list[str], str | None]]) -> list[bool]:
    """`has_candidates` for several (lane roles, unit) at once, in one statement: the (role, unit) pairs
    of active people holding any of the roles, matched here (a step opening tasks checks them together)."""
    wanted = sorted({role for roles, _unit in needs for role in roles})
    if not wanted:
        return [False for _need in needs]
    pairs = {(role, unit) for role, unit in session.execute(
        select(UserRole.role_code, OrgUnit.code).distinct().select_from(User).join(UserRole)
        .outerjoin(OrgUnit, OrgUnit.id == User.unit_id)
        .where(User.active.is_(True), is_person(), UserRole.role_code.in_(wanted)))}
    free = {role for role, _unit in pairs}
    return [any(role in free for role in set(roles) - UNIT_ROLES)
            or any((role, unit) in pairs if unit else role in free for role in set(roles) & UNIT_ROLES)
            for roles, unit in needs]


def is_candidate(task: HumanTask, user: User) -> bool:
    """`candidate_clause` for a loaded task."""
    roles = user.role_codes.intersection(task.candidate_roles)
    if not roles or task.addressed_to_id not in (None, user.id):
        return False
    if task.unit_code is None or roles - UNIT_ROLES:
        return True
    return _unit(user) == task.unit_code


def delegators(user: User) -> Any:
    """The people whose standing delegate (委托) `user` is right now, as a subquery."""
    now = clock.now()
    return select(Delegation.user_id).where(Delegation.delegate_id == user.id, Delegation.starts_at <= now,
                                            Delegation.ends_at > now, Delegation.ended_at.is_(None))


def acts_for(user: User, holder_id: int | None) -> bool:
    """Is `user` the delegate of the task holder `holder_id` right now?"""
    if holder_id is None or holder_id == user.id:
        return False
    return db.session.scalar(delegators(user).where(Delegation.user_id == holder_id).limit(1)) is not None


def task_clause(user: User) -> ColumnElement[bool]:
    """Tasks the user may open: theirs, done by them, theirs to claim, held by someone they stand in for;
    every task for the overview roles, who see every incident (to read it; working it still needs the
    task's roles)."""
    if user.has_role(*OVERVIEW_ROLES):
        return true()
    return or_(HumanTask.assignee_id == user.id, HumanTask.completed_by_id == user.id, candidate_clause(user),
               HumanTask.assignee_id.in_(delegators(user)))


def can_view_task(task: HumanTask, user: User) -> bool:
    """`task_clause` for a loaded task."""
    return (user.id in (task.assignee_id, task.completed_by_id) or is_candidate(task, user)
            or user.has_role(*OVERVIEW_ROLES) or acts_for(user, task.assignee_id))


def instance_clause(user: User) -> ColumnElement[bool]:
    """Instances the user may open (see the module's docstring)."""
    if user.has_role(*OVERVIEW_ROLES):
        return true()
    involved = select(HumanTask.instance_id).where(or_(
        HumanTask.assignee_id == user.id, HumanTask.completed_by_id == user.id, candidate_clause(user),
        HumanTask.assignee_id.in_(delegators(user))))
    parts = [ProcessInstance.started_by_id == user.id, ProcessInstance.id.in_(involved)]
    unit = _unit(user)
    if unit and user.role_codes & UNIT_ROLES:
        parts.append(ProcessInstance.id.in_(select(InstanceUnit.instance_id).where(InstanceUnit.unit_code == unit)))
        parts.append(ProcessInstance.id.in_(select(HumanTask.instance_id).where(HumanTask.unit_code == unit)))
    return or_(*parts)


def unit_bound(task: HumanTask) -> bool:
    """Is the task a unit's own (a unit's lane: only unit roles, bound to its unit)? A lane the office
    shares with the lead unit (会商研判, 善后跟踪) keeps the unit to say which unit's people may take it,
    but the task is not that unit's."""
    return task.unit_code is not None and not set(task.candidate_roles) - UNIT_ROLES


def sees_unit(user: User, unit: str | None) -> bool:
    """May the user read what is one unit's own (a dispatched unit's feedback deadline)? The overview roles
    see every unit's; anybody else only their own unit's, through a unit role (what nobody's unit is,
    everybody who may open the incident sees)."""
    if unit is None or user.has_role(*OVERVIEW_ROLES):
        return True
    return bool(user.role_codes & UNIT_ROLES) and _unit(user) == unit


def units_in(data: dict[str, Any] | None) -> set[str]:
    """The unit codes instance data names (lead, assisting, related, dispatched, risk owner)."""
    if not isinstance(data, dict):
        return set()
    values: list[Any] = []
    for key in UNIT_KEYS:
        value = data.get(key)
        values.extend(value if isinstance(value, list) else [value])
    rows = data.get("dispatch_tasks")
    if isinstance(rows, list):
        values.extend(row.get("unit") for row in rows if isinstance(row, dict))
    return {value for value in values if isinstance(value, str) and 0 < len(value) <= 64}


def record_units(session: Session, instance: ProcessInstance, before: dict[str, Any] | None,
                 after: dict[str, Any]) -> None:
    """Add the units `after` names that `before` (the instance's previous data) did not."""
    new = units_in(after) - units_in(before)
    if not new:
        return
    new = set(sorted(new)[:MAX_UNITS])
    known = set(session.scalars(select(InstanceUnit.unit_code).where(
        InstanceUnit.instance_id == instance.id, InstanceUnit.unit_code.in_(sorted(new)))))
    session.add_all(InstanceUnit(instance_id=instance.id, unit_code=code) for code in sorted(new - known))


def candidate_ids(session: Session, task: HumanTask) -> set[int]:
    """The active people `candidate_clause` gives an unclaimed task to (its addressee, if it has one)."""
    if task.addressed_to_id is not None:
        return {task.addressed_to_id}
    roles = task.candidate_roles
    free = sorted(set(roles) - UNIT_ROLES)
    bound = sorted(set(roles) & UNIT_ROLES)
    clauses = [UserRole.role_code.in_(free)] if free else []
    if bound:
        in_unit = User.unit_id.in_(select(OrgUnit.id).where(OrgUnit.code == task.unit_code)) if task.unit_code \
            else true()
        clauses.append(and_(UserRole.role_code.in_(bound), in_unit))
    if not clauses:
        return set()
    return set(session.scalars(select(User.id).join(UserRole).where(User.active.is_(True), is_person(), or_(*clauses))))
