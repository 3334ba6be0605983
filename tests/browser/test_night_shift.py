"""A night shift in Chromium (issue 12, "Done when"): the monitor registers an incident on the page, the
office is told and confirms the level from a phone, a task is passed on (转办) to a colleague who is told,
the leader approves from the notice link, a section head who goes off duty sets a delegate (委托) who
then sees and completes the task, and a comment mentions the spokesperson, who is told and led to it.
(A comment tells only people who may see the incident: the spokesperson may once the approved release
hands them its publishing task — steps done off screen with typed answers.)

Everyone but the office (always on a 390 px phone) works at the parametrized width. Each page is read
as a person reads it — Chinese labels, no codes, no English — and kept as build/artifacts/nightshift-*.png;
at 390 px no page scrolls sideways. The worker's jobs are run the way the web tests run them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs import registry
from app.models import HumanTask, TaskStatus, User
from app.operations import tasks
from tests.browser.conftest import PATIENCE_MS, log_in, screenshot
from tests.browser.test_staff_phone import DESK, NO_SCROLL, PHONE
from tests.conftest import make_user
from tests.e2e import checks
from tests.e2e.browser import Page
from tests.processes.answers import CONSULT, DRAFT

TITLE = "某街道社保窗口夜间停办业务引发网民关注"
LINK = "https://weibo.com/1234567/NightShift"
PEOPLE = {  # username: (roles, display name, unit)
    "ns_monitor": (["monitor"], "张监测", None),
    "ns_office": (["office_director", "office_staff"], "王主任", None),
    "ns_clerk": (["office_staff"], "赵干事", None),
    "ns_leader": (["group_leader"], "李组长", None),
    "ns_section": (["section_head"], "孙科长", "social_insurance"),
    "ns_deputy": (["section_head"], "周科长", "social_insurance"),
    "ns_spokes": (["spokesperson"], "陈发言人", None),
}


@pytest.fixture
def shift(live, browser):
    """Everyone on duty; `shift.tab(username, viewport)` is that person logged in on their own screen."""
    with live.app.app_context():
        for username, (roles, name, unit) in PEOPLE.items():
            make_user(roles, username=username, display_name=name, unit=unit)
    night = Shift(live, browser)
    yield night
    night.close()


class Shift:
    def __init__(self, live, browser):
        self.live, self.browser = live, browser
        self.contexts: list[tuple[object, list[str]]] = []
        self.data = checks.DataSeen()
        self.data.add([*PEOPLE, TITLE, LINK])

    def tab(self, username: str, viewport: dict[str, int]) -> object:
        context = self.browser.new_context(locale="zh-CN", viewport=viewport)
        tab = context.new_page()
        tab.set_default_timeout(PATIENCE_MS)
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        self.contexts.append((context, errors))
        log_in(tab, self.live, username)
        return tab

    def work(self) -> None:
        """The worker's round: the jobs due now (task notices are written by `task_landed` jobs)."""
        with self.live.app.app_context():
            registry.run_due("test-worker", limit=100)

    def complete(self, spec_id: str, answers: dict, username: str) -> None:
        """A step of the shift nobody watches: the open task `spec_id` done by `username`, with typed answers."""
        with self.live.app.app_context():
            task = db.session.scalar(select(HumanTask).where(HumanTask.spec_id == spec_id,
                                                             HumanTask.status == TaskStatus.OPEN))
            tasks.complete_task(task.public_id, answers, db.session.scalar(select(User).where(
                User.username == username)))
            db.session.remove()

    def look(self, tab: object, name: str, *says: str) -> str:
        """The page says `says`, in Chinese labels only; kept as a screenshot; no sideways scroll on a phone."""
        tab.locator("footer.footer").wait_for()
        text = tab.locator("body").inner_text()
        missing = [s for s in says if s not in text]
        assert missing == [], f"{tab.url} does not say {missing}"
        page = Page(url=re.sub(r"^https?://[^/]+", "", tab.url), status=200, content_type="text/html",
                    body=tab.content().encode())
        assert checks.page_problems(page, self.data) == []
        width = tab.viewport_size["width"]
        screenshot(tab, f"nightshift-{name}-{width}")
        if width <= PHONE["width"]:
            assert tab.evaluate(NO_SCROLL), f"{tab.url} scrolls sideways at {width} px"
        return text

    def refused(self, tab: object) -> None:
        """The page just loaded was a refusal (422) the walk expects: its console line is not an error."""
        for context, errors in self.contexts:
            if context is tab.context:
                errors[:] = [e for e in errors if "status of 422" not in e]

    def close(self) -> None:
        for context, errors in self.contexts:
            context.close()
            assert errors == [], f"browser errors: {errors}"


