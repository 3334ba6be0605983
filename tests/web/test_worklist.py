"""The staff worklist over HTTP, as the monitor, the office and section heads walk it: 待办 with mine
first, tabs with counts, filters and search, 已办, claim / return / bulk claim from the list, and a
unit's tasks never shown to or claimed by another unit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import AuditEvent, HumanTask, Notification, ProcessInstance, TaskStatus
from app.operations import deploy, instances, notifications, worklist
from tests.conftest import ROOT
from tests.web.scenario import act_as, open_task, start_incident, submit

TITLE = "某街道社保窗口服务态度问题引发网民关注"
SCOPE = (ROOT / "tests" / "operations" / "data" / "t_scope.bpmn").read_bytes()


def _page(actor, url="/tasks"):
    response = actor.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _rows(page):
    """Task ids of the list's rows, in order."""
    return re.findall(r'<tr[^>]*data-task="([^"]+)"', page)


def _row(page, public_id):
    return re.search(rf'<tr[^>]*data-task="{public_id}".*?</tr>', page, re.DOTALL).group(0)


def _tab_count(page, tab):
    return re.search(rf'data-tab="{tab}"[^>]*>[^<]*<span class="count">\((\d+\+?)\)</span>', page).group(1)


def _flashes(response):
    return re.findall(r'class="flash flash--(\w+)"[^>]*>([^<]*)<', response.get_data(as_text=True))


def _post(actor, data, follow=True):
    return actor.client.post("/tasks/claim", data=data, follow_redirects=follow)


@pytest.fixture
def people(app, user_factory):
    def person(roles, name, unit=None):
        return act_as(app, user_factory(roles, name, unit=unit))

    return {
        "monitor": person(["monitor"], "wl_monitor"),
        "office": person(["office_director", "office_staff"], "wl_office"),
        "office2": person(["office_director"], "wl_office_two"),
        "policy": person(["section_head"], "wl_policy_head", "policy"),
        "employment": person(["section_head"], "wl_employment_head", "employment"),
    }


def _registered(people, title=TITLE):
    """An incident registered by the monitor: its 确认定级 waits for the office."""
    instance = start_incident(people["monitor"])
    response = submit(people["monitor"], instance, "ut_register", title=title)
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    return instance


def test_the_monitor_finds_the_quick_report_in_the_default_view_with_counts(app, db, people, user_factory):
    monitor = people["monitor"]
    instance = start_incident(monitor)
    task = open_task(instance, "ut_register")
    page = _page(monitor)
    assert _rows(page) == [task.public_id]
    row = _row(page, task.public_id)
    assert "登记舆情(快报)" in row and "剩余 30分钟" in row and "未签收" not in row
    # The person who registered holds the quick report: it is theirs, not offered to the other monitors.
    assert [_tab_count(page, tab) for tab in ("todo", "mine", "group", "done")] == ["1", "1", "0", "0"]
    assert task.assignee_id == monitor.user.id
    other = act_as(app, user_factory(["monitor"], "wl_monitor_two"))
    assert _rows(_page(other)) == []
    # The same roles share one kept count statement (decision 133), each person with their own counts.
    assert [_tab_count(_page(other), tab) for tab in ("todo", "mine", "group", "done")] == ["0", "0", "1", "0"]
    assert 'data-testid="todo-count"' not in _page(other)
    assert [_tab_count(_page(monitor), tab) for tab in ("todo", "mine", "group", "done")] == ["1", "1", "0", "0"]
    assert re.search(r'待办任务 <span class="badge" data-testid="todo-count">1</span>', page)
    for label in ("待办", "我的", "组内", "已办", "搜索事件", "办理时限", "今日到期", "已超时"):
        assert label in page
    # The badge is on every page, not only the list.
    assert 'data-testid="todo-count">1<' in _page(monitor, "/inbox")


