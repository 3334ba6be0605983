"""A person's ledger line is summarised from what their form submitted, by a field of that form."""

from __future__ import annotations

import json
import re
from pathlib import Path

from app.operations import ledger_kinds

ROOT = Path(__file__).resolve().parents[2]


def _ledger_tasks() -> list[tuple[str, str, str]]:
    """(task id, ledger kind, form file) of every user task with the `ledger` property."""
    found = []
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        for task in re.findall(r'<bpmn:userTask id="\w+".*?</bpmn:userTask>', path.read_text(), re.S):
            kind = re.search(r'name="ledger" value="(\w+)"', task)
            if kind:
                form = re.search(r'name="formJsonSchemaFilename" value="([\w.]+)"', task).group(1)
                found.append((re.search(r'id="(\w+)"', task).group(1), kind.group(1), form))
    return found


def test_each_task_kinds_summary_reads_a_field_of_the_tasks_own_form():
    tasks = _ledger_tasks()
    assert len(tasks) > 30
    for task_id, kind, form in tasks:
        fields = set(json.loads((ROOT / "forms" / form).read_text())["properties"])
        missing = set(ledger_kinds.KINDS[kind].summary) - fields
        assert not missing, f"{task_id} ({kind}) would summarise {missing} from older task data"
