"""The ledger page of an incident in English: the lines under each step are labelled by the forms' English
texts (field titles and option labels) while what people wrote stays as written."""

from __future__ import annotations

from tests.web.scenario import act_as, in_english, start_incident, submit


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
    assert "<dt>Instruction</dt><dd class=\"wrap\">Approve</dd>" in english
    for chinese_label in ("请示内容", "拟采取措施", "批示结果", "批示意见", "<dd class=\"wrap\">同意</dd>"):
        assert chinese_label not in english, chinese_label
    assert "拟按Ⅳ级响应处置,请批示。" in english and "同意。" in english  # what people wrote stays
