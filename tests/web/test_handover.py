"""Handing work on, as staff: 转办 to a colleague who fits the task, 委托 while away, 催办 from the office."""

from __future__ import annotations

import re
from datetime import timedelta

import lxml.html
from sqlalchemy import select

from app import clock
from app.jobs import registry
from app.models import AuditEvent, HumanTask, LedgerEntry
from tests.web.scenario import act_as, in_english, open_tasks, start_incident, submit


def _office_task(app, user_factory):
    """A registered incident; the office's open task of it."""
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    assert submit(monitor, instance, "ut_register").status_code == 302
    return next(t for t in open_tasks(instance) if "office_director" in t.candidate_roles)


def _work():
    registry.run_due("test-worker", limit=100)


def _local(moment):
    return clock.local(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_task_is_passed_to_a_colleague_with_a_reason_who_is_told(app, db, user_factory, fake_clock):
    task = _office_task(app, user_factory)
    mine = act_as(app, user_factory(["office_director"], display_name="王主任"))
    colleague = act_as(app, user_factory(["office_director"], display_name="李主任"))
    page = mine.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "转办给同事" in page and f'<option value="{colleague.user.username}">李主任' in page
    refused = mine.post(f"/tasks/{task.public_id}", {"_action": "pass", "pass_to": colleague.user.username,
                                                      "pass_reason": ""})
    assert refused.status_code == 422 and "请填写转办理由" in refused.get_data(as_text=True)
    response = mine.post(f"/tasks/{task.public_id}", {"_action": "pass", "pass_to": colleague.user.username,
                                                       "pass_reason": "我在外开会,请李主任处理。"})
    assert response.status_code == 302
    assert f"已将“{task.name}”转办给李主任。" in mine.get("/tasks").get_data(as_text=True)
    db.session.refresh(task)
    assert task.assignee_id == colleague.user.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.task_id == task.id,
                                                       AuditEvent.action == "task_passed"))
    assert event.actor_id == mine.user.id and event.detail["reason"] == "我在外开会,请李主任处理。"
    _work()
    inbox = colleague.get("/inbox").get_data(as_text=True)
    assert "【转办】" + task.name in inbox and "王主任将任务" in inbox and "我在外开会" in inbox
    assert f'value="/tasks/{task.public_id}"' in inbox


def test_a_task_is_not_passed_to_someone_without_the_lanes_role(app, db, user_factory, fake_clock):
    task = _office_task(app, user_factory)
    mine = act_as(app, user_factory(["office_director"]))
    outsider = user_factory(["monitor"], display_name="赵监控")
    page = mine.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert f'value="{outsider.username}"' not in page  # not offered
    response = mine.post(f"/tasks/{task.public_id}", {"_action": "pass", "pass_to": outsider.username,
                                                       "pass_reason": "请代办"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "赵监控不在“" in text and "的办理角色" in text and "不能转办给该同事" in text
    db.session.refresh(task)
    assert task.assignee_id is None


def test_a_delegate_sees_and_works_my_tasks_on_my_behalf_and_cannot_delegate_back(app, db, user_factory,
                                                                                  fake_clock):
    task = _office_task(app, user_factory)
    away = act_as(app, user_factory(["office_director"], display_name="王主任"))
    delegate = act_as(app, user_factory(["office_director"], display_name="李主任"))
    assert away.post(f"/tasks/{task.public_id}", {"_action": "claim"}).status_code == 302
    assert "已由王主任签收" in delegate.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    now = clock.now()
    page = away.get("/account/delegation").get_data(as_text=True)
    assert "委托代办" in page and 'name="starts_at"' in page
    response = away.post("/account/delegation", {"delegate": delegate.user.username, "starts_at": _local(now),
                                                 "ends_at": _local(now + timedelta(days=3)), "reason": "出差"})
    assert response.status_code == 302
    page = delegate.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "您正受王主任委托代为办理此任务" in page and 'value="complete"' in page
    # no loops: the delegate cannot hand their own tasks back (or on) while standing in
    loop = delegate.post("/account/delegation", {"delegate": away.user.username, "starts_at": _local(now),
                                                 "ends_at": _local(now + timedelta(days=1)), "reason": ""})
    assert loop.status_code == 422 and "不能再委托他人(委托不能连环或循环)" in loop.get_data(as_text=True)
    chain = user_factory(["office_director"])
    third = act_as(app, chain)
    onward = third.post("/account/delegation", {"delegate": away.user.username, "starts_at": _local(now),
                                                "ends_at": _local(now + timedelta(days=1)), "reason": ""})
    assert onward.status_code == 422 and "不能再转委托" in onward.get_data(as_text=True)
    # the delegate passes it on for the holder: the audit says on whose behalf
    colleague = user_factory(["office_director"])
    assert delegate.post(f"/tasks/{task.public_id}", {"_action": "pass", "pass_to": colleague.username,
                                                       "pass_reason": "转给值班同事"}).status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.task_id == task.id,
                                                       AuditEvent.action == "task_passed"))
    assert event.actor_id == delegate.user.id and event.detail["on_behalf_of"] == "王主任"