def test_the_office_claims_returns_and_finds_its_work_in_done(db, people):
    office = people["office"]
    instance = _registered(people)
    task = open_task(instance, "ut_confirm_level")
    page = _page(office)
    row = _row(page, task.public_id)
    assert "确认定级与启动响应" in row and TITLE in row and "未签收" in row and 'name="claim"' in row
    assert _tab_count(page, "group") == "1" and _tab_count(page, "mine") == "0"

    response = _post(office, {"claim": task.public_id, "view": "todo"})
    assert ("success", "已签收 1 项:确认定级与启动响应(" + TITLE + ")") in _flashes(response)
    page = _page(office, "/tasks?view=mine")
    row = _row(page, task.public_id)
    assert office.user.display_name in row and 'name="unclaim"' in row and 'data-testid="mine"' in row
    assert "task_claimed" in db.session.scalars(select(AuditEvent.action).where(AuditEvent.task_id == task.id)).all()

    response = _post(office, {"unclaim": task.public_id, "view": "mine"})
    assert response.request.path == "/tasks" and "view=mine" in response.request.url
    assert ("success", "已将“确认定级与启动响应”退回组内。") in _flashes(response)
    assert _rows(response.get_data(as_text=True)) == []
    assert "未签收" in _row(_page(office, "/tasks?view=group"), task.public_id)

    assert submit(office, instance, "ut_confirm_level").status_code == 302
    page = _page(office, "/tasks?view=done")
    row = _row(page, task.public_id)
    assert "确认定级与启动响应" in row and "2026-11-25 09:00" in row and "查看办理内容" in row
    assert f'href="/tasks/{task.public_id}"' in row
    # the completed task reads as done: when it was done, no countdown of a time left
    done = _page(office, f"/tasks/{task.public_id}")
    assert "办结时间:2026-11-25 09:00" in done and "剩余" not in done.split('class="meta"', 1)[1].split("</p>")[0]
    assert _rows(_page(office, "/tasks?view=done&q=社保窗口")) == [task.public_id]
    assert _rows(_page(office, "/tasks?view=done&q=没有这个事件")) == []
    assert "暂无已办任务。" in _page(people["office2"], "/tasks?view=done")


def test_filters_and_search_narrow_the_list(db, people, monkeypatch):
    office = people["office"]
    first = _registered(people, "第一起:窗口排队")
    second = _registered(people, "第二起:热线无人接听")
    a, b = open_task(first, "ut_confirm_level"), open_task(second, "ut_confirm_level")
    assert set(_rows(_page(office))) >= {a.public_id, b.public_id}
    # The task filter offers the deployed processes' tasks of the person's roles (read with the counts).
    assert re.search(r'<option value="确认定级与启动响应"\s*>', _page(office))
    assert "确认定级与启动响应" not in _page(people["monitor"], "/tasks").split('name="task"')[1].split("</select>")[0]
    assert _rows(_page(office, "/tasks?q=热线")) == [b.public_id]
    assert _rows(_page(office, f"/tasks?q={second.business_key}")) == [b.public_id]
    monkeypatch.setattr(worklist, "MAX_MATCHES", 0)  # more matching incidents than ids worth listing
    assert _rows(_page(office, "/tasks?q=热线")) == [b.public_id]
    monkeypatch.undo()
    assert _rows(_page(office, f"/tasks?incident={first.public_id}")) == [a.public_id]
    assert "仅显示事件:" in _page(office, f"/tasks?incident={first.public_id}")
    assert set(_rows(_page(office, "/tasks?task=确认定级与启动响应"))) == {a.public_id, b.public_id}
    assert _rows(_page(office, "/tasks?task=领导小组确认定级")) == []
    page = _page(office, "/tasks?level=9&due=soon")
    assert page.count("未知的选项。") == 2 and set(_rows(page)) >= {a.public_id, b.public_id}

    db.session.refresh(first)
    assert first.level == 4  # the quick report's proposal; the level filter reads the instance's column
    assert set(_rows(_page(office, "/tasks?level=4"))) >= {a.public_id, b.public_id}
    assert _rows(_page(office, "/tasks?level=1")) == []
    assert "没有符合条件的任务。" in _page(office, "/tasks?q=没有这个事件")


