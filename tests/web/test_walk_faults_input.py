"""What a fourth walk of the product found, each kept fixed over HTTP: times before the incident's discovery
and roster rows that end before they start are refused next to their fields, the ledger's bad date filters
are said, a long text with a file reaches the form's own checks, and an alert's errors come in one round."""

from __future__ import annotations

import io
import re
from pathlib import Path

from sqlalchemy import select, update
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.models import User
from app.operations import users
from tests.forms import uploads
from tests.web import staff_world
from tests.web.scenario import (
    FORMS,
    Actor,
    act_as,
    field_errors,
    in_english,
    open_task,
    start_incident,
    started_at_level,
    submit,
)
from tests.web.staff_world import ok

people, incident = staff_world.people, staff_world.incident  # fixtures


# -- a time before the incident was discovered (the registration says 2026-11-25 09:00) ---------------------


def _to_confirm_subsided(app, people, incident, user_factory):
    publicity = act_as(app, user_factory(["team_publicity"], "publicity", display_name="宣传干事"))
    commentator = act_as(app, user_factory(["commentator"], "commentator", display_name="评论员"))
    ok(submit(people["own"], incident, "ut_investigate"))
    ok(submit(people["office"], incident, "ut_consult"))
    ok(submit(publicity, incident, "ut_draft_release"))
    ok(submit(people["leader"], incident, "ut_approve_release"))
    early = submit(people["spokesperson"], incident, "ut_publish_response", published_at="2026-11-25T08:30")
    assert early.status_code == 422
    assert field_errors(early.get_data(as_text=True))["published_at"] == [
        "发布时间不能早于发现时间(2026-11-25 09:00)"]
    ok(submit(people["spokesperson"], incident, "ut_publish_response"))
    ok(submit(commentator, incident, "ut_follow_up_log"))
    return open_task(incident, "ut_confirm_subsided")


def test_a_subsided_time_before_the_discovery_is_refused_next_to_it(app, db, people, incident, user_factory):
    task = _to_confirm_subsided(app, people, incident, user_factory)
    response = submit(people["office"], incident, "ut_confirm_subsided", subsided_at="2026-11-25T08:00")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page)["subsided_at"] == ["平息时间不能早于发现时间(2026-11-25 09:00)"]
    assert 'value="2026-11-25T08:00"' in page  # what was typed is kept
    english = in_english(people["office"])
    page = submit(english, incident, "ut_confirm_subsided", subsided_at="2026-11-25T08:00").get_data(as_text=True)
    assert field_errors(page)["subsided_at"] == [
        "The time it subsided must not be earlier than the time it was discovered (2026-11-25 09:00)"]
    assert open_task(incident, "ut_confirm_subsided").id == task.id  # nothing moved on
    ok(submit(people["office"], incident, "ut_confirm_subsided", subsided_at="2026-11-25T09:00"))


# -- 成立工作专班: a duty roster row that ends before it starts ------------------------------------------------


def _cell_errors(page: str) -> dict[str, str]:
    """The errors shown in a table's cells, by the cell's id."""
    return dict(re.findall(r'<td class="field--error">.*?id="field-([^"]+)-error">([^<]+)<', page, re.S))


def _task_force(app, user_factory):
    people, instance = started_at_level(app, user_factory, "1")
    return people["office"], instance


ROSTER = {"leader_person": "李组长", "liaison_person": "王联络", "contact": "0571-12345678",
          "members.0.team": "coordination", "members.0.person": "张三",
          "duty_roster.0.from_at": "2026-12-07T08:00", "duty_roster.0.to_at": "2026-12-07T20:00",
          "duty_roster.0.person": "甲",
          "duty_roster.1.from_at": "2026-12-07T20:00", "duty_roster.1.to_at": "2026-12-07T08:00",
          "duty_roster.1.person": "乙"}


