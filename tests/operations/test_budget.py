"""An advance that runs out of its step budget puts the instance in error; nothing hangs, nothing is lost."""

from __future__ import annotations

from sqlalchemy import select

from app.models import AuditEvent, HumanTask, InstanceStatus, TaskStatus
from tests.web.scenario import act_as, open_task, start_incident, submit


def test_exhausted_step_budget_marks_the_instance_in_error_and_keeps_the_completion(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    task = open_task(instance, "ut_register")
    app.config["STEP_BUDGET"] = 2  # registering runs grading, scripts and a notification: more than 2
    try:
        response = submit(monitor, instance, "ut_register")
    finally:
        app.config["STEP_BUDGET"] = 500
    assert response.status_code == 302
    db.session.refresh(instance)
    assert instance.status == InstanceStatus.ERROR
    assert "engine steps" in instance.error_text and instance.error_element
    completed = db.session.get(HumanTask, task.id)
    assert completed.status == TaskStatus.COMPLETED and completed.submitted["title"].startswith("某街道")
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == instance.id)).all()
    assert "instance_error" in actions and "task_completed" in actions
    assert "流程在后续环节出错" in monitor.get(response.headers["Location"]).get_data(as_text=True)
    page = monitor.get(f"/instances/{instance.public_id}").get_data(as_text=True)
    assert "出错" in page and instance.error_element in page
