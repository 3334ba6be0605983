"""Task forms in English on request: titles, option labels, help, context labels and rule messages of the
real task pages come from app/forms/i18n/en.json; Chinese stays the default and unchanged."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import HumanTask
from tests.web.scenario import FORMS, act_as, open_task, open_tasks, start_incident, submit

CJK = re.compile(r"[\u3400-\u9fff]")


def _english(actor):
    with actor.client.session_transaction() as session:
        session["lang"] = "en"
    return actor


def _form_area(page: str) -> str:
    start = page.index('class="taskform"')
    return page[start:page.index("</form>", start)]


def _chinese(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """The Chinese runs of `text`, less `allowed` ones (organisation data such as unit names)."""
    runs = re.findall(r"[\u3400-\u9fff\uff08-\uff09（）]+", text)
    return [run for run in runs if not any(run in word for word in allowed)]


def _unit_names(page: str) -> tuple[str, ...]:
    """Names of the organisation's units as the form offers them (data, not form text)."""
    return tuple(re.findall(r'name="(?:related_units|lead_unit|co_units)"[^>]*>\s*([^<]*)<', page)) + tuple(
        re.findall(r'<option value="[a-z_]+"[^>]*>([^<]*)</option>', page))


def test_the_quick_report_form_is_english_on_request(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    task = open_task(instance, "ut_register")
    chinese_page = monitor.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "登记舆情(快报)" in chinese_page and "舆情标题" in chinese_page and "自行监测" in chinese_page
    assert "Register incident" not in chinese_page and "Own monitoring" not in chinese_page

    page = _english(monitor).get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "Register incident (quick report)" in page  # the form's title
    form = _form_area(page)
    assert "Incident title" in form and "Discovered at" in form  # field titles
    assert "Own monitoring" in form and "Notified by superior" in form  # option labels (oneOf titles)
    assert "Sum up the incident in one sentence" in form  # description as help
    assert 'placeholder="E.g. users report buck-passing at a service window"' in form
    assert "Offline lead, no original link" in form  # a checkbox's own title
    assert 'value="self_monitoring"' in form  # values are never translated
    assert _chinese(form, _unit_names(form)) == []
    assert "Incident number" in page  # a context label above the form
    header = page[page.index('<div class="page-head">'):page.index('class="taskform"')]
    assert "Status: " in header and "Status:O" not in header  # a label and its value, with a space
    assert "状态:" in chinese_page  # Chinese puts none


def test_a_rule_message_and_a_field_error_are_english(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    task = open_task(instance, "ut_register")
    answers = {**FORMS["ut_register"], "url": "", "platform": "other", "_action": "complete"}
    response = _english(monitor).post(f"/tasks/{task.public_id}", answers)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please name the platform when “Other” is chosen" in page
    assert "Please fill in the original link; for an offline lead without a link tick" in page
    assert "请写明平台名称" not in page


def test_the_grading_task_and_its_lead_card_are_english(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director"]))
    instance = start_incident(monitor)
    submit(monitor, instance, "ut_register")
    task = next(t for t in open_tasks(instance) if t.spec_id == "ut_confirm_level")
    chinese_page = office.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "Ⅳ级 影响较小的网络舆情" in chinese_page and "阅读量" in chinese_page

    page = _english(office).get(f"/tasks/{task.public_id}").get_data(as_text=True)
    form = _form_area(page)
    assert "Level Ⅳ – minor" in form and "Reason for change" in form  # as the lists name the levels
    assert "Level IV" not in form
    assert "Prefilled with the level the system suggests" in form  # help
    assert _chinese(form, _unit_names(form)) == []
    card = page[page.index('data-testid="lead-card"'):]
    card = card[:card.index("</section>")]
    assert "<span>Views</span>" in card and "<dd>Weibo</dd>" in card  # field titles and an option label
    assert "Discovered at</dt>" in card and "Source of the lead</dt><dd>Own monitoring</dd>" in card
    assert "阅读量" not in card and "微博" not in card and "自行监测" not in card
    context = page[page.index('class="task-context"'):]
    assert "Suggested level" in context and "Discovered at" in context


def test_an_approval_task_and_the_submitted_record_are_english(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director", "office_staff"]))
    leader = act_as(app, user_factory(["group_leader"]))
    instance = start_incident(monitor)
    submit(monitor, instance, "ut_register")
    submit(office, instance, "ut_confirm_level")
    submit(office, instance, "ut_request_instruction")
    task = open_task(instance, "ut_instruction_decision")
    page = _english(leader).get(f"/tasks/{task.public_id}").get_data(as_text=True)
    form = _form_area(page)
    assert "Leader&#39;s instruction" in page and "Change level" in form and "Disagree" in form
    assert _chinese(form, _unit_names(form)) == []
    assert "Planned measures" in page  # the request shown above the form, labelled in English

    done = next(t for t in db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
                if t.spec_id == "ut_confirm_level")
    record = _english(office).get(f"/tasks/{done.public_id}").get_data(as_text=True)
    record = record[record.index('<section class="record">'):]
    record = record[:record.index("</section>")]
    assert "Start the contingency plan" in record and "Lead department" in record  # the submitted record
    assert "Level Ⅳ – minor" in record and "是否启动应急预案" not in record


def test_the_incident_page_and_ledger_filters_name_choices_in_english(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director", "office_staff"]))
    instance = start_incident(monitor)
    submit(monitor, instance, "ut_register")
    chinese = office.get(f"/incidents/{instance.business_key}").get_data(as_text=True)
    assert "<dd>自行监测</dd>" in chinese and "<dd>微博</dd>" in chinese
    page = _english(office).get(f"/incidents/{instance.business_key}").get_data(as_text=True)
    assert "<dd>Own monitoring</dd>" in page and "<dd>Weibo</dd>" in page
    ledger = office.get("/ledger/").get_data(as_text=True)
    assert '<option value="weibo" >Weibo</option>' in ledger and ">微博<" not in ledger
    statistics = office.get("/ledger/statistics").get_data(as_text=True)
    chart = statistics[statistics.index('data-testid="chart-platform"'):]
    chart = chart[:chart.index("</section>")]
    assert "Weibo" in chart and "微博" not in chart


def test_the_lead_form_and_the_organisation_profile_are_english_on_request(app, db, user_factory):
    monitor = _english(act_as(app, user_factory(["monitor"])))
    page = monitor.get("/alerts/new").get_data(as_text=True)
    assert "Lead title" in page and "Posting account or person reporting" in page and "Notified by superior" in page
    assert "线索标题" not in page
    assert re.search(r'go straight to <a href="/[^"]+">Report incident</a>\.', page)  # a link inside the sentence
    admin = _english(act_as(app, user_factory(["admin"])))
    page = admin.get("/admin/profile?code=city").get_data(as_text=True)
    assert "Response level scheme" in page and "Aftermath watch interval" in page and "善后跟踪间隔" not in page
