"""Two people submit the same task at the same moment: exactly one wins, the other gets a clear 409."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, HumanTask, ProcessInstance, TaskStatus
from app.operations import instances, users
from tests.conftest import PASSWORD
from tests.web.scenario import FORMS

ROUNDS = 20


def _client(app, username):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _race(clients, url, data):
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def submit(index, client):
        barrier.wait()
        response = client.post(url, data=data)
        results[index] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=submit, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a submission hung"
    return results


def test_double_submit_of_the_same_task_completes_it_exactly_once(committed_app):
    app = committed_app
    with app.app_context():
        for name in ("monitor_a", "monitor_b"):
            users.create_user(name, name, PASSWORD, ["monitor"], must_change_password=False, check_strength=False)
        starter = users.authenticate("monitor_a", PASSWORD)
    clients = [_client(app, "monitor_a"), _client(app, "monitor_b")]
    for _ in range(ROUNDS):
        with app.app_context():
            instance_id = instances.start_incident(starter).id
            task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
            url = f"/tasks/{task.public_id}"
        results = _race(clients, url, {**FORMS["ut_register"], "_action": "complete"})
        assert sorted(code for code, _ in results) == [302, 409]
        loser_page = next(page for code, page in results if code == 409)
        assert "该任务已被处理" in loser_page
        with app.app_context():
            _assert_advanced_once(instance_id)


def _assert_advanced_once(instance_id):
    completed = db.session.scalar(select(func.count(HumanTask.id)).where(
        HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.COMPLETED))
    open_specs = db.session.scalars(select(HumanTask.spec_id).where(
        HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.OPEN)).all()
    audits = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.instance_id == instance_id, AuditEvent.action == "task_completed"))
    instance = db.session.get(ProcessInstance, instance_id)
    assert (completed, open_specs, audits) == (1, ["ut_confirm_level"], 1)
    assert instance.version >= 2


def test_eight_people_submitting_the_same_task_one_wins_the_others_get_409(committed_app):
    app = committed_app
    names = [f"monitor_{i}" for i in range(8)]
    with app.app_context():
        for name in names:
            users.create_user(name, name, PASSWORD, ["monitor"], must_change_password=False, check_strength=False)
        starter = users.authenticate(names[0], PASSWORD)
    clients = [_client(app, name) for name in names]
    for _ in range(5):
        with app.app_context():
            instance_id = instances.start_incident(starter).id
            task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
            url = f"/tasks/{task.public_id}"
        results = _race(clients, url, {**FORMS["ut_register"], "_action": "complete"})
        assert sorted(code for code, _ in results) == [302] + [409] * 7
        assert all("该任务已被处理" in page for code, page in results if code == 409)
        with app.app_context():
            _assert_advanced_once(instance_id)


def test_the_years_first_incidents_registered_at_once_get_distinct_numbers(committed_app):
    """Eight monitors press 登记新舆情 at the same moment on a database with no number yet this year:
    every registration succeeds, and the numbers are 0001 … 0008 (decision 116's upsert)."""
    app = committed_app
    names = [f"registrar_{i}" for i in range(8)]
    with app.app_context():
        for name in names:
            users.create_user(name, name, PASSWORD, ["monitor"], must_change_password=False, check_strength=False)
    results = _race([_client(app, name) for name in names], "/incidents/new", {})
    assert [code for code, _ in results] == [302] * 8, [page[:300] for code, page in results if code != 302]
    with app.app_context():
        numbers = sorted(db.session.scalars(select(ProcessInstance.business_key)
                                            .where(ProcessInstance.business_key.is_not(None))))
    assert [number[-4:] for number in numbers] == [f"{n:04d}" for n in range(1, 9)]
