"""Version migration through the operations: preview by element id, move as a batch, undo while
nothing happened, and instances that wait in a removed element stay where they are."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs import registry
from app.models import AuditEvent, HumanTask, InstanceMigration, ProcessInstance
from app.operations import batches, instances, interventions, migrations, tasks
from app.operations.errors import Conflict, Invalid
from tests.conftest import make_user
from tests.operations.console import DONE, console_v2, console_without_b, deploy_console, open_task


def _fresh(instance):
    db.session.expire_all()
    return db.session.get(ProcessInstance, instance.id)


@pytest.fixture
def two_versions(db):
    deploy_console()
    admin = make_user(["admin"])
    staff = make_user(["office_staff"])
    waiting_a = instances.start_instance("t_console", staff, {"divisor": 5, "title": "在核查"})
    waiting_b = instances.start_instance("t_console", staff, {"divisor": 5, "title": "在复核", "review": "yes"})
    tasks.complete_task(open_task(waiting_b, "ut_a").public_id, DONE, staff)
    assert open_task(waiting_b, "ut_b") is not None
    return admin, staff, waiting_a, waiting_b


def test_preview_maps_waiting_tasks_by_id_and_lists_what_cannot_move(two_versions):
    admin, _staff, waiting_a, waiting_b = two_versions
    v1 = migrations.definition("t_console", 1)
    deploy_console({"t_console.bpmn": console_without_b()})
    v2 = migrations.definition("t_console", 2)
    previews, total = migrations.preview(v1, v2)
    assert total == 2
    by_id = {p.instance.id: p.plan for p in previews}
    plan_a, plan_b = by_id[waiting_a.id], by_id[waiting_b.id]
    assert plan_a.movable
    assert {(t.element_id, t.target_id) for t in plan_a.tasks} >= {("ut_a", "ut_a"), ("wait_2h", "wait_2h")}
    assert not plan_b.movable
    assert any("ut_b" in blocker for blocker in plan_b.blockers)
    with pytest.raises(Invalid, match="ut_b"):  # moving it anyway is refused, and nothing changes
        migrations.migrate_instance(waiting_b.public_id, None, v2.id, admin, "试一下")
    assert _fresh(waiting_b).definition_id == v1.id


def test_a_batch_moves_the_selection_and_the_instance_runs_on_the_new_diagram(two_versions):
    admin, staff, waiting_a, _waiting_b = two_versions
    deploy_console({"t_console.bpmn": console_v2()})
    v2 = migrations.definition("t_console", 2)
    task_before = open_task(waiting_a, "ut_a")
    batch = batches.start_batch(admin, "migrate", "预案修订,增加登记环节", selected=[waiting_a.public_id],
                                params={"to_definition_id": v2.id})
    registry.run_due("test")
    batch = batches.get_batch(batch.public_id)
    db.session.refresh(batch)
    assert (batch.status, batch.succeeded, batch.failed) == ("done", 1, 0)
    instance = _fresh(waiting_a)
    assert instance.definition_id == v2.id
    task = open_task(instance, "ut_a")
    assert task.id == task_before.id and task.name == "核查情况(新版)"  # same row, new version's name
    tasks.complete_task(task.public_id, DONE, staff)
    assert open_task(instance, "ut_c") is not None  # the new element is on the path now
    record = db.session.scalar(select(InstanceMigration).where(InstanceMigration.instance_id == instance.id))
    assert record.batch_id == batch.id and record.mapping
    with pytest.raises(Conflict, match="新的进展"):  # a task was completed after the move
        migrations.revert(record.id, admin, "撤销")


def test_a_migration_can_be_undone_while_nothing_happened(two_versions):
    admin, staff, waiting_a, _waiting_b = two_versions
    deploy_console({"t_console.bpmn": console_v2()})
    v1, v2 = migrations.definition("t_console", 1), migrations.definition("t_console", 2)
    record = migrations.migrate_instance(waiting_a.public_id, waiting_a.version, v2.id, admin, "试迁移")
    assert migrations.revertible(_fresh(waiting_a)).id == record.id
    migrations.revert(record.id, admin, "迁移后发现问题")
    instance = _fresh(waiting_a)
    assert instance.definition_id == v1.id
    assert open_task(instance, "ut_a").name == "核查情况"
    tasks.complete_task(open_task(instance, "ut_a").public_id, DONE, staff)
    assert open_task(instance, "ut_c") is None  # back on v1's path
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == instance.id)).all()
    assert "instance_migrated" in actions and "migration_reverted" in actions


def test_a_stale_page_cannot_migrate(two_versions):
    admin, staff, waiting_a, _waiting_b = two_versions
    deploy_console({"t_console.bpmn": console_v2()})
    v2 = migrations.definition("t_console", 2)
    seen = waiting_a.version
    tasks.claim_task(open_task(waiting_a, "ut_a").public_id, staff)
    interventions.reassign_task(open_task(waiting_a, "ut_a").public_id, None, admin, "转办", username=admin.username,
                                confirmed=True)
    with pytest.raises(Conflict):
        migrations.migrate_instance(waiting_a.public_id, seen, v2.id, admin, "迁移")
    assert db.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == waiting_a.id)) is not None
    assert _fresh(waiting_a).definition_id != v2.id
