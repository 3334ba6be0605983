"""Deploy-time checks of a ui schema (`forms/<task>.uischema.json`) against its form schema."""

from __future__ import annotations

from typing import Any

from app.forms.fields import NAME_RE, field_kind

_TOP_KEYS = frozenset({"ui:order", "ui:context", "ui:prefill"})
_FIELD_KEYS = frozenset({"ui:widget", "ui:placeholder", "ui:help", "ui:rows", "ui:options", "ui:default"})
_WIDGETS = {
    "text": {"textarea"},
    "enum": {"radio", "select"},
    "bool": {"radio", "checkbox"},
    "multi": {"checkboxes"},
}
_MAX_TEXT = 500


def check_uischema(schema: dict[str, Any], uischema: Any) -> list[str]:
    """Every reason a ui schema does not fit its form schema; [] when it is fine."""
    if not isinstance(uischema, dict):
        return ["uischema: must be a JSON object"]
    properties = {name: prop for name, prop in schema.get("properties", {}).items() if isinstance(prop, dict)}
    problems = []
    for key, value in uischema.items():
        if key in _TOP_KEYS:
            continue
        if key.startswith("ui:"):
            problems.append(f"uischema.{key}: unknown key")
        elif key not in properties:
            problems.append(f"uischema.{key}: no such field")
        else:
            problems += _field_ui(f"uischema.{key}", properties[key], value)
    problems += _order_problems(uischema.get("ui:order", []), properties)
    problems += _context_problems(uischema.get("ui:context", []))
    problems += _prefill_problems(uischema.get("ui:prefill", {}), properties)
    return problems


def _field_ui(where: str, prop: dict[str, Any], ui: Any) -> list[str]:
    if not isinstance(ui, dict):
        return [f"{where}: must be an object"]
    kind = field_kind(prop, {})
    sub_properties = _sub_properties(prop) if kind == "table" else {}
    problems = []
    for key, value in ui.items():
        if key in sub_properties:
            problems += _field_ui(f"{where}.{key}", sub_properties[key], value)
        elif key not in _FIELD_KEYS:
            problems.append(f"{where}.{key}: unknown key or no such column")
    if "ui:default" in ui and (ui["ui:default"] != "now" or kind not in ("datetime", "date")):
        problems.append(f"{where}.ui:default: only \"now\" on a date or date-time field")
    widget = ui.get("ui:widget")
    if widget is not None and widget not in _WIDGETS.get(kind, set()):
        problems.append(f"{where}.ui:widget: {widget!r} does not fit a {kind} field")
    return problems + _setting_problems(where, kind, ui)


def _sub_properties(prop: dict[str, Any]) -> dict[str, Any]:
    items = prop.get("items")
    properties = items.get("properties") if isinstance(items, dict) else None
    if not isinstance(properties, dict):
        return {}
    return {name: sub for name, sub in properties.items() if isinstance(sub, dict)}


def _setting_problems(where: str, kind: str, ui: dict[str, Any]) -> list[str]:
    problems = [f"{where}.{key}: must be text of at most {_MAX_TEXT} characters"
                for key in ("ui:placeholder", "ui:help")
                if key in ui and (not isinstance(ui[key], str) or len(ui[key]) > _MAX_TEXT)]
    rows = ui.get("ui:rows", 4)
    if not isinstance(rows, int) or isinstance(rows, bool) or not 1 <= rows <= 50:
        problems.append(f"{where}.ui:rows: must be a whole number from 1 to 50")
    options = ui.get("ui:options", {})
    if not isinstance(options, dict) or set(options) - {"blankRows"}:
        return [*problems, f"{where}.ui:options: only blankRows is supported"]
    if "blankRows" in options:
        blank = options["blankRows"]
        if kind not in ("table", "list"):
            problems.append(f"{where}.ui:options.blankRows: only repeating rows have blank rows")
        elif not isinstance(blank, int) or isinstance(blank, bool) or not 0 <= blank <= 20:
            problems.append(f"{where}.ui:options.blankRows: must be a whole number from 0 to 20")
    return problems


def _order_problems(order: Any, properties: dict[str, Any]) -> list[str]:
    if not isinstance(order, list) or not all(isinstance(name, str) for name in order):
        return ["uischema.ui:order: must be a list of field names"]
    problems = [f"uischema.ui:order: no such field {name!r}" for name in order if name not in properties]
    if len(set(order)) != len(order):
        problems.append("uischema.ui:order: names a field twice")
    return problems


def _context_problems(entries: Any) -> list[str]:
    if not isinstance(entries, list):
        return ["uischema.ui:context: must be a list of {key, label} objects"]
    problems = []
    for index, entry in enumerate(entries):
        where = f"uischema.ui:context[{index}]"
        if not isinstance(entry, dict) or not {"key", "label"} <= set(entry) <= {"key", "label", "as", "lines",
                                                                                 "optional"}:
            problems.append(f"{where}: must be an object with key, label and optionally as, lines and optional")
        elif "as" in entry and (not isinstance(entry["as"], str) or not NAME_RE.fullmatch(entry["as"])):
            problems.append(f"{where}.as: must name a form field such as confirmed_level")
        elif bad := [flag for flag in ("lines", "optional") if flag in entry and not isinstance(entry[flag], bool)]:
            problems.append(f"{where}.{bad[0]}: must be true or false")
        elif not isinstance(entry["key"], str) or not all(NAME_RE.fullmatch(part) for part in entry["key"].split(".")):
            problems.append(f"{where}.key: must be a task data name such as proposed_level (or a path: "
                            "monthly_stats.total)")
        elif not isinstance(entry["label"], str) or not entry["label"].strip():
            problems.append(f"{where}.label: must be text")
    return problems


def _prefill_problems(prefill: Any, properties: dict[str, Any]) -> list[str]:
    if not isinstance(prefill, dict):
        return ["uischema.ui:prefill: must map field names to task data names"]
    problems = []
    for field, source in prefill.items():
        where = f"uischema.ui:prefill.{field}"
        if field not in properties:
            problems.append(f"{where}: no such field")
        elif properties[field].get("readOnly") is True:
            problems.append(f"{where}: read-only fields take their value from the task data already")
        elif field_kind(properties[field], {}) == "files":
            problems.append(f"{where}: attachments belong to the task they were uploaded to and cannot be prefilled")
        if not isinstance(source, str) or not NAME_RE.fullmatch(source):
            problems.append(f"{where}: must name task data such as proposed_level")
    return problems
