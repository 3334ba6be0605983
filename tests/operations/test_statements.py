"""How many SQL statements one completion on the real level-4 path sends (a count, not a time).

Issue 13 aims at 10 or fewer; this test holds the number reached so that a change adding statements
to the completion path fails here and says which ones it sent.
"""

from __future__ import annotations

from sqlalchemy import event

from app.extensions import db as _db
from tests.conftest import login
from tests.processes.levels import at_level

# Not yet the target of 10 (issue 13). The 18 of today: the session's user and roles (Flask-Login, 2);
# the page's read of the task (1); task and instance locked and read with the profile's stamp (1);
# the completion's compare-and-set (1); the incident and its ledger line (2); the audit event (1); the
# instance's new state (1); the open-task sync (1); the new task, its audit event and candidates (3);
# the staffing check (1); the `task_landed` job that tells the people the new task lands on (1,
# decision 80); after the commit, the redirect's reads of the tasks and the user's roles (3).
MAX_STATEMENTS = 18


def _count(client, url, data) -> tuple[int, list[str]]:
    sent: list[str] = []

    def listen(_conn, _cursor, statement, _params, _context, _many):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            sent.append(" ".join(statement.split())[:120])

    bind = _db.session.get_bind()
    event.listen(bind, "before_cursor_execute", listen)
    try:
        response = client.post(url, data=data)
    finally:
        event.remove(bind, "before_cursor_execute", listen)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return len(sent), sent


def test_a_completion_on_the_level_four_path_sends_few_statements(app, db):
    flow = at_level(4)
    client = app.test_client()
    login(client, flow.user)
    client.get("/tasks")  # the first request warms this process's caches (specs, forms, the profile)
    task = flow.task("ut_request_instruction")
    count, sent = _count(client, f"/tasks/{task.public_id}",
                         {"request_text": "请示", "proposed_measures": "措施", "_action": "complete"})
    assert flow.open() == ["ut_instruction_decision"]  # it did complete and advance
    assert count <= MAX_STATEMENTS, "\n".join(sent)
    task = flow.task("ut_instruction_decision")
    count, sent = _count(client, f"/tasks/{task.public_id}",
                         {"decision": "approve", "leader_comment": "同意", "_action": "complete"})
    assert "ut_investigate" in flow.open()
    assert count <= MAX_STATEMENTS + 4, "\n".join(sent)  # opens two: row, audit, candidates, staffing each
