"""The worklist operations: the migration's partial indexes, bulk claims (deduplicated, capped, one
transaction), and filter parsing that reports bad values instead of guessing."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from app.models import AuditEvent, HumanTask
from app.operations import instances, worklist
from app.operations.errors import Invalid
from tests.conftest import make_user
from tests.operations.console import deploy_console, open_task

INDEXES = {"ix_human_task_open_due", "ix_human_task_open_assignee", "ix_human_task_open_unit", "ix_human_task_done_by"}


def test_the_migration_made_partial_indexes_on_open_tasks(db):
    names = {index["name"] for index in inspect(db.session.connection()).get_indexes("human_task")}
    assert names >= INDEXES
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        sql = dict(connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")).all())
    else:
        sql = dict(connection.execute(text("SELECT indexname, indexdef FROM pg_indexes "
                                           "WHERE tablename = 'human_task'")).all())
    for name in INDEXES - {"ix_human_task_done_by"}:
        assert "WHERE" in sql[name] and "open" in sql[name], sql[name]


def test_bulk_claim_takes_each_row_once_and_audits_each(db):
    deploy_console()
    staff = make_user(["office_staff"])
    rows = [instances.start_instance("t_console", staff, {"divisor": 5, "title": f"批量{n}"}) for n in range(2)]
    first, second = (open_task(row, "ut_a") for row in rows)
    report = worklist.claim_tasks([first.public_id, second.public_id, first.public_id], staff)
    assert len(report.claimed) == 2 and report.refused == []
    db.session.expire_all()
    assert {db.session.get(HumanTask, t.id).assignee_id for t in (first, second)} == {staff.id}
    claims = db.session.scalars(select(AuditEvent.task_id).where(AuditEvent.action == "task_claimed")).all()
    assert sorted(claims) == sorted([first.id, second.id])
    again = worklist.claim_tasks([first.public_id], staff)  # already mine: nothing to refuse
    assert len(again.claimed) == 1 and again.refused == []


def test_bulk_claim_needs_a_selection_and_takes_at_most_the_cap(db, monkeypatch):
    staff = make_user(["office_staff"])
    with pytest.raises(Invalid, match="请先选择要签收的任务。"):
        worklist.claim_tasks(["", None], staff)
    monkeypatch.setattr(worklist, "MAX_BULK", 2)
    report = worklist.claim_tasks(["a", "b", "c"], staff)
    assert report.claimed == [] and len(report.refused) == 2


def test_filters_report_unknown_values_and_keep_the_rest():
    f = worklist.parse_filter({"view": "nonsense", "level": "5", "due": "tomorrow", "q": "  热线  ", "task": "x" * 300})
    assert f.tab == "todo" and f.level is None and f.due is None and f.text == "热线" and len(f.task) == 200
    assert set(f.errors) == {"level", "due"}
    assert f.query_args() == {"view": "todo", "q": "热线", "task": "x" * 200}
    assert worklist.parse_filter({"view": "done", "level": "2", "due": "today"}).narrowed
