"""Differences between two versions of a decision table (DMN) and of a form (JSON Schema + UI schema).

Decision tables are compared decision by decision (matched by id), then column by column (inputs and
outputs by id) and rule by rule (rules by id, else by position): added and removed rules with their
cells, and changed rules with each changed cell as before → after. Any DMN namespace (1.1–1.3, with or
without a prefix) is read; diagram layout (DMNDI) is ignored.

Forms are compared field by field (top-level properties, nested object properties as `a.b`): added and
removed fields, and for a field present in both the attributes that changed (title, type, required,
choices, help text, widget…). Nothing here knows Flask or the database.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from app.engine.definitions import parse_xml

# -- decision tables ------------------------------------------------------------------------------


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if _local(child) == name]


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    texts = _children(element, "text")
    return (texts[0].text or "").strip() if texts else (element.text or "").strip()


def _column_label(column: etree._Element, kind: str) -> str:
    label = column.get("label") or column.get("name") or ""
    if not label and kind == "input":
        expressions = _children(column, "inputExpression")
        label = _text(expressions[0]) if expressions else ""
    return label or column.get("id") or ""


def _table(decision: etree._Element) -> dict[str, Any]:
    tables = [child for child in decision.iter() if _local(child) == "decisionTable"]
    if not tables:
        return {"hit_policy": "", "columns": [], "rules": []}
    table = tables[0]
    columns = []
    for kind in ("input", "output"):
        for index, column in enumerate(_children(table, kind)):
            expression = _text(_children(column, "inputExpression")[0]) if kind == "input" and \
                _children(column, "inputExpression") else column.get("name") or ""
            columns.append({"key": column.get("id") or f"{kind}{index + 1}", "kind": kind, "index": index,
                            "label": _column_label(column, kind), "expression": expression})
    rules = []
    for index, rule in enumerate(_children(table, "rule")):
        cells = {}
        for kind, entry in (("input", "inputEntry"), ("output", "outputEntry")):
            keys = [c["key"] for c in columns if c["kind"] == kind]
            for position, cell in enumerate(_children(rule, entry)):
                key = keys[position] if position < len(keys) else f"{kind}{position + 1}"
                cells[key] = _text(cell)
        description = _children(rule, "description")
        rules.append({"id": rule.get("id") or f"#{index + 1}", "index": index + 1, "cells": cells,
                      "annotation": _text(description[0]) if description else ""})
    return {"hit_policy": table.get("hitPolicy") or "UNIQUE", "columns": columns, "rules": rules}


def _decisions(content: bytes, name: str) -> dict[str, dict[str, Any]]:
    root = parse_xml(content, name)
    found = {}
    for decision in root.iter():
        if _local(decision) == "decision" and decision.get("id"):
            found[decision.get("id")] = {"id": decision.get("id"), "name": decision.get("name") or "",
                                         **_table(decision)}
    return found


def _cells_of(rule: dict[str, Any], columns: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"column": c["key"], "label": c["label"], "kind": c["kind"], "value": rule["cells"].get(c["key"], "")}
            for c in columns]


def _match_rules(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[tuple[dict | None, dict | None]]:
    """Rules paired by id; tables whose rules carry no ids are paired by position."""
    if all(r["id"].startswith("#") for r in old + new):
        pairs = [(old[i] if i < len(old) else None, new[i] if i < len(new) else None)
                 for i in range(max(len(old), len(new)))]
        return pairs
    by_id = {r["id"]: r for r in old}
    pairs: list[tuple[dict | None, dict | None]] = [(by_id.pop(r["id"], None), r) for r in new]
    pairs.extend((r, None) for r in old if r["id"] in by_id)
    return pairs


def diff_dmn(before: bytes | None, after: bytes | None, name: str = "table.dmn") -> list[dict[str, Any]]:
    """Per decision: {"id", "name", "status" (added/removed/changed), "hit_policy" (before, after) or None,
    "columns": {"added", "removed", "changed"}, "rules": {"added", "removed", "changed", "moved"}}.
    Decisions without a difference are left out."""
    old = _decisions(before, name) if before else {}
    new = _decisions(after, name) if after else {}
    result = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a is None or b is None:
            table = b or a
            assert table is not None
            result.append({"id": key, "name": table["name"], "status": "added" if a is None else "removed",
                           "hit_policy": None, "columns": {"added": [], "removed": [], "changed": []},
                           "rules": {"added" if a is None else "removed":
                                     [{"id": r["id"], "index": r["index"], "cells": _cells_of(r, table["columns"])}
                                      for r in table["rules"]],
                                     "added" if a is not None else "removed": [], "changed": [], "moved": []}})
            continue
        entry = _diff_decision(a, b)
        if entry:
            result.append(entry)
    return result


def _diff_decision(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any] | None:
    old_columns = {c["key"]: c for c in a["columns"]}
    new_columns = {c["key"]: c for c in b["columns"]}
    columns = {
        "added": [c for c in b["columns"] if c["key"] not in old_columns],
        "removed": [c for c in a["columns"] if c["key"] not in new_columns],
        "changed": [{**new_columns[k], "before": {f: old_columns[k][f] for f in ("label", "expression")}}
                    for k in new_columns if k in old_columns
                    and (old_columns[k]["label"], old_columns[k]["expression"])
                    != (new_columns[k]["label"], new_columns[k]["expression"])],
    }
    rules: dict[str, list[dict[str, Any]]] = {"added": [], "removed": [], "changed": [], "moved": []}
    all_columns = b["columns"] + [c for c in a["columns"] if c["key"] not in new_columns]
    for old_rule, new_rule in _match_rules(a["rules"], b["rules"]):
        if old_rule is None and new_rule is not None:
            rules["added"].append({"id": new_rule["id"], "index": new_rule["index"],
                                   "cells": _cells_of(new_rule, b["columns"])})
        elif new_rule is None and old_rule is not None:
            rules["removed"].append({"id": old_rule["id"], "index": old_rule["index"],
                                     "cells": _cells_of(old_rule, a["columns"])})
        elif old_rule is not None and new_rule is not None:
            cells = [{"column": c["key"], "label": c["label"], "kind": c["kind"],
                      "before": old_rule["cells"].get(c["key"]), "after": new_rule["cells"].get(c["key"])}
                     for c in all_columns if old_rule["cells"].get(c["key"]) != new_rule["cells"].get(c["key"])]
            if old_rule["annotation"] != new_rule["annotation"]:
                cells.append({"column": "annotation", "label": "annotation", "kind": "annotation",
                              "before": old_rule["annotation"], "after": new_rule["annotation"]})
            if cells:
                rules["changed"].append({"id": new_rule["id"], "index": new_rule["index"],
                                         "index_before": old_rule["index"], "cells": cells})
            elif old_rule["index"] != new_rule["index"] and not new_rule["id"].startswith("#"):
                rules["moved"].append({"id": new_rule["id"], "index": new_rule["index"],
                                       "index_before": old_rule["index"]})
    hit_policy = (a["hit_policy"], b["hit_policy"]) if a["hit_policy"] != b["hit_policy"] else None
    name_changed = a["name"] != b["name"]
    if not (hit_policy or name_changed or any(columns.values()) or any(rules.values())):
        return None
    return {"id": b["id"], "name": b["name"], "name_before": a["name"] if name_changed else None,
            "status": "changed", "hit_policy": hit_policy, "columns": columns, "rules": rules}


# -- forms ----------------------------------------------------------------------------------------

FIELD_ATTRIBUTES = ("title", "type", "format", "choices", "description", "default", "minLength", "maxLength",
                    "minimum", "maximum", "maxItems", "readOnly", "x-source", "x-attachments")
UI_ATTRIBUTES = ("ui:widget", "ui:help", "ui:placeholder", "ui:rows")


def _choices(schema: dict[str, Any]) -> Any:
    """The field's choices as [(value, label)], from `oneOf`/`enum` (or its items' for a multi-select)."""
    source = schema.get("items") if schema.get("type") == "array" and isinstance(schema.get("items"), dict) \
        else schema
    if isinstance(source.get("oneOf"), list):
        return [[o.get("const"), o.get("title")] for o in source["oneOf"] if isinstance(o, dict)]
    if isinstance(source.get("enum"), list):
        return [[v, None] for v in source["enum"]]
    return None


def _fields(schema: Any, uischema: Any, prefix: str = "") -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return found
    required = set(schema.get("required") or [])
    ui = uischema if isinstance(uischema, dict) else {}
    for name, spec in schema["properties"].items():
        if not isinstance(spec, dict):
            continue
        path = f"{prefix}{name}"
        attrs = {key: spec.get(key) for key in FIELD_ATTRIBUTES if key not in ("choices",)}
        attrs["choices"] = _choices(spec)
        attrs["required"] = name in required
        field_ui = ui.get(name) if isinstance(ui.get(name), dict) else {}
        attrs.update({key: field_ui.get(key) for key in UI_ATTRIBUTES})
        found[path] = {k: v for k, v in attrs.items() if v is not None and v is not False} | {
            "required": name in required}
        if spec.get("type") == "object":
            found.update(_fields(spec, field_ui, f"{path}."))
        elif spec.get("type") == "array" and isinstance(spec.get("items"), dict) \
                and spec["items"].get("type") == "object" and not spec.get("x-attachments"):
            found.update(_fields(spec["items"], field_ui.get("items") if isinstance(field_ui.get("items"), dict)
                                 else {}, f"{path}[]."))
    return found


def diff_form(before: Any, after: Any, ui_before: Any = None, ui_after: Any = None) -> dict[str, Any]:
    """{"title": (before, after) or None, "added": [field], "removed": [field], "changed": [{"field", "title",
    "changes": [{"attribute", "before", "after"}]}], "order": (before, after) or None}.
    A field is {"field": path, "title", "type", "required"}."""
    old, new = _fields(before, ui_before), _fields(after, ui_after)

    def summary(path: str, attrs: dict[str, Any]) -> dict[str, Any]:
        return {"field": path, "title": attrs.get("title") or "", "type": attrs.get("type") or "",
                "required": bool(attrs.get("required"))}

    changed = []
    for path in [p for p in new if p in old]:
        keys = [k for k in dict.fromkeys([*old[path], *new[path]]) if old[path].get(k) != new[path].get(k)]
        if keys:
            changed.append({**summary(path, new[path]),
                            "changes": [{"attribute": k, "before": old[path].get(k), "after": new[path].get(k)}
                                        for k in keys]})
    title_a = before.get("title") if isinstance(before, dict) else None
    title_b = after.get("title") if isinstance(after, dict) else None
    order_a = _order(before, ui_before)
    order_b = _order(after, ui_after)
    return {
        "title": (title_a, title_b) if title_a != title_b else None,
        "added": [summary(p, a) for p, a in new.items() if p not in old],
        "removed": [summary(p, a) for p, a in old.items() if p not in new],
        "changed": changed,
        "order": (order_a, order_b) if [f for f in order_a if f in order_b] != [f for f in order_b if f in order_a]
        else None,
    }


def _order(schema: Any, uischema: Any) -> list[str]:
    names = list((schema or {}).get("properties") or {}) if isinstance(schema, dict) else []
    ui_order = uischema.get("ui:order") if isinstance(uischema, dict) else None
    if isinstance(ui_order, list):
        listed = [n for n in ui_order if n in names]
        return listed + [n for n in names if n not in listed]
    return names


def form_is_empty(diff: dict[str, Any]) -> bool:
    """No difference at all."""
    return not (diff["title"] or diff["added"] or diff["removed"] or diff["changed"] or diff["order"])
