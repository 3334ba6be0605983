"""Deploy-time checks of a form schema (docs/security.md §3, docs/forms.md)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import re2
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from app.engine.evaluator import check_expression
from app.engine.helpers import FUNCTIONS
from app.forms.durations import CYCLE_FORMAT, DURATION_FORMAT, is_cycle, is_duration
from app.forms.fields import BOUNDED_FORMATS, FIELD_TYPES, MAX_STRING_LENGTH, NAME_RE, is_choice
from app.forms.files import ATTACHMENT_ITEMS, CATEGORIES, MAX_ATTACHMENTS
from app.forms.uischema import check_uischema

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Keywords whose values are data, not schemas: their insides are not searched for keywords.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples", "x-rules"})
# Keywords whose values map names to schemas (a property may be called "default").
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
_RULE_KEYS = frozenset({"when", "require", "message", "forbid", "field"})
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def check_schema(name: str, schema: Any, uischema: Any = None) -> list[str]:
    """Every reason a form schema (and its ui schema) may not be deployed; [] when it is fine."""
    try:
        problems = _check(schema, uischema)
    except RecursionError:
        problems = ["schema is nested too deeply"]
    return [f"{name}: {problem}" for problem in problems]


def _check(schema: Any, uischema: Any) -> list[str]:
    if not isinstance(schema, dict):
        return ["the schema must be a JSON object"]
    problems = _value_problems(schema) + _keyword_problems(schema)
    if problems:
        return problems
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [f"{exc.json_path}: {exc.message}"]
    problems = _top_problems(schema) + _object_problems(schema) + _field_problems(schema)
    problems += _rule_problems(schema)
    if uischema is not None:
        problems += check_uischema(schema, uischema)
    return problems


def compile_re2(pattern: str) -> Any:
    """Compile with re2 (linear time); raises re2.error for what re2 cannot do, e.g. backreferences."""
    return re2.compile(pattern, options=_RE2_OPTIONS)


def _walk(value: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def _schema_nodes(value: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _schema_nodes(item, f"{path}[{index}]")
    if not isinstance(value, dict):
        return
    yield path, value
    for key, item in value.items():
        if key in _SCHEMA_MAPS and isinstance(item, dict):
            for name, sub in item.items():
                yield from _schema_nodes(sub, f"{path}.{key}.{name}")
        elif key not in _DATA_KEYWORDS:
            yield from _schema_nodes(item, f"{path}.{key}")


def _value_problems(schema: dict[str, Any]) -> list[str]:
    return [f"{path}: NaN and Infinity are not allowed" for path, value in _walk(schema)
            if isinstance(value, float) and not math.isfinite(value)]


def _keyword_problems(schema: dict[str, Any]) -> list[str]:
    problems = []
    for path, node in _schema_nodes(schema):
        for keyword in ("$ref", "$dynamicRef"):
            ref = node.get(keyword)
            if isinstance(ref, str) and not ref.startswith("#"):
                problems.append(f"{path}.{keyword}: only local references (#...) are allowed, not {ref!r}")
        if "$id" in node:
            problems.append(f"{path}: $id is not allowed (it changes where references point)")
        if "unevaluatedProperties" in node:
            problems.append(f"{path}: unevaluatedProperties is not supported; use additionalProperties")
        problems += _pattern_problems(path, node)
    return problems


def _pattern_problems(path: str, node: dict[str, Any]) -> list[str]:
    patterns = [(f"{path}.pattern", node["pattern"])] if isinstance(node.get("pattern"), str) else []
    pattern_properties = node.get("patternProperties")
    if isinstance(pattern_properties, dict):
        patterns += [(f"{path}.patternProperties", key) for key in pattern_properties]
    problems = []
    for where, pattern in patterns:
        try:
            compile_re2(pattern)
        except re2.error as exc:
            problems.append(f"{where}: pattern {pattern!r} is not supported by re2 ({_reason(exc)})")
    return problems


def _reason(exc: Exception) -> str:
    reason = exc.args[0] if exc.args else exc
    return reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)


def _top_problems(schema: dict[str, Any]) -> list[str]:
    problems = []
    if schema.get("$schema", SCHEMA_DIALECT) != SCHEMA_DIALECT:
        problems.append(f"$schema must be {SCHEMA_DIALECT}")
    if schema.get("type") != "object":
        problems.append('the top level must have "type": "object"')
    if not isinstance(schema.get("title"), str) or not schema["title"].strip():
        problems.append("the form needs a title")
    if not isinstance(schema.get("properties"), dict) or not schema["properties"]:
        problems.append("the form needs properties")
    return problems


def _object_problems(schema: dict[str, Any]) -> list[str]:
    return [f"{path}: objects need \"additionalProperties\": false"
            for path, node in _schema_nodes(schema)
            if _declares_object(node) and node.get("additionalProperties") is not False]


def _declares_object(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def _field_problems(schema: dict[str, Any]) -> list[str]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    problems = _required_problems("", schema)
    for name, prop in properties.items():
        problems += _one_field(name, name, prop, in_table=False)
    return problems


def _required_problems(where: str, schema: dict[str, Any]) -> list[str]:
    names = schema.get("properties", {})
    prefix = f"{where}: " if where else ""
    return [f"{prefix}required names unknown field {name!r}"
            for name in schema.get("required", []) if name not in names]


def _one_field(path: str, name: str, prop: Any, *, in_table: bool) -> list[str]:
    problems = []
    if not NAME_RE.fullmatch(name):
        problems.append(f"{path}: field names must match ^[a-z][a-z0-9_]{{0,63}}$")
    if name in FUNCTIONS:
        problems.append(f"{path}: {name!r} is the name of an expression function")
    if not isinstance(prop, dict):
        return [*problems, f"{path}: must be a schema object"]
    if not isinstance(prop.get("title"), str) or not prop["title"].strip():
        problems.append(f"{path}: needs a title")
    if prop.get("type") not in FIELD_TYPES:
        return [*problems, f"{path}: type must be one of {', '.join(FIELD_TYPES)}"]
    if prop["type"] != "array":
        return problems + _scalar_problems(path, prop) + _duration_problems(path, prop, top=not in_table)
    if in_table:
        return [*problems, f"{path}: table cells hold single values, not lists"]
    return problems + _array_problems(path, prop)


def _scalar_problems(path: str, prop: dict[str, Any]) -> list[str]:
    problems = [f"{path}: x-attachments belongs on a top-level array field"] if "x-attachments" in prop else []
    source = prop.get("x-source")
    if "x-source" in prop and (not isinstance(source, str) or not source.strip()):
        problems.append(f"{path}: x-source must name an option list")
    if is_choice(prop):
        return problems + _choice_problems(path, prop)
    if prop.get("type") == "string" and prop.get("format") not in BOUNDED_FORMATS:
        limit = prop.get("maxLength")
        if not isinstance(limit, int) or not 0 < limit <= MAX_STRING_LENGTH:
            problems.append(f"{path}: string fields need maxLength between 1 and {MAX_STRING_LENGTH}")
    return problems


def _duration_problems(path: str, prop: dict[str, Any], *, top: bool) -> list[str]:
    """A duration or cycle (docs/forms.md, Durations) is a field of its own with a default it accepts."""
    kind = prop.get("format")
    if kind not in (DURATION_FORMAT, CYCLE_FORMAT) or prop.get("type") != "string" or is_choice(prop):
        return []
    if not top:
        return [f"{path}: a {kind} field must be a field of its own, not a table cell or list item"]
    accepts = is_cycle if kind == CYCLE_FORMAT else is_duration
    if "default" in prop and not accepts(prop["default"]):
        return [f"{path}.default: not a {kind} the field accepts (days, hours, minutes up to ten years, "
                "e.g. PT30M, P7D, R3/PT1H)"]
    return []


def _choice_problems(path: str, prop: dict[str, Any]) -> list[str]:
    one_of = prop.get("oneOf")
    if one_of is None:
        return []
    problems = []
    for index, entry in enumerate(one_of):
        where = f"{path}.oneOf[{index}]"
        if not isinstance(entry, dict) or "const" not in entry or not isinstance(entry.get("title"), str):
            problems.append(f"{where}: each option needs const and title")
        elif "x-when" in entry:
            when = entry["x-when"]
            if not isinstance(when, str) or not when.strip():
                problems.append(f"{where}.x-when: must be an expression")
            else:
                problems += [f"{where}.x-when: {problem}" for problem in check_expression(when)]
    return problems


def _array_problems(path: str, prop: dict[str, Any]) -> list[str]:
    problems = []
    if not isinstance(prop.get("maxItems"), int):
        problems.append(f"{path}: arrays need maxItems")
    if "x-source" in prop:
        problems.append(f"{path}: put x-source on items, not on the array")
    if "x-attachments" in prop:
        return problems + _attachment_problems(path, prop)
    items = prop.get("items")
    if not isinstance(items, dict):
        return [*problems, f"{path}: arrays need an items schema"]
    if items.get("type") == "object":
        return problems + _table_problems(path, items)
    if items.get("type") not in ("string", "integer"):
        return [*problems, f"{path}.items: list items must be strings or integers"]
    return problems + _scalar_problems(f"{path}.items", items) + _duration_problems(f"{path}.items", items, top=False)


def _attachment_problems(path: str, prop: dict[str, Any]) -> list[str]:
    problems = []
    limit = prop.get("maxItems")
    if isinstance(limit, int) and not 1 <= limit <= MAX_ATTACHMENTS:
        problems.append(f"{path}: attachment fields take maxItems from 1 to {MAX_ATTACHMENTS}")
    spec = prop["x-attachments"]
    if not isinstance(spec, dict) or set(spec) - {"accept"}:
        problems.append(f"{path}.x-attachments: must be an object whose only key is accept")
    elif "accept" in spec and not _is_category_list(spec["accept"]):
        problems.append(f"{path}.x-attachments.accept: must list some of {', '.join(CATEGORIES)}, each once")
    if not _is_attachment_items(prop.get("items")):
        problems.append(f"{path}.items: must be the attachment reference schema {json.dumps(ATTACHMENT_ITEMS)}")
    if "default" in prop:
        problems.append(f"{path}: attachment fields cannot have a default (attachments belong to one task)")
    return problems


def _is_category_list(accept: Any) -> bool:
    return (isinstance(accept, list) and bool(accept) and len(set(map(str, accept))) == len(accept)
            and all(isinstance(category, str) and category in CATEGORIES for category in accept))


def _is_attachment_items(items: Any) -> bool:
    if not isinstance(items, dict) or not isinstance(items.get("required"), list):
        return False
    required = items["required"]
    if not all(isinstance(name, str) for name in required) or len(set(required)) != len(required):
        return False
    same_required = set(required) == set(ATTACHMENT_ITEMS["required"])
    return same_required and {**items, "required": None} == {**ATTACHMENT_ITEMS, "required": None}


def _table_problems(path: str, items: dict[str, Any]) -> list[str]:
    properties = items.get("properties")
    if not isinstance(properties, dict) or not properties:
        return [f"{path}.items: table rows need properties"]
    problems = _required_problems(f"{path}.items", items)
    for name, prop in properties.items():
        problems += _one_field(f"{path}.{name}", name, prop, in_table=True)
    return problems + [f"{path}.items.{problem}" for problem in _rule_problems(items)]


def _rule_problems(schema: dict[str, Any]) -> list[str]:
    rules = schema.get("x-rules", [])
    if not isinstance(rules, list):
        return ["x-rules: must be a list"]
    names = set(schema.get("properties", {}))
    problems = []
    for index, rule in enumerate(rules):
        problems += _one_rule(f"x-rules[{index}]", rule, names)
    return problems


def _one_rule(where: str, rule: Any, names: set[str]) -> list[str]:
    if not isinstance(rule, dict):
        return [f"{where}: must be an object"]
    problems = [f"{where}: unknown key {key!r}" for key in sorted(set(rule) - _RULE_KEYS)]
    when = rule.get("when")
    if not isinstance(when, str) or not when.strip():
        problems.append(f"{where}.when: must be an expression")
    else:
        problems += [f"{where}.when: {problem}" for problem in check_expression(when)]
    if "require" in rule:
        return problems + _require_problems(where, rule, names)
    if "forbid" in rule:
        return problems + _forbid_problems(where, rule, names)
    return [*problems, f"{where}: needs 'require' or 'forbid'"]


def _require_problems(where: str, rule: dict[str, Any], names: set[str]) -> list[str]:
    required = rule["require"]
    if not isinstance(required, list) or not required or not all(isinstance(n, str) for n in required):
        return [f"{where}.require: must be a non-empty list of field names"]
    problems = [f"{where}.require: unknown field {name!r}" for name in required if name not in names]
    if not isinstance(rule.get("message"), str) or not rule["message"].strip():
        problems.append(f"{where}.message: must be a message")
    return problems


def _forbid_problems(where: str, rule: dict[str, Any], names: set[str]) -> list[str]:
    problems = []
    if not isinstance(rule["forbid"], str) or not rule["forbid"].strip():
        problems.append(f"{where}.forbid: must be a message")
    if "field" in rule and rule["field"] not in names:
        problems.append(f"{where}.field: unknown field {rule['field']!r}")
    return problems