def test_a_duty_shift_that_ends_before_it_starts_is_refused_next_to_its_end(app, db, user_factory, fake_clock):
    office, instance = _task_force(app, user_factory)
    task = open_task(instance, "ut_task_force")
    response = submit(office, instance, "ut_task_force", **ROSTER)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _cell_errors(page) == {"duty_roster-1-to_at": "结束时间须晚于开始时间(2026-12-07 20:00)"}
    assert 'value="2026-12-07T08:00"' in page and 'value="乙"' in page  # what was typed is kept
    english = submit(in_english(office), instance, "ut_task_force", **ROSTER).get_data(as_text=True)
    assert _cell_errors(english) == {"duty_roster-1-to_at": "The end must be later than the start (2026-12-07 20:00)"}
    assert open_task(instance, "ut_task_force").id == task.id
    ok(submit(office, instance, "ut_task_force", **{**ROSTER, "duty_roster.1.to_at": "2026-12-08T08:00"}))


# -- the ledger's period: a day that cannot be read is said next to its field, and nothing is listed ---------


def _filter_error(page: str, name: str) -> str:
    label = re.search(rf'<label class="field--error">[^<]*<input type="date" name="{name}" value="([^"]*)"'
                      rf' aria-invalid="true" aria-describedby="filter-{name}-error">'
                      rf' <span class="field__error" id="filter-{name}-error"[^>]*>([^<]+)</span></label>', page)
    assert label, page.split('data-testid="ledger-filters"')[1][:3000]
    return f"{label.group(1)}: {label.group(2)}"


def test_a_ledger_period_that_cannot_be_read_is_said_next_to_its_field_and_filters_nothing(db, people, incident):
    office = people["office"]
    assert "共 1 起" in office.page("/ledger/?since=2026-11-01")  # a good day filters
    for url in ("/ledger/", "/ledger/statistics"):
        page = office.page(f"{url}?since=abc")
        assert _filter_error(page, "since") == "abc: 日期格式不正确,请按 2026-11-01 的格式填写。"
        assert "筛选条件中的日期有误,请更正后再筛选;未列出任何事件。" in page
        assert "共 1 起" not in page and incident.business_key not in page  # nothing is listed as if filtered
        page = office.page(f"{url}?since=2026-11-01&until=9999-12-31")
        assert _filter_error(page, "until") == "9999-12-31: 日期超出范围,须在 1900-01-01 至 2999-12-30 之间。"
        assert 'name="since" value="2026-11-01">' in page  # the good field is not marked
    english = in_english(office).page("/ledger/statistics?since=9999-12-31&until=2026-13-01")
    assert _filter_error(english, "since") == ("9999-12-31: The date is out of range: it must be between "
                                               "1900-01-01 and 2999-12-30.")
    assert _filter_error(english, "until") == "2026-13-01: The date format is not valid: write it as 2026-11-01."
    assert "A date in the filter is not valid: correct it and filter again. No incidents are listed." in english


def test_an_export_with_a_period_that_cannot_be_read_goes_back_to_the_list(db, people, incident):
    office = people["office"]
    for export in ("/ledger/export.csv", "/ledger/export.xlsx"):
        response = office.client.get(f"{export}?since=abc&level=4")
        assert response.status_code == 302, export  # not every incident exported as if unfiltered
        assert response.headers["Location"] == "/ledger/?since=abc&level=4"
        page = office.page(response.headers["Location"])
        assert _filter_error(page, "since") == "abc: 日期格式不正确,请按 2026-11-01 的格式填写。"
    assert office.client.get("/ledger/export.csv?since=2026-11-01").status_code == 200  # a good day exports


# -- a long text sent with a small file reaches the form's own check ----------------------------------------


def _post_register(actor, instance, *, with_file=True, **changes):
    task = open_task(instance, "ut_register")
    fields = {**FORMS["ut_register"], **changes}
    items = [("_action", "complete")]
    if with_file:
        items.append(("attachments", FileStorage(io.BytesIO(uploads.PNG), filename="截图.png")))
    for name, value in fields.items():
        items += [(name, item) for item in (value if isinstance(value, list) else [value])]
    boundary, body = encode_multipart(MultiDict(items))
    return actor.client.post(f"/tasks/{task.public_id}", data=body,
                             content_type=f"multipart/form-data; boundary={boundary}")