def test_a_delegate_completes_a_task_and_the_record_names_the_holder(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"], display_name="张监控"))
    instance = start_incident(monitor)
    register = next(t for t in open_tasks(instance) if t.spec_id == "ut_register")
    helper = act_as(app, user_factory(["monitor"], display_name="钱监控"))
    now = clock.now()
    monitor.post("/account/delegation", {"delegate": helper.user.username, "starts_at": _local(now),
                                         "ends_at": _local(now + timedelta(hours=8)), "reason": "夜班交接"})
    if register.assignee_id != monitor.user.id:
        monitor.post(f"/tasks/{register.public_id}", {"_action": "claim"})
    assert register.public_id in helper.get("/tasks").get_data(as_text=True)
    assert submit(helper, instance, "ut_register").status_code == 302
    row = db.session.get(HumanTask, register.id)
    db.session.refresh(row)
    assert row.status == "completed" and row.completed_by_id == helper.user.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.task_id == register.id,
                                                       AuditEvent.action == "task_completed"))
    assert event.detail["on_behalf_of"] == "张监控"
    admin = act_as(app, user_factory(["admin"]))
    assert "代张监控办理" in admin.get(f"/instances/{instance.public_id}").get_data(as_text=True)
    # the ledger, which the incident page and the case file read, says it too
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.task_id == register.id))
    assert entry.summary.endswith("(代张监控办理)") and entry.data["on_behalf_of"] == "张监控"
    assert "代张监控办理" in admin.get(f"/incidents/{instance.business_key}").get_data(as_text=True)


def test_the_office_urges_the_holders_once_per_half_hour(app, db, user_factory, fake_clock):
    task = _office_task(app, user_factory)
    holder = act_as(app, user_factory(["office_director"], display_name="王主任"))
    holder.post(f"/tasks/{task.public_id}", {"_action": "claim"})
    office = act_as(app, user_factory(["office_staff"], display_name="办公室小刘"))
    page = office.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "当前办理人:王主任" in page
    response = office.post(f"/tasks/{task.public_id}", {"_action": "urge", "urge_note": "请于十分钟内定级。"})
    assert response.status_code == 302
    assert "已催办,1人收到通知" in office.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert office.post(f"/tasks/{task.public_id}", {"_action": "urge", "urge_note": ""}).status_code == 302
    text = office.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "30 分钟内不重复催办" in text and "后再催办" in text
    _work()
    inbox = holder.get("/inbox").get_data(as_text=True)
    assert inbox.count("【催办】" + task.name) == 1
    assert "办公室小刘催办事件" in inbox and "请于十分钟内定级" in inbox
    fake_clock.advance(minutes=31)
    assert office.post(f"/tasks/{task.public_id}", {"_action": "urge"}).status_code == 302
    # people outside the office are not offered 催办, and are refused if they post it
    leader = act_as(app, user_factory(["group_leader"]))  # sees every task, but is not the office
    assert 'value="urge"' not in leader.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert leader.post(f"/tasks/{task.public_id}", {"_action": "urge"}).status_code == 403


