"""SpiffWorkflow converters for instance state: a workflow written without its specs and without its
finished call activities' subprocesses (compaction.py), and tasks stored as deltas restored fast
(decision 129). `state.py` builds its serializers from these."""

from __future__ import annotations

from copy import copy
from threading import local
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import BusinessRuleTaskConverter, ServiceTaskConverter
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from app.engine import compaction
from app.engine.specs import CleanBusinessRuleTask, WaitingServiceTask


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without its specs; reads one whose specs were put back as objects."""

    compact = True

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        if not self.compact:  # the whole state, as SpiffWorkflow keeps it (comparisons, measurements)
            dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
            dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
            dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
            if getattr(workflow, "finished_elements", None):
                dct["finished_elements"] = workflow.finished_elements
            return dct
        # Finished call activities' subprocesses leave the live state (compaction.py); the workflow in
        # memory is compacted too, so that what a step reports equals what a restore would give.
        workflow.subprocesses, workflow.finished_elements = compaction.split(workflow)
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        if workflow.finished_elements:
            dct["finished_elements"] = workflow.finished_elements
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        _RESTORING.memo = memo = _RestoreMemo()  # for DeltaTaskConverter, during this restore only
        try:
            workflow = self.target_class(dct.pop("spec"), dct.pop("subprocess_specs"), deserializing=True)
            workflow.finished_elements = dct.pop("finished_elements", None) or {}
            workflow.tasks = self.mapping_from_dict(dct["tasks"], memo.uuid, workflow=workflow)
            workflow.task_tree = workflow.tasks.get(memo.uuid(dct["root"]))
            self.set_default_attributes(workflow, dct)
            self.subprocesses_from_dict(dct["subprocesses"], workflow)
            workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        finally:
            _RESTORING.memo = None
        return workflow


_MUTABLE = (dict, list, set)
_RESTORING = local()  # per thread: the memo of the workflow being restored, else None


class _RestoreMemo:
    """What one restore computes once: each task id's UUID (a task id is written as its key, its id,
    its children's parent and its parent's child) and the keys of each task's mutable data values."""

    def __init__(self) -> None:
        self.uuids: dict[str, UUID] = {}
        self.mutable: dict[UUID, list[str]] = {}

    def uuid(self, text: str) -> UUID:
        value = self.uuids.get(text)
        if value is None:
            value = self.uuids[text] = UUID(text)
        return value


def _inherited(parent_id: UUID, parent_data: dict[str, Any],
               memo: _RestoreMemo | None) -> tuple[dict[str, Any], list[str]]:
    """What `DeepMerge.merge({}, parent_data)` returns — the parent's data with its dict, list and set
    values shallow-copied — and the keys of those values. SpiffWorkflow's merge tests and copies key by
    key, about half of restoring a level-4 state (a hundred tasks of 130 keys each); here the dict is
    copied whole and only the mutable values one by one, whose keys the parent's restore remembered."""
    keys = memo.mutable.get(parent_id) if memo is not None else None
    if keys is None:
        keys = [key for key, value in parent_data.items() if isinstance(value, _MUTABLE)]
    data = dict(parent_data)
    for key in keys:
        value = data[key]
        data[key] = value.copy() if type(value) in _MUTABLE else copy(value)
    return data, keys


_PRIMITIVE = frozenset({str, int, float, bool, type(None)})


def _restore_fields(registry: Any, mapping: dict[str, Any]) -> Any:
    """`registry.restore(mapping)` without a call per plain value (most of a task's data and internal data)."""
    if "typename" in mapping:
        return registry.restore(mapping)
    return {key: value if type(value) in _PRIMITIVE else registry.restore(value) for key, value in mapping.items()}


class DeltaTaskConverter(TaskConverter):
    """SpiffWorkflow's task converter for reading: a task stored as a delta from its parent starts from
    the parent's data copied by `_inherited` (the same result as SpiffWorkflow's merge onto an empty
    dict); plain values are not handed to the registry one by one."""

    def from_dict(self, dct: dict[str, Any], workflow: Any) -> Task:
        memo = getattr(_RESTORING, "memo", None)
        uuid = memo.uuid if memo is not None else UUID
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=uuid(dct["id"]))
        task._parent = uuid(dct["parent"]) if dct["parent"] is not None else None
        task._children = [uuid(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = _restore_fields(self.registry, dct["internal_data"])
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        parent = task.parent if delta else None
        if parent is None:  # a root task, or one stored whole: its data as stored (as SpiffWorkflow does)
            task.data = _restore_fields(self.registry, dct["data"])
            return task
        data, keys = _inherited(parent.id, parent.data, memo)
        updates = _restore_fields(self.registry, delta.get("updates") or {})
        data.update(updates)
        for key in delta.get("deletions") or ():
            data.pop(key, None)
        task.data = data
        if memo is not None:
            mine = [key for key in keys if key not in updates and key in data]
            mine.extend(key for key, value in updates.items() if isinstance(value, _MUTABLE))
            memo.mutable[task.id] = mine
        return task


class FullWorkflowConverter(SpeclessWorkflowConverter):
    """Writes every subprocess, finished or not (never stored: for comparisons and measurements)."""

    compact = False


def make_serializer(version: str, converter: type = SpeclessWorkflowConverter,
                    task_converter: type = DeltaTaskConverter) -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[CleanBusinessRuleTask] = BusinessRuleTaskConverter
    config[WaitingServiceTask] = ServiceTaskConverter
    config[BpmnWorkflow] = converter
    config[Task] = task_converter
    registry = BpmnWorkflowSerializer.configure(config)
    return BpmnWorkflowSerializer(registry, version=version)