def test_a_very_long_summary_with_a_small_file_is_refused_next_to_the_summary(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"], "monitor"))
    instance = start_incident(monitor)
    summary = "网民反映窗口排队" * 37_500  # 300,000 characters, about 900 kB
    response = _post_register(monitor, instance, summary=summary)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page)["summary"] == ["最多 5000 个字符"]
    assert "网民反映窗口排队网民反映窗口排队" in page and FORMS["ut_register"]["title"] in page  # what was typed
    english = _post_register(in_english(monitor), instance, summary=summary).get_data(as_text=True)
    assert field_errors(english)["summary"] == ["At most 5000 characters"]


def test_a_413_says_whether_the_whole_submission_or_one_field_was_too_large(app, db, user_factory, monkeypatch):
    monitor = act_as(app, user_factory(["monitor"], "monitor"))
    instance = start_incident(monitor)
    task = open_task(instance, "ut_register")
    monkeypatch.setitem(app.config, "MAX_FORM_MEMORY_SIZE", 100 * 1024)
    # (no file here: Werkzeug leaves a file it spooled before the field that stops it for the collector)
    field = _post_register(monitor, instance, with_file=False, summary="长" * 50_000)
    assert field.status_code == 413
    page = field.get_data(as_text=True)
    assert "填写的某一项内容过长(单项不能超过 100 KB),未被接收。" in page and "附件" not in page
    assert f'href="/tasks/{task.public_id}"' in page
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100 * 1024)
    whole = _post_register(monitor, instance, summary="长" * 50_000)
    assert whole.status_code == 413
    assert ("提交的内容过大:附件和填写的内容合计不能超过 1 MB(单个附件不能超过 20 MB),未被接收。"
            in whole.get_data(as_text=True))
    english = _post_register(in_english(monitor), instance, summary="长" * 50_000).get_data(as_text=True)
    assert "The submission is too large: attachments and typed text together may not exceed 1 MB" in english


# -- a lead entered by hand: every error in one round ------------------------------------------------------


def test_a_hand_entered_lead_shows_all_its_errors_at_once(app, db, user_factory):
    office = act_as(app, user_factory(["office_director", "office_staff"], "office"))
    typed = {"source_type": "superior_notice", "title": "", "published_at": "2099-01-01T10:00"}
    response = office.post("/alerts/new", typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page) == {"title": ["此项为必填项"], "published_at": ["时间不能晚于现在。"]}
    assert 'value="2099-01-01T10:00"' in page
    english = in_english(office).post("/alerts/new", typed).get_data(as_text=True)
    assert field_errors(english) == {"title": ["This field is required"],
                                      "published_at": ["The time cannot be in the future."]}


# -- the demo: every unit offered as lead or related unit has someone to work its tasks ---------------------


def test_every_unit_the_demo_offers_has_a_demo_head_who_gets_its_investigation(app, db):
    accounts = {a.username: a for a in users.seed_demo_users(must_change_password=False)}
    db.session.execute(update(User).values(demo_password=False))  # as in development: no change asked at login
    db.session.commit()

    def login(username):
        client = app.test_client()
        assert client.post("/login", data={"username": username,
                                           "password": accounts[username].password}).status_code == 302
        return Actor(client, db.session.scalar(select(User).where(User.username == username)))

    monitor, office, leader = login("monitor"), login("office"), login("leader")
    instance = start_incident(monitor)
    ok(submit(monitor, instance, "ut_register"))
    page = office.page(f"/tasks/{open_task(instance, 'ut_confirm_level').public_id}")
    lead = page.split('name="lead_unit"')[1].split("</select>")[0]
    offered = set(re.findall(r'<option value="([a-z_]+)"', lead))
    assert offered == {"office", "policy", "employment", "social_insurance", "labour_relations", "supervision",
                       "service_center"}
    heads = {user.unit.code for user in db.session.scalars(select(User)) if user.unit
             and {"section_head", "section_staff"} <= {role.role_code for role in user.roles}}
    assert offered <= heads  # each unit has a demo head and staff
    ok(submit(office, instance, "ut_confirm_level", lead_unit="service_center"))
    ok(submit(office, instance, "ut_request_instruction"))
    ok(submit(leader, instance, "ut_instruction_decision"))
    task = open_task(instance, "ut_investigate")
    assert "政务服务中心负责人(演示)" in accounts["section6"].display_name
    assert task.public_id in login("section6").page("/tasks")  # the centre's head has it on the worklist
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in accounts)  # the README names every demo account