def test_while_i_am_away_my_delegate_is_told_of_tasks_passed_to_me(app, db, user_factory, fake_clock):
    task = _office_task(app, user_factory)
    away = act_as(app, user_factory(["office_director"], display_name="王主任"))
    delegate = act_as(app, user_factory(["office_director"], display_name="李主任"))
    sender = act_as(app, user_factory(["office_director"], display_name="赵主任"))
    assert 'href="/account/delegation"' in away.get("/tasks").get_data(as_text=True)  # from every page's header
    now = clock.now()
    away.post("/account/delegation", {"delegate": delegate.user.username, "starts_at": _local(now),
                                      "ends_at": _local(now + timedelta(days=2)), "reason": "休假"})
    page = delegate.get("/account/delegation").get_data(as_text=True)
    assert "王主任" in page and "休假" in page  # the delegate sees whom they stand in for
    sender.post(f"/tasks/{task.public_id}", {"_action": "pass", "pass_to": away.user.username,
                                              "pass_reason": "请王主任定级"})
    _work()
    assert "【转办】" + task.name in delegate.get("/inbox").get_data(as_text=True)
    # ended early: the delegate no longer sees or works the task
    mine = away.get("/account/delegation").get_data(as_text=True)
    assert 'value="end"' not in page and 'value="end"' in mine  # only the one who delegated ends it
    row = mine[mine.index('name="id" value="'):]
    ident = row[len('name="id" value="'):].split('"')[0]
    assert away.post("/account/delegation", {"_action": "end", "id": ident}).status_code == 302
    assert delegate.get(f"/tasks/{task.public_id}").status_code in (200, 404)
    assert "您正受王主任委托" not in delegate.get(f"/tasks/{task.public_id}").get_data(as_text=True)


def test_the_delegate_finds_the_away_persons_claimed_task_in_their_worklist_while_the_delegation_runs(
        app, db, user_factory, fake_clock):
    task = _office_task(app, user_factory)
    away = act_as(app, user_factory(["office_director"], display_name="王主任"))
    delegate = act_as(app, user_factory(["office_director"], display_name="李主任"))
    assert away.post(f"/tasks/{task.public_id}", {"_action": "claim"}).status_code == 302
    link = f'href="/tasks/{task.public_id}"'
    assert link not in delegate.get("/tasks").get_data(as_text=True)  # someone else's, not the group's now
    now = clock.now()
    assert away.post("/account/delegation", {"delegate": delegate.user.username, "starts_at": _local(now),
                                             "ends_at": _local(now + timedelta(hours=8)),
                                             "reason": "出差"}).status_code == 302
    for view in ("todo", "mine"):
        page = delegate.get(f"/tasks?view={view}").get_data(as_text=True)
        assert link in page and "王主任" in page, view
        assert re.search(rf'data-tab="{view}"[^>]*>[^<]*<span class="count">\(1\)', page), view
    fake_clock.advance(hours=9)  # the delegation is over: the task is the holder's alone again
    assert link not in delegate.get("/tasks").get_data(as_text=True)
    assert link in away.get("/tasks").get_data(as_text=True)


def test_a_section_head_delegates_only_within_their_unit(app, db, user_factory, fake_clock):
    """Another unit's section head shares the role but not the unit: as a delegate they would read my
    unit's incidents, so they are neither offered nor accepted (the walk found this open)."""
    away = act_as(app, user_factory(["section_head"], display_name="孙科长", unit="employment"))
    same = user_factory(["section_head"], display_name="周科长", unit="employment")
    other = user_factory(["section_head"], display_name="吴科长", unit="social_insurance")
    page = away.get("/account/delegation").get_data(as_text=True)
    assert f'value="{same.username}"' in page and f'value="{other.username}"' not in page
    now = clock.now()
    refused = away.post("/account/delegation", {"delegate": other.username, "starts_at": _local(now),
                                                "ends_at": _local(now + timedelta(days=2)), "reason": "休假"})
    assert refused.status_code == 422
    assert "吴科长与您不在同一科室,不能代办您本科室的任务。" in refused.get_data(as_text=True)
    accepted = away.post("/account/delegation", {"delegate": same.username, "starts_at": _local(now),
                                                 "ends_at": _local(now + timedelta(days=2)), "reason": "休假"})
    assert accepted.status_code == 302
    # somebody whom nobody can stand in for is told why the list is empty
    alone = act_as(app, user_factory(["section_head"], display_name="郑科长", unit="policy"))
    page = alone.get("/account/delegation").get_data(as_text=True)
    assert 'data-testid="no-delegates"' in page and "暂无可委托的人" in page


