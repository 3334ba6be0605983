"""Dump and load instance state; the spec is stored once per deployed version, never per instance.

Instance state is SpiffWorkflow's own serialization minus `spec` and `subprocess_specs` and minus the
subprocesses of finished call activities (compaction.py; their element statuses are kept as a summary,
`finished_elements`; the converters are in converters.py); loading puts the cached spec objects of the
definition back in. Only serializer versions in
`LOADABLE_VERSIONS` are read (docs/security.md §11): older ones would run eval-based migrations.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from types import ModuleType
from typing import Any

import orjson
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from app.engine.converters import FullWorkflowConverter, make_serializer

SERIALIZER_VERSION = "1.5"
LOADABLE_VERSIONS = frozenset({"1.5"})


class StateError(Exception):
    """Stored state cannot be loaded: unknown serializer version, corrupted data, or the spec of its
    deployed version cannot be restored. Callers put that one instance aside; others go on."""


SERIALIZER = make_serializer(SERIALIZER_VERSION)
_FULL_SERIALIZER = make_serializer(SERIALIZER_VERSION, FullWorkflowConverter)


@dataclass(frozen=True)
class LoadedSpec:
    """The deserialized spec of one deployed version: top process plus called processes."""

    spec: Any
    subprocess_specs: dict[str, Any]


def dump_spec(spec: Any, subprocess_specs: dict[str, Any]) -> str:
    """Serialize a process spec and the specs of everything it calls, for one deployed version."""
    registry = SERIALIZER.registry
    return json.dumps(
        {
            "serializer_version": SERIALIZER_VERSION,
            "spec": registry.convert(spec),
            "subprocess_specs": {name: registry.convert(sub) for name, sub in subprocess_specs.items()},
        },
        ensure_ascii=False,
    )


class _SpecCache:
    """Deserialized specs by content hash; specs are immutable at run time, so threads share them."""

    def __init__(self, size: int = 64):
        self.size = size
        self.items: OrderedDict[str, LoadedSpec] = OrderedDict()
        self.lock = Lock()

    def get(self, key: str, spec_json: str | Callable[[], str]) -> LoadedSpec:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        loaded = _restore_spec(spec_json() if callable(spec_json) else spec_json)
        with self.lock:
            self.items[key] = loaded
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return loaded


    def clear(self) -> None:
        with self.lock:
            self.items.clear()


def _restore_spec(spec_json: str) -> LoadedSpec:
    try:
        dct = json.loads(spec_json)
    except (ValueError, TypeError, RecursionError) as exc:
        raise StateError(f"spec is not valid JSON: {exc}") from exc
    if not isinstance(dct, dict) or dct.get("serializer_version") not in LOADABLE_VERSIONS:
        version = dct.get("serializer_version") if isinstance(dct, dict) else None
        raise StateError(f"spec serializer version {version!r} is not loadable")
    registry = SERIALIZER.registry
    try:
        loaded = LoadedSpec(
            spec=registry.restore(dct["spec"]),
            subprocess_specs={name: registry.restore(sub) for name, sub in dct["subprocess_specs"].items()},
        )
    except Exception as exc:  # any failure here means the stored spec is unusable
        raise StateError(f"spec cannot be restored: {type(exc).__name__}: {exc}") from exc
    if not all(isinstance(spec, BpmnProcessSpec) for spec in (loaded.spec, *loaded.subprocess_specs.values())):
        raise StateError("spec cannot be restored: it is not a process specification")
    return loaded


SPECS = _SpecCache()


def load_spec(key: str, spec_json: str | Callable[[], str]) -> LoadedSpec:
    """The spec objects of a deployed version, deserialized once per process.

    `spec_json` may be a callable so that a cached spec costs no read of the stored text.
    """
    return SPECS.get(key, spec_json)


def new_workflow(spec: LoadedSpec, script_engine: Any) -> BpmnWorkflow:
    """A fresh workflow on the given spec."""
    return BpmnWorkflow(spec.spec, spec.subprocess_specs, script_engine=script_engine)


def dump_state(workflow: BpmnWorkflow) -> str:
    """Serialize an instance without its specs (finished subprocesses left out, see compaction.py)."""
    return _serialize_json(SERIALIZER, workflow)


def dump_full_state(workflow: BpmnWorkflow) -> str:
    """The same, keeping finished subprocesses: never stored; to compare with and to measure."""
    return _serialize_json(_FULL_SERIALIZER, workflow)


# orjson writes what SpiffWorkflow's `serialize_json` writes (json.dumps with its encoder), about ten
# times faster on an 80 kB state, and reads it about twice as fast (decision 118). Datetimes and
# dataclasses pass through to `_encoder_default` as they do to the encoder's `default`, so they keep
# SpiffWorkflow's typed form; anything orjson refuses (an integer beyond 64 bits, say) is written by
# json.dumps, as before.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _serialize_json(serializer: BpmnWorkflowSerializer, workflow: BpmnWorkflow) -> str:
    registry = serializer.registry
    registry._encoder_mode = True  # what serialize_json does: known types converted, the rest by `default`
    try:
        dct = serializer.to_dict(workflow)
        dct[serializer.VERSION_KEY] = serializer.VERSION

        def default(obj: Any) -> Any:
            return _encoder_default(registry, obj)

        try:
            return orjson.dumps(dct, default=default, option=_ORJSON_OPTIONS).decode()
        except TypeError:  # orjson.JSONEncodeError
            return json.dumps(dct, cls=serializer._encoder_cls)
    finally:
        registry._encoder_mode = False


def _encoder_default(registry: Any, obj: Any) -> Any:
    """SpiffWorkflow's encoder `default` (serializer/helpers/encoder.py), for orjson."""
    typename = registry.typenames.get(type(obj))
    if typename is not None:
        return registry.convert_to_dict[typename](obj)
    if callable(obj) or isinstance(obj, ModuleType):
        return None
    if isinstance(obj, set):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _parse_json(text: str) -> Any:
    """A state orjson wrote (compact: no space after the first key) is read by orjson; one json.dumps
    wrote (before decision 118, or orjson's refusals) by json, which alone keeps integers beyond 64 bits
    exact. orjson's refusals (NaN, nesting beyond 1024) go to json too, and fail or not as before."""
    colon = text.find('":', 0, 200)
    if colon < 0 or text[colon + 2:colon + 3] == " ":
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class _WarmWorkflows:
    """The workflows this process wrote last, by the exact state text each was written as (decision 114).

    A step whose instance's stored state is still that text continues the object in memory instead of
    restoring it from JSON: equal text means nothing else has stepped the instance since (a step
    elsewhere, a rolled-back transaction, a repair, all leave other text in the row, and the entry is
    never matched again). An entry is taken out while a step uses it, so threads never share one, and
    the oldest go first beyond `size` (about 0.5 MB each for a level-4 incident)."""

    def __init__(self, size: int = 32):
        self.size = size
        self.items: OrderedDict[str, BpmnWorkflow] = OrderedDict()
        self.lock = Lock()
        self.hits = self.misses = 0

    def take(self, state_json: str, spec: LoadedSpec) -> BpmnWorkflow | None:
        with self.lock:
            workflow = self.items.pop(state_json, None)
            if workflow is not None and workflow.spec is not spec.spec:  # another version's objects
                workflow = None
            self.hits += workflow is not None
            self.misses += workflow is None
            return workflow

    def keep(self, state_json: str, workflow: BpmnWorkflow) -> None:
        if self.size <= 0:
            return
        with self.lock:
            self.items[state_json] = workflow
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def resize(self, size: int) -> None:
        with self.lock:
            self.size = size
            while len(self.items) > max(size, 0):
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


