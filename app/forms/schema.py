"""Loading form files: strict JSON parsing and the checked `FormSpec` built from it."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from app.forms.checks import check_schema
from app.forms.fields import FieldDef, describe_fields

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 32


class FormSchemaError(Exception):
    """A form file was refused; `problems` lists every reason."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def load_json(content: bytes, name: str) -> dict[str, Any]:
    """Parse a form file strictly: no NaN/Infinity, no duplicate keys, at most 256 kB and depth 32."""
    if len(content) > MAX_FILE_BYTES:
        raise FormSchemaError([f"{name}: larger than {MAX_FILE_BYTES // 1024} kB"])
    try:
        value = json.loads(content.decode("utf-8-sig"), parse_constant=_reject_constant,
                           parse_float=_finite_float, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise FormSchemaError([f"{name}: nested too deeply"]) from None
    except ValueError as exc:  # also UnicodeDecodeError and json.JSONDecodeError
        raise FormSchemaError([f"{name}: {exc}"]) from None
    if not isinstance(value, dict):
        raise FormSchemaError([f"{name}: must contain a JSON object"])
    if _depth(value) > MAX_DEPTH:
        raise FormSchemaError([f"{name}: nested deeper than {MAX_DEPTH} levels"])
    return value


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not allowed")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _depth(value: Any) -> int:
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((item, depth + 1) for item in node.values())
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
    return deepest


@dataclass(frozen=True, eq=False)
class FormSpec:
    """A checked form: its JSON Schema and optional ui schema."""

    name: str
    schema: dict[str, Any]
    uischema: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_files(cls, name: str, schema_bytes: bytes, uischema_bytes: bytes | None = None) -> FormSpec:
        """Parse and check `<name>.schema.json` (and `.uischema.json`); raises FormSchemaError."""
        schema = load_json(schema_bytes, f"{name}.schema.json")
        uischema = load_json(uischema_bytes, f"{name}.uischema.json") if uischema_bytes is not None else {}
        problems = check_schema(name, schema, uischema)
        if problems:
            raise FormSchemaError(problems)
        return cls(name, schema, uischema)

    @cached_property
    def fields(self) -> tuple[FieldDef, ...]:
        """The top-level fields in display order."""
        return describe_fields(self.schema, self.uischema)

    @cached_property
    def by_name(self) -> dict[str, FieldDef]:
        """The top-level fields by property name."""
        return {definition.name: definition for definition in self.fields}
