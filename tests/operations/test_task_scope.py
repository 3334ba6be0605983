"""Tasks scoped to a unit (`unit` property), given to one person (`assignee`), and notices to unit heads."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, HumanTask, InstanceUnit, Notification, TaskStatus
from app.operations import assignment, deploy, instance_views, instances, interventions, tasks, visibility
from app.operations.errors import Conflict, NotFound
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
    assert task not in tasks.list_group_tasks(policy)


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


def test_a_task_for_one_person_is_in_nobody_elses_group_list_and_cannot_be_claimed_or_given_back(scoped):
    instance, policy, other, chosen = scoped
    tasks.complete_task(_open(instance, "ut_unit").public_id, DONE, policy)
    task = _open(instance, "ut_person")
    assert task.addressed_to_id == chosen.id
    colleague = make_user(["section_staff"], unit="employment")
    for person in (policy, other, colleague):
        assert task not in tasks.list_group_tasks(person)
        with pytest.raises(NotFound):
            tasks.get_task(task.public_id, person)
        with pytest.raises(NotFound):
            tasks.claim_task(task.public_id, person)
    with pytest.raises(Conflict):
        tasks.unclaim_task(task.public_id, chosen)
    admin = make_user(["admin"])
    assert tasks.get_task(task.public_id, admin) == task
    interventions.reassign_task(task.public_id, None, admin, "改派", username=colleague.username)
    assert (task.assignee_id, task.addressed_to_id) == (colleague.id, colleague.id)
    with pytest.raises(NotFound):
        tasks.get_task(task.public_id, chosen)
    interventions.reassign_task(task.public_id, None, admin, "退回科室", role="section_staff")
    assert task.addressed_to_id is None and task in tasks.list_group_tasks(chosen)


def test_an_unknown_assignee_leaves_the_task_in_the_group_list_and_a_claim_keeps_it_there(scoped):
    head = make_user(["section_head"], unit="policy")
    staff = make_user(["section_staff"], unit="employment")
    instance = instances.start_instance("t_scope", head, {"lead_unit": "policy", "chosen": "nobody"})
    tasks.complete_task(_open(instance, "ut_unit").public_id, DONE, head)
    task = _open(instance, "ut_person")
    assert task.addressed_to_id is None and task in tasks.list_group_tasks(staff)
    tasks.claim_task(task.public_id, staff)
    assert task in tasks.list_group_tasks(head)  # shown to the group as claimed
    assert not tasks.can_work(task, head)
    tasks.unclaim_task(task.public_id, staff)  # a claimed task can be given back
    assert db.session.get(HumanTask, task.id).assignee_id is None


def test_the_python_rule_agrees_with_the_sql_rule(scoped):
    instance, policy, other, chosen = scoped
    tasks.complete_task(_open(instance, "ut_unit").public_id, DONE, policy)
    people = [policy, other, chosen, make_user(["section_head"]), make_user(["monitor"], unit="policy"),
              make_user(["admin"]), make_user([])]
    rows = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    for person in people:
        by_sql = set(db.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                                   visibility.candidate_clause(person))))
        assert by_sql == {row.id for row in rows if visibility.is_candidate(row, person)}
        by_sql = set(db.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                                   visibility.task_clause(person))))
        assert by_sql == {row.id for row in rows if visibility.can_view_task(row, person)}


def test_an_instance_is_seen_by_the_units_it_names_and_by_the_people_who_worked_on_it(scoped):
    instance, _policy, other, _chosen = scoped
    outsider = make_user(["section_head", "section_staff"], unit="labour_relations")
    unitless = make_user(["section_head"])
    office = make_user(["office_staff"])
    assert instance_views.get_visible_instance(instance.public_id, other) == instance  # employment is related
    assert instance_views.get_visible_instance(instance.public_id, office) == instance  # an overview role
    for person in (outsider, unitless):
        with pytest.raises(NotFound):
            instance_views.get_visible_instance(instance.public_id, person)
        assert instance not in instance_views.list_instances(person)
    assert {row.unit_code for row in db.session.scalars(select(InstanceUnit).where(
        InstanceUnit.instance_id == instance.id))} == {"policy", "employment"}
    # A unit once named stays: the data naming another lead unit adds it, and removes nothing.
    visibility.record_units(db.session, instance, instance.data, {"lead_unit": "labour_relations"})
    db.session.flush()
    assert instance_views.get_visible_instance(instance.public_id, outsider) == instance
    assert instance_views.get_visible_instance(instance.public_id, other) == instance


def test_a_reassignment_fits_by_the_same_rule_as_a_claim(db):
    task = HumanTask(name="虚假信息处置", candidate_roles_text="group_leader,section_head", unit_code="policy")
    leader, head = make_user(["group_leader"]), make_user(["section_head"], unit="policy")
    stranger = make_user(["section_head"], unit="employment")
    for person in (leader, head, stranger):
        assert (assignment.holder_problem(db.session, task, person) is None) == visibility.is_candidate(task, person)
    assert "承办单位" in assignment.holder_problem(db.session, task, stranger)
