"""The progress strip of an incident, derived from its ledger lines (docs/decisions.md 70)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.models import Incident, LedgerEntry
from app.operations.incident_page import STAGE_LINES, level_history, stages

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def _lines(*kinds, data=None):
    return [(LedgerEntry(kind=kind, at=T0 + timedelta(minutes=n), data=data or {}), f"label {kind}", "王主任")
            for n, kind in enumerate(kinds)]


def _states(strip):
    return {stage.code: stage.state for stage in strip}


def test_a_new_incident_is_at_the_quick_report():
    assert _states(stages(Incident(status="open"), [])) == {
        "report": "current", "grade": "todo", "response": "todo", "follow": "todo", "aftermath": "todo",
        "archive": "todo"}


def test_the_furthest_stage_reached_is_current_and_earlier_ones_without_lines_were_skipped():
    strip = stages(Incident(status="open"), _lines("registered", "level_confirmed", "subsided"))
    assert _states(strip) == {"report": "done", "grade": "done", "response": "skipped", "follow": "current",
                              "aftermath": "todo", "archive": "todo"}
    assert [label for _, label, _ in strip[1].lines] == ["label level_confirmed"]


def test_a_closed_incident_is_done_throughout_and_a_terminated_one_stops():
    kinds = ("registered", "level_confirmed", "consultation", "follow_up", "summary", "closed")
    assert set(_states(stages(Incident(status="closed"), _lines(*kinds))).values()) == {"done"}
    stopped = stages(Incident(status="terminated"), _lines("registered", "terminated"))
    assert _states(stopped)["archive"] == "stopped" and _states(stopped)["grade"] == "skipped"


def test_a_busy_stage_shows_its_latest_lines_and_counts_the_rest():
    strip = stages(Incident(status="open"), _lines("registered", *["commentary"] * (STAGE_LINES + 3)))
    response = strip[2]
    assert len(response.lines) == STAGE_LINES and response.more == 3
    assert response.lines[-1][0].at == T0 + timedelta(minutes=STAGE_LINES + 3)
    # on paper nothing is cut
    printed = stages(Incident(status="open"), _lines("registered", *["commentary"] * (STAGE_LINES + 3)), keep=None)
    assert len(printed[2].lines) == STAGE_LINES + 3 and printed[2].more == 0


def test_lines_the_system_writes_ahead_do_not_move_the_strip_on():
    """A proposed level and the provisional deadlines follow the quick report at once: the quick report is
    done and the incident waits at 定级 until the office grades it (the provisional deadlines do not make it
    响应); an update a platform pushes before registration is no 跟踪."""
    strip = stages(Incident(status="open"), _lines("registered", "level_proposed", "deadlines_set"))
    assert _states(strip) == {"report": "done", "grade": "current", "response": "todo", "follow": "todo",
                              "aftermath": "todo", "archive": "todo"}
    assert [label for _, label, _ in strip[1].lines] == ["label level_proposed"]
    pushed = stages(Incident(status="open"), _lines("update_received"))
    assert _states(pushed)["report"] == "current" and _states(pushed)["follow"] == "todo"


def test_the_level_history_names_each_level_and_its_reason():
    lines = (_lines("level_proposed", data={"proposed_level": 3, "grade_basis": "关注度高"})
             + _lines("regrade", data={"confirmed_level": 2, "reason": "转发量激增"})
             + _lines("level_changed", data={"confirmed_level": 2, "upgrade_reason": "媒体跟进"})
             + _lines("registered"))
    history = level_history(lines)
    assert [(step.level.split(" ")[0], step.reason) for step in history] == [
        ("Ⅲ级", "关注度高"), ("Ⅱ级", "转发量激增"), ("Ⅱ级", "媒体跟进")]  # the leader's re-grade with its reason
