"""Whole incidents of each level, worked page by page by the people whose lanes they are; at every stage
every person looks at every page they can reach (walk.py), and each page is checked (checks.py)."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e import answers
from tests.e2e.walk import Walk

REGISTER = ("monitor", "/tasks", "登记新舆情(快报)")


def ledger_rows(walk: Walk) -> list[list[str]]:
    """The deadline rows of the incident's ledger page, as the office reads them."""
    page = walk.people["office"].get(f"/ledger/{walk.incident().number}")
    assert page.status == 200
    return page.table_rows("deadlines")


def row(rows: list[list[str]], label: str) -> list[str]:
    found = [r for r in rows if r[0] == label]
    assert found, f"no deadline row {label!r} in {[r[0] for r in rows]}"
    return found[0]


def test_level4_incident_from_quick_report_to_archive(walk_factory):
    walk = walk_factory(answers.INCIDENT)
    walk.start(*REGISTER)
    walk.run()
    assert walk.problems == [], walk.report()
    incident = walk.incident()
    assert incident.status == "closed" and incident.level == 4
    rows = ledger_rows(walk)
    assert [r[0] for r in rows] == ["快报(发现后30分钟内)", "首次权威发布", "国家规定48小时回应", "总结评估"]
    assert row(rows, "首次权威发布")[3] == "按时完成"
    detail = walk.people["leader"].get(f"/ledger/{incident.number}").text()
    assert "就业促进科" in detail and "微博" in detail and "自行监测" in detail


def test_level3_with_dispatch_a_late_unit_and_a_press_conference(walk_factory):
    walk = walk_factory(answers.LEVEL3)
    walk.start(*REGISTER)
    walk.hold.add("ut_unit_feedback")
    walk.run(until=lambda w: sum(t.spec_id == "ut_unit_feedback" for t in w.open_tasks()) == 2)
    walk.pass_time(timedelta(hours=4, minutes=30))  # both units miss their 4-hour feedback time
    walk.hold.clear()
    walk.run()
    assert walk.problems == [], walk.report()
    rows = ledger_rows(walk)
    late = row(rows, "承办反馈(社会保险科)")
    assert late[1] != "—" and late[2] != "尚未完成" and "超时 " in late[3]  # unit, due, done, by how much
    assert row(rows, "新闻发布会(24小时内)")  # decided in the consultation, so it applies here
    assert walk.incident().level == 3


def test_level2_with_false_information_and_external_approval(walk_factory):
    walk = walk_factory(answers.LEVEL2)
    walk.start(*REGISTER)
    walk.run()
    assert walk.problems == [], walk.report()
    done = [spec for _who, spec in walk.done]
    assert {"ut_leader_confirm", "ut_external_report", "ut_task_force", "ut_record_superior_measures",
            "ut_record_external_approval", "ut_sign_release", "ut_false_info", "ut_false_info_result"} <= set(done)
    rows = [r[0] for r in ledger_rows(walk)]
    assert "国家规定48小时回应" not in rows and "新闻发布会(24小时内)" not in rows  # neither applies at Ⅱ级


def test_level1_sudden_mass_incident_with_press_conference(walk_factory):
    walk = walk_factory(answers.LEVEL1)
    walk.start(*REGISTER)
    walk.run()
    assert walk.problems == [], walk.report()
    done = {spec for _who, spec in walk.done}
    assert {"ut_request_superior", "ut_task_force", "ut_press_conference_record"} <= done
    first = row(ledger_rows(walk), "首次权威发布")
    assert first[1].endswith("14:00")  # five hours after discovery at 09:00 for a sudden event at Ⅰ级


def test_a_worsening_level4_incident_is_upgraded_and_worked_at_level2(walk_factory):
    walk = walk_factory(answers.UPGRADE)
    walk.start(*REGISTER)
    walk.run()
    assert walk.problems == [], walk.report()
    done = [spec for _who, spec in walk.done]
    assert done.index("ut_regrade") < done.index("ut_external_report")  # the Ⅱ级 opening after the regrade
    incident = walk.incident()
    assert incident.level == 2 and incident.upgrades == 1
    detail = walk.people["leader"].get(f"/ledger/{incident.number}").text()
    assert "Ⅱ级 重大或较大网络舆情" in detail and "转发量激增" in detail  # the new level and why
