"""Dispatch deadlines are unit-scoped (docs/security.md, decision on fix "unit deadlines"): an incident
dispatched to two units shows each unit's head only their own 承办反馈 row — on the incident page and in
the panel of their feedback task — while the office sees both."""

from __future__ import annotations

from sqlalchemy import select

from app.models import HumanTask, Incident, TaskStatus
from tests.web.scenario import act_as, start_incident, submit
from tests.web.staff_world import ok as _ok

DUE = "2026-11-27T17:00"
LATER = "2026-11-28T17:00"


def _dispatched(app, db, user_factory):
    """A level-4 incident worked through its pages until the office dispatched tasks to 社会保险科 and
    就业促进科."""
    people = {"monitor": act_as(app, user_factory(["monitor"])),
              "office": act_as(app, user_factory(["office_director", "office_staff"])),
              "leader": act_as(app, user_factory(["group_leader"])),
              "section": act_as(app, user_factory(["section_head", "consultation_member"], unit="social_insurance")),
              "section2": act_as(app, user_factory(["section_head", "section_staff"], unit="employment"))}
    instance = start_incident(people["monitor"])
    for who, spec_id in (("monitor", "ut_register"), ("office", "ut_confirm_level"),
                         ("office", "ut_request_instruction"), ("leader", "ut_instruction_decision"),
                         ("section", "ut_investigate")):
        _ok(submit(people[who], instance, spec_id))
    _ok(submit(people["section"], instance, "ut_consult", dispatch_needed="true"))
    rows = {"dispatch_tasks.0.unit": "social_insurance", "dispatch_tasks.0.task": "核实窗口排队情况",
            "dispatch_tasks.0.due_at": DUE, "dispatch_tasks.1.unit": "employment",
            "dispatch_tasks.1.task": "走访当事人", "dispatch_tasks.1.due_at": LATER}
    _ok(submit(people["office"], instance, "ut_dispatch", **rows))
    number = db.session.scalar(select(Incident.number).where(Incident.instance_id == instance.id))
    return people, instance, number


def _feedback_task(db, instance, unit):
    return db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.spec_id == "ut_unit_feedback",
        HumanTask.status == TaskStatus.OPEN, HumanTask.unit_code == unit)).one()


def test_each_units_head_sees_only_their_own_dispatch_deadline(app, db, user_factory):
    people, instance, number = _dispatched(app, db, user_factory)
    office = people["office"].page(f"/incidents/{number}")
    assert "承办反馈(社会保险科)" in office and "承办反馈(就业促进科)" in office

    own = people["section"].page(f"/incidents/{number}")
    assert "承办反馈(社会保险科)" in own and "承办反馈(就业促进科)" not in own
    other = people["section2"].page(f"/incidents/{number}")
    assert "承办反馈(就业促进科)" in other and "承办反馈(社会保险科)" not in other
    printed = people["section2"].page(f"/incidents/{number}?print=1")
    assert "承办反馈(就业促进科)" in printed and "承办反馈(社会保险科)" not in printed

    # The panel of a unit's feedback task names its own deadline only.
    task = _feedback_task(db, instance, "employment")
    page = people["section2"].page(f"/tasks/{task.public_id}")
    assert "承办反馈(就业促进科)" in page and "承办反馈(社会保险科)" not in page
    page = people["office"].page(f"/tasks/{task.public_id}")
    assert "承办反馈(就业促进科)" in page and "承办反馈(社会保险科)" in page
