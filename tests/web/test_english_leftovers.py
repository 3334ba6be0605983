"""Leftovers of English mode: the ledger page's step details labelled by the forms' English texts (what
people wrote stays as written), English punctuation in lists and asides, the organisation profiles' names
and their Activate button, and a studio test run named by its process."""

from __future__ import annotations

from tests.web.scenario import act_as, in_english, open_task, start_incident, submit


def _part(page: str, start: str, end: str) -> str:
    begin = page.index(start)
    return page[begin:page.index(end, begin)]


def test_the_ledger_pages_step_details_use_the_forms_english_labels(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director", "office_staff", "group_leader"]))
    instance = start_incident(monitor)
    assert submit(monitor, instance, "ut_register").status_code == 302
    assert submit(office, instance, "ut_confirm_level").status_code == 302
    assert submit(office, instance, "ut_request_instruction").status_code == 302
    assert submit(office, instance, "ut_instruction_decision").status_code == 302
    number = instance.business_key
    chinese = _part(office.page(f"/ledger/{number}"), 'data-testid="reports"', "</ol>")
    assert "<dt>请示内容</dt>" in chinese and "<dt>批示结果</dt><dd class=\"wrap\">同意</dd>" in chinese
    assert "Request" not in chinese

    english = _part(in_english(office).page(f"/ledger/{number}"), 'data-testid="reports"', "</ol>")
    assert "<dt>Request</dt>" in english and "<dt>Planned measures</dt>" in english
    assert "<dt>Instruction</dt><dd class=\"wrap\">Approved</dd>" in english  # what was decided, not the button
    for chinese_label in ("请示内容", "拟采取措施", "批示结果", "批示意见", "<dd class=\"wrap\">同意</dd>"):
        assert chinese_label not in english, chinese_label
    assert "拟按Ⅳ级响应处置,请批示。" in english and "同意。" in english  # what people wrote stays


def test_english_pages_use_english_punctuation_in_lists_and_asides(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director", "office_staff"]))
    instance = start_incident(monitor)
    register = f"/tasks/{open_task(instance, 'ut_register').public_id}"
    assert "PNG、JPG" in monitor.page(register)
    form = in_english(act_as(app, monitor.user)).page(register)
    assert "PNG, JPG" in form and "PNG、JPG" not in form
    assert "with no original post online" in form
    assert submit(monitor, instance, "ut_register").status_code == 302
    page = office.page(f"/incidents/{instance.business_key}")
    assert "待定级(系统建议Ⅳ级" in page
    page = in_english(office).page(f"/incidents/{instance.business_key}")
    assert "Level pending (suggested: Level Ⅳ – minor)" in page and "pending(" not in page
    statistics = office.page("/ledger/statistics")
    assert "Trend (by week)" in statistics and "Trend(" not in statistics


def test_the_profile_page_names_the_shipped_profiles_in_english_and_its_button_says_activate(app, db,
                                                                                             user_factory):
    admin = act_as(app, user_factory(["admin"]))
    chinese = _part(admin.page("/admin/profile"), 'data-testid="profiles"', "</table>")
    assert "市级单位(篇三)" in chinese and "县级单位(篇二)" in chinese and ">启用</button>" in chinese
    page = in_english(admin).page("/admin/profile")
    table = _part(page, 'data-testid="profiles"', "</table>")
    assert "Municipal unit (Part 3)" in table and "County unit (Part 2)" in table
    assert ">Activate</button>" in table and ">Active</button>" not in table
    assert "市级单位" not in page and "县级单位" not in page


def test_a_test_run_page_names_the_process_and_its_timers_in_english(app, db, user_factory, fake_clock):
    owner = act_as(app, user_factory(["process_owner"]))
    started = owner.post("/studio/sandbox", {"process": "yq_incident", "data": "{}"})
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    url = started.headers["Location"]
    chinese = owner.page(url)
    assert "<h1>试运行:舆情事件处置主流程 <small><code>yq_incident</code>" in chinese
    page = in_english(owner).page(url)
    assert "<h1>Test run: Online incident response (main process) <small>" in page
    assert "<li>Quick report overdue · " in _part(page, "<h2>Waiting timers</h2>", "</section>")
    assert "舆情事件处置主流程" not in page  # neither the heading nor the diagram's process name


def test_related_units_are_listed_with_a_comma_on_english_pages(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director", "office_staff"]))
    instance = start_incident(monitor)
    assert submit(monitor, instance, "ut_register", related_units=["social_insurance", "employment"]).status_code == 302
    chinese = office.page(f"/incidents/{instance.business_key}")
    english = in_english(office).page(f"/incidents/{instance.business_key}")
    assert "<dd>社会保险科、就业促进科</dd>" in chinese
    assert "<dd>Social insurance section, Employment promotion section</dd>" in english
    assert "section、" not in english
