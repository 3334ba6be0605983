"""English pages put a space after a label's colon and between clauses, and say a missed deadline once
(what a new user found): the dashboard's level counts and failures, the level history, a missed unit
feedback in the record, a decision as what was decided — while the Chinese pages keep their punctuation."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.db import transaction
from app.models import LedgerEntry
from app.operations import labels, ledger
from tests.web.scenario import act_as, in_english, start_incident, submit

NOTE = "提供涉事考生参保及录用材料"


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).replace(" :", ":").replace(" ,", ",")


def _part(page: str, start: str, end: str) -> str:
    begin = page.index(start)
    return page[begin:page.index(end, begin)]


def _in_chinese(actor):
    with actor.client.session_transaction() as session:
        session["lang"] = "zh_CN"
    return actor


def test_the_dashboard_counts_read_with_a_space_after_the_colon_and_the_comma_in_english(app, user_factory):
    admin = act_as(app, user_factory(["admin"]))
    chinese = _part(admin.page("/admin/dashboard"), 'data-testid="incidents"', "</section>")
    assert re.search(r"Ⅰ级[^<]*:<span[^>]*>0</span>", chinese) and "未定级:<span" in chinese
    health = _text(_part(admin.page("/admin/dashboard"), 'data-testid="health"', "</section>"))
    assert "(失败任务 0,出错流程 0 )" in health
    english = in_english(admin).page("/admin/dashboard")
    levels = _part(english, 'data-testid="incidents"', "</section>")
    assert re.search(r"Level Ⅰ[^<]*: <span[^>]*>0</span>", levels) and "Not graded: <span" in levels
    assert not re.search(r"[^ ]:<span", levels)
    assert "(Failed jobs 0, Instances in error 0 )" in _text(_part(english, 'data-testid="health"', "</section>"))


def test_the_level_history_and_a_missed_unit_feedback_read_once_in_english(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director", "office_staff"]))
    instance = start_incident(monitor)
    assert submit(monitor, instance, "ut_register").status_code == 302
    assert submit(office, instance, "ut_confirm_level", confirmed_level="3",
                  level_change_reason="影响范围比初判更大").status_code == 302
    head = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "level_confirmed"))
    unit = "social_insurance"
    with transaction():
        db.session.add(LedgerEntry(incident_id=head.incident_id, kind="deadline_missed", at=fake_clock.current,
                                   summary=f"承办反馈(社会保险科)已超时:{NOTE}",
                                   data={"deadline": "dispatch", "subject": unit, "note": NOTE}))
    url = f"/incidents/{instance.business_key}"
    chinese = _in_chinese(office).page(url)
    assert re.search(r"</strong>:Ⅲ级", _part(chinese, 'data-testid="levels"', "</ol>"))
    assert f"</strong>:承办反馈(社会保险科)已超时:{NOTE}" in _part(chinese, 'data-testid="entries"', "</ol>")

    english = in_english(office).page(url)
    levels = _part(english, 'data-testid="levels"', "</ol>")
    assert re.search(r"</strong>: Level Ⅲ", levels) and "</strong>:L" not in levels
    entries = _part(english, 'data-testid="entries"', "</ol>")
    name = labels.unit_names("en").get(unit, unit)
    assert f"Deadline missed</strong>: Unit feedback ({name}): {NOTE}" in entries, entries
    assert " missed:" not in entries  # the label says it; the line does not say it again


def test_a_decision_on_an_english_record_says_what_was_decided():
    assert ledger.decided_in_english("instruction_decided", "decision", "approve") == "Approved"
    assert ledger.decided_in_english("instruction_decided", "decision", "reject") == "Not approved"
    assert ledger.decided_in_english("external_approval", "external_result", "return") == \
        "Not approved, returned for revision"
    assert ledger.decided_in_english("release_review", "release_decision", "return") == "Returned for revision"
    assert ledger.decided_in_english("instruction_decided", "leader_comment", "approve") is None  # words typed
    approved = {"approver_body": "市委宣传部", "external_result": "approve"}
    assert ledger.review_text(approved, "zh_CN") == "市委宣传部 — 同意"
    assert ledger.review_text(approved, "en") == "市委宣传部 — Approved"  # the page names the body in English