def test_overdue_and_due_today(db, people, fake_clock):
    monitor = people["monitor"]
    report = open_task(start_incident(monitor), "ut_register")  # due 30 minutes after discovery
    assert report.due_at is not None
    assert _rows(_page(monitor, "/tasks?due=overdue")) == []
    assert _rows(_page(monitor, "/tasks?due=today")) == [report.public_id]
    fake_clock.set(report.due_at)
    fake_clock.advance(minutes=1)
    page = _page(monitor, "/tasks?due=overdue")
    assert _rows(page) == [report.public_id]
    assert "row--overdue" in _row(page, report.public_id) and "已超时 1分钟" in _row(page, report.public_id)
    assert _rows(_page(monitor, "/tasks?due=today")) == [report.public_id]
    fake_clock.advance(days=1)
    assert _rows(_page(monitor, "/tasks?due=today")) == []
    assert _rows(_page(monitor, "/tasks?due=overdue")) == [report.public_id]


def test_bulk_claim_is_one_operation_reporting_each_refused_row(db, people):
    office, colleague = people["office"], people["office2"]
    tasks_ = [open_task(_registered(people, f"批量签收第{n}起"), "ut_confirm_level") for n in range(3)]
    assert _post(colleague, {"claim": tasks_[2].public_id}).status_code == 200
    # 政策法规科's task: the office may read it (an overview role) but its roles do not take it.
    foreign = _scoped_task(people)
    chosen = [t.public_id for t in tasks_] + [foreign.public_id, "no-such-task"]
    response = _post(office, {"selected": chosen, "bulk": "1", "view": "todo"}, follow=False)
    # Back to the list as it was: the ticked rows are not mistaken for the task-name filter.
    assert "task=" not in response.headers["Location"]
    response = office.client.get(response.headers["Location"])
    flashes = _flashes(response)
    assert "没有符合条件的任务" not in response.get_data(as_text=True)
    assert ("success", "已签收 2 项:确认定级与启动响应(批量签收第0起)、确认定级与启动响应(批量签收第1起)") in flashes
    assert ("error", "未能签收 确认定级与启动响应(批量签收第2起):该任务已被他人签收或已办理。") in flashes
    assert ("error", "未能签收 本科室办理(政策法规科的事件):您不在该任务的办理角色中。") in flashes
    assert ("error", "未能签收 所选任务:任务不存在或您无权查看。") in flashes and len(flashes) == 4
    db.session.expire_all()
    holders = [db.session.get(HumanTask, t.id).assignee_id for t in tasks_]
    assert holders == [office.user.id, office.user.id, colleague.user.id]
    assert db.session.get(HumanTask, foreign.id).assignee_id is None
    assert ("error", "请先选择要签收的任务。") in _flashes(_post(office, {"bulk": "1"}))


def _scoped_task(people):
    processes, forms = deploy.read_directory(ROOT / "processes", ROOT / "forms")
    deploy.deploy_processes({**processes, "t_scope.bpmn": SCOPE}, forms)
    instance = instances.start_instance("t_scope", people["policy"].user, {
        "lead_unit": "policy", "chosen": people["policy"].user.username, "title": "政策法规科的事件"})
    task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.spec_id == "ut_unit"))
    assert task.unit_code == "policy" and task.status == TaskStatus.OPEN
    return task