def _choose(tab, field: str, label: str) -> None:
    """Tick the radio button or check box labelled `label` of the field `field`."""
    tab.locator(f"#field-{field}").get_by_label(label, exact=True).check()


def _unfold(tab) -> None:
    """On a phone the task's context is folded below the form: open it, as a person reading it would."""
    fold = tab.locator('[data-testid="task-context"]')
    if fold.get_attribute("open") is None:
        tab.click('[data-testid="task-context"] > summary')
        tab.locator('[data-testid="incident-panel"]').wait_for(state="visible")


def _submit(tab, public_id: str) -> None:
    """Send the task form; it must be accepted (a form sent back shows its errors next to the fields)."""
    with tab.expect_navigation():
        tab.click('.taskform button[name="_action"][value="complete"]')
    errors = tab.locator(".field__error").all_inner_texts()
    assert errors == [] and not tab.url.endswith(public_id), errors


def _comment(tab, text: str) -> None:
    """Post a comment (流转意见) from the incident page."""
    tab.fill("#comment-body", text)
    with tab.expect_navigation():
        tab.click(".commentform button.primary")
    tab.locator(".flash--success", has_text="意见已发表。").wait_for()


def _open_notice(tab, live, title: str) -> str:
    """Open the inbox and follow the notice whose title starts with `title`; returns the path it led to."""
    tab.goto(f"{live.url}/inbox")
    notice = tab.locator('[data-testid="inbox"] button.link', has_text=title).first
    notice.wait_for()
    before = tab.url
    notice.click()
    tab.wait_for_url(lambda url: url != before and not url.endswith("/inbox"))
    path = re.sub(r"^https?://[^/]+", "", tab.url)
    assert "/instances" not in path, path
    return path


def _register(shift, viewport) -> str:
    """The monitor registers the incident on /incidents/new, filling the form as a person does; its number."""
    live = shift.live
    tab = shift.tab("ns_monitor", viewport)
    tab.goto(f"{live.url}/incidents/new")
    shift.look(tab, "new-incident", "登记新舆情(快报)", "30分钟快报时限")
    tab.get_by_role("button", name="开始登记").click()
    tab.wait_for_url(lambda url: "/tasks/" in url)
    public_id = tab.url.rsplit("/", 1)[1]
    shift.look(tab, "register", "舆情标题", "线索来源", "内容摘要")
    tab.fill("#field-title", TITLE)
    tab.select_option("#field-source_type", label="自行监测")
    tab.select_option("#field-platform", label="微博")
    tab.fill("#field-url", LINK)
    tab.fill("#field-author", "网民甲")
    tab.fill("#field-summary", "网民发帖反映社保窗口夜间停办,评论数百条。")
    _choose(tab, "related_units", "社会保险科")
    for field, value in {"views": "12000", "reposts": "85", "comments": "230", "likes": "410"}.items():
        tab.fill(f"#field-{field}", value)
    for field, label in {"netizen_attention": "低", "foreign_media": "未关注", "spread_speed": "慢",
                         "impact_scope": "较小范围内", "offline_risk": "没有可能", "is_mass_incident": "否",
                         "is_sudden_event": "否", "is_false_info": "否"}.items():
        _choose(tab, field, label)
    tab.fill("#field-suggestion", "建议社会保险科核实情况。")
    _submit(tab, public_id)
    shift.look(tab, "registered", "已提交")
    tab.click('[data-testid="worklist-tabs"] a[data-tab="done"]')
    tab.wait_for_url(lambda url: "view=done" in url)
    text = shift.look(tab, "monitor-done", "已办", "登记舆情(快报)", TITLE)
    return re.search(r"YQ-\d{4}-\d{4}", text).group()


