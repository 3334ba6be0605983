"""The stored state leaves out finished call activities' subprocesses (docs/decisions.md 89); what
the admin console shows of them stays, and every scenario test of this folder compares the compacted
state with the full one at every step (conftest.py, compaction_check.py)."""

from __future__ import annotations

import json

from app.engine import runner, state
from app.operations import catalog, instance_views
from tests.processes import compaction_check
from tests.processes.flow import Flow
from tests.processes.levels import at_level


def stored_processes(flow: Flow) -> list[str]:
    dct = json.loads(flow.instance.state_json)
    return sorted(sub["spec"] for sub in dct["subprocesses"].values())


def test_a_published_release_leaves_the_state_and_keeps_its_marks(db):
    flow = at_level(4)
    flow.respond_and_publish()
    assert "yq_release" not in stored_processes(flow)  # released, approved and published: finished
    assert "yq_level4_response" in stored_processes(flow)  # still running (monitoring, follow-up)
    diagram = instance_views.instance_diagram(flow.instance)
    release = next(p for p in diagram["processes"] if p["id"] == "yq_release")
    assert release["status"]["ut_approve_release"] == {"status": "completed", "count": 1}
    assert "yq_release" in json.loads(flow.instance.state_json)["finished_elements"]
    spec = catalog.spec(flow.instance.definition_id)
    workflow = state.load_state(flow.instance.state_json, spec, runner.SafeScriptEngine())
    assert not any(sub.spec.name == "yq_release" for sub in workflow.subprocesses.values())
    assert compaction_check.checked["smaller"] > 0  # the comparison ran on steps that dropped something
