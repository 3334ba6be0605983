"""The worklist's keyset pages over HTTP: every row once, in order (mine first, then by due time,
tasks without a due time last), 已办 newest first, and a forged cursor refused with a message."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import insert, select

from app import clock
from app.extensions import db
from app.models import HumanTask, HumanTaskCandidate, ProcessDefinition, ProcessInstance, TaskStatus
from tests.conftest import login


def _instance() -> int:
    definition = db.session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.process_key == "yq_incident"))
    return db.session.execute(insert(ProcessInstance).values(
        public_id=str(uuid.uuid4()), definition_id=definition, process_key="yq_incident", business_key="YQ-P-1",
        title="分页事件", level=3, status="waiting", state_json="{}", serializer_version="1.5", version=1,
    ).returning(ProcessInstance.id)).scalar_one()


def _tasks(instance_id, count, role="monitor", **values):
    """`count` task rows of `role`; `values` maps a column to a function of the row's index."""
    now = clock.now()
    rows = [{"public_id": str(uuid.uuid4()), "instance_id": instance_id, "task_guid": str(uuid.uuid4()),
             "process_id": "yq_incident", "spec_id": "ut_x", "name": f"分页任务{n}", "context": {},
             "status": TaskStatus.OPEN, "created_at": now, "candidate_roles_text": role,
             **{key: make(n) for key, make in values.items()}} for n in range(count)]
    db.session.execute(insert(HumanTask), rows)
    made = db.session.execute(select(HumanTask.id, HumanTask.public_id, HumanTask.due_at, HumanTask.completed_at)
                              .where(HumanTask.public_id.in_([row["public_id"] for row in rows]))).all()
    db.session.execute(insert(HumanTaskCandidate), [{"task_id": row.id, "role_code": role} for row in made])
    return made


def _walk(client, url):
    """Every row id of every page, following 下一页."""
    seen, pages = [], 0
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += re.findall(r'<tr[^>]*data-task="([^"]+)"', page)
        found = re.search(r'<a href="([^"]+)" data-testid="next-page">', page)
        url = found.group(1).replace("&amp;", "&") if found else None
        pages += 1
    return seen, pages


def test_pages_give_every_open_row_once_mine_first_then_by_due_time(client, user_factory):
    me = user_factory(["monitor"])
    login(client, me)
    instance = _instance()
    now = clock.now()
    due = lambda n: now + timedelta(minutes=(n * 37) % 90 - 20)  # noqa: E731 - overdue and later, with ties
    group = _tasks(instance, 70, due_at=due)
    no_due = _tasks(instance, 12)
    mine = _tasks(instance, 6, assignee_id=lambda _n: me.id, due_at=lambda n: None if n % 3 == 0 else due(n))
    others = _tasks(instance, 5, assignee_id=lambda _n: user_factory(["monitor"]).id, due_at=due)
    _tasks(instance, 4, role="spokesperson", due_at=due)  # not a role of mine

    def in_order(rows):
        timed = sorted((row for row in rows if row.due_at), key=lambda row: (row.due_at, row.id))
        return [row.public_id for row in timed + sorted((row for row in rows if not row.due_at),
                                                        key=lambda row: row.id)]

    seen, pages = _walk(client, "/tasks")
    assert pages == 2 and seen == in_order(mine) + in_order(group + no_due)
    seen, _ = _walk(client, "/tasks?view=group")
    assert seen == in_order(group + no_due + others)
    seen, _ = _walk(client, "/tasks?view=mine")
    assert seen == in_order(mine)
    page = client.get("/tasks").get_data(as_text=True)
    assert re.search(r'data-tab="todo"[^>]*>[^<]*<span class="count">\(88\)', page)
    assert re.search(r'data-tab="group"[^>]*>[^<]*<span class="count">\(87\)', page)


def test_done_pages_newest_first_and_a_forged_cursor_is_refused(client, user_factory):
    me = user_factory(["monitor"])
    login(client, me)
    instance = _instance()
    now = clock.now()
    done = _tasks(instance, 55, status=lambda _n: TaskStatus.COMPLETED, completed_by_id=lambda _n: me.id,
                  completed_at=lambda n: now - timedelta(minutes=n // 2))
    seen, pages = _walk(client, "/tasks?view=done")
    assert pages == 2
    assert seen == [row.public_id for row in sorted(done, key=lambda row: (row.completed_at, row.id), reverse=True)]
    response = client.get("/tasks?view=done&after=bm90IGEgY3Vyc29y")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "分页参数无效,请从第一页重新浏览。" in page
    assert len(re.findall(r'<tr[^>]*data-task="', page)) == 50
