"""What the application keeps of a compiled process besides its spec: user tasks with their lanes,
roles and forms, message and timer starts, the content hash over everything the process uses."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

if TYPE_CHECKING:
    from app.engine.definitions import CompiledProcess

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
@dataclass(frozen=True)
class TaskInfo:
    """What the app needs to know about a user task without loading the engine."""

    process_id: str
    spec_id: str
    name: str
    lane: str | None
    roles: tuple[str, ...]
    form: str | None
    ui_form: str | None
    ledger: str | None = None  # ledger entry kind written when the task is completed


def file_hash(content: bytes) -> str:
    """Content hash of one file."""
    return hashlib.sha256(content).hexdigest()


SCHEDULES = ("daily", "monthly", "quarterly", "yearly")


def message_starts(spec: Any) -> list[str]:
    names = []
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        if type(task_spec).__name__ == "StartEvent" and type(definition).__name__ == "MessageEventDefinition":
            names.append(definition.name)
    return names


def has_timer_start(spec: Any) -> bool:
    return any(
        type(t).__name__ == "StartEvent" and isinstance(getattr(t, "event_definition", None), TimerEventDefinition)
        for t in spec.task_specs.values()
    )


def start_schedule(spec: Any) -> str | None:
    for task_spec in spec.task_specs.values():
        if type(task_spec).__name__ == "StartEvent" and isinstance(getattr(task_spec, "event_definition", None),
                                                                    TimerEventDefinition):
            return (task_spec.extensions.get("properties") or {}).get("schedule")
    return None


def lane_roles(root: etree._Element) -> dict[str, tuple[str, ...]]:
    """Lane name → role codes, from `spiffworkflow:property name="roles"` on each lane."""
    lanes: dict[str, tuple[str, ...]] = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        roles: tuple[str, ...] = ()
        for prop in lane.iter(f"{{{SPIFF_NS}}}property"):
            if prop.get("name") == "roles":
                roles = tuple(r.strip() for r in (prop.get("value") or "").split(",") if r.strip())
        lanes[lane.get("name") or lane.get("id")] = roles
    return lanes


def task_infos(specs: dict[str, Any], lanes: dict[str, dict[str, tuple[str, ...]]],
                file_of_process: dict[str, str]) -> dict[str, TaskInfo]:
    infos = {}
    for process_id, spec in specs.items():
        file_lanes = lanes.get(file_of_process.get(process_id, ""), {})
        for task_spec in spec.task_specs.values():
            if not task_spec.manual:
                continue
            props = task_spec.extensions.get("properties", {})
            info = TaskInfo(
                process_id=process_id,
                spec_id=task_spec.bpmn_id,
                name=task_spec.bpmn_name or task_spec.bpmn_id,
                lane=task_spec.lane,
                roles=file_lanes.get(task_spec.lane, ()),
                form=props.get("formJsonSchemaFilename"),
                ui_form=props.get("formUiSchemaFilename"),
                ledger=props.get("ledger"),
            )
            infos[f"{process_id}:{task_spec.bpmn_id}"] = info
    return infos


def closure_hash(process: CompiledProcess, files: Mapping[str, bytes], form_hashes: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in process.files:
        digest.update(name.encode() + b"\0" + file_hash(files[name]).encode() + b"\n")
    for form in sorted(process.forms):
        digest.update(form.encode() + b"\0" + form_hashes.get(form, "missing").encode() + b"\n")
    return digest.hexdigest()
