"""Whether a person fits a task: holds one of its lane's roles and belongs to its unit, if it has one.

An admin's reassignment to someone who does not fit (the task then reaches a person its lane would
never give it to, possibly of another unit) is refused unless the admin confirms it (decision 50);
what did not fit is kept in the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import HumanTask, OrgUnit, Role, TaskStatus, User
from app.operations.element_names import element_name
from app.operations.errors import Invalid
from app.operations.tasks import current_locale
from app.operations.visibility import UNIT_ROLES
from app.operations.vocabulary import listed

SHOWN = 3  # problems named in a batch's refusal; the rest are counted


def holder_problem(session: Session, task: HumanTask, person: User) -> str | None:
    """Why `person` does not fit `task` (none of its roles, another unit), in words; None if they fit."""
    roles = person.role_codes.intersection(task.candidate_roles)
    name = element_name(task.name, current_locale())
    if not roles:
        return str(_l("%(person)s不在“%(task)s”的办理角色(%(roles)s)中。", person=person.display_name,
                      task=name, roles=listed(_role_names(session, task.candidate_roles), current_locale())))
    # A task's unit binds only the unit roles of its lane (decision 46): a group leader in the lane fits.
    if task.unit_code and not roles - UNIT_ROLES and (person.unit is None or person.unit.code != task.unit_code):
        unit = session.scalar(select(OrgUnit).where(OrgUnit.code == task.unit_code))
        english = current_locale().startswith("en") and unit is not None and (unit.name_en or "").strip()
        return str(_l("%(person)s不属于“%(task)s”的承办单位(%(unit)s)。", person=person.display_name,
                      task=name, unit=english or (unit.name if unit else task.unit_code)))
    return None


def _role_names(session: Session, codes: list[str]) -> list[str]:
    english = current_locale().startswith("en")
    names = dict(session.execute(select(Role.code, Role.name_en if english else Role.name_zh)
                                 .where(Role.code.in_(codes))).all())
    return [names.get(code, code) for code in codes]


def check_holder(session: Session, task: HumanTask, username: str | None, confirmed: bool) -> None:
    """Refuse to give `task` to `username` when they do not fit it, unless the admin confirmed it."""
    _refuse([] if confirmed else _problems(session, [task], username))


def check_holders(session: Session, instance_ids: list[int], username: str | None, element: str | None,
                  confirmed: bool) -> None:
    """The same check for a batch: every open task it would give to `username` (of `element`, if given)."""
    if confirmed or not username or not instance_ids:
        return
    query = select(HumanTask).where(HumanTask.instance_id.in_(instance_ids), HumanTask.status == TaskStatus.OPEN)
    if element:
        query = query.where(HumanTask.spec_id == element)
    _refuse(_problems(session, session.scalars(query), username))


def _problems(session: Session, rows: Iterable[HumanTask], username: str | None) -> list[str]:
    person = session.scalar(select(User).where(User.username == username, User.active.is_(True))) if username else None
    if person is None:
        return []  # no such person: the reassignment itself says so
    distinct = {(row.name, row.candidate_roles_text, row.unit_code): row for row in rows}
    return [problem for row in distinct.values() if (problem := holder_problem(session, row, person))]


def _refuse(problems: list[str]) -> None:
    if not problems:
        return
    more = str(_l("(另有 %(n)s 项)", n=len(problems) - SHOWN)) if len(problems) > SHOWN else ""
    message = "".join(problems[:SHOWN]) + more + str(_l("确需转办,请勾选“仍然转办”后再提交。"))
    raise Invalid(message, {"assignee": [message]})
