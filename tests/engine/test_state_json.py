"""The state text: written by orjson (decision 118), read back as SpiffWorkflow's own serializer would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from diagrams import bundle, chain, end, load, start, user_task

from app.engine import runner, state
from app.engine.state import SERIALIZER, dump_state, load_state


def _waiting(data: dict[str, Any]) -> Any:
    spec = load(bundle(start(), user_task("ut1"), user_task("ut2"), end(), chain("start", "ut1", "ut2", "end")))
    first = runner.start(spec, {"title": "标题"})
    workflow = load_state(first.state, spec, runner.SafeScriptEngine())
    workflow.get_tasks()[-1].data.update(data)
    return spec, workflow


def _spiff_json(workflow: Any) -> Any:
    return json.loads(SERIALIZER.serialize_json(workflow))


def test_state_text_parses_to_what_spiffworkflow_writes() -> None:
    when = datetime(2026, 12, 6, 8, 30, tzinfo=UTC)
    _spec, workflow = _waiting({"when": when, "gap": timedelta(minutes=30), "tags": {"网信"},
                                "nested": {"list": [1, 2.5, None, True], "中文": "舆情"}, "n": 2**40})
    text = dump_state(workflow)
    reference = _spiff_json(workflow)
    reference.pop("serializer_version", None)
    written = json.loads(text)
    written.pop("serializer_version", None)
    assert written == reference
    assert "舆情" in text  # UTF-8, not \\u escapes: the state is smaller


def test_typed_values_survive_a_round_trip() -> None:
    when = datetime(2026, 12, 6, 8, 30, tzinfo=UTC)
    spec, workflow = _waiting({"when": when, "gap": timedelta(minutes=30)})
    restored = load_state(dump_state(workflow), spec, runner.SafeScriptEngine())
    data = restored.get_tasks()[-1].data
    assert data["when"] == when and isinstance(data["when"], datetime)
    assert data["gap"] == timedelta(minutes=30)


def test_values_orjson_refuses_are_written_by_json() -> None:
    spec, workflow = _waiting({"huge": 10**30})
    text = dump_state(workflow)
    assert json.loads(text) == _spiff_json(workflow)
    assert load_state(text, spec, runner.SafeScriptEngine()).get_tasks()[-1].data["huge"] == 10**30


def test_state_written_by_json_still_loads() -> None:
    spec, workflow = _waiting({"nested": {"中文": "舆情"}})
    old_text = SERIALIZER.serialize_json(workflow)  # how states were written before orjson
    restored = load_state(old_text, spec, runner.SafeScriptEngine())
    assert restored.get_tasks()[-1].data["nested"] == {"中文": "舆情"}
    assert state.dump_state(restored) == dump_state(workflow)


def test_a_state_orjson_wrote_is_compact_and_read_by_orjson() -> None:
    spec, workflow = _waiting({"n": 7})
    text = dump_state(workflow)
    first = text.find('":')
    assert text[first + 2] != " "  # how _parse_json tells orjson's text from json's
    assert load_state(text, spec, runner.SafeScriptEngine()).get_tasks()[-1].data["n"] == 7