@pytest.mark.parametrize("viewport", [DESK, PHONE], ids=["1366", "390"])
def test_a_night_shift_from_the_monitor_to_the_spokesperson(live, shift, viewport):
    number = _register(shift, viewport)
    assert re.fullmatch(r"YQ-\d{4}-\d{4}", number), number

    # The office is told and confirms the level from the phone.
    shift.work()
    office = shift.tab("ns_office", PHONE)
    office.goto(f"{live.url}/inbox")
    shift.look(office, "office-inbox", "【组内新任务】确认定级与启动响应", number, TITLE)
    path = _open_notice(office, live, "【组内新任务】确认定级与启动响应")
    assert re.fullmatch(r"/tasks/[0-9a-f-]{36}", path), path
    _unfold(office)
    shift.look(office, "confirm-level", "确认定级与启动响应", "确认等级", "Ⅳ级 影响较小的网络舆情", LINK)
    assert office.locator("#field-confirmed_level-4").is_checked()  # prefilled with the proposal
    office.select_option("#field-lead_unit", label="社会保险科")
    _choose(office, "start_plan", "是")
    office.fill("#field-instructions", "请社会保险科连夜核实。")
    _submit(office, path.rsplit("/", 1)[1])

    # The office passes the request (请示) to a colleague with a reason; the colleague is told.
    office.goto(f"{live.url}/tasks")
    shift.look(office, "office-worklist", "待办", "请示", number)
    office.locator('[data-testid="worklist"] a', has_text="请示").first.click()
    office.wait_for_url(lambda url: "/tasks/" in url and not url.endswith("/tasks"))
    request_id = office.url.rsplit("/", 1)[1]
    office.click('[data-testid="pass"] > summary')
    office.select_option("#pass_to", label="赵干事")
    office.fill("#pass_reason", "我在外处置另一起舆情,请赵干事起草请示。")
    office.click('[data-testid="pass"] button[value="pass"]')
    office.wait_for_url(lambda url: not url.endswith(request_id))
    shift.look(office, "passed", "已将")

    shift.work()
    clerk = shift.tab("ns_clerk", viewport)
    clerk.goto(f"{live.url}/tasks")
    shift.look(clerk, "clerk-worklist", "待办", "请示", number)
    assert clerk.locator(f'[data-testid="worklist"] a[href="/tasks/{request_id}"]').count() >= 1
    clerk.goto(f"{live.url}/inbox")
    shift.look(clerk, "clerk-inbox", "【转办】请示", "王主任将任务", "我在外处置另一起舆情")
    assert _open_notice(clerk, live, "【转办】请示") == f"/tasks/{request_id}"
    shift.look(clerk, "request", "请示内容", "拟采取措施")
    clerk.fill("#field-request_text", "拟按Ⅳ级响应处置,请批示。")
    clerk.fill("#field-proposed_measures", "连夜核实情况,次日发布说明,跟踪引导。")
    _submit(clerk, request_id)

    # The leader approves from the notice link in their inbox.
    shift.work()
    leader = shift.tab("ns_leader", viewport)
    path = _open_notice(leader, live, "【组内新任务】领导批示")
    assert re.fullmatch(r"/tasks/[0-9a-f-]{36}", path), path
    _unfold(leader)  # the request (请示) is read in the task's context, folded below the form on a phone
    shift.look(leader, "leader-decision", "领导批示", "批示结果", "拟按Ⅳ级响应处置,请批示。")
    _choose(leader, "decision", "同意")
    leader.fill("#field-leader_comment", "同意,连夜处置。")
    _submit(leader, path.rsplit("/", 1)[1])
    shift.look(leader, "leader-approved", "已提交")

    # The section head takes the investigation, then goes away and delegates; the delegate sees it.
    shift.work()
    section = shift.tab("ns_section", viewport)
    path = _open_notice(section, live, "【组内新任务】调查核实")
    investigate_id = path.rsplit("/", 1)[1]
    shift.look(section, "investigate", "调查核实", number)
    section.goto(f"{live.url}/tasks")
    section.click(f'[data-testid="worklist"] button[name="claim"][value="{investigate_id}"]')
    section.locator(".flash--success", has_text="已签收").wait_for()
    shift.look(section, "investigate-claimed", "已签收 1 项:调查核实", "孙科长")
    deputy = shift.tab("ns_deputy", viewport)
    deputy.goto(f"{live.url}/tasks")
    assert deputy.locator(f'[data-testid="worklist"] a[href="/tasks/{investigate_id}"]').count() == 0
    section.goto(f"{live.url}/account/delegation")
    shift.look(section, "delegation", "委托代办", "受托人", "开始时间", "结束时间")
    section.select_option("#delegate", label="周科长")
    section.fill("#ends_at", "2026-11-28T09:00")
    section.fill("#reason", "夜班后休息")
    section.click('main form button.primary')
    section.locator('.flash--success').first.wait_for()
    shift.look(section, "delegation-set", "周科长")
    deputy.goto(f"{live.url}/tasks")
    shift.look(deputy, "deputy-worklist", "待办", "调查核实", number)
    deputy.locator(f'[data-testid="worklist"] a[href="/tasks/{investigate_id}"]').first.click()
    deputy.wait_for_url(lambda url: url.endswith(investigate_id))
    shift.look(deputy, "deputy-task", "您正受孙科长委托代为办理此任务", "调查核实")
    deputy.fill("#field-findings", "夜间窗口因系统升级停办两小时,属实。")
    _choose(deputy, "facts_confirmed", "是")
    deputy.fill("#field-offline_actions", "已恢复办理并张贴告示。")
    _submit(deputy, investigate_id)
    shift.look(deputy, "investigated", "已提交")

    # The spokesperson has nothing to do with the incident yet: a mention cannot reach them, so the comment
    # comes back saying who, why and what to do, with what was typed still in the field.
    office.goto(f"{live.url}/incidents/{number}")
    shift.look(office, "incident", number, TITLE, "流转意见")
    office.fill("#comment-body", "@ns_spokes 请提前准备回应口径。")
    with office.expect_navigation():
        office.click(".commentform button.primary")
    shift.look(office, "mention-refused", "「陈发言人」尚无权查看此舆情", "仍然发表,不提醒以上人员")
    assert office.input_value("#comment-body") == "@ns_spokes 请提前准备回应口径。"
    shift.refused(office)

    # Off screen, the office holds the consultation and drafts the release naming the spokesperson, and the
    # leader approves it: the spokesperson now has the publishing task, so may see the incident.
    shift.complete("ut_consult", CONSULT, "ns_office")
    shift.complete("ut_draft_release", {**DRAFT, "spokesperson": "ns_spokes"}, "ns_office")
    shift.complete("ut_approve_release", {"release_decision": "approve"}, "ns_leader")

    # A comment on the incident page mentions the spokesperson, who is told and led to the comment.
    office.goto(f"{live.url}/incidents/{number}")
    _comment(office, "@ns_spokes 请连夜准备回应口径,原帖 " + LINK)
    shift.look(office, "incident-commented", "请连夜准备回应口径", "已通知:陈发言人。")
    shift.work()
    spokes = shift.tab("ns_spokes", viewport)
    spokes.goto(f"{live.url}/inbox")
    shift.look(spokes, "spokes-inbox", f"【流转意见】王主任在 {number} {TITLE} 中提到了您", "正面回应发布")
    path = _open_notice(spokes, live, "【流转意见】王主任")
    assert re.fullmatch(rf"/incidents/{number}#comment-[0-9a-f-]+", path), path
    comment = spokes.locator(f"#{path.split('#', 1)[1]}")
    assert "请连夜准备回应口径" in comment.inner_text()
    shift.look(spokes, "spokes-comment", TITLE, "王主任", "请连夜准备回应口径")
