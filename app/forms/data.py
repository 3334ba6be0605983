"""What a form lets into task data, and which option lists it needs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.forms.schema import FormSpec

FORM_FILE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,80}\.(schema|uischema)\.json$")


def declared_data(form: FormSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """Only the form's own, writable, top-level keys (docs/security.md §3: merge declared keys only)."""
    return {name: data[name] for name, definition in form.by_name.items()
            if name in data and not definition.read_only and not name.startswith("_")}


def blanks(form: FormSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """The form's writable fields left blank in `data`, as the values that say so: [] for lists, None
    otherwise. Merged into task data, they replace what an earlier round of the same task (or another
    task with a field of that name) left there, so stale answers never pass for today's."""
    return {name: [] if definition.schema.get("type") == "array" else None
            for name, definition in form.by_name.items()
            if name not in data and not definition.read_only and not name.startswith("_")}


def sources_of(form: FormSpec) -> set[str]:
    """The `x-source` option lists the form's fields (and table columns) draw from."""
    found: set[str] = set()

    def visit(schema: Any) -> None:
        if isinstance(schema, dict):
            if isinstance(schema.get("x-source"), str):
                found.add(schema["x-source"])
            for value in schema.values():
                visit(value)
        elif isinstance(schema, list):
            for value in schema:
                visit(value)

    visit(form.schema.get("properties", {}))
    return found


def context_sources(form: FormSpec, fields: dict[str, Any]) -> set[str]:
    """The `x-source` lists the task data shown above the form draws from (a unit, a person), so the
    page can show their names: `fields` are the definitions of the other forms of the process."""
    found: set[str] = set()
    for entry in form.uischema.get("ui:context", []) if isinstance(form.uischema.get("ui:context"), list) else []:
        key = entry.get("as") or str(entry.get("key", "")).split(".")[-1] if isinstance(entry, dict) else ""
        definition = form.by_name.get(key) or fields.get(key)
        if definition is not None:
            for schema in (definition.schema, (definition.item.schema if definition.item else {})):
                if isinstance(schema.get("x-source"), str):
                    found.add(schema["x-source"])
    return found


def field_index(forms: list[FormSpec]) -> dict[str, Any]:
    """Field name → its definition across several forms (first form wins), for labelling task data."""
    index: dict[str, Any] = {}
    for form in forms:
        for name, definition in form.by_name.items():
            index.setdefault(name, definition)
    return index