WARM = _WarmWorkflows()


def resume_state(state_json: str, spec: LoadedSpec, script_engine: Any) -> BpmnWorkflow:
    """The workflow to step: the one this process left in exactly `state_json`, else `load_state`'s."""
    workflow = WARM.take(state_json, spec)
    if workflow is None:
        return load_state(state_json, spec, script_engine)
    workflow.script_engine = script_engine
    return workflow


def keep_warm(state_json: str, workflow: BpmnWorkflow) -> None:
    """Remember the workflow `state_json` was just dumped from, for the instance's next step."""
    WARM.keep(state_json, workflow)


def load_state(state_json: str, spec: LoadedSpec, script_engine: Any) -> BpmnWorkflow:
    """Rebuild an instance from its state and the spec of its deployed version."""
    try:
        dct = _parse_json(state_json)
    except (ValueError, TypeError, RecursionError) as exc:
        raise StateError(f"state is not valid JSON: {exc}") from exc
    if not isinstance(dct, dict):
        raise StateError("state is not a JSON object")
    version = dct.pop("serializer_version", None)
    if version not in LOADABLE_VERSIONS:
        raise StateError(f"state serializer version {version!r} is not loadable")
    if dct.get("typename") != "BpmnWorkflow":
        raise StateError("state is not a serialized workflow")
    dct["spec"] = spec.spec
    dct["subprocess_specs"] = spec.subprocess_specs
    try:
        workflow = SERIALIZER.from_dict(dct)
    except Exception as exc:  # any failure here means the stored state is unusable
        raise StateError(f"state cannot be restored: {type(exc).__name__}: {exc}") from exc
    workflow.script_engine = script_engine
    return workflow
