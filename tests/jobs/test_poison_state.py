"""Poison state: one instance whose stored state cannot be loaded never stops the others.

Under both runners (the embedded thread and Celery workers with the beat's timer shards): the
other instances' timers fire and jobs still run, the bad instance goes into error once with its
reason (admins alerted once, not at every poll), and an admin opens its page, terminates it or
retries it once its state was put right.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from app.db import transaction
from app.extensions import db
from app.models import HumanTask, InstanceStatus, Notification, ProcessInstance, TaskStatus
from app.operations import clock as clock_ops
from app.operations import instances, jobs, users
from tests.conftest import PASSWORD, login
from tests.jobs.conftest import START, wait_for


def _people(app):
    with app.app_context():
        for username, roles in (("starter", ["monitor", "office_director"]), ("boss", ["admin"])):
            users.create_user(username, username, PASSWORD, roles, must_change_password=False, check_strength=False)
        return users.authenticate("starter", PASSWORD), users.authenticate("boss", PASSWORD)


def _corrupt(instance_id: int, state_json: str) -> str:
    """Overwrite an instance's stored state; returns the state it had."""
    with transaction() as session:
        row = session.get(ProcessInstance, instance_id)
        before = row.state_json
        session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id)
                        .values(state_json=state_json, next_timer_at=row.next_timer_at - timedelta(minutes=1)))
    return before


def _notifications(instance_id: int, kind: str) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(Notification.instance_id == instance_id,
                                                                       Notification.kind == kind))


def _row(instance_id: int) -> ProcessInstance:
    db.session.rollback()  # a new read transaction: see what the worker and the requests committed
    return db.session.get(ProcessInstance, instance_id)


def test_one_unreadable_state_never_stops_the_others_and_an_admin_repairs_it(runner):
    app = runner.app
    starter, boss = _people(app)
    with app.app_context():
        good = [instances.start_incident(starter).id for _ in range(2)]
        broken, garbled = (instances.start_incident(starter).id for _ in range(2))
        # Due a minute before the others, so every poll meets them first.
        original = _corrupt(broken, '{"serializer_version": "9.9", "typename": "BpmnWorkflow"}')
        _corrupt(garbled, '{"tasks": ')
        clock_ops.set_clock(START + timedelta(minutes=31))

        assert wait_for(lambda: all(_notifications(i, "report_overdue") > 0 for i in good))
        assert wait_for(lambda: _row(broken).status == _row(garbled).status == InstanceStatus.ERROR)
        assert "无法读取" in _row(broken).error_text and "9.9" in _row(broken).error_text
        assert "无法读取" in _row(garbled).error_text and _row(garbled).next_timer_at is None
        jobs.enqueue_probe("after-poison")  # jobs (notifications) still run
        assert wait_for(lambda: jobs.probe_seen("after-poison"))
        # Alerted once, not at every poll: later rounds at the same clock no longer try it.
        runner.wait_for_round()
        runner.wait_for_round()
        assert _notifications(broken, "instance_error") == _notifications(garbled, "instance_error") == 1

    client = app.test_client()
    login(client, boss)
    with app.app_context():
        bad, other = _row(broken), _row(garbled)
        page = client.get(f"/instances/{bad.public_id}")
        assert page.status_code == 200
        assert 'data-testid="state-error"' in page.get_data(as_text=True)
        assert "流程状态数据无法读取" in client.get("/admin/failures").get_data(as_text=True)
        assert "流程状态数据无法读取" in client.get("/instances?status=error").get_data(as_text=True)

        task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == bad.id,
                                                         HumanTask.status == TaskStatus.OPEN))
        task_page = client.get(f"/tasks/{task.public_id}")
        assert task_page.status_code == 200 and 'data-testid="error-banner"' in task_page.get_data(as_text=True)

        # Retried while the state still cannot be read: refused with the reason, still in error.
        again = client.post(f"/instances/{bad.public_id}/act",
                            data={"action": "retry", "version": bad.version, "reason": "再试一次"})
        assert again.status_code == 409 and "无法读取" in again.get_data(as_text=True)
        assert _row(broken).status == InstanceStatus.ERROR

        # The cause is put right (here: the state restored), then the retry goes on where it stood.
        with transaction() as session:
            session.execute(update(ProcessInstance).where(ProcessInstance.id == broken).values(state_json=original))
        fixed = client.post(f"/instances/{bad.public_id}/act",
                            data={"action": "retry", "version": _row(broken).version, "reason": "数据已恢复"})
        assert fixed.status_code == 302
        assert _row(broken).status == InstanceStatus.WAITING
        assert _notifications(broken, "report_overdue") > 0  # its overdue timer fired on the retry

        # The other one is beyond repair: terminated without its state being read.
        ended = client.post(f"/instances/{other.public_id}/act",
                            data={"action": "terminate", "version": other.version, "reason": "状态损坏,无法恢复"})
        assert ended.status_code == 302 and _row(garbled).status == InstanceStatus.TERMINATED
        assert client.get(f"/instances/{other.public_id}").status_code == 200
