"""The instance list's filters, keyset pages, saved filters and CSV; batch operations with a
per-instance report, run by the job runner."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.db import transaction
from app.engine.services import SideEffect
from app.extensions import db
from app.jobs import registry
from app.models import BatchOperation, HumanTask, Incident, InstanceStatus, LedgerEntry, ProcessInstance
from app.operations import batches, instances, interventions, ledger, search, timer_firing
from app.operations.errors import Invalid
from tests.conftest import make_user
from tests.operations.console import deploy_console, open_task


@pytest.fixture
def many(db, fake_clock):
    deploy_console()
    admin = make_user(["admin"])
    starter = make_user(["office_staff"], username="starter_zhang")
    other = make_user(["office_staff"])
    rows = []
    for number in range(7):
        fake_clock.advance(minutes=10)
        who = starter if number % 2 == 0 else other
        rows.append(instances.start_instance("t_console", who, {"divisor": 5, "title": f"实例{number}号"}))
    return admin, starter, rows


def _ids(rows):
    return [row.id for row in rows]


def test_filters_by_text_status_starter_date_and_overdue(many, fake_clock):
    admin, starter, rows = many
    f = search.parse_filter({"text": "实例3"})
    assert _ids(search.list_page(admin, f).rows) == [rows[3].id]
    interventions.act(rows[1].public_id, "suspend", None, admin, "测试")
    f = search.parse_filter({"status": ["suspended"], "process": "t_console"})
    assert _ids(search.list_page(admin, f).rows) == [rows[1].id]
    f = search.parse_filter({"started_by": starter.username})
    assert set(_ids(search.list_page(admin, f).rows)) == {rows[0].id, rows[2].id, rows[4].id, rows[6].id}
    today = clock.local(clock.now()).date().isoformat()
    assert search.list_page(admin, search.parse_filter({"from": today, "to": today})).total == 7
    assert search.list_page(admin, search.parse_filter({"to": "2020-01-01"})).total == 0
    task = open_task(rows[5], "ut_a")
    interventions.change_task_due(task.public_id, None, admin, "设时限", clock.now() + timedelta(minutes=5))
    assert search.list_page(admin, search.parse_filter({"overdue": "1"})).total == 0
    fake_clock.advance(minutes=6)
    assert _ids(search.list_page(admin, search.parse_filter({"overdue": "1"})).rows) == [rows[5].id]
    assert search.list_page(admin, search.parse_filter({"version": "1", "process": "t_console"})).total == 7
    assert search.list_page(admin, search.parse_filter({"version": "2", "process": "t_console"})).total == 0


def test_bad_filter_values_are_reported_not_guessed():
    f = search.parse_filter({"level": "9", "from": "yesterday", "status": ["bogus"], "sort": "title"})
    assert set(f.errors) == {"level", "from", "status", "sort"}
    assert f.level is None and f.started_from is None and f.statuses == () and f.sort == "-started"


def test_keyset_pages_cover_everything_once_in_both_orders(many):
    admin, _starter, rows = many
    for sort, expected in (("-started", _ids(rows)[::-1]), ("started", _ids(rows))):
        f = search.parse_filter({"sort": sort, "process": "t_console"})
        seen, cursor = [], None
        while True:
            page = search.list_page(admin, f, cursor, per_page=3)
            seen.extend(_ids(page.rows))
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == expected
    with pytest.raises(Invalid):
        search.list_page(admin, search.parse_filter({}), "not-a-cursor")


def test_people_see_only_their_instances(many):
    _admin, starter, rows = many
    seen = set(_ids(search.list_page(starter, search.parse_filter({})).rows))
    # office_staff is the lane of every open task, so the starter sees all of them; a stranger sees none.
    assert seen == set(_ids(rows))
    stranger = make_user(["monitor"])
    assert search.list_page(stranger, search.parse_filter({})).rows == []


def test_saved_filters_are_per_user(many):
    admin, starter, _rows = many
    search.save_filter(admin, "我的挂起", search.parse_filter({"status": ["suspended"]}))
    search.save_filter(admin, "我的挂起", search.parse_filter({"status": ["error"]}))  # overwritten
    saved = search.saved_filters(admin)
    assert [(s.name, s.query) for s in saved] == [("我的挂起", {"status": ["error"]})]
    assert search.saved_filters(starter) == []
    with pytest.raises(Invalid):
        search.save_filter(admin, " ", search.parse_filter({}))
    search.delete_filter(admin, saved[0].id)
    assert search.saved_filters(admin) == []


def test_csv_export_has_the_filtered_rows_and_neutralises_formulas(many):
    admin, starter, rows = many
    rows[0].title = "=HYPERLINK(\"http://evil\")"
    db.session.flush()
    body = "".join(search.export_rows(admin, search.parse_filter({"started_by": starter.username}), "http://h"))
    assert body.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert table[0][:2] == ["编号", "标题"]
    assert len(table) == 1 + 4
    assert "'=HYPERLINK(\"http://evil\")" in [row[1] for row in table]
    assert all(row[-1].startswith("http://h/instances/") for row in table[1:])


def test_batch_suspend_reports_each_instance(many):
    admin, _starter, rows = many
    interventions.act(rows[2].public_id, "terminate", None, admin, "已终止")
    batch = batches.start_batch(admin, "suspend", "统一暂停", f=search.parse_filter({"process": "t_console"}))
    assert batch.total == 7 and batch.status == "pending"
    registry.run_due("test")
    batch = db.session.scalar(select(BatchOperation).where(BatchOperation.id == batch.id)
                              .execution_options(populate_existing=True))
    assert (batch.status, batch.succeeded, batch.failed, batch.position) == ("done", 6, 1, 7)
    failed = [r for r in batch.results if not r["ok"]]
    assert failed[0]["instance"] == rows[2].public_id and "挂起" in failed[0]["message"]
    statuses = db.session.scalars(select(ProcessInstance.status).where(ProcessInstance.id.in_(_ids(rows)))).all()
    assert sorted(statuses) == sorted([InstanceStatus.SUSPENDED] * 6 + [InstanceStatus.TERMINATED])
    progress = batches.progress(batch)
    assert progress["done"] == progress["total"] == 7


def test_batch_terminate_terminates_the_incidents_with_a_ledger_line(db, fake_clock):
    admin, monitor = make_user(["admin"]), make_user(["monitor"])
    rows = [instances.start_incident(monitor) for _ in range(2)]
    for row in rows:  # the quick report's ledger line opens the incident
        with transaction() as session:
            ledger.record_effect(session, row, SideEffect("ledger", {"kind": "registered"}, "st", "p", "g",
                                                          {"title": "测试舆情"}))
    batch = batches.start_batch(admin, "terminate", "演练数据", selected=[r.public_id for r in rows])
    fake_clock.advance(minutes=5)
    registry.run_due("test")
    db.session.expire_all()
    heads = db.session.scalars(select(Incident).where(Incident.instance_id.in_(_ids(rows)))).all()
    assert [(h.status, h.closed_at) for h in heads] == [("terminated", fake_clock.current)] * 2
    lines = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "terminated")).all()
    assert [(line.actor_id, line.summary) for line in lines] == [
        (admin.id, f"演练数据(批量操作 {batch.public_id[:8]})")] * 2


def test_batch_retry_reports_the_instances_still_in_error_as_failed(db, fake_clock):
    deploy_console()
    admin, staff = make_user(["admin"]), make_user(["office_staff"])
    fixed, broken = (instances.start_instance("t_console", staff, {"divisor": 0}) for _ in range(2))
    fake_clock.advance(hours=3)
    timer_firing.fire_due_timers()
    interventions.edit_data(fixed.public_id, None, admin, "更正", {"divisor": 2}, [])
    batch = batches.start_batch(admin, "retry", "统一重试", selected=[fixed.public_id, broken.public_id])
    registry.run_due("test")
    db.session.expire_all()
    batch = db.session.get(BatchOperation, batch.id)
    assert (batch.succeeded, batch.failed) == (1, 1)
    assert [(r["instance"], r["ok"], r["message"]) for r in batch.results] == [
        (fixed.public_id, True, "已重试,流程已恢复运行,等待下一步办理。"),
        (broken.public_id, False, "已重试,但流程仍然出错(环节 sc_divide):EvaluationError:division by zero.")]


def test_batch_reassign_moves_open_tasks_and_refuses_bad_input(many):
    admin, _starter, rows = many
    target = make_user(["office_staff"], username="staff_li")
    with pytest.raises(Invalid):
        batches.start_batch(admin, "reassign", "转办", selected=[rows[0].public_id], params={"username": "nobody"})
    with pytest.raises(Invalid):
        batches.start_batch(admin, "reassign", "", selected=[rows[0].public_id], params={"username": target.username})
    with pytest.raises(Invalid):
        batches.start_batch(admin, "suspend", "空", selected=[])
    batch = batches.start_batch(admin, "reassign", "集中转办", selected=[r.public_id for r in rows[:3]],
                                params={"username": target.username, "element": "ut_a"})
    registry.run_due("test")
    db.session.expire_all()
    assert db.session.get(BatchOperation, batch.id).succeeded == 3
    assigned = db.session.scalars(select(HumanTask.instance_id).where(HumanTask.assignee_id == target.id)).all()
    assert sorted(assigned) == sorted(_ids(rows[:3]))


def test_batch_reassign_to_a_person_outside_the_tasks_roles_needs_a_confirmation(many):
    admin, _starter, rows = many
    director = make_user(["office_director"], display_name="李主任")
    chosen = [r.public_id for r in rows[:3]]
    with pytest.raises(Invalid) as refused:
        batches.start_batch(admin, "reassign", "集中转办", selected=chosen, params={"username": director.username})
    assert refused.value.message == ("李主任不在“核查情况”的办理角色(办公室工作人员)中。"
                                     "确需转办,请勾选“仍然转办”后再提交。")  # three tasks, one problem
    assert db.session.scalar(select(BatchOperation.id)) is None
    batch = batches.start_batch(admin, "reassign", "集中转办", selected=chosen,
                                params={"username": director.username, "confirmed": True})
    registry.run_due("test")
    db.session.expire_all()
    assert db.session.get(BatchOperation, batch.id).succeeded == 3


def test_a_batch_resumes_after_a_crash_without_doing_an_instance_twice(many):
    admin, _starter, rows = many
    batch = batches.start_batch(admin, "suspend", "分两次", selected=[r.public_id for r in rows])
    batches._process_one(batch.id, 0)  # a worker did the first instance, then died
    batches._process_one(batch.id, 0)  # a second runner with the same stale position does nothing
    db.session.expire_all()
    assert db.session.get(BatchOperation, batch.id).position == 1
    registry.run_due("test")  # the job (still pending) runs and finishes the rest
    db.session.expire_all()
    done = db.session.get(BatchOperation, batch.id)
    assert (done.status, done.succeeded, done.failed) == ("done", 7, 0)