def test_another_units_task_never_shows_nor_is_claimed(db, people):
    task = _scoped_task(people)
    own, other = people["policy"], people["employment"]
    page = _page(own)
    assert task.public_id in _rows(page) and "本科室办理" in _row(page, task.public_id)
    for view in ("todo", "mine", "group", "done"):
        page = _page(other, f"/tasks?view={view}")
        assert task.public_id not in page and "政策法规科的事件" not in page
        assert _tab_count(page, view) == "0"
    assert 'data-testid="todo-count"' not in _page(other, "/inbox")
    assert "政策法规科的事件" not in _page(other, f"/tasks?incident={task.instance.public_id}")
    response = _post(other, {"claim": task.public_id})
    assert ("error", "未能签收 所选任务:任务不存在或您无权查看。") in _flashes(response)
    response = _post(other, {"unclaim": task.public_id})
    assert ("error", "任务不存在或您无权查看。") in _flashes(response)
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee_id is None
    _post(own, {"claim": task.public_id})
    assert task.public_id in _rows(_page(own, "/tasks?view=mine"))


def test_the_list_reads_columns_never_the_instance_state(app, db, people):
    _registered(people)
    office = people["office"]
    statements: list[str] = []

    def capture(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        for view in ("todo", "mine", "group", "done"):
            assert _rows(_page(office, f"/tasks?view={view}&q=社保")) is not None
        _page(office, "/tasks?level=4&due=today&task=确认定级与启动响应")
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    listing = [s for s in statements if "FROM human_task" in s]
    assert listing, statements
    assert not [s for s in statements if "state_json" in s]


@pytest.mark.parametrize("url", ["/tasks?view=group", "/tasks?view=group&due=overdue"])
def test_a_worklist_page_counts_every_tab_in_one_statement(app, db, people, url):
    """The session's user, the shown tab's rows (one statement per phase: tasks with a due time, then
    without), the delegations read once, and one statement for every tab's count, the header's badge, the
    unread notices (on a narrowed page too) and the deployed processes (the task filter's names): five in
    all (a count, not a time)."""
    _registered(people)
    office = people["office"]
    _page(office, "/tasks")  # warm this process's caches (specs, the catalogue)
    statements: list[str] = []

    def capture(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            statements.append(" ".join(statement.split())[:100])  # the test's own savepoints left out

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        page = _page(office, url)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert "组内" in page
    counting = [s for s in statements if "count(" in s]
    assert len(counting) == 1, statements
    assert len([s for s in statements if "FROM task_delegation" in s]) == 1, statements
    assert not [s for s in statements if "FROM process_definition" in s and "count(" not in s], statements
    assert len(statements) <= 5, "\n".join(statements)


def test_a_narrowed_page_keeps_the_headers_badge_and_unread_messages(app, db, people):
    """The tabs count what the filter leaves; the header's 待办 badge counts every task, and the unread
    messages are the inbox's (both asked in the tabs' statement)."""
    _registered(people)
    office = people["office"]
    db.session.add(Notification(user_id=office.user.id, kind="test", title="提醒", body="", link="/inbox"))
    db.session.commit()
    unread = notifications.unread_count(office.user)
    assert unread >= 1
    for url in ("/tasks", "/tasks?q=不存在的事件", "/tasks?due=overdue&view=mine"):
        page = _page(office, url)
        assert 'data-testid="todo-count">1<' in page, url
        assert f'data-testid="unread">{unread}<' in page, url
    narrowed = _page(office, "/tasks?q=不存在的事件")
    assert _tab_count(narrowed, "todo") == "0" and _tab_count(narrowed, "group") == "0"
    assert f'data-testid="unread">{unread}<' in _page(office, "/inbox")


def test_the_group_tab_shows_a_task_a_colleague_holds_read_only_with_the_holder(app, db, people, user_factory):
    monitor, other = people["monitor"], act_as(app, user_factory(["monitor"], "wl_monitor_two"))
    quick_report = open_task(start_incident(monitor), "ut_register")  # held by the monitor who registers it
    page = _page(other, "/tasks?view=group")
    assert _tab_count(page, "group") == "1" and _rows(page) == [quick_report.public_id]
    row = _row(page, quick_report.public_id)
    assert f"由 {monitor.user.display_name} 办理中" in row and 'name="selected"' not in row
    office, colleague = people["office"], people["office2"]
    instance = _registered(people)
    task = open_task(instance, "ut_confirm_level")
    _post(office, {"claim": task.public_id, "view": "todo"})
    page = _page(colleague, "/tasks?view=group")
    assert _tab_count(page, "group") == "1" and _rows(page) == [task.public_id]  # the badge counts what is listed
    row = _row(page, task.public_id)
    assert f"由 {office.user.display_name} 办理中" in row and "row--held" in row
    assert 'name="selected"' not in row and 'name="claim"' not in row and "未签收" not in row
    assert "同事已签收的任务仅供查看" in page
    assert task.public_id not in _rows(_page(colleague))  # not offered in 待办, where everything can be taken
    assert _tab_count(_page(colleague), "todo") == "0"
    mine = _row(_page(office, "/tasks?view=mine"), task.public_id)
    assert "办理中" not in mine and 'name="unclaim"' in mine  # the holder's own row keeps its action


def test_a_holders_name_is_escaped_in_the_held_row_in_chinese_and_english(app, db, people, user_factory):
    """The 由 … 办理中 words are worked out with the row (decision 133): the holder's name is text, never
    markup, and the English page has its own words."""
    monitor, other = people["monitor"], act_as(app, user_factory(["monitor"], "wl_monitor_two"))
    quick_report = open_task(start_incident(monitor), "ut_register")
    monitor.user.display_name = "王<b>五</b>&六"
    db.session.commit()
    row = _row(_page(other, "/tasks?view=group"), quick_report.public_id)
    assert "由 王&lt;b&gt;五&lt;/b&gt;&amp;六 办理中" in row and "<b>" not in row
    assert "row--held" in row and 'name="claim"' not in row
    other.client.post("/lang/en", data={"next": "/tasks"})
    row = _row(_page(other, "/tasks?view=group"), quick_report.public_id)
    assert "Being handled by 王&lt;b&gt;五&lt;/b&gt;&amp;六" in row and "<b>" not in row and "办理中" not in row


def test_only_monitors_register_incidents_others_are_pointed_to_the_leads(app, db, people):
    """The quick report's lane registers (decision 117): the button and the menu item are theirs; anyone
    else who reaches the page is told, in Chinese, where their lead goes, and nothing is started."""
    monitor, office = people["monitor"], people["office"]
    assert "登记新舆情(快报)" in _page(monitor, "/tasks")
    page = _page(office, "/tasks")
    assert "登记新舆情(快报)" not in page and "登记舆情</a>" not in page
    before = db.session.scalar(select(func.count()).select_from(ProcessInstance))
    for response in (office.client.get("/incidents/new"), office.post("/incidents/new", {})):
        assert response.status_code == 403
        assert "您发现的线索请在“线索库”登记" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == before


def test_a_proposed_level_is_marked_as_the_systems_suggestion_until_confirmed(app, db, people):
    instance = _registered(people)
    office = people["office"]
    row = _row(_page(office), open_task(instance, "ut_confirm_level").public_id)
    assert 'data-testid="level-suggested">(系统建议,待确认)<' in row
    submit(office, instance, "ut_confirm_level")
    page = _page(office)
    assert 'data-testid="level-suggested"' not in page  # confirmed: the level stands on its own


def test_claim_selected_is_offered_only_when_a_listed_row_can_be_claimed(app, db, people, user_factory):
    monitor, other = people["monitor"], act_as(app, user_factory(["monitor"], "wl_monitor_three"))
    instance = start_incident(monitor)  # the quick report is held by the monitor who registers it
    for page in (_page(monitor), _page(monitor, "/tasks?view=mine"), _page(other, "/tasks?view=group")):
        assert _rows(page) == [open_task(instance, "ut_register").public_id]
        assert "签收所选" not in page and 'name="selected"' not in page and 'data-testid="bulk-claim"' not in page
    _registered(people)
    page = _page(people["office"])
    assert "签收所选" in page and 'name="selected"' in page
