"""Submit-time validation of typed form data (docs/security.md §3, docs/forms.md)."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import re2
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.exceptions import NoSuchResource, Unresolvable

from app.engine.evaluator import EvaluationError, evaluate
from app.forms.checks import compile_re2
from app.forms.durations import CYCLE_FORMAT, DURATION_FORMAT, is_cycle, is_duration
from app.forms.fields import Options, conditional, offered
from app.forms.messages import message
from app.forms.schema import FormSpec
from app.forms.values import MAX_DATA_BYTES, data_size, is_blank, is_offset_datetime, to_local_display

_LIMITS = frozenset({"maxLength", "minLength", "minimum", "maximum", "exclusiveMinimum",
                     "exclusiveMaximum", "maxItems", "minItems"})
_CHOICES = frozenset({"enum", "const", "oneOf", "anyOf"})
_SIMPLE = frozenset({"required", "uniqueItems", "additionalProperties"})
_FORMATS = {"date-time": "date-time", "date": "date", "uri": "url", DURATION_FORMAT: "duration",
            CYCLE_FORMAT: "duration-cycle"}
_TYPES = {"integer": "integer", "boolean": "boolean", "string": "string", "array": "array"}


def _retrieve_nothing(uri: str) -> Any:
    raise NoSuchResource(ref=uri)


# A registry that never fetches: without it jsonschema would follow a remote $ref over HTTP.
REGISTRY: Registry = Registry(retrieve=_retrieve_nothing)  # type: ignore[call-arg]


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)
    checker.checks("date-time")(_is_date_time)
    checker.checks("uri")(_is_uri)
    checker.checks("regex", raises=re2.error)(_is_regex)
    # Narrower than JSON Schema's "duration": days, hours, minutes within the engine's bounds (docs/forms.md).
    checker.checks(DURATION_FORMAT)(lambda instance: not isinstance(instance, str) or is_duration(instance))
    checker.checks(CYCLE_FORMAT)(lambda instance: not isinstance(instance, str) or is_cycle(instance))
    return checker


def _is_date_time(instance: object) -> bool:
    return not isinstance(instance, str) or is_offset_datetime(instance)


def _is_uri(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if any(ch.isspace() or ord(ch) < 32 for ch in instance):
        return False
    try:
        parts = urlsplit(instance)
    except ValueError:
        return False
    if not parts.scheme or not parts.scheme[0].isalpha():
        return False
    return bool(parts.netloc) or parts.scheme.lower() not in ("http", "https")


def _is_regex(instance: object) -> bool:
    return not isinstance(instance, str) or bool(compile_re2(instance))


FORMAT_CHECKER = _format_checker()


def _pattern(validator: Any, pattern: str, instance: Any,
             schema: dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not compile_re2(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any,
                        schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        regex = compile_re2(pattern)
        for key, value in instance.items():
            if regex.search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, additional: Any, instance: Any,
                           schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    declared = schema.get("properties", {})
    patterns = [compile_re2(pattern) for pattern in schema.get("patternProperties", {})]
    extras = [key for key in instance if key not in declared and not any(p.search(key) for p in patterns)]
    for extra in extras:
        if additional is False:
            yield ValidationError(f"{extra!r} is not allowed", path=[extra])
        elif isinstance(additional, dict):
            yield from validator.descend(instance[extra], additional, path=extra)


def _required(validator: Any, required: list[str], instance: Any,
              schema: dict[str, Any]) -> Iterator[ValidationError]:
    # Blank strings and empty lists count as missing: a form's "required" means "answered".
    if not validator.is_type(instance, "object"):
        return
    for name in required:
        if is_blank(instance.get(name)):
            yield ValidationError(f"{name!r} is a required property", path=[name])


FormValidator = validators.extend(Draft202012Validator, {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
    "required": _required,
})


def validate(form: FormSpec, data: Mapping[str, Any], context: Mapping[str, Any],
             options: Options | None = None, locale: str = "zh_CN") -> dict[str, list[str]]:
    """Errors keyed by field path (`title`, `members.0.phone`, `""` for the form); {} when valid."""
    read_only = {field.name for field in form.fields if field.read_only}
    data = {key: value for key, value in data.items() if key not in read_only}
    errors: dict[str, list[str]] = {}
    if data_size(data) > MAX_DATA_BYTES:
        add_error(errors, "", message("too_large", locale))
        return errors
    validator = FormValidator(_effective_schema(form, read_only, options or {}, context),
                              registry=REGISTRY, format_checker=FORMAT_CHECKER)
    try:
        for error in validator.iter_errors(data):
            add_error(errors, _path(error), _translate(error, locale))
    except (Unresolvable, RecursionError):
        add_error(errors, "", message("invalid", locale))
    _apply_rules(form, data, context, errors, locale)
    return errors


def add_error(errors: dict[str, list[str]], path: str, text: str) -> None:
    """Append `text` to the errors of `path` unless it is already there."""
    messages = errors.setdefault(path, [])
    if text not in messages:
        messages.append(text)


def _effective_schema(form: FormSpec, read_only: set[str], options: Options,
                      context: Mapping[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(form.schema)
    properties = schema.get("properties", {})
    for name in read_only:
        properties.pop(name, None)
    schema["required"] = [name for name in schema.get("required", []) if name not in read_only]
    _inject_choices(schema, options, context)
    return schema


def _inject_choices(schema: Any, options: Options, context: Mapping[str, Any]) -> None:
    # A field accepts only what its page offers: an x-source field the options the caller supplies
    # right now, a field with conditional options (x-when) those whose condition holds for the task.
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            source = node.get("x-source")
            if isinstance(source, str):
                node["enum"] = [str(value) for value, _label in options.get(source, ())]
            elif conditional(node):
                node["enum"] = [value for value, _label in offered(node, options, context)]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _path(error: ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path)


def _translate(error: ValidationError, locale: str) -> str:
    kind, value = error.validator, error.validator_value
    if kind == "type":
        first = value[0] if isinstance(value, list) and value else value
        return message(_TYPES.get(first, "invalid"), locale)
    if kind == "format":
        return message(_FORMATS.get(value, "invalid"), locale)
    if kind == "pattern":
        schema = error.schema if isinstance(error.schema, dict) else {}
        is_url = schema.get("format") == "uri" or str(value).startswith("^http")
        return message("url" if is_url else "pattern", locale)
    if kind in _LIMITS:
        return message(str(kind), locale, limit=value)
    if kind in _CHOICES:
        return message("choice", locale)
    return message(str(kind) if kind in _SIMPLE else "invalid", locale)


def _apply_rules(form: FormSpec, data: dict[str, Any], context: Mapping[str, Any],
                 errors: dict[str, list[str]], locale: str) -> None:
    blanks = {field.name: None for field in form.fields if not field.read_only}
    names = {**context, **blanks, **data}
    _check_rules(form.schema.get("x-rules", []), names, "", errors, locale)
    for name, prop in form.schema.get("properties", {}).items():  # a table's rules hold for each row
        items = prop.get("items") if isinstance(prop, dict) else None
        rows = data.get(name)
        if not isinstance(items, dict) or not items.get("x-rules") or not isinstance(rows, list):
            continue
        cells = dict.fromkeys(items.get("properties", {}))
        for index, row in enumerate(rows):
            if isinstance(row, dict):
                _check_rules(items["x-rules"], {**names, **cells, **row}, f"{name}.{index}.", errors, locale)


def _check_rules(rules: list[dict[str, Any]], names: dict[str, Any], prefix: str,
                 errors: dict[str, list[str]], locale: str) -> None:
    for rule in rules:
        if not _holds(rule["when"], names):
            continue
        if "require" in rule:
            for name in rule["require"]:
                if is_blank(names.get(name)):
                    add_error(errors, prefix + name, rule.get("message") or message("required", locale))
        else:  # the author's reason why a value is refused comes before the schema's generic message
            field = rule.get("field", "")
            messages = errors.setdefault(prefix + field if field else prefix.rstrip("."), [])
            text = _filled(rule["forbid"], names)
            if text not in messages:
                messages.insert(0, text)


_PLACEHOLDER = re2.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _filled(text: str, names: Mapping[str, Any]) -> str:
    """A rule's message with each `{name}` replaced by that value as a person reads it (a time in local time)."""
    def value(match: Any) -> str:
        found = names.get(match.group(1))
        return match.group(0) if is_blank(found) else to_local_display(found)

    return _PLACEHOLDER.sub(value, text) if "{" in text else text


def _holds(expression: str, names: dict[str, Any]) -> bool:
    # A rule that cannot be evaluated (say, it compares a blank field) does not apply.
    try:
        return bool(evaluate(expression, dict(names)))
    except EvaluationError:
        return False
