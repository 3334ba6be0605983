"""Tasks scoped to a unit (`unit` property), given to one person (`assignee`), and notices to unit heads."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, HumanTask, Notification, TaskStatus
from app.operations import deploy, instances, tasks
from app.operations.errors import NotFound
from tests.conftest import ROOT, make_user

SCOPE = (ROOT / "tests" / "operations" / "data" / "t_scope.bpmn").read_bytes()
DONE = {"findings": "已核实", "facts_confirmed": True}


@pytest.fixture
def scoped(db):
    processes, forms = deploy.read_directory(ROOT / "processes", ROOT / "forms")
    deploy.deploy_processes({**processes, "t_scope.bpmn": SCOPE}, forms)
    policy = make_user(["section_head"], unit="policy")
    other = make_user(["section_head"], unit="employment")
    chosen = make_user(["section_staff"], unit="employment")
    instance = instances.start_instance("t_scope", policy, {"lead_unit": "policy", "chosen": chosen.username,
                                                             "related_units": ["employment"]})
    return instance, policy, other, chosen


def _open(instance, spec_id):
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.spec_id == spec_id, HumanTask.status == TaskStatus.OPEN))


def test_a_unit_task_is_seen_and_done_only_by_that_units_people(scoped):
    instance, policy, other, _chosen = scoped
    task = _open(instance, "ut_unit")
    assert task.unit_code == "policy"
    assert task in tasks.list_group_tasks(policy)
    assert task not in tasks.list_group_tasks(other)
    assert not tasks.can_work(task, other)
    with pytest.raises(NotFound):  # another unit's task does not exist for them
        tasks.claim_task(task.public_id, other)
    with pytest.raises(NotFound):
        tasks.complete_task(task.public_id, DONE, other)
    tasks.complete_task(task.public_id, DONE, policy)


def test_a_task_for_one_person_is_already_theirs(scoped):
    instance, policy, _other, chosen = scoped
    tasks.complete_task(_open(instance, "ut_unit").public_id, DONE, policy)
    task = _open(instance, "ut_person")
    assert task.assignee_id == chosen.id and task.claimed_at is not None
    assert task in tasks.list_my_tasks(chosen)
    assert not tasks.can_work(task, policy)


def test_an_unknown_assignee_leaves_the_task_to_its_lane_with_a_warning(scoped):
    head = make_user(["section_head"], unit="policy")
    instance = instances.start_instance("t_scope", head, {"lead_unit": "policy", "chosen": "nobody"})
    tasks.complete_task(_open(instance, "ut_unit").public_id, DONE, head)
    assert _open(instance, "ut_person").assignee_id is None
    warnings = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "warning")).all()
    assert any("assignee 'nobody'" in w["reason"] for w in warnings)


def test_unit_heads_of_the_named_units_are_notified(scoped):
    instance, _policy, other, _chosen = scoped
    notified = set(db.session.scalars(select(Notification.user_id).where(Notification.instance_id == instance.id)))
    assert notified == {other.id}  # the head of employment; not policy's head, not employment's staff
