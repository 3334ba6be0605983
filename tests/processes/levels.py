"""Helpers to bring an incident to the start of a given level's response."""

from __future__ import annotations

from typing import Any

from tests.processes.answers import CONFIRM, LEAD_UNIT, REGISTER
from tests.processes.flow import Flow


def at_level(level: int, **register: Any) -> Flow:
    """A registered incident confirmed at `level` (the leader confirms Ⅰ/Ⅱ), its level diagram started."""
    flow = Flow("yq_incident", incident=True, unit=LEAD_UNIT)
    flow.do("ut_register", **{**REGISTER, **register})
    reason = {} if level == flow.task("ut_confirm_level").context["proposed_level"] else {
        "level_change_reason": "核实后调整"}
    flow.do("ut_confirm_level", **{**CONFIRM, "confirmed_level": level}, **reason)
    if level <= 2:
        flow.do("ut_leader_confirm", confirmed_level=level, level_change_reason="同意", start_plan=True)
    return flow
