"""Task instructions (办理说明) and form texts speak to users: no internal spec numbers such as (决策13)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.web.scenario import act_as, open_task, start_incident, submit

ROOT = Path(__file__).resolve().parents[2]
SPEC_NUMBER = re.compile(r"决策\s*[0-9]")


def _instructions(page: str) -> str:
    found = re.search(r'<section class="instructions"><h2>办理说明</h2><p>(.*?)</p></section>', page, re.S)
    assert found, "the task page shows no 办理说明"
    return found.group(1)


def test_the_task_page_shows_instructions_without_spec_numbers(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director"]))
    leader = act_as(app, user_factory(["group_leader"]))
    instance = start_incident(monitor)
    assert submit(monitor, instance, "ut_register").status_code == 302
    confirm = office.get(f"/tasks/{open_task(instance, 'ut_confirm_level').public_id}").get_data(as_text=True)
    text = _instructions(confirm)
    assert "确认等级与建议等级不同时须填写调整理由。" in text and not SPEC_NUMBER.search(text)
    assert submit(office, instance, "ut_confirm_level", confirmed_level="2", level_change_reason="境外媒体已转载"
                  ).status_code == 302
    page = leader.get(f"/tasks/{open_task(instance, 'ut_leader_confirm').public_id}").get_data(as_text=True)
    text = _instructions(page)
    assert "由领导小组组长或副组长确认。" in text and not SPEC_NUMBER.search(text)


def test_no_diagram_or_form_text_quotes_a_spec_number():
    """Every documentation text of processes/ (task instructions, and what the diagram pages show) and every
    form text: a user cannot look up a decision number."""
    found = [f"{path.name}: {match}"
             for pattern in ("processes/*.bpmn", "forms/*.json")
             for path in sorted(ROOT.glob(pattern))
             for match in re.findall(r"[^>\"]{0,30}决策\s*[0-9][^<\"]{0,10}", path.read_text(encoding="utf-8"))]
    assert found == []
