"""Test runs of drafts: the draft's path is taken, tasks are done with sample data, and nothing reaches
worklists, instances, notifications or the ledger."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import HumanTask, LedgerEntry, Notification, ProcessInstance
from app.operations import sandbox, studio
from app.operations.errors import Forbidden, Invalid, NotFound
from tests.conftest import ROOT, make_user
from tests.operations.console import DONE, console_v2, deploy_console

SCOPE = (ROOT / "tests" / "operations" / "data" / "t_scope.bpmn").read_bytes()


def _counts():
    return [db.session.scalar(select(func.count()).select_from(model))
            for model in (ProcessInstance, HumanTask, Notification, LedgerEntry)]


@pytest.fixture
def owner(db):
    deploy_console()
    return make_user(["process_owner"])


def test_a_test_run_follows_the_draft_and_leaves_no_trace(owner):
    studio.save_draft("t_console.bpmn", console_v2(), owner)
    before = _counts()
    run = sandbox.start(owner, "t_console", {"divisor": 5})
    assert [t["spec_id"] for t in run.open_tasks] == ["ut_a"]
    with pytest.raises(Invalid) as refused:
        sandbox.complete(run.public_id, run.open_tasks[0]["guid"], {"findings": ""}, owner)
    assert "findings" in refused.value.errors
    run = sandbox.complete(run.public_id, run.open_tasks[0]["guid"], DONE, owner)
    assert [t["spec_id"] for t in run.open_tasks] == ["ut_c"]  # the draft's new task
    run = sandbox.fire_timers(run.public_id, owner)  # two hours need not pass in a test
    status = sandbox.view(run)["diagram"]["processes"][0]["status"]
    assert status["sc_divide"]["status"] == "completed" and status["ut_a"]["status"] == "completed"
    assert [e["action"] for e in run.events] == ["started", "task_completed", "timer_fired"]
    assert _counts() == before


def test_effects_are_listed_not_carried_out(owner):
    studio.save_draft("t_scope.bpmn", SCOPE, owner, create=True)
    head = make_user(["section_head"], unit="employment")
    before = _counts()
    run = sandbox.start(owner, "t_scope", {"lead_unit": "policy", "chosen": head.username,
                                           "related_units": ["employment"]})
    effects = [e for e in run.events if e["action"] == "effect"]
    assert effects and effects[0]["operator"] == "notify" and effects[0]["element"] == "st_heads"
    assert _counts() == before  # no notification to the unit head


def test_only_owners_start_and_see_their_runs(owner):
    with pytest.raises(Forbidden):
        sandbox.start(make_user(["office_staff"]), "t_console", {})
    run = sandbox.start(owner, "t_console", {"divisor": 1})
    with pytest.raises(NotFound):
        sandbox.get_run(run.public_id, make_user(["process_owner"]))
    with pytest.raises(NotFound):
        sandbox.start(owner, "no_such_process", {})


def test_a_draft_that_fails_the_checks_cannot_be_run(owner):
    broken = console_v2().replace(b'<bpmn:sequenceFlow id="f_c_gw" sourceRef="ut_c" targetRef="gw_route"/>', b"")
    studio.save_draft("t_console.bpmn", broken, owner)
    with pytest.raises(Invalid, match="gw_route 该元素没有进入的顺序流"):
        sandbox.start(owner, "t_console", {})