def _task_form_with_pass(page: str, typed: dict[str, str], pass_to: str, reason: str) -> dict[str, list[str]]:
    """What a browser sends when 转办 is pressed: every control of the task's form (#taskform), the pass
    fields included by their form attribute, with what the user typed."""
    tree = lxml.html.fromstring(page)
    controls = tree.xpath('//form[@id="taskform"]//*[self::input or self::select or self::textarea][not(@form)]'
                          ' | //*[@form="taskform"][self::input or self::select or self::textarea or self::button]')
    data: dict[str, list[str]] = {}
    for control in controls:
        name, kind = control.get("name"), control.get("type")
        if not name or control.tag == "button" or kind == "file":
            continue
        if kind in ("checkbox", "radio"):
            if control.get("checked") is not None:
                data.setdefault(name, []).append(control.get("value", "on"))
            continue
        if control.tag == "select" and control.get("multiple") is not None:
            data.setdefault(name, []).extend(control.value)
            continue
        data.setdefault(name, []).append(control.value or "")
    button = tree.xpath('//button[@form="taskform"][@name="_action"][@value="pass"]')
    assert button, "the 转办 button submits the task's form"
    return {**data, **{name: [value] for name, value in typed.items()},
            "pass_to": [pass_to], "pass_reason": [reason], "_action": ["pass"]}


def test_what_was_typed_goes_with_a_passed_task_as_its_draft(app, db, user_factory, fake_clock):
    task = _office_task(app, user_factory)
    mine = act_as(app, user_factory(["office_director"], display_name="王主任"))
    colleague = act_as(app, user_factory(["office_director"], display_name="李主任"))
    page = mine.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "转办时,上方表单中已填写的内容随任务一并保存为草稿" in page
    typed = {"instructions": "请社保科今晚核实窗口排队情况。"}
    # Refused (no reason): nothing moves, and the page keeps both what was typed and the pass fields.
    refused = mine.post(f"/tasks/{task.public_id}", _task_form_with_pass(page, typed, colleague.user.username, ""))
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "请填写转办理由" in text
    assert "请社保科今晚核实窗口排队情况。</textarea>" in text
    assert f'<option value="{colleague.user.username}" selected' in text
    db.session.refresh(task)
    assert task.assignee_id is None and not task.draft

    sent = mine.post(f"/tasks/{task.public_id}",
                     _task_form_with_pass(text, typed, colleague.user.username, "我在外开会,请李主任处理。"))
    assert sent.status_code == 302
    received = colleague.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "请社保科今晚核实窗口排队情况。</textarea>" in received  # the colleague goes on from it
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.task_id == task.id)
                                 .order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["task_draft_saved", "task_passed"]


def _draft_saved(app, user_factory):
    """An office task whose holder saved a draft, and a colleague of the same role."""
    task = _office_task(app, user_factory)
    mine = act_as(app, user_factory(["office_director"]))
    colleague = act_as(app, user_factory(["office_director"]))
    page = mine.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    saved = {**_task_form_with_pass(page, {"instructions": "先核实再定级。"}, "", ""), "_action": ["draft"]}
    assert mine.post(f"/tasks/{task.public_id}", saved).status_code == 302
    return task, mine, colleague


def test_a_pass_after_saving_the_draft_keeps_it_without_a_second_line(app, db, user_factory, fake_clock):
    task, mine, colleague = _draft_saved(app, user_factory)
    page = mine.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "先核实再定级。</textarea>" in page
    assert mine.post(f"/tasks/{task.public_id}",
                     _task_form_with_pass(page, {}, colleague.user.username, "请代办")).status_code == 302
    assert "先核实再定级。</textarea>" in colleague.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    drafts = db.session.scalars(select(AuditEvent).where(AuditEvent.task_id == task.id,
                                                         AuditEvent.action == "task_draft_saved")).all()
    assert len(drafts) == 1


def test_a_pass_without_the_form_leaves_the_draft_as_it_was(app, db, user_factory, fake_clock):
    task, mine, colleague = _draft_saved(app, user_factory)
    assert mine.post(f"/tasks/{task.public_id}", {"_action": "pass", "pass_to": colleague.user.username,
                                                  "pass_reason": "请代办"}).status_code == 302
    assert "先核实再定级。</textarea>" in colleague.get(f"/tasks/{task.public_id}").get_data(as_text=True)


def test_on_an_english_page_staff_pass_a_task_on_and_only_admins_reassign(app, db, user_factory, fake_clock):
    task = _office_task(app, user_factory)
    office = in_english(act_as(app, user_factory(["office_director"])))
    page = office.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    tree = lxml.html.fromstring(page)
    button = tree.xpath('//button[@form="taskform"][@name="_action"][@value="pass"]')[0]
    assert button.text_content().strip() == "Pass on" and "Pass on to a colleague" in page
    assert "Reassign" not in page  # the administrators' word, for their console
