"""The 外部报告 is offered where the plan has it, over HTTP: Ⅱ级's report to superiors and Ⅰ级's 请示上级, not
at Ⅲ级 or Ⅳ级 (domain §13 decision 29)."""

from __future__ import annotations

import re

from tests.web.scenario import act_as, open_task, start_incident, submit


def _ok(response):
    assert response.status_code == 302, re.findall(r'class="field__error[^"]*"[^>]*>([^<]*)<',
                                                   response.get_data(as_text=True))
    return response


def _documents(page: str) -> str:
    """The 文书 block of a page."""
    assert 'data-testid="documents"' in page
    return page.split('data-testid="documents"', 1)[1].split("</section>", 1)[0]


def _confirmed(app, user_factory, level: str):
    monitor = act_as(app, user_factory(["monitor"], "monitor"))
    office = act_as(app, user_factory(["office_director", "office_staff"], "office"))
    leader = act_as(app, user_factory(["group_leader"], "leader"))
    instance = start_incident(monitor)
    _ok(submit(monitor, instance, "ut_register"))
    _ok(submit(office, instance, "ut_confirm_level", confirmed_level=level, level_change_reason="核实后调整"))
    if level in ("1", "2"):
        _ok(submit(leader, instance, "ut_leader_confirm", confirmed_level=level, level_change_reason="同意",
                   start_plan="true"))
    return office, instance


def test_a_level3_incident_offers_no_external_report(app, db, user_factory, fake_clock):
    office, instance = _confirmed(app, user_factory, "3")
    block = _documents(office.get(f"/incidents/{instance.business_key}").get_data(as_text=True))
    assert "<td>快报</td>" in block and "<td>通稿</td>" in block
    assert "外部报告" not in block and "document-external_report" not in block


def test_a_level2_incident_offers_it_on_its_page_and_its_report_task(app, db, user_factory, fake_clock):
    office, instance = _confirmed(app, user_factory, "2")
    block = _documents(office.get(f"/incidents/{instance.business_key}").get_data(as_text=True))
    assert "<td>外部报告</td>" in block
    task = open_task(instance, "ut_external_report")
    block = _documents(office.get(f"/tasks/{task.public_id}").get_data(as_text=True))
    assert "<td>外部报告</td>" in block and "<td>快报</td>" in block and "<td>通稿</td>" not in block


def test_the_level1_request_to_superiors_offers_and_attaches_it(app, db, user_factory, fake_clock):
    office, instance = _confirmed(app, user_factory, "1")
    task = open_task(instance, "ut_request_superior")
    block = _documents(office.get(f"/tasks/{task.public_id}").get_data(as_text=True))
    assert "<td>外部报告</td>" in block and "<td>快报</td>" in block and ">生成</button>" in block
    _ok(office.post(f"/ledger/{instance.business_key}/documents", {"kind": "external_report", "task": task.public_id}))
    page = office.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "已生成外部报告(第 1 版)" in page
    [link] = re.findall(r'href="(/documents/[0-9a-f-]+)"', _documents(page))
    _ok(office.post(f"{link}/attach", {"task": task.public_id}))
    page = office.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert re.search(r'<ul class="attachments" id="field-report_doc-list">.*?外部报告-v1\.docx', page, re.S)
