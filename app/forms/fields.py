"""What each property of a form schema is: its kind, widget, choices and sub-fields."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.engine.evaluator import EvaluationError, evaluate

Options = Mapping[str, Iterable[tuple[str, str]]]

MAX_STRING_LENGTH = 100_000
# Property names double as evaluator names in x-rules, so they follow its identifier rules.
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
FIELD_TYPES = ("string", "integer", "boolean", "array")
# Formats whose values are short by construction, so their strings need no maxLength.
BOUNDED_FORMATS = ("date", "date-time", "duration", "duration-cycle")
SCALAR_KINDS = ("text", "textarea", "int", "bool", "enum", "datetime", "date", "url", "duration", "cycle")
DURATION_KINDS = ("duration", "cycle")
DEFAULT_BLANK_ROWS = 2


@dataclass(frozen=True, eq=False)
class FieldDef:
    """One property of a form schema, classified for parsing, validation and rendering."""

    name: str
    schema: dict[str, Any]
    ui: dict[str, Any]
    kind: str
    required: bool
    read_only: bool
    columns: tuple[FieldDef, ...] = ()
    item: FieldDef | None = None

    @property
    def title(self) -> str:
        return str(self.schema.get("title") or self.name)

    @property
    def help(self) -> str:
        return str(self.ui.get("ui:help") or self.schema.get("description") or "")

    @property
    def max_length(self) -> int:
        limit = self.schema.get("maxLength")
        return limit if isinstance(limit, int) and 0 <= limit <= MAX_STRING_LENGTH else MAX_STRING_LENGTH

    @property
    def max_items(self) -> int:
        limit = self.schema.get("maxItems")
        return limit if isinstance(limit, int) and limit >= 0 else 0

    @property
    def blank_rows(self) -> int:
        options = self.ui.get("ui:options")
        count = options.get("blankRows") if isinstance(options, dict) else None
        return count if isinstance(count, int) and 0 <= count <= 20 else DEFAULT_BLANK_ROWS


def is_choice(schema: Mapping[str, Any]) -> bool:
    """True when a schema picks from a list: oneOf of consts, enum or x-source."""
    return "x-source" in schema or "enum" in schema or "oneOf" in schema


def field_kind(schema: Mapping[str, Any], ui: Mapping[str, Any]) -> str:
    """Classify a property schema as one of the kinds in docs/forms.md."""
    kind = schema.get("type")
    if kind == "boolean":
        return "bool"
    if kind == "array":
        return "files" if "x-attachments" in schema else _array_kind(schema.get("items"))
    if is_choice(schema):
        return "enum"
    if kind == "integer":
        return "int"
    formats = {"date-time": "datetime", "date": "date", "uri": "url", "duration": "duration", "duration-cycle": "cycle"}
    if schema.get("format") in formats:
        return formats[schema["format"]]
    return "textarea" if ui.get("ui:widget") == "textarea" else "text"


def _array_kind(items: Any) -> str:
    items = items if isinstance(items, dict) else {}
    if items.get("type") == "object":
        return "table"
    return "multi" if is_choice(items) else "list"


def widget_for(field: FieldDef) -> str:
    """The render widget of a field (docs/forms.md lists them)."""
    if field.read_only:
        return "readonly"
    chosen = field.ui.get("ui:widget")
    if field.kind == "bool":
        return "checkbox" if chosen == "checkbox" else "radio"
    if field.kind == "enum":
        return "radio" if chosen == "radio" else "select"
    simple = {"multi": "checkboxes", "table": "rows", "list": "rows", "int": "integer"}
    return simple.get(field.kind, field.kind)


def choices(schema: Mapping[str, Any], options: Options | None) -> list[tuple[Any, str]]:
    """The (value, label) pairs a choice schema allows; x-source lists come from `options`."""
    source = schema.get("x-source")
    if isinstance(source, str):
        return [(str(value), str(label)) for value, label in (options or {}).get(source, ())]
    one_of = schema.get("oneOf")
    if isinstance(one_of, list):
        return [(entry["const"], str(entry.get("title", entry["const"])))
                for entry in one_of if isinstance(entry, dict) and "const" in entry]
    enum = schema.get("enum")
    return [(value, str(value)) for value in enum] if isinstance(enum, list) else []


def offered(schema: Mapping[str, Any], options: Options | None, context: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """The choices a field offers for this task: those of `choices` whose `x-when` holds in the task data.

    An option's `x-when` (an expression, as in x-rules) that cannot be evaluated, say because the
    task data lacks a name it reads, leaves the option offered, as a rule that cannot be evaluated
    does not apply.
    """
    conditions = {entry["const"]: entry["x-when"] for entry in schema.get("oneOf") or ()
                  if isinstance(entry, dict) and "const" in entry and isinstance(entry.get("x-when"), str)}
    pairs = choices(schema, options)
    if not conditions:
        return pairs
    return [(value, label) for value, label in pairs if value not in conditions or _holds(conditions[value], context)]


def match_choice(schema: Mapping[str, Any], text: str, options: Options | None = None) -> Any:
    """The option of a choice schema that free `text` names: by its value or its label (case, width and
    spacing ignored), else the one option whose label the text contains (贴吧 in 百度贴吧); None when
    no option or several do."""
    wanted = _fold(text)
    if not wanted:
        return None
    pairs = choices(schema, options)
    for value, label in pairs:
        if wanted in (_fold(str(value)), _fold(label)):
            return value
    inside = {value for value, label in pairs if _fold(label) and _fold(label) in wanted}
    return inside.pop() if len(inside) == 1 else None


def _fold(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", text).casefold())


def conditional(schema: Mapping[str, Any]) -> bool:
    """Does some option of this choice schema carry an `x-when`?"""
    one_of = schema.get("oneOf")
    return isinstance(one_of, list) and any(isinstance(entry, dict) and "x-when" in entry for entry in one_of)


def _holds(expression: str, context: Mapping[str, Any]) -> bool:
    try:
        return bool(evaluate(expression, dict(context)))
    except EvaluationError:
        return True


def describe_fields(schema: Mapping[str, Any], uischema: Mapping[str, Any]) -> tuple[FieldDef, ...]:
    """The top-level fields of a form in display order (ui:order first, then schema order)."""
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = _names(schema.get("required"))
    order = [name for name in _names(uischema.get("ui:order")) if name in properties]
    order += [name for name in properties if name not in order]
    return tuple(_describe(name, properties[name], _ui(uischema, name), name in required) for name in order)


def _describe(name: str, schema: Any, ui: dict[str, Any], required: bool) -> FieldDef:
    schema = schema if isinstance(schema, dict) else {}
    kind = field_kind(schema, ui)
    items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
    columns: tuple[FieldDef, ...] = ()
    item = None
    if kind == "table":
        sub_required = _names(items.get("required"))
        sub_properties = items.get("properties") if isinstance(items.get("properties"), dict) else {}
        columns = tuple(_describe(sub, sub_schema, _ui(ui, sub), sub in sub_required)
                        for sub, sub_schema in sub_properties.items())
    elif kind in ("multi", "list"):
        item = _describe(name, items, {k: v for k, v in ui.items() if k != "ui:widget"}, False)
    return FieldDef(name, schema, ui, kind, required, schema.get("readOnly") is True, columns, item)


def _names(value: Any) -> list[str]:
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []


def _ui(uischema: Mapping[str, Any], name: str) -> dict[str, Any]:
    ui = uischema.get(name)
    return ui if isinstance(ui, dict) else {}
